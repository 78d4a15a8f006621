"""The child's team: the organisations and units involved, each with its contact and what it
does, in plain words.

From the data the platform holds: the units involved now (the involvement table, derived from
the sources by the domain's rules), the child's own doctor (CPR's GP choice) and the child's
school or daycare (STIL). For the
family department and PPR the contact is the caseworker of the open case where the child is the
primary party; for the others, the unit itself.

Under a name and address protection aimed at the citizen (`ChildLink.location_withheld`), no
unit is named and no contact given: a school, a clinic or a municipality's office each tell
where the child lives. The kind of unit and what it does are still shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from paatvaers.access.reading import WITHHELD, Withheld
from paatvaers.domain.cases import CaseStatus, PartyRole
from paatvaers.domain.organisations import UnitKind
from paatvaers.family.citizen import ChildLink
from paatvaers.family.policy import FamilyPolicy, KindWords
from paatvaers.store.tables import (
    CasePartyRow,
    ChildRow,
    EnrollmentRow,
    InvolvementRow,
    MunicipalCaseRow,
    OrgUnitRow,
    StaffUserRow,
)

# The order a family reads the team in: support first, then health, then school.
ORDER = (
    UnitKind.CHILD_FAMILY,
    UnitKind.PPR,
    UnitKind.BUP,
    UnitKind.GP,
    UnitKind.SCHOOL,
    UnitKind.DAYCARE,
)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str | None  # the caseworker; None: the unit itself
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class TeamMember:
    unit_id: uuid.UUID
    kind: UnitKind
    words: KindWords  # what kind of place, and what it does
    unit_name: str | Withheld
    contact: Contact | Withheld
    since: date | None


def team(session: Session, child: ChildLink, today: date, policy: FamilyPolicy) -> list[TeamMember]:
    involved = _involved(session, child, today)
    row = session.get(ChildRow, child.cpr.value)
    if row is not None and row.gp_unit_id is not None:
        involved.setdefault(row.gp_unit_id, row.gp_since)
    enrollment = session.get(EnrollmentRow, child.cpr.value)
    if enrollment is not None:
        involved.setdefault(enrollment.institution_unit_id, enrollment.since)
    units = session.scalars(select(OrgUnitRow).where(OrgUnitRow.id.in_(involved))).all()
    handlers = _caseworkers(session, child)
    members = [
        _member(session, unit, involved[unit.id], handlers.get(unit.id), child, policy)
        for unit in units
    ]
    return sorted(members, key=lambda m: (ORDER.index(m.kind), str(m.unit_name)))


def _involved(session: Session, child: ChildLink, today: date) -> dict[uuid.UUID, date | None]:
    rows = session.execute(
        select(InvolvementRow.unit_id, InvolvementRow.since).where(
            InvolvementRow.child_cpr == child.cpr.value,
            InvolvementRow.since <= today,
            or_(InvolvementRow.until.is_(None), InvolvementRow.until >= today),
        )
    ).all()
    return {row.unit_id: row.since for row in rows}


def _caseworkers(session: Session, child: ChildLink) -> dict[uuid.UUID, str]:
    """The primary handler of the child's open case in each responsible unit."""
    rows = session.execute(
        select(MunicipalCaseRow.responsible_unit_id, MunicipalCaseRow.primary_handler)
        .join(CasePartyRow, CasePartyRow.case_id == MunicipalCaseRow.id)
        .where(
            CasePartyRow.cpr == child.cpr.value,
            CasePartyRow.role == PartyRole.PRIMARY.value,
            MunicipalCaseRow.status != CaseStatus.AFSLUTTET.value,
            MunicipalCaseRow.primary_handler.is_not(None),
        )
        .order_by(MunicipalCaseRow.opened_at.desc())
    ).all()
    handlers: dict[uuid.UUID, str] = {}
    for unit_id, name in rows:
        if name is not None:
            handlers.setdefault(unit_id, name)  # the newest case's handler
    return handlers


def _member(
    session: Session,
    unit: OrgUnitRow,
    since: date | None,
    handler: str | None,
    child: ChildLink,
    policy: FamilyPolicy,
) -> TeamMember:
    kind = UnitKind(unit.kind)
    if child.location_withheld:
        return TeamMember(unit.id, kind, policy.unit_kinds[kind], WITHHELD, WITHHELD, since)
    contact = Contact(None, unit.phone, unit.email)
    if handler is not None:
        staff = session.scalars(
            select(StaffUserRow)
            .where(StaffUserRow.unit_id == unit.id, StaffUserRow.full_name == handler)
            .limit(1)
        ).first()
        contact = Contact(
            handler,
            (staff.phone if staff else None) or unit.phone,
            (staff.email if staff else None) or unit.email,
        )
    return TeamMember(unit.id, kind, policy.unit_kinds[kind], unit.name, contact, since)
