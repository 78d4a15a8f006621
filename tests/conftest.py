"""The test harness: a real PostgreSQL for every test that needs one.

With DATABASE_URL set, tests use that server; otherwise an embedded PostgreSQL (pgserver) is
started for the session. Either way the harness creates its own databases and drops them:

* a *template* database, migrated once with Alembic (never `create_all`);
* `database_url`: a clone of it holding a small synthetic population, shared read-only by
  the session; each test's `session` runs inside a transaction that is rolled back;
* `fresh_database_url`: an empty migrated clone per test, for tests that must commit.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paatvaers.population.generator import Population, generate
from paatvaers.population.report import report
from paatvaers.settings import Settings
from paatvaers.store.db import make_engine, upgrade
from paatvaers.store.embedded import embedded_postgres
from paatvaers.store.population_writer import replace_population

TEST_AS_OF = date(2026, 11, 26)
TEST_SEED = 7
TEST_CHILDREN = 400


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL server's maintenance database."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        settings_url = Settings(database_url=configured).database_url
        assert settings_url is not None
        yield settings_url
        return
    with embedded_postgres(tmp_path_factory.mktemp("pgdata")) as url:
        yield url


def _admin(server: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(server).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _create(server: str, name: str, template: str | None = None) -> str:
    with _admin(server) as conn:
        clause = f" TEMPLATE {template}" if template else ""
        conn.execute(f"CREATE DATABASE {name}{clause}")
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop(server: str, name: str) -> None:
    with _admin(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def template_name(server_url: str) -> Iterator[str]:
    name = f"paatvaers_tpl_{uuid.uuid4().hex[:10]}"
    url = _create(server_url, name)
    upgrade(url)
    make_engine(url).dispose()
    yield name
    _drop(server_url, name)


@pytest.fixture(scope="session")
def test_population() -> Population:
    return generate(TEST_CHILDREN, TEST_SEED, TEST_AS_OF)


@pytest.fixture(scope="session")
def database_url(server_url: str, template_name: str, test_population: Population) -> Iterator[str]:
    name = f"paatvaers_test_{uuid.uuid4().hex[:10]}"
    url = _create(server_url, name, template_name)
    engine = make_engine(url)
    replace_population(engine, test_population, report(test_population))
    engine.dispose()
    yield url
    _drop(server_url, name)


@pytest.fixture
def fresh_database_url(server_url: str, template_name: str) -> Iterator[str]:
    name = f"paatvaers_fresh_{uuid.uuid4().hex[:10]}"
    url = _create(server_url, name, template_name)
    yield url
    _drop(server_url, name)


@pytest.fixture
def make_fresh_database(server_url: str, template_name: str) -> Iterator[Callable[[], str]]:
    """Make as many empty migrated databases as a test needs; all are dropped after it."""
    names: list[str] = []

    def make() -> str:
        names.append(f"paatvaers_fresh_{uuid.uuid4().hex[:10]}")
        return _create(server_url, names[-1], template_name)

    yield make
    for name in names:
        _drop(server_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, commits included."""
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        outer.rollback()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=database_url, data_dir=Path(tmp_path_factory.mktemp("data")))
