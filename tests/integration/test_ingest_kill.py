"""kill -9 in the middle of a full ingest, then a rerun: the end state equals that of a run
that was never interrupted. The killed run is a real `paatvaers ingest` process reading the
CPR simulator over HTTP; the database is a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine, text

from paatvaers.ingest.pipeline import Ingestion
from paatvaers.population.generator import generate
from paatvaers.sources.base import PassOptions, SourceName
from paatvaers.sources.registry import make_adapter
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from paatvaers.store.db import make_engine

CHILDREN = 1500
PAGE_SIZE = 15
SNAPSHOT = {
    "child": "SELECT cpr, name, municipality_code, gp_unit_id, content_hash FROM child",
    "custody_holder": "SELECT child_cpr, holder_cpr, role, lives_with_child FROM custody_holder",
    "org_unit": "SELECT id, kind, name, sor, content_hash FROM org_unit",
}


def _snapshot(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {table: set(conn.execute(text(q)).all()) for table, q in SNAPSHOT.items()}


def _scalar(engine: Engine, query: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(query)) or 0)


def _ingest_in_process(engine: Engine, url: str) -> None:
    adapter = make_adapter(SourceName.CPR, url, PassOptions(page_size=PAGE_SIZE))
    try:
        Ingestion(engine, adapter, synthetic=True).run()
    finally:
        adapter.close()


def _wait_for_pages(engine: Engine, process: subprocess.Popen[bytes], rows: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if _scalar(engine, "SELECT coalesce(max(read), 0) FROM ingest_run") >= rows:
            return
        time.sleep(0.02)
    raise AssertionError("the ingest process neither progressed nor stayed alive")


def test_a_killed_full_ingest_resumes_to_the_same_end_state(
    make_fresh_database: Callable[[], str],
) -> None:
    world = World.from_population(generate(CHILDREN, 5, date(2026, 11, 26)))
    reference = make_engine(make_fresh_database())
    interrupted = make_engine(make_fresh_database())
    try:
        with RunningSimulators(world, sources=[SourceName.CPR]) as sims:
            url = sims.urls[SourceName.CPR]
            _ingest_in_process(reference, url)
            env = {
                **os.environ,
                "DATABASE_URL": interrupted.url.render_as_string(hide_password=False),
                "PAATVAERS_CPR_URL": url,
                "PAATVAERS_INGEST_PAGE_SIZE": str(PAGE_SIZE),
            }
            process = subprocess.Popen(
                [sys.executable, "-m", "paatvaers.cli", "ingest", "cpr", "--full"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_for_pages(interrupted, process, rows=10 * PAGE_SIZE)
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            stored = _scalar(interrupted, "SELECT count(*) FROM child")
            running = _scalar(interrupted, "SELECT count(*) FROM ingest_run WHERE status='running'")
            assert 0 < stored < CHILDREN, "the kill should land mid-run"
            assert running == 1
            _ingest_in_process(interrupted, url)
        resumed = _scalar(interrupted, "SELECT count(*) FROM ingest_run WHERE status='completed'")
        assert resumed == 1  # the interrupted run itself was completed, not a new one
        assert _snapshot(interrupted) == _snapshot(reference)
        assert _scalar(interrupted, "SELECT count(*) FROM child") == CHILDREN
    finally:
        reference.dispose()
        interrupted.dispose()
