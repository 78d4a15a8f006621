"""One repository per aggregate: they turn rows into domain objects and back.

Repositories do not decide who may see what; the access layer calls them after it has
decided and logged the decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.domain.appointments import (
    Appointment,
    AppointmentMarking,
    AppointmentStatus,
    CourseStage,
)
from paatvaers.domain.cases import (
    Case,
    CaseParty,
    CaseStatus,
    KleNumber,
    PartyRole,
    Sensitivity,
)
from paatvaers.domain.children import (
    Address,
    AddressProtection,
    Child,
    CustodyHolder,
    CustodyRole,
    GpChoice,
)
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Cvr, Gln, InstitutionNumber, Sor
from paatvaers.domain.involvement import Evidence, Involvement
from paatvaers.domain.organisations import (
    DataRestrictions,
    EmployeeFunction,
    OrgUnit,
    StaffMember,
    UnitKind,
)
from paatvaers.store.tables import (
    AppointmentRow,
    CasePartyRow,
    ChildRow,
    CustodyHolderRow,
    InvolvementRow,
    MunicipalCaseRow,
    OrgUnitRow,
    PopulationRunRow,
    StaffUserRow,
)


def org_unit_from_row(row: OrgUnitRow) -> OrgUnit:
    return OrgUnit(
        id=row.id,
        kind=UnitKind(row.kind),
        name=row.name,
        municipality_code=row.municipality_code,
        region=row.region,
        cvr=Cvr(row.cvr) if row.cvr else None,
        fk_org_uuid=row.fk_org_uuid,
        sor=Sor(row.sor) if row.sor else None,
        gln=Gln(row.gln) if row.gln else None,
        institution_number=(
            InstitutionNumber(row.institution_number) if row.institution_number else None
        ),
        phone=row.phone,
        email=row.email,
    )


def staff_from_row(row: StaffUserRow, unit_cvr: str | None = None) -> StaffMember:
    """The staff member; `unit_cvr` (the CVR of the member's unit) completes the data
    restrictions of a municipal login."""
    return StaffMember(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        function=EmployeeFunction(row.employee_function),
        unit_id=row.unit_id,
        email=row.email,
        phone=row.phone,
        is_demo=row.is_demo,
        restrictions=_restrictions(row, unit_cvr),
    )


def _restrictions(row: StaffUserRow, unit_cvr: str | None) -> DataRestrictions | None:
    """None (no access to case data) unless the login has a grant and its unit a CVR."""
    if row.kle_scope is None or row.max_sensitivity is None or unit_cvr is None:
        return None
    return DataRestrictions(Cvr(unit_cvr), tuple(row.kle_scope), Sensitivity(row.max_sensitivity))


class OrgUnitRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, unit_id: uuid.UUID) -> OrgUnit | None:
        row = self.session.get(OrgUnitRow, unit_id)
        return org_unit_from_row(row) if row else None

    def of_kind(self, kind: UnitKind, municipality_code: str | None = None) -> list[OrgUnit]:
        query = select(OrgUnitRow).where(OrgUnitRow.kind == kind.value)
        if municipality_code is not None:
            query = query.where(OrgUnitRow.municipality_code == municipality_code)
        return [org_unit_from_row(r) for r in self.session.scalars(query.order_by(OrgUnitRow.name))]


@dataclass(frozen=True)
class StaffWithUnit:
    member: StaffMember
    unit: OrgUnit


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def demo_users(self) -> list[StaffWithUnit]:
        """The demo logins, in the order the mission lists the professions."""
        order = list(EmployeeFunction)
        rows = self.session.execute(
            select(StaffUserRow, OrgUnitRow)
            .join(OrgUnitRow, StaffUserRow.unit_id == OrgUnitRow.id)
            .where(StaffUserRow.is_demo.is_(True))
        ).all()
        users = [StaffWithUnit(staff_from_row(s, u.cvr), org_unit_from_row(u)) for s, u in rows]
        return sorted(users, key=lambda u: order.index(u.member.function))

    def by_username(self, username: str) -> StaffMember | None:
        found = self.session.execute(
            select(StaffUserRow, OrgUnitRow.cvr)
            .outerjoin(OrgUnitRow, StaffUserRow.unit_id == OrgUnitRow.id)
            .where(StaffUserRow.username == username)
        ).first()
        return staff_from_row(found[0], found[1]) if found else None


class ChildRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, cpr: Cpr) -> Child | None:
        row = self.session.get(ChildRow, cpr.value)
        if row is None:
            return None
        holders = self.session.scalars(
            select(CustodyHolderRow)
            .where(CustodyHolderRow.child_cpr == cpr.value)
            .order_by(CustodyHolderRow.id)
        )
        protection = (
            AddressProtection(row.address_protected_since, row.address_protected_until)
            if row.address_protected_since
            else None
        )
        address = (
            Address(row.address_line, row.postcode or "", row.city or "")
            if row.address_line
            else None
        )
        return Child(
            cpr=cpr,
            name=row.name,
            municipality_code=row.municipality_code,
            custody=tuple(
                CustodyHolder(
                    Cpr.parse(h.holder_cpr), h.name, CustodyRole(h.role), h.lives_with_child
                )
                for h in holders
            ),
            address_protection=protection,
            moved_in_on=row.moved_in_on,
            previous_municipality_code=row.previous_municipality_code,
            address=address,
            gp_since=row.gp_since,
            previous_gp_sor=self._sor_of(row.previous_gp_unit_id),
        )

    def _sor_of(self, unit_id: uuid.UUID | None) -> Sor | None:
        """The SOR code of a clinic the platform knows; the store keeps the unit's id, which
        a clinic that no child lists any longer may lack a row for (then None)."""
        if unit_id is None:
            return None
        sor = self.session.scalar(select(OrgUnitRow.sor).where(OrgUnitRow.id == unit_id))
        return Sor(sor) if sor else None

    def gp_of(self, cpr: Cpr) -> uuid.UUID | None:
        return self.session.scalar(select(ChildRow.gp_unit_id).where(ChildRow.cpr == cpr.value))

    def gp_choice(self, cpr: Cpr) -> GpChoice | None:
        """The clinic the child is listed with, since when, and the one before; None when the
        child is unknown or listed with no clinic."""
        row = self.session.execute(
            select(ChildRow.gp_unit_id, ChildRow.gp_since, ChildRow.previous_gp_unit_id).where(
                ChildRow.cpr == cpr.value
            )
        ).first()
        if row is None or row.gp_unit_id is None:
            return None
        return GpChoice(row.gp_unit_id, row.gp_since, row.previous_gp_unit_id)


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_child(self, cpr: Cpr) -> list[Case]:
        case_rows = self.session.scalars(
            select(MunicipalCaseRow)
            .join(CasePartyRow, CasePartyRow.case_id == MunicipalCaseRow.id)
            .where(CasePartyRow.cpr == cpr.value)
            .order_by(MunicipalCaseRow.opened_at)
        ).all()
        return [self._case(row) for row in case_rows]

    def _case(self, row: MunicipalCaseRow) -> Case:
        parties = self.session.scalars(select(CasePartyRow).where(CasePartyRow.case_id == row.id))
        return case_from_row(
            row, tuple(CaseParty(Cpr.parse(p.cpr), PartyRole(p.role)) for p in parties)
        )


def case_from_row(row: MunicipalCaseRow, parties: tuple[CaseParty, ...]) -> Case:
    return Case(
        id=row.id,
        case_number=row.case_number,
        title=row.title,
        non_public_title=row.non_public_title,
        kle=KleNumber(row.kle),
        status=CaseStatus(row.status),
        sensitivity=Sensitivity(row.sensitivity),
        owner_cvr=Cvr(row.owner_cvr),
        responsible_unit_id=row.responsible_unit_id,
        source_system=row.source_system,
        opened_at=row.opened_at,
        primary_handler=row.primary_handler,
        parties=parties,
    )


def appointment_from_row(row: AppointmentRow) -> Appointment:
    return Appointment(
        id=row.id,
        document_id=row.document_id,
        patient_cpr=Cpr.parse(row.patient_cpr),
        start=row.start,
        end=row.end,
        performer_sor=Sor(row.performer_sor),
        performer_name=row.performer_name,
        location_sor=Sor(row.location_sor) if row.location_sor else None,
        location_name=row.location_name,
        reason=row.reason,
        marking=AppointmentMarking(
            row.practice_setting_code, row.facility_type_code, row.episode_label
        ),
        status=AppointmentStatus(row.status),
        stage=CourseStage(row.stage) if row.stage else None,
        replaces_id=row.replaces_id,
        requester_sor=Sor(row.requester_sor) if row.requester_sor else None,
    )


class AppointmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_child(self, cpr: Cpr) -> list[Appointment]:
        rows = self.session.scalars(
            select(AppointmentRow)
            .where(AppointmentRow.patient_cpr == cpr.value)
            .order_by(AppointmentRow.start)
        )
        return [appointment_from_row(r) for r in rows]


class InvolvementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_child(self, cpr: Cpr) -> list[Involvement]:
        rows = self.session.scalars(
            select(InvolvementRow)
            .where(InvolvementRow.child_cpr == cpr.value)
            .order_by(InvolvementRow.since)
        )
        return [
            Involvement(
                child_cpr=cpr,
                unit_id=r.unit_id,
                kind=UnitKind(r.kind),
                since=r.since,
                evidence=Evidence(r.evidence),
                until=r.until,
            )
            for r in rows
        ]


class PopulationRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self) -> PopulationRunRow | None:
        return self.session.scalar(
            select(PopulationRunRow).order_by(PopulationRunRow.id.desc()).limit(1)
        )


def child_cprs(session: Session) -> Sequence[str]:
    return session.scalars(select(ChildRow.cpr).order_by(ChildRow.cpr)).all()
