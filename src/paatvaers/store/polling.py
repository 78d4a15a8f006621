"""The loop of a background job (the MedCom worker, the notice job): do what is due, rest
when there was nothing, and outlast a database that is away."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from sqlalchemy.exc import OperationalError


def poll(
    once: Callable[[], int], stop: threading.Event, interval: float, log: logging.Logger, name: str
) -> None:
    """`once()` until `stop` is set, waiting `interval` seconds after a round that found
    nothing to do. A round the database refused is logged as `<name>_database_unavailable`
    and retried after the interval: what it left undone is still due."""
    while not stop.is_set():
        try:
            busy = once()
        except OperationalError as exc:
            log.warning(f"{name}_database_unavailable", extra={"error": str(exc)[:200]})
            busy = 0
        if not busy:
            stop.wait(interval)


def run_until_signalled(run: Callable[[threading.Event], None]) -> None:
    """`run(stop)` in the foreground until SIGTERM or SIGINT sets `stop` (the commands
    `paatvaers worker` and `paatvaers notices run`)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)
