"""All five sources end to end: simulators on loopback HTTP, the real adapters, ingestion into
a real PostgreSQL. A first run stores everything and quarantines the broken records; a second
run changes nothing; after the sources modify, cancel and delete known records, the next
incremental run reflects exactly those changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, text

from paatvaers.domain.appointments import AppointmentStatus
from paatvaers.domain.cases import CaseStatus
from paatvaers.ingest.pipeline import Mode, RunSummary
from paatvaers.ingest.service import ingest
from paatvaers.population.generator import Population, generate
from paatvaers.population.report import report
from paatvaers.settings import Settings
from paatvaers.sources.base import SourceName
from paatvaers.sources.simulation.server import RunningSimulators, add_malformed_examples
from paatvaers.sources.simulation.world import Malformed, World
from paatvaers.store.db import make_engine
from paatvaers.store.population_writer import write_local_staff_and_run

AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(400, 13, AS_OF)


@pytest.fixture
def world(population: Population) -> World:
    world = World.from_population(population)
    add_malformed_examples(world)
    return world


@pytest.fixture
def setup(
    world: World, make_fresh_database: Callable[[], str]
) -> Iterator[tuple[Engine, Settings]]:
    url = make_fresh_database()
    engine = make_engine(url)
    with RunningSimulators(world) as sims:
        settings = Settings(
            database_url=url,
            **{f"{s.value}_url": u for s, u in sims.urls.items()},  # type: ignore[arg-type]
        )
        yield engine, settings
    engine.dispose()


def _by_source(summaries: list[RunSummary]) -> dict[str, RunSummary]:
    return {s.source: s for s in summaries}


def _malformed(world: World) -> dict[str, int]:
    stores = {
        "cpr": [world.persons],
        "case_index": [world.cases],
        "org_registry": [world.org_units, world.users],
        "institutions": [world.institutions, world.enrollments],
        "appointments": [world.appointments],
    }
    return {
        source: sum(
            isinstance(entry.value, Malformed)
            for store in group
            for entry in store.page(None, None, 10**9)[0]
        )
        for source, group in stores.items()
    }


def _rows(engine: Engine, query: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), params).all()]


def test_first_run_stores_everything_and_quarantines_the_broken(
    setup: tuple[Engine, Settings], world: World, population: Population
) -> None:
    engine, settings = setup
    runs = _by_source(ingest(engine, settings, day=AS_OF))
    assert {s: r.quarantined for s, r in runs.items()} == _malformed(world)
    assert all(r.mode == "full" for r in runs.values())
    reasons = _rows(engine, "SELECT source, reason FROM quarantine WHERE resolved_at IS NULL")
    assert len(reasons) == sum(_malformed(world).values())
    assert all(reason for _, reason in reasons)
    cpr_reasons = [reason for source, reason in reasons if source == "cpr"]
    assert any("adresse postnummer '90000' is not four digits" in r for r in cpr_reasons)
    assert any("laegevalg ikraftDato is not a date: '2024-02-31'" in r for r in cpr_reasons)
    shared = [
        a
        for a in population.appointments
        if a.patient_cpr.value not in population.appointment_sharing_blocked
    ]
    counts = _rows(
        engine,
        "SELECT (SELECT count(*) FROM child), (SELECT count(*) FROM municipal_case),"
        " (SELECT count(*) FROM appointment), (SELECT count(*) FROM enrollment)",
    )[0]
    assert counts == (
        len(population.children),
        len(population.cases),
        len(shared),
        len(population.enrollments),
    )
    involved = _rows(engine, "SELECT count(*) FROM involvement")[0][0]
    assert involved == len(population.involvements)


def test_the_demo_grants_restrictions_that_ingestion_leaves_alone(
    setup: tuple[Engine, Settings], population: Population
) -> None:
    """The demo ingests FK Organisation's users, then adds what the platform owns: health staff,
    the demo mark and the logins' data restrictions. A later ingestion keeps them."""
    engine, settings = setup
    ingest(engine, settings, day=AS_OF)
    write_local_staff_and_run(engine, population, report(population))
    ingest(engine, settings, [SourceName.ORG_REGISTRY], Mode.FULL, day=AS_OF)
    granted = {
        str(s.id): (list(s.restrictions.kle_patterns), s.restrictions.max_sensitivity.value)
        for s in population.staff
        if s.restrictions is not None
    }
    stored = _rows(
        engine,
        "SELECT id::text, kle_scope, max_sensitivity FROM staff_user WHERE kle_scope IS NOT NULL",
    )
    assert {str(i): (k, m) for i, k, m in stored} == granted
    assert _rows(engine, "SELECT count(*) FROM staff_user")[0][0] == len(population.staff)


def test_a_second_run_changes_nothing(setup: tuple[Engine, Settings]) -> None:
    engine, settings = setup
    ingest(engine, settings, day=AS_OF)
    again = ingest(engine, settings, day=AS_OF)
    assert [(r.source, r.mode, r.upserted, r.deleted) for r in again] == [
        (r.source, "incremental", 0, 0) for r in again
    ]


def test_an_incremental_run_reflects_exactly_what_the_sources_changed(
    setup: tuple[Engine, Settings], world: World, population: Population
) -> None:
    engine, settings = setup
    ingest(engine, settings, day=AS_OF)

    still_open = [c for c in population.cases if c.status is not CaseStatus.AFSLUTTET]
    closed, deleted_case = still_open[0], still_open[1]
    world.cases.put(str(closed.id), replace(closed, status=CaseStatus.AFSLUTTET))
    world.cases.delete(str(deleted_case.id))
    shown = [
        a
        for a in population.appointments
        if a.patient_cpr.value not in population.appointment_sharing_blocked
        and a.status is AppointmentStatus.BOOKED
    ]
    booked = world.appointments.get(str(shown[0].id))
    assert booked is not None
    cancelled = replace(booked.appointment, status=AppointmentStatus.CANCELLED)
    world.appointments.put(str(cancelled.id), replace(booked, appointment=cancelled))
    person = population.children[5]
    renamed = world.persons.get(person.cpr.value)
    assert renamed is not None
    world.persons.put(
        person.cpr.value, replace(renamed, child=replace(renamed.child, name="Ny Prøvesen"))
    )
    gone_enrollment = population.enrollments[3]
    world.enrollments.delete(gone_enrollment.child_cpr.value)

    runs = _by_source(ingest(engine, settings, day=AS_OF))

    assert {s: (r.upserted, r.deleted) for s, r in runs.items()} == {
        "org_registry": (0, 0),
        "institutions": (0, 1),
        "cpr": (1, 0),
        "case_index": (1, 1),
        "appointments": (1, 0),
    }
    assert _rows(engine, "SELECT status FROM municipal_case WHERE id = :id", id=closed.id) == [
        ("Afsluttet",)
    ]
    assert _rows(engine, "SELECT 1 FROM municipal_case WHERE id = :id", id=deleted_case.id) == []
    assert _rows(engine, "SELECT status FROM appointment WHERE id = :id", id=cancelled.id) == [
        ("cancelled",)
    ]
    assert _rows(engine, "SELECT name FROM child WHERE cpr = :c", c=person.cpr.value) == [
        ("Ny Prøvesen",)
    ]
    gone = gone_enrollment.child_cpr.value
    assert _rows(engine, "SELECT 1 FROM enrollment WHERE child_cpr = :c", c=gone) == []


def test_a_full_pass_removes_what_a_source_dropped_without_saying(
    setup: tuple[Engine, Settings], world: World, population: Population
) -> None:
    """The appointment overview (MHD) has no deletion feed: a withdrawn document just stops
    appearing, and the next full pass removes it."""
    engine, settings = setup
    ingest(engine, settings, day=AS_OF)
    dropped = next(
        a
        for a in population.appointments
        if a.patient_cpr.value not in population.appointment_sharing_blocked
    )
    world.appointments.delete(str(dropped.id))
    incremental = ingest(engine, settings, [SourceName.APPOINTMENTS], day=AS_OF)[0]
    assert incremental.deleted == 0
    full = ingest(engine, settings, [SourceName.APPOINTMENTS], Mode.FULL, day=AS_OF)[0]
    assert full.deleted == 1
    assert _rows(engine, "SELECT 1 FROM appointment WHERE id = :id", id=dropped.id) == []
