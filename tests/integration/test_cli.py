"""The `paatvaers` command, run in-process against a real PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from paatvaers.cli import app

runner = CliRunner()
ARGS = ["population", "generate", "--children", "3000", "--seed", "4", "--as-of", "2026-11-26"]


def _hash(output: str) -> str:
    match = re.search(r"CPR set hash \(sha256\): ([0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


def test_population_generate_is_deterministic_and_reports_its_shape() -> None:
    first = runner.invoke(app, [*ARGS, "--no-store"], env={"COLUMNS": "120"})
    second = runner.invoke(app, [*ARGS, "--no-store"], env={"COLUMNS": "120"})
    assert first.exit_code == 0, first.output
    assert _hash(first.output) == _hash(second.output)
    for region in ("Nordjylland", "Midtjylland", "Syddanmark", "Hovedstaden", "Sjælland"):
        assert region in first.output
    assert "Målgruppe (R1)" in first.output
    assert "adressebeskyttelse" in first.output


def test_population_generate_stores_into_the_configured_database(fresh_database_url: str) -> None:
    result = runner.invoke(
        app,
        ["population", "generate", "--children", "200", "--seed", "9"],
        env={"DATABASE_URL": fresh_database_url, "COLUMNS": "120"},
    )
    assert result.exit_code == 0, result.output
    engine = create_engine(fresh_database_url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM child")) == 200
        assert conn.scalar(text("SELECT seed FROM population_run")) == 9
    engine.dispose()


def test_db_upgrade(fresh_database_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"DATABASE_URL": fresh_database_url})
    assert result.exit_code == 0, result.output
    assert "opdateret" in result.output


def test_bad_arguments_get_a_clear_error() -> None:
    result = runner.invoke(app, ["population", "generate", "--children", "0"])
    assert result.exit_code == 2
