"""Alembic environment: online migrations only, under an advisory lock so two processes
starting at once do not migrate twice."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from paatvaers.store.tables import Base

MIGRATION_LOCK = 7_204_202_601  # any constant; shared by every process that migrates


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "alembic_config() sets the URL"  # noqa: S101 - programming error
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
        connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
    engine.dispose()


run_migrations_online()
