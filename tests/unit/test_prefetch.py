"""Prefetching pages keeps order, passes errors on, and stops its worker when abandoned."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from paatvaers.ingest.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(50)), depth=3)) == list(range(50))


def test_an_error_in_the_source_is_raised_to_the_consumer_after_the_good_items() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("source went away")

    received = []
    with pytest.raises(ConnectionError, match="source went away"):
        for item in prefetched(pages()):
            received.append(item)
    assert received == [1, 2]


def test_an_abandoned_iteration_stops_the_worker() -> None:
    produced = []

    def pages() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    before = threading.active_count()
    iterator = prefetched(pages(), depth=2)
    assert next(iterator) == 0
    iterator.close()  # the consumer stops early, e.g. after a failed page
    assert threading.active_count() == before
    assert len(produced) < 10
