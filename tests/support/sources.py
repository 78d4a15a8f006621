"""Helpers the source tests share: the records of a pass, and parsing them all while keeping
the rejections with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from paatvaers.sources.base import Entity, Page, RawRecord, RecordRejected, SourceAdapter

E = TypeVar("E")


def records_of(pages: Sequence[Page]) -> list[RawRecord]:
    return [record for page in pages for record in page.records]


def parse_records(
    adapter: SourceAdapter, records: Sequence[RawRecord]
) -> tuple[list[Entity], dict[str, str]]:
    """Every entity the records parse into, and the reason of each rejected record's key."""
    entities: list[Entity] = []
    rejected: dict[str, str] = {}
    for record in records:
        try:
            entities.extend(adapter.parse(record))
        except RecordRejected as exc:
            rejected[record.key] = exc.reason
    return entities, rejected


def only(entities: Sequence[Entity], kind: type[E]) -> set[E]:
    """The entities of one kind; fails if the pass gave something else."""
    assert all(isinstance(e, kind) for e in entities), entities
    return {e for e in entities if isinstance(e, kind)}
