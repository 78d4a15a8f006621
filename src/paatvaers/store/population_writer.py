"""Write a synthetic population into the database in one transaction, with COPY.

COPY is used because a national-size population is hundreds of thousands of rows; row-by-row
INSERTs would take minutes. The old population is replaced, never merged with the new one.
Every CPR column is written with its `*_synthetic` flag set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Engine

from paatvaers.domain.geography import municipality
from paatvaers.population.generator import Population
from paatvaers.population.report import PopulationReport

SYNTHETIC = True

POPULATION_TABLES = (
    "appointment",
    "involvement",
    "case_party",
    "municipal_case",
    "enrollment",
    "custody_holder",
    "child",
    "staff_user",
    "org_unit",
    "population_run",
)


def _copy(
    cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def replace_population(
    engine: Engine,
    population: Population,
    report: PopulationReport,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Replace whatever population the database holds with `population`."""
    step = progress or (lambda _table: None)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert isinstance(connection, psycopg.Connection)  # noqa: S101 - we only use psycopg
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(POPULATION_TABLES)} RESTART IDENTITY CASCADE")
            for table, columns, rows in _tables(population):
                step(table)
                _copy(cursor, table, columns, rows)
            cursor.execute(
                "INSERT INTO population_run (seed, children, as_of, cpr_set_hash, stats,"
                " generated_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    population.seed,
                    report.children,
                    population.as_of,
                    report.cpr_set_hash,
                    json.dumps(report.as_dict()),
                    datetime.now(UTC),
                ),
            )
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def _tables(
    p: Population,
) -> Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]:
    yield (
        "org_unit",
        [
            "id",
            "kind",
            "name",
            "municipality_code",
            "region",
            "cvr",
            "fk_org_uuid",
            "sor",
            "gln",
            "institution_number",
            "phone",
            "email",
        ],
        (
            (
                u.id,
                u.kind.value,
                u.name,
                u.municipality_code,
                u.region,
                _str(u.cvr),
                u.fk_org_uuid,
                _str(u.sor),
                _str(u.gln),
                _str(u.institution_number),
                u.phone,
                u.email,
            )
            for u in p.org_units
        ),
    )
    yield (
        "staff_user",
        [
            "id",
            "username",
            "full_name",
            "employee_function",
            "unit_id",
            "email",
            "phone",
            "is_demo",
        ],
        (
            (
                s.id,
                s.username,
                s.full_name,
                s.function.value,
                s.unit_id,
                s.email,
                s.phone,
                s.is_demo,
            )
            for s in p.staff
        ),
    )
    yield (
        "child",
        [
            "cpr",
            "cpr_synthetic",
            "name",
            "birth_date",
            "sex",
            "municipality_code",
            "region",
            "gp_unit_id",
            "address_protected_since",
            "address_protected_until",
        ],
        (
            (
                c.cpr.value,
                SYNTHETIC,
                c.name,
                c.birth_date,
                c.cpr.sex.value if c.cpr.sex else None,
                c.municipality_code,
                _region(c.municipality_code),
                p.gp_of.get(c.cpr.value),
                c.address_protection.since if c.address_protection else None,
                c.address_protection.until if c.address_protection else None,
            )
            for c in p.children
        ),
    )
    yield (
        "custody_holder",
        ["child_cpr", "holder_cpr", "holder_cpr_synthetic", "name", "role", "lives_with_child"],
        (
            (c.cpr.value, h.cpr.value, SYNTHETIC, h.name, h.role.value, h.lives_with_child)
            for c in p.children
            for h in c.custody
        ),
    )
    yield (
        "enrollment",
        [
            "child_cpr",
            "institution_unit_id",
            "institution_number",
            "institution_type",
            "main_group",
            "grade",
            "since",
        ],
        _enrollment_rows(p),
    )
    yield (
        "municipal_case",
        [
            "id",
            "case_number",
            "title",
            "non_public_title",
            "kle",
            "status",
            "sensitivity",
            "owner_cvr",
            "responsible_unit_id",
            "primary_handler",
            "source_system",
            "opened_at",
        ],
        (
            (
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
            )
            for c in p.cases
        ),
    )
    yield (
        "case_party",
        ["case_id", "cpr", "cpr_synthetic", "role"],
        (
            (c.id, party.cpr.value, SYNTHETIC, party.role.value)
            for c in p.cases
            for party in c.parties
        ),
    )
    yield (
        "involvement",
        ["child_cpr", "unit_id", "kind", "since", "until", "evidence"],
        (
            (i.child_cpr.value, i.unit_id, i.kind.value, i.since, i.until, i.evidence.value)
            for i in p.involvements
        ),
    )
    yield (
        "appointment",
        [
            "id",
            "document_id",
            "patient_cpr",
            "patient_cpr_synthetic",
            "start",
            '"end"',
            "performer_sor",
            "performer_name",
            "location_sor",
            "location_name",
            "reason",
            "practice_setting_code",
            "facility_type_code",
            "episode_label",
            "status",
            "stage",
            "replaces_id",
        ],
        (
            (
                a.id,
                a.document_id,
                a.patient_cpr.value,
                SYNTHETIC,
                a.start,
                a.end,
                a.performer_sor.value,
                a.performer_name,
                _str(a.location_sor),
                a.location_name,
                a.reason,
                a.marking.practice_setting_code,
                a.marking.facility_type_code,
                a.marking.episode_label,
                a.status.value,
                a.stage.value if a.stage else None,
                a.replaces_id,
            )
            for a in p.appointments
        ),
    )


def _enrollment_rows(p: Population) -> Iterable[Sequence[Any]]:
    unit_by_number = {
        u.institution_number.value: u.id for u in p.org_units if u.institution_number is not None
    }
    for e in p.enrollments:
        yield (
            e.child_cpr.value,
            unit_by_number[e.institution_number.value],
            e.institution_number.value,
            e.institution_type.value,
            e.main_group,
            e.grade,
            e.since,
        )


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)


def _region(municipality_code: str) -> str:
    return municipality(municipality_code).region.value
