"""Write a synthetic population straight into the database, as if every source had been
ingested, in one transaction with COPY.

This is the fast path for tests and the baseline of the ingestion benchmark; the demo and a
deployment go through the adapters instead. The rows are the ones ingestion would write (both
use `ingest.rows`), marked with the source that delivers them. The old population is
replaced, never merged with the new one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from paatvaers.ingest.rows import STAFF_USER, TABLES, Row, Rows, rows_of, staff_row
from paatvaers.population.generator import Population
from paatvaers.population.report import PopulationReport
from paatvaers.sources.simulation.world import deliveries, local_staff

LOCAL_SOURCE = "local"  # registered in the platform itself, not by a national source

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
    "quarantine",
    "ingest_run",
    "ingest_checkpoint",
)


def _copy(
    cursor: psycopg.Cursor[Any], table: str, columns: Iterable[str], rows: Iterable[Row]
) -> None:
    names = sql.SQL(", ").join(sql.SQL(c) for c in columns)  # our own constant column names
    with cursor.copy(
        sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
    ) as copy:
        for row in rows:
            copy.write_row(row)


def replace_population(
    engine: Engine,
    population: Population,
    report: PopulationReport,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Replace whatever population the database holds with `population`."""
    step = progress or (lambda _source: None)
    now = datetime.now(UTC)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert isinstance(connection, psycopg.Connection)  # noqa: S101 - we only use psycopg
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(POPULATION_TABLES)} RESTART IDENTITY CASCADE")
            written: set[tuple[str, tuple[Any, ...]]] = set()
            for source, entities in deliveries(population).items():
                step(source.value)
                _copy_entities(
                    cursor, rows_of(entities, synthetic=True), source.value, now, written
                )
            _copy(
                cursor,
                STAFF_USER.name,
                STAFF_USER.all_columns,
                ((*staff_row(s), LOCAL_SOURCE, now, None) for s in local_staff(population)),
            )
            _mark_demo_users(cursor, population)
            _grant_restrictions(cursor, population)
            _copy(cursor, "involvement", _INVOLVEMENT_COLUMNS, _involvement_rows(population))
            _record_run(cursor, population, report, now)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def _copy_entities(
    cursor: psycopg.Cursor[Any],
    rows: Rows,
    source: str,
    now: datetime,
    written: set[tuple[str, tuple[Any, ...]]],
) -> None:
    """COPY parents (each key once across sources: a unit may be named by many records),
    then their children."""
    for name, parents in rows.parents.items():
        table = TABLES[name]
        fresh = [(key, value) for key, value in parents.items() if (name, key) not in written]
        written.update((name, key) for key, _ in fresh)
        _copy(
            cursor,
            name,
            table.all_columns,
            ((*row, source, now, digest) for _, (row, digest) in fresh),
        )
    for name, by_parent in rows.children.items():
        _copy(cursor, name, TABLES[name].columns, (r for rs in by_parent.values() for r in rs))


_INVOLVEMENT_COLUMNS = (
    "child_cpr",
    "child_cpr_synthetic",
    "unit_id",
    "kind",
    "since",
    "until",
    "evidence",
)


def _involvement_rows(p: Population) -> Iterable[Row]:
    for i in p.involvements:
        yield (i.child_cpr.value, True, i.unit_id, i.kind.value, i.since, i.until, i.evidence.value)


def write_local_staff_and_run(
    engine: Engine, population: Population, report: PopulationReport
) -> None:
    """What the demo adds beside ingestion: the health staff registered in the platform itself,
    the demo mark and the data restrictions of the logins, and a note of which population the
    simulators served."""
    now = datetime.now(UTC)
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert isinstance(connection, psycopg.Connection)  # noqa: S101 - we only use psycopg
        columns = ", ".join(STAFF_USER.all_columns)
        placeholders = ", ".join(["%s"] * len(STAFF_USER.all_columns))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO staff_user ({columns}) VALUES ({placeholders})"  # noqa: S608 - constants
                " ON CONFLICT (id) DO NOTHING",
                [(*staff_row(s), LOCAL_SOURCE, now, None) for s in local_staff(population)],
            )
            _mark_demo_users(cursor, population)
            _grant_restrictions(cursor, population)
            _record_run(cursor, population, report, now)
        raw.commit()
    finally:
        raw.close()


def _record_run(
    cursor: psycopg.Cursor[Any], population: Population, report: PopulationReport, now: datetime
) -> None:
    cursor.execute(
        "INSERT INTO population_run (seed, children, as_of, cpr_set_hash, stats, generated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (
            population.seed,
            report.children,
            population.as_of,
            report.cpr_set_hash,
            json.dumps(report.as_dict()),
            now,
        ),
    )


def _mark_demo_users(cursor: psycopg.Cursor[Any], population: Population) -> None:
    cursor.execute(
        "UPDATE staff_user SET is_demo = true WHERE id = ANY(%s)",
        ([s.id for s in population.demo_users()],),
    )


def _grant_restrictions(cursor: psycopg.Cursor[Any], population: Population) -> None:
    """The data restrictions that municipal logins grant (KOMBIT adgangsstyring, not FK
    Organisation): platform-owned like the demo mark, so no ingestion overwrites them. The CVR
    is not stored: it is the CVR of the user's unit."""
    by_grant: dict[tuple[tuple[str, ...], str], list[uuid.UUID]] = {}
    for member in population.staff:
        grant = member.restrictions
        if grant is not None:
            key = (grant.kle_patterns, grant.max_sensitivity.value)
            by_grant.setdefault(key, []).append(member.id)
    for (patterns, highest), ids in by_grant.items():
        cursor.execute(
            "UPDATE staff_user SET kle_scope = %s, max_sensitivity = %s WHERE id = ANY(%s)",
            (list(patterns), highest, ids),
        )
