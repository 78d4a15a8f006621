"""Who should come: the participants proposed for a meeting about a child, from what the
convenor may see.

Every fact used is read through `ChildAccess` as the convenor, so each read is decided and
logged, and a proposal never shows the convenor more than the engine permits them: a BUP unit
is proposed only when the convenor may see the child's psychiatric appointments, a GP clinic
only when the convenor may see the child's GP, a caseworker only through a case the convenor
may see. Anyone else can still be added from the address book.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.access.reading import ChildAccess, ChildDetails, Withheld
from paatvaers.correspondence import address_book
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.organisations import EmployeeFunction, Sector, UnitKind
from paatvaers.meetings.model import Channel, ParticipantKind
from paatvaers.store.tables import (
    AppointmentRow,
    ChildRow,
    MunicipalCaseRow,
    OrgUnitRow,
    StaffUserRow,
)

YOUNG_PERSON_AGE = 15  # from 15 the young person is invited alongside the custody holders


@dataclass(frozen=True, slots=True)
class Proposed:
    """A participant the convenor may choose. `key` names them in the form."""

    key: str
    kind: ParticipantKind
    name: str
    role: str
    unit_id: uuid.UUID | None = None
    staff_user_id: uuid.UUID | None = None
    phone: str | None = None
    email: str | None = None
    channel: Channel = Channel.PLATFORM
    proposed: bool = True  # ticked in the form: from the data (the family is left to choose)


@dataclass(frozen=True, slots=True)
class Proposal:
    convenor: Proposed
    professionals: tuple[Proposed, ...]  # from the data, ticked
    family: tuple[Proposed, ...]  # custody holders and the young person, not ticked
    child_name: str | None  # None: the convenor may not see the child's details

    @property
    def choosable(self) -> dict[str, Proposed]:
        return {p.key: p for p in (*self.professionals, *self.family)}


def propose(
    session: Session, access: ChildAccess, convenor: Principal, child: Cpr, purpose: str
) -> Proposal:
    with access.one_view():
        details = access.child_details(convenor, child, purpose)
        professionals = _dedupe(
            [
                *_caseworkers(session, access, convenor, child, purpose),
                *_bup(session, access, convenor, child, purpose),
                *_gp(session, child, details.data),
            ],
            convenor,
        )
    family: list[Proposed] = []
    if details.data is not None:
        family = [
            _family(f"family:{i}", name, "Forældremyndighedsindehaver")
            for i, name in enumerate(details.data.custody_holders)
        ]
        if details.data.age >= YOUNG_PERSON_AGE:
            family.append(_family("family:child", details.data.name, "Den unge selv"))
    return Proposal(
        convenor=_myself(session, convenor),
        professionals=tuple(professionals),
        family=tuple(family),
        child_name=details.data.name if details.data else None,
    )


def _family(key: str, name: str, role: str) -> Proposed:
    """The family is the convenor's to invite, by their usual means; left unticked."""
    return Proposed(key, ParticipantKind.FAMILY, name, role, channel=Channel.NONE, proposed=False)


def _myself(session: Session, principal: Principal) -> Proposed:
    staff = session.get(StaffUserRow, principal.user_id)
    return Proposed(
        key=f"staff:{principal.user_id}",
        kind=ParticipantKind.CONVENOR,
        name=staff.full_name if staff else principal.username,
        role=_role(principal.function, principal.unit.name),
        unit_id=principal.unit.id,
        staff_user_id=principal.user_id,
        phone=(staff.phone if staff else None) or principal.unit.phone,
        email=(staff.email if staff else None) or principal.unit.email,
    )


def _caseworkers(
    session: Session, access: ChildAccess, convenor: Principal, child: Cpr, purpose: str
) -> list[Proposed]:
    """The responsible caseworker (or unit) of each open case the convenor may see."""
    if convenor.unit.kind.sector is Sector.HEALTH:
        contacts = access.contacts(convenor, child, purpose).data or []
        case_ids = [c.case_id for c in contacts]
    else:
        cases = access.cases_in_municipality(convenor, child, purpose).data or []
        case_ids = [c.id for c in cases]
    found = []
    for case_id in case_ids:
        case = session.get(MunicipalCaseRow, case_id)
        unit = session.get(OrgUnitRow, case.responsible_unit_id) if case else None
        if case is None or unit is None:
            continue
        worker = _staff_by_name(session, unit.id, case.primary_handler)
        found.append(_professional(worker, unit) if worker else _unit(session, unit))
    return found


def _bup(
    session: Session, access: ChildAccess, convenor: Principal, child: Cpr, purpose: str
) -> list[Proposed]:
    """The BUP units of the child's psychiatric appointments, when the convenor may see them
    with their unit (a protected address withholds the unit: then none is proposed)."""
    if convenor.unit.kind.sector is Sector.HEALTH:
        return []  # no flow shows a health user another unit's appointments
    answer = access.appointments(convenor, child, purpose)
    shown = [a.id for a in answer.data or [] if not isinstance(a.unit_name, Withheld)]
    sors = dict.fromkeys(
        session.scalars(select(AppointmentRow.performer_sor).where(AppointmentRow.id.in_(shown)))
    )
    units = session.scalars(
        select(OrgUnitRow).where(OrgUnitRow.sor.in_(list(sors)), OrgUnitRow.kind == "bup")
    )
    return [_unit(session, unit) for unit in units]


def _gp(session: Session, child: Cpr, details: ChildDetails | None) -> list[Proposed]:
    """The child's GP clinic, when the convenor may see which it is."""
    if details is None or details.gp_name is None or isinstance(details.gp_name, Withheld):
        return []
    row = session.get(ChildRow, child.value)
    unit = session.get(OrgUnitRow, row.gp_unit_id) if row and row.gp_unit_id else None
    return [_unit(session, unit)] if unit else []


def unit_participant(session: Session, unit_id: uuid.UUID) -> Proposed | None:
    """A unit from the address book, added by the convenor."""
    unit = session.get(OrgUnitRow, unit_id)
    return _unit(session, unit) if unit else None


def _unit(session: Session, unit: OrgUnitRow) -> Proposed:
    kind = UnitKind(unit.kind)
    return Proposed(
        key=f"unit:{unit.id}",
        kind=ParticipantKind.UNIT,
        name=unit.name,
        role=kind.danish_name,
        unit_id=unit.id,
        phone=unit.phone,
        email=unit.email,
        channel=_channel(session, unit.id, kind),
    )


def _professional(worker: StaffUserRow, unit: OrgUnitRow) -> Proposed:
    function = EmployeeFunction(worker.employee_function)
    return Proposed(
        key=f"staff:{worker.id}",
        kind=ParticipantKind.PROFESSIONAL,
        name=worker.full_name,
        role=_role(function, unit.name),
        unit_id=unit.id,
        staff_user_id=worker.id,
        phone=worker.phone or unit.phone,
        email=worker.email or unit.email,
        channel=Channel.PLATFORM,
    )


def _channel(session: Session, unit_id: uuid.UUID, kind: UnitKind) -> Channel:
    """Health units read MedCom in their own systems; municipal units read it here."""
    if kind.sector is Sector.HEALTH and address_book.party(session, unit_id) is not None:
        return Channel.MEDCOM
    return Channel.PLATFORM if kind.sector is Sector.MUNICIPAL else Channel.NONE


def _staff_by_name(session: Session, unit_id: uuid.UUID, name: str | None) -> StaffUserRow | None:
    if not name:
        return None
    return session.scalar(
        select(StaffUserRow)
        .where(StaffUserRow.unit_id == unit_id, StaffUserRow.full_name == name)
        .limit(1)
    )


def _role(function: EmployeeFunction, unit_name: str) -> str:
    return f"{function.danish_title} – {unit_name}"


def _dedupe(found: list[Proposed], convenor: Principal) -> list[Proposed]:
    """Each once; not the convenor; a unit not again when one of its people is proposed."""
    people_units = {p.unit_id for p in found if p.kind is ParticipantKind.PROFESSIONAL}
    seen: set[str] = {f"staff:{convenor.user_id}"}
    kept = []
    for p in found:
        if p.key in seen or (p.kind is ParticipantKind.UNIT and p.unit_id in people_units):
            continue
        if p.kind is ParticipantKind.UNIT and p.unit_id == convenor.unit.id:
            continue
        seen.add(p.key)
        kept.append(p)
    return kept
