"""What a change may show its recipient, decided by the access engine.

A notice tells a professional that a new actor is involved with a child. That is itself data
from a source, so it may reach a recipient only through the data flow that would show the
new actor to them anyway: a new case through the cases the recipient may see, a new BUP
course through the appointments, a new school through the school, a new GP through the
child's details. The read goes through `ChildAccess` (decided, obligations applied, logged),
and the new actor is named only as that read shows it: a case the recipient's data
restrictions do not cover, or a name withheld for a protected address, stays hidden. No
permit, or the new actor not among what the read shows: no item, and nothing says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from paatvaers.access.identity import Principal
from paatvaers.access.reading import Answer, ChildAccess, Withheld
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import Sector, UnitKind, unit_id_for_sor
from paatvaers.store.tables import AppointmentRow, ChildRow, EnrollmentRow, MunicipalCaseRow

# The data flow that shows a newly involved unit of a kind to a recipient in a sector. A
# pair that is not here has no flow (a BUP course is not shown to a GP; the municipality
# has no flow for the school), so it gives no notice.
REVEALING_FLOW: dict[tuple[UnitKind, Sector], DataFlow] = {
    (UnitKind.CHILD_FAMILY, Sector.HEALTH): DataFlow.CASES_TO_HEALTH,
    (UnitKind.PPR, Sector.HEALTH): DataFlow.CASES_TO_HEALTH,
    (UnitKind.CHILD_FAMILY, Sector.MUNICIPAL): DataFlow.CASES_IN_MUNICIPALITY,
    (UnitKind.PPR, Sector.MUNICIPAL): DataFlow.CASES_IN_MUNICIPALITY,
    (UnitKind.BUP, Sector.MUNICIPAL): DataFlow.APPOINTMENTS_TO_MUNICIPALITY,
    (UnitKind.SCHOOL, Sector.HEALTH): DataFlow.SCHOOL_TO_HEALTH,
    (UnitKind.GP, Sector.HEALTH): DataFlow.CHILD_DETAILS,
    (UnitKind.GP, Sector.MUNICIPAL): DataFlow.CHILD_DETAILS,
}


class ConsentServiceDown(Exception):
    """A decision was denied only because the consent service did not answer: the change
    must be tried again later, not dropped."""


@dataclass(frozen=True, slots=True)
class Change:
    """A unit newly involved with a child (an `involvement_change` row)."""

    id: int
    child: Cpr
    unit_id: uuid.UUID
    kind: UnitKind
    since: date


@dataclass(frozen=True, slots=True)
class Revealed:
    """A change as one recipient may see it."""

    change_id: int
    flow: DataFlow
    kind: UnitKind
    actor: str | Withheld  # the new actor's name, as the flow shows it
    since: date


def revealing_flow(kind: UnitKind, recipient: Principal) -> DataFlow | None:
    return REVEALING_FLOW.get((kind, recipient.unit.kind.sector))


def reveal(
    access: ChildAccess, recipient: Principal, change: Change, purpose: str
) -> Revealed | None:
    """The change as the recipient may see it (read and logged), or None."""
    flow = revealing_flow(change.kind, recipient)
    if flow is None:
        return None
    actor = _READERS[flow](access, recipient, change, purpose)
    if actor is None:
        return None
    return Revealed(change.id, flow, change.kind, actor, change.since)


Actor = str | Withheld | None


def _shown(answer: Answer[Any]) -> bool:
    if answer.permitted:
        return True
    if any(rule.endswith(".consent_service") for rule in answer.decision.rules):
        raise ConsentServiceDown(answer.decision.reason_en)
    return False


def _cases(access: ChildAccess, who: Principal, change: Change, purpose: str) -> Actor:
    if who.unit.kind.sector is Sector.HEALTH:
        answer = access.cases_for_health(who, change.child, purpose)
    else:
        answer = access.cases_in_municipality(who, change.child, purpose)
    if not _shown(answer) or not answer.data:
        return None
    of_unit = MunicipalCaseRow.responsible_unit_id == change.unit_id
    ids = set(access.session.scalars(select(MunicipalCaseRow.id).where(of_unit)))
    return next((case.responsible_unit for case in answer.data if case.id in ids), None)


def _appointments(access: ChildAccess, who: Principal, change: Change, purpose: str) -> Actor:
    answer = access.appointments(who, change.child, purpose)
    if not _shown(answer) or not answer.data:
        return None
    rows = access.session.execute(
        select(AppointmentRow.id, AppointmentRow.performer_sor).where(
            AppointmentRow.patient_cpr == change.child.value
        )
    )
    ids = {id_ for id_, sor in rows if unit_id_for_sor(sor) == change.unit_id}
    return next((a.unit_name for a in answer.data if a.id in ids), None)


def _details(access: ChildAccess, who: Principal, change: Change, purpose: str) -> Actor:
    answer = access.child_details(who, change.child, purpose)
    if not _shown(answer) or answer.data is None:
        return None
    of_child = ChildRow.cpr == change.child.value
    gp = access.session.scalar(select(ChildRow.gp_unit_id).where(of_child))
    # Only the GP on the child's patient list is shown by the child's details.
    return answer.data.gp_name if gp == change.unit_id else None


def _school(access: ChildAccess, who: Principal, change: Change, purpose: str) -> Actor:
    answer = access.school(who, change.child, purpose)
    if not _shown(answer) or answer.data is None:
        return None
    school = access.session.scalar(
        select(EnrollmentRow.institution_unit_id).where(
            EnrollmentRow.child_cpr == change.child.value
        )
    )
    return answer.data.institution if school == change.unit_id else None


_READERS: dict[DataFlow, Callable[[ChildAccess, Principal, Change, str], Actor]] = {
    DataFlow.CASES_TO_HEALTH: _cases,
    DataFlow.CASES_IN_MUNICIPALITY: _cases,
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY: _appointments,
    DataFlow.CHILD_DETAILS: _details,
    DataFlow.SCHOOL_TO_HEALTH: _school,
}
