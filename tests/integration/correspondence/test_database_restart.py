"""The database dropping every connection while the worker delivers (what a restart looks
like from the worker's side): it waits, reconnects and goes on; every message arrives once
and is acknowledged."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tests.support.medcom import running_correspondence

from paatvaers.domain.organisations import UnitKind
from paatvaers.store.tables import MedcomMessageRow

MESSAGES = 60


def _drop_connections(database_url: str) -> int:
    """Terminate every other backend on the database, as a restart would."""
    url = make_url(database_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        name = make_url(database_url).database
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def test_the_worker_survives_the_database_dropping_its_connections(
    fresh_database_url: str, tmp_path: Path
) -> None:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        gp_unit = world.access.scenario.units[UnitKind.GP].id
        with world.factory() as session, session.begin():
            writer = world.writer(session)
            sent = {
                writer.new(world.child, gp_unit, f"Nr. {n}").message_id for n in range(MESSAGES)
            }
        stop = threading.Event()
        threads = [
            threading.Thread(target=world.worker.run, args=(stop, 0.02), daemon=True),
            threading.Thread(target=world.gp.run, args=(stop, 0.02), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            dropped = 0
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with world.factory() as session:
                    done = session.scalar(
                        select(func.count())
                        .select_from(MedcomMessageRow)
                        .where(MedcomMessageRow.delivery == "acknowledged")
                    )
                if done == MESSAGES:
                    break
                if dropped < 5 and done:
                    dropped += 1
                    _drop_connections(fresh_database_url)
                time.sleep(0.1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
        assert dropped == 5  # the connections were dropped while it worked
        assert done == MESSAGES
        assert set(world.gp.received) == sent
