"""That an actor is involved in a child's course, what shows it, and the rules that derive
it from what the national sources say.

The same rules run on the synthetic population (to report the target group it was made with)
and on the ingested data (to decide the target group in the running system), so the two can
never disagree about what "involved" means.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from paatvaers.domain.appointments import Appointment, AppointmentStatus
from paatvaers.domain.cases import Case, CaseStatus
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.organisations import UnitKind, unit_id_for_sor

# A BUP course counts as going on while an appointment is booked, or one was held this
# recently; after that the course is over and BUP no longer involved.
BUP_COURSE_QUIET_DAYS = 180


class Evidence(StrEnum):
    """Which source shows the involvement."""

    CASE_INDEX = "case_index"  # an open municipal case (child/family or PPR)
    APPOINTMENT_OVERVIEW = "appointment_overview"  # a course in BUP
    REFERRAL = "referral"  # the GP referred the child (the appointments' requester)
    SCHOOL_CONCERN = "school_concern"  # the school is part of the course (PPR works with it)


@dataclass(frozen=True, slots=True)
class Involvement:
    child_cpr: Cpr
    unit_id: uuid.UUID
    kind: UnitKind
    since: date
    evidence: Evidence
    until: date | None = None

    def active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


def involved_kinds(involvements: Iterable[Involvement], day: date) -> frozenset[UnitKind]:
    return frozenset(i.kind for i in involvements if i.active_on(day))


@dataclass(frozen=True, slots=True)
class ChildFacts:
    """What the sources say about one child, as the derivation needs it."""

    cpr: Cpr
    cases: tuple[tuple[Case, UnitKind], ...] = ()  # each case with its responsible unit's kind
    appointments: tuple[Appointment, ...] = ()
    school_unit_id: uuid.UUID | None = None  # enrolled at a school (daycare does not count)


def derive_involvements(facts: ChildFacts, day: date) -> list[Involvement]:
    """The actors involved with the child, by four rules:

    1. an open case in a child/family department or PPR where the child is the primary party;
    2. BUP, from appointments marked as child & adolescent psychiatry (R3's filter);
    3. the GP who referred the child, named as the requester of those appointments;
    4. the child's school, while PPR is involved (PPR works through the school).
    """
    involvements = [*_from_cases(facts), *_from_appointments(facts, day)]
    ppr = [i for i in involvements if i.kind is UnitKind.PPR]
    if ppr and facts.school_unit_id is not None:
        since = min(i.since for i in ppr)
        involvements.append(
            Involvement(
                facts.cpr, facts.school_unit_id, UnitKind.SCHOOL, since, Evidence.SCHOOL_CONCERN
            )
        )
    return involvements


def _from_cases(facts: ChildFacts) -> Iterable[Involvement]:
    earliest: dict[uuid.UUID, tuple[date, UnitKind]] = {}
    for case, kind in facts.cases:
        primary = case.primary_party
        if case.status is CaseStatus.AFSLUTTET or primary is None or primary.cpr != facts.cpr:
            continue
        if kind not in (UnitKind.CHILD_FAMILY, UnitKind.PPR):
            continue
        opened = case.opened_at.date()
        known = earliest.get(case.responsible_unit_id)
        if known is None or opened < known[0]:
            earliest[case.responsible_unit_id] = (opened, kind)
    for unit_id, (since, kind) in earliest.items():
        yield Involvement(facts.cpr, unit_id, kind, since, Evidence.CASE_INDEX)


def _from_appointments(facts: ChildFacts, day: date) -> Iterable[Involvement]:
    marked = [
        a
        for a in facts.appointments
        if a.marking.is_child_psychiatry
        and a.status is not AppointmentStatus.CANCELLED
        and a.patient_cpr == facts.cpr
    ]
    by_performer: dict[str, list[Appointment]] = {}
    for a in marked:
        by_performer.setdefault(a.performer_sor.value, []).append(a)
    referrals: list[Involvement] = []
    for sor, course in by_performer.items():
        since = min(a.start.date() for a in course)
        until = _course_end(course, day)
        yield Involvement(
            facts.cpr,
            unit_id_for_sor(sor),
            UnitKind.BUP,
            since,
            Evidence.APPOINTMENT_OVERVIEW,
            until,
        )
        requesters = {a.requester_sor.value for a in course if a.requester_sor is not None}
        referrals.extend(
            Involvement(
                facts.cpr, unit_id_for_sor(requester), UnitKind.GP, since, Evidence.REFERRAL, until
            )
            for requester in sorted(requesters)
        )
    yield from _one_per_unit(referrals)


def _one_per_unit(referrals: list[Involvement]) -> Iterable[Involvement]:
    """A GP who referred the child to two BUP units is involved once: since the first
    referral, and for as long as any of the courses goes on."""
    by_unit: dict[uuid.UUID, list[Involvement]] = {}
    for referral in referrals:
        by_unit.setdefault(referral.unit_id, []).append(referral)
    for same in by_unit.values():
        ends = [r.until for r in same]
        until = None if None in ends else max(e for e in ends if e is not None)
        yield replace(same[0], since=min(r.since for r in same), until=until)


def _course_end(course: list[Appointment], day: date) -> date | None:
    """None while the course goes on; otherwise the day of its last appointment."""
    last = max(a.start.date() for a in course)
    if last >= day - timedelta(days=BUP_COURSE_QUIET_DAYS):
        return None
    return last
