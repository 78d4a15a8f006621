"""Engines, sessions and migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.settings import Settings
from paatvaers.store.embedded import embedded_postgres

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@contextmanager
def configured_database(settings: Settings, announce: Callable[[str], object]) -> Iterator[str]:
    """The URL of the configured database, or of an embedded one under the data directory."""
    if settings.database_url:
        yield settings.database_url
        return
    announce(f"Starter indlejret PostgreSQL i {settings.data_dir / 'pgdata'} …")
    with embedded_postgres(settings.data_dir / "pgdata") as url:
        yield url


# Connections per process: kept open, and at most. The web app serves each request in a thread
# of its own (up to 40 at once by default), each with a connection; with SQLAlchemy's default
# of 5 kept open, under load a quarter of the requests opened a new PostgreSQL connection and
# closed it again.
POOL_SIZE = 20
POOL_OVERFLOW = 20


def make_engine(url: str) -> Engine:
    return create_engine(
        url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, future=True
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session
