"""The involvement rules on hand-made facts: one involvement per unit, whatever the sources
repeat."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from paatvaers.domain.appointments import (
    PRACTICE_SETTING_CHILD_PSYCHIATRY,
    Appointment,
    AppointmentMarking,
    AppointmentStatus,
)
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Sor
from paatvaers.domain.involvement import ChildFacts, Evidence, derive_involvements
from paatvaers.domain.organisations import UnitKind, unit_id_for_sor

CHILD = Cpr.parse("1503144123")
GP_SOR, BUP_EAST, BUP_WEST = "11111111111", "22222222222", "33333333333"
DAY = date(2026, 11, 26)
MARKING = AppointmentMarking(PRACTICE_SETTING_CHILD_PSYCHIATRY, None, None)


def _appointment(performer: str, start: datetime, status: AppointmentStatus) -> Appointment:
    return Appointment(
        id=uuid.uuid4(),
        document_id=uuid.uuid4(),
        patient_cpr=CHILD,
        start=start,
        end=None,
        performer_sor=Sor(performer),
        performer_name="BUP",
        location_sor=None,
        location_name=None,
        reason="Udredning",
        marking=MARKING,
        status=status,
        requester_sor=Sor(GP_SOR),
    )


def test_a_gp_who_referred_to_two_bup_units_is_involved_once() -> None:
    ended = _appointment(BUP_EAST, datetime(2024, 1, 10, 9, tzinfo=UTC), AppointmentStatus.HELD)
    ongoing = _appointment(BUP_WEST, datetime(2026, 12, 1, 9, tzinfo=UTC), AppointmentStatus.BOOKED)
    involvements = derive_involvements(ChildFacts(CHILD, appointments=(ended, ongoing)), DAY)

    gps = [i for i in involvements if i.kind is UnitKind.GP]
    assert len(gps) == 1
    assert gps[0].unit_id == unit_id_for_sor(GP_SOR)
    assert gps[0].evidence is Evidence.REFERRAL
    assert gps[0].since == date(2024, 1, 10)  # the first referral
    assert gps[0].until is None  # one course goes on
    assert len({(i.child_cpr, i.unit_id) for i in involvements}) == len(involvements) == 3


def test_a_gp_whose_referred_courses_all_ended_is_involved_until_the_last_ended() -> None:
    first = _appointment(BUP_EAST, datetime(2023, 1, 10, 9, tzinfo=UTC), AppointmentStatus.HELD)
    second = _appointment(BUP_WEST, datetime(2024, 2, 1, 9, tzinfo=UTC), AppointmentStatus.HELD)
    (gp,) = [
        i
        for i in derive_involvements(ChildFacts(CHILD, appointments=(first, second)), DAY)
        if i.kind is UnitKind.GP
    ]
    assert (gp.since, gp.until) == (date(2023, 1, 10), date(2024, 2, 1))
