"""Involvement derived from stored source data equals what the generator derived from the
population: one set of rules, two places it runs."""

from __future__ import annotations

from sqlalchemy import text

from paatvaers.ingest.involvement import rebuild_involvement
from paatvaers.population.generator import Population
from paatvaers.population.report import report
from paatvaers.store.db import make_engine
from paatvaers.store.population_writer import replace_population

QUERY = "SELECT child_cpr, unit_id, kind, since, until, evidence FROM involvement"


def test_rebuilt_involvement_equals_the_populations(
    fresh_database_url: str, test_population: Population
) -> None:
    engine = make_engine(fresh_database_url)
    try:
        replace_population(engine, test_population, report(test_population))
        with engine.connect() as conn:
            written = set(conn.execute(text(QUERY)).all())
        count = rebuild_involvement(engine, test_population.as_of)
        with engine.connect() as conn:
            rebuilt = set(conn.execute(text(QUERY)).all())
            flags = conn.execute(text("SELECT bool_and(child_cpr_synthetic) FROM involvement"))
            all_synthetic = flags.scalar()
    finally:
        engine.dispose()
    assert written, "the test population should involve someone"
    assert count == len(rebuilt)
    assert rebuilt == written
    assert all_synthetic
