"""A user's relationship to a child, derived from the national data, never typed by hand.

The relationship belongs to the user's unit: a GP clinic has the child on its patient list,
a BUP unit has the child in a course, a municipal unit has the child living in the
municipality or an open case about it that the user's data restrictions cover. A relationship
that has ended keeps access for a tail (days set in the policy file), then stops.

Everything here reads only data the user's own unit already holds (its patient list, its
appointments, its municipality's residents and cases), so the answer for a child the unit
has nothing to do with is the same whether or not the child has data elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.access.policy import RelationshipRules
from paatvaers.domain.cases import CaseStatus, PartyRole, Sensitivity
from paatvaers.domain.clock import DANISH_TIME
from paatvaers.domain.organisations import UnitKind
from paatvaers.store.tables import AppointmentRow, CasePartyRow, ChildRow, MunicipalCaseRow


class RelationshipState(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    TAIL = "tail"  # ended, but within the tail that the policy grants
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Relationship:
    state: RelationshipState
    basis_da: str = ""
    basis_en: str = ""
    ended_on: date | None = None

    @property
    def grants_access(self) -> bool:
        return self.state in (RelationshipState.ACTIVE, RelationshipState.TAIL)


NO_RELATIONSHIP = Relationship(RelationshipState.NONE)


ChildReader = Callable[[str], ChildRow | None]


def relationship_to(
    session: Session,
    principal: Principal,
    child_cpr: str,
    day: date,
    rules: RelationshipRules,
    read_child: ChildReader | None = None,
) -> Relationship:
    """`read_child` reads the child's CPR row (the engine passes the one its view holds)."""
    kind = principal.unit.kind
    child_row = read_child or (lambda cpr: session.get(ChildRow, cpr))
    if kind in (UnitKind.CHILD_FAMILY, UnitKind.PPR):
        tail = rules.municipality_tail_days
        return _municipal(session, principal, child_row(child_cpr), child_cpr, day, tail)
    if kind is UnitKind.GP:
        return _gp(principal, child_row(child_cpr), day, rules.gp_tail_days)
    if kind is UnitKind.BUP:
        return _bup(session, principal, child_cpr, day, rules)
    return NO_RELATIONSHIP


def _ended(ended_on: date, day: date, tail_days: int, basis_da: str, basis_en: str) -> Relationship:
    within = day <= ended_on + timedelta(days=tail_days)
    state = RelationshipState.TAIL if within else RelationshipState.ENDED
    return Relationship(state, basis_da, basis_en, ended_on)


def _municipal(
    session: Session,
    principal: Principal,
    child: ChildRow | None,
    child_cpr: str,
    day: date,
    tail_days: int,
) -> Relationship:
    unit = principal.unit
    if child is not None and child.municipality_code == unit.municipality_code:
        return Relationship(
            RelationshipState.ACTIVE, "Barnet bor i kommunen", "The child lives in the municipality"
        )
    if _covered_open_case(session, principal, child_cpr):
        return Relationship(
            RelationshipState.ACTIVE,
            "Kommunen har en åben sag om barnet",
            "The municipality has an open case about the child",
        )
    if (
        child is not None
        and child.previous_municipality_code == unit.municipality_code
        and child.moved_in_on is not None
    ):
        return _ended(
            child.moved_in_on,
            day,
            tail_days,
            "Barnet er flyttet fra kommunen",
            "The child moved out of the municipality",
        )
    return NO_RELATIONSHIP


def _covered_open_case(session: Session, principal: Principal, child_cpr: str) -> bool:
    """An open case about the child, owned by the user's municipality, that the user's data
    restrictions cover: a case they may not see must neither grant access nor show."""
    limits = principal.restrictions
    if limits is None:
        return False
    cases = session.execute(
        select(MunicipalCaseRow.owner_cvr, MunicipalCaseRow.kle, MunicipalCaseRow.sensitivity)
        .join(CasePartyRow, CasePartyRow.case_id == MunicipalCaseRow.id)
        .where(
            CasePartyRow.cpr == child_cpr,
            CasePartyRow.role == PartyRole.PRIMARY.value,
            MunicipalCaseRow.owner_cvr == limits.cvr.value,
            MunicipalCaseRow.status != CaseStatus.AFSLUTTET.value,
        )
    ).all()
    return any(limits.covers(owner, kle, Sensitivity(level)) for owner, kle, level in cases)


def _gp(principal: Principal, child: ChildRow | None, day: date, tail_days: int) -> Relationship:
    if child is None:
        return NO_RELATIONSHIP
    if child.gp_unit_id == principal.unit.id:
        return Relationship(
            RelationshipState.ACTIVE,
            "Barnet er på klinikkens patientliste",
            "The child is on the clinic's patient list",
        )
    if child.previous_gp_unit_id == principal.unit.id and child.gp_since is not None:
        return _ended(
            child.gp_since,
            day,
            tail_days,
            "Barnet har valgt en anden læge",
            "The child has chosen another GP",
        )
    return NO_RELATIONSHIP


def _bup(
    session: Session, principal: Principal, child_cpr: str, day: date, rules: RelationshipRules
) -> Relationship:
    sor = principal.unit.sor
    if sor is None:
        return NO_RELATIONSHIP
    ahead = day + timedelta(days=rules.bup_booked_ahead_days)
    # The appointment's day in Denmark, whatever the database session's time zone.
    start_day = func.date(func.timezone(DANISH_TIME.key, AppointmentRow.start))
    last: date | None = session.scalar(
        select(func.max(start_day)).where(
            AppointmentRow.patient_cpr == child_cpr,
            AppointmentRow.performer_sor == sor.value,
            AppointmentRow.status.in_(("booked", "held")),
            start_day <= ahead,
        )
    )
    if last is None:
        return NO_RELATIONSHIP
    if last >= day - timedelta(days=rules.bup_course_quiet_days):
        return Relationship(
            RelationshipState.ACTIVE,
            "Barnet er i et forløb i enheden",
            "The child is in a course in the unit",
        )
    return _ended(
        last + timedelta(days=rules.bup_course_quiet_days),
        day,
        rules.bup_tail_days,
        "Barnets forløb i enheden er afsluttet",
        "The child's course in the unit has ended",
    )
