"""Fetch the next pages while the current one is parsed and written.

The source renders and sends a page while we parse and merge the previous one, so the two
overlap instead of taking turns. Only committed pages move the run's cursor, so pages fetched
ahead and lost in a crash are simply fetched again on resume.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield from `pages`, with up to `depth` items fetched ahead in a background thread."""
    ahead: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Queue `item` unless the consumer has gone; True when it was queued."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in pages:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it
            offer(_Failure(error))
        finally:
            # Closing the pass in the thread that ran it releases its HTTP client now, not
            # whenever the garbage collector gets to it.
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=60)
