"""Domain objects as table rows: the one place that says which column holds what.

Both ingestion and the population writer go through here, so a record reaches the same
columns whichever way it arrives. A record is an *aggregate*: one parent row (a child, a case)
and the child rows that belong to it (custody holders, case parties); its content hash covers
all of them, so a change anywhere in it is noticed and nothing else is rewritten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paatvaers.domain.appointments import Appointment
from paatvaers.domain.cases import Case
from paatvaers.domain.children import Child
from paatvaers.domain.enrollment import Enrollment
from paatvaers.domain.geography import is_municipality_code, municipality
from paatvaers.domain.organisations import OrgUnit, StaffMember, unit_id_for_institution
from paatvaers.sources.base import (
    AppointmentWithPerformer,
    EnrollmentWithInstitution,
    Entity,
    PersonWithGp,
    SourceName,
)

Row = tuple[Any, ...]
FRESHNESS = ("source", "confirmed_at", "content_hash")


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]  # in COPY order; the key columns first
    fresh: bool = True  # carries source, confirmed_at and content_hash

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns + FRESHNESS if self.fresh else self.columns


ORG_UNIT = Table(
    "org_unit",
    ("id",),
    _columns(
        "id kind name municipality_code region cvr fk_org_uuid sor gln institution_number"
        " phone email"
    ),
)
STAFF_USER = Table(
    "staff_user",
    ("id",),
    _columns("id username full_name employee_function unit_id email phone"),
)
CHILD = Table(
    "child",
    ("cpr",),
    _columns(
        "cpr cpr_synthetic name birth_date sex municipality_code region gp_unit_id"
        " address_protected_since address_protected_until moved_in_on"
        " previous_municipality_code address_line postcode city gp_since previous_gp_unit_id"
    ),
)
CUSTODY_HOLDER = Table(
    "custody_holder",
    ("child_cpr", "holder_cpr"),
    _columns("child_cpr holder_cpr holder_cpr_synthetic name role lives_with_child"),
    fresh=False,
)
MUNICIPAL_CASE = Table(
    "municipal_case",
    ("id",),
    _columns(
        "id case_number title non_public_title kle status sensitivity owner_cvr"
        " responsible_unit_id primary_handler source_system opened_at registered_at"
    ),
)
CASE_PARTY = Table(
    "case_party",
    ("case_id", "cpr", "role"),
    ("case_id", "cpr", "cpr_synthetic", "role"),
    fresh=False,
)
ENROLLMENT = Table(
    "enrollment",
    ("child_cpr",),
    _columns(
        "child_cpr child_cpr_synthetic institution_unit_id institution_number"
        " institution_type main_group grade since"
    ),
)
APPOINTMENT = Table(
    "appointment",
    ("id",),
    _columns(
        'id document_id patient_cpr patient_cpr_synthetic start "end" performer_sor'
        " performer_name location_sor location_name reason practice_setting_code"
        " facility_type_code episode_label status stage replaces_id requester_sor"
        " registered_at"
    ),
)

# Child tables belong to the parent named here: they are replaced whenever the parent changes.
CHILD_TABLES = {CUSTODY_HOLDER.name: CHILD, CASE_PARTY.name: MUNICIPAL_CASE}

# The tables whose rows a source owns: a full pass deletes those it no longer delivers.
OWNED_TABLES: dict[SourceName, tuple[Table, ...]] = {
    SourceName.CPR: (CHILD,),
    SourceName.CASE_INDEX: (MUNICIPAL_CASE,),
    SourceName.ORG_REGISTRY: (ORG_UNIT, STAFF_USER),
    SourceName.INSTITUTIONS: (ORG_UNIT, ENROLLMENT),
    SourceName.APPOINTMENTS: (APPOINTMENT,),
}


@dataclass
class Rows:
    """The rows of a set of aggregates, by table, with each parent row's content hash."""

    parents: dict[str, dict[tuple[Any, ...], tuple[Row, str]]] = field(default_factory=dict)
    children: dict[str, dict[tuple[Any, ...], list[Row]]] = field(default_factory=dict)

    def add_parent(self, table: Table, row: Row, children: Sequence[Row] = ()) -> None:
        """A parent row; its hash covers the child rows stored with it."""
        key = tuple(row[: len(table.key)])
        self.parents.setdefault(table.name, {})[key] = (row, content_hash((row, children)))

    def add_children(self, table: Table, parent_key: tuple[Any, ...], rows: list[Row]) -> None:
        self.children.setdefault(table.name, {})[parent_key] = rows

    def count(self) -> int:
        return sum(len(v) for v in self.parents.values())


def content_hash(content: object) -> str:
    """A stable digest of rows of plain values (str, int, bool, date, datetime, UUID), whose
    reprs are deterministic. Hashing the rows, not the domain objects, is both cheaper and
    exactly right: a record has changed when what we would store has changed."""
    return hashlib.blake2b(repr(content).encode(), digest_size=16).hexdigest()


def _s(value: object | None) -> str | None:
    return None if value is None else str(value)


def _region(code: str | None) -> str | None:
    return municipality(code).region.value if code and is_municipality_code(code) else None


def unit_row(u: OrgUnit) -> Row:
    return (
        u.id,
        u.kind.value,
        u.name,
        u.municipality_code,
        u.region,
        _s(u.cvr),
        u.fk_org_uuid,
        _s(u.sor),
        _s(u.gln),
        _s(u.institution_number),
        u.phone,
        u.email,
    )


def staff_row(s: StaffMember) -> Row:
    return (
        s.id,
        s.username,
        s.full_name,
        s.function.value,
        s.unit_id,
        s.email,
        s.phone,
    )


def child_row(c: Child, gp_unit_id: object | None, synthetic: bool) -> Row:
    protection = c.address_protection
    address = c.address
    return (
        c.cpr.value,
        synthetic,
        c.name,
        c.birth_date,
        c.cpr.sex.value if c.cpr.sex else None,
        c.municipality_code,
        _region(c.municipality_code),
        gp_unit_id,
        protection.since if protection else None,
        protection.until if protection else None,
        c.moved_in_on,
        c.previous_municipality_code,
        address.line if address else None,
        address.postcode if address else None,
        address.city if address else None,
        c.gp_since,
        c.previous_gp_unit_id,
    )


def custody_rows(c: Child, synthetic: bool) -> list[Row]:
    return [
        (c.cpr.value, h.cpr.value, synthetic, h.name, h.role.value, h.lives_with_child)
        for h in c.custody
    ]


def case_row(c: Case) -> Row:
    return (
        c.id,
        c.case_number,
        c.title,
        c.non_public_title,
        c.kle.value,
        c.status.value,
        c.sensitivity.value,
        c.owner_cvr.value,
        c.responsible_unit_id,
        c.primary_handler,
        c.source_system,
        c.opened_at,
        c.registered_at,
    )


def party_rows(c: Case, synthetic: bool) -> list[Row]:
    return [(c.id, p.cpr.value, synthetic, p.role.value) for p in c.parties]


def enrollment_row(e: Enrollment, synthetic: bool) -> Row:
    return (
        e.child_cpr.value,
        synthetic,
        unit_id_for_institution(e.institution_number.value),
        e.institution_number.value,
        e.institution_type.value,
        e.main_group,
        e.grade,
        e.since,
    )


def appointment_row(a: Appointment, synthetic: bool) -> Row:
    return (
        a.id,
        a.document_id,
        a.patient_cpr.value,
        synthetic,
        a.start,
        a.end,
        a.performer_sor.value,
        a.performer_name,
        _s(a.location_sor),
        a.location_name,
        a.reason,
        a.marking.practice_setting_code,
        a.marking.facility_type_code,
        a.marking.episode_label,
        a.status.value,
        a.stage.value if a.stage else None,
        a.replaces_id,
        _s(a.requester_sor),
        a.registered_at,
    )


def rows_of(entities: Iterable[Entity], synthetic: bool) -> Rows:
    """The rows of parsed entities. `synthetic` is what the CPR flags say: True for the
    simulators' synthetic people; a deployment reading real sources passes False."""
    rows = Rows()
    for entity in entities:
        _add(rows, entity, synthetic)
    return rows


def _add(rows: Rows, entity: Entity, synthetic: bool) -> None:
    match entity:
        case PersonWithGp(child=child, gp=gp):
            if gp is not None:
                rows.add_parent(ORG_UNIT, unit_row(gp))
            holders = custody_rows(child, synthetic)
            rows.add_parent(CHILD, child_row(child, gp.id if gp else None, synthetic), holders)
            rows.add_children(CUSTODY_HOLDER, (child.cpr.value,), holders)
        case Case():
            parties = party_rows(entity, synthetic)
            rows.add_parent(MUNICIPAL_CASE, case_row(entity), parties)
            rows.add_children(CASE_PARTY, (entity.id,), parties)
        case OrgUnit():
            rows.add_parent(ORG_UNIT, unit_row(entity))
        case StaffMember():
            rows.add_parent(STAFF_USER, staff_row(entity))
        case EnrollmentWithInstitution(enrollment=enrollment, institution=institution):
            rows.add_parent(ORG_UNIT, unit_row(institution))
            rows.add_parent(ENROLLMENT, enrollment_row(enrollment, synthetic))
        case AppointmentWithPerformer(appointment=appointment, performer=performer):
            rows.add_parent(ORG_UNIT, unit_row(performer))
            rows.add_parent(APPOINTMENT, appointment_row(appointment, synthetic))


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ORG_UNIT,
        STAFF_USER,
        CHILD,
        CUSTODY_HOLDER,
        MUNICIPAL_CASE,
        CASE_PARTY,
        ENROLLMENT,
        APPOINTMENT,
    )
}


def with_freshness(
    row: Row, source: str, confirmed_at: datetime, digest: str | None
) -> Sequence[Any]:
    return (*row, source, confirmed_at, digest)
