"""kill -9 of the worker while it delivers 200 messages, then a restart: every message is
received by the simulated GP system exactly once and acknowledged. The worker is a real
`paatvaers worker` process; the GP system reads its mailbox in a thread of the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from tests.support.medcom import Correspondence, running_correspondence

from paatvaers.domain.organisations import UnitKind
from paatvaers.store.tables import MedcomMessageRow, MedcomOutboxRow

MESSAGES = 200


def _worker(database_url: str, mailbox_dir: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "PAATVAERS_MEDCOM_MAILBOX_DIR": str(mailbox_dir),
        "PAATVAERS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "paatvaers.cli", "worker", "--interval", "0.05"]
    return subprocess.Popen(command, env=env)


def _wait(condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _acknowledged(world: Correspondence) -> int:
    with world.factory() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(MedcomMessageRow)
                .where(
                    MedcomMessageRow.direction == "out", MedcomMessageRow.delivery == "acknowledged"
                )
            )
            or 0
        )


def test_killed_worker_loses_nothing_and_delivers_each_message_once(
    fresh_database_url: str, tmp_path: Path
) -> None:
    mailbox_dir = tmp_path / "postkasser"
    with running_correspondence(fresh_database_url, mailbox_dir) as world:
        gp_unit = world.access.scenario.units[UnitKind.GP].id
        with world.factory() as session, session.begin():
            writer = world.writer(session)
            sent = {
                writer.new(world.child, gp_unit, f"Besked nummer {n}").message_id
                for n in range(MESSAGES)
            }
        stop = threading.Event()
        gp = threading.Thread(target=world.gp.run, args=(stop, 0.02), daemon=True)
        gp.start()
        try:
            first = _worker(fresh_database_url, mailbox_dir)
            _wait(lambda: len(world.gp.received) >= MESSAGES // 4, "the first deliveries")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            delivered_before_kill = len(world.gp.received)
            assert delivered_before_kill < MESSAGES  # killed in the middle, not after
            second = _worker(fresh_database_url, mailbox_dir)
            try:
                _wait(lambda: _acknowledged(world) == MESSAGES, "every acknowledgement")
            finally:
                second.terminate()
                second.wait(10)
        finally:
            stop.set()
            gp.join(5)
        assert set(world.gp.received) == sent  # each one arrived, and nothing else
        assert len(world.gp.received) == MESSAGES  # kept once each, duplicates or not
        with world.factory() as session:
            states = session.scalars(
                select(MedcomOutboxRow.state)
                .join(MedcomMessageRow, MedcomMessageRow.message_id == MedcomOutboxRow.message_id)
                .where(MedcomMessageRow.kind == "carecommunication")
            ).all()
            acks_in = session.scalar(
                select(func.count(func.distinct(MedcomMessageRow.acknowledges))).where(
                    MedcomMessageRow.kind == "acknowledgement", MedcomMessageRow.direction == "in"
                )
            )
        assert states == ["done"] * MESSAGES
        assert acks_in == MESSAGES
        duplicates = sum(n - 1 for n in world.gp.arrivals.values())
        print(  # noqa: T201 - the run's summary, for CI's log
            f"{MESSAGES} messages; {delivered_before_kill} received before kill -9; "
            f"{duplicates} sent twice and answered as duplicates"
        )
