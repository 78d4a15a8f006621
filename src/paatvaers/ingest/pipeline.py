"""One pass over one source into the store, resumable and idempotent.

A run is a row in `ingest_run`. Every page is one transaction: its records are parsed, the
valid ones merged, the broken ones quarantined with the reason, deletions applied, and the
run's cursor and counters advanced, all together. A process killed mid-run leaves the run
`running` with the cursor of its last committed page; the next run of that source resumes it
there. Because merging is idempotent, the end state is the same as an uninterrupted run.

A full pass ends by deleting the source's records that it did not confirm (the case index
rule: what the source no longer has, we no longer keep). Its high-water mark becomes the
checkpoint that the next incremental pass starts from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from time import perf_counter
from typing import Any

import psycopg
from sqlalchemy import Engine

from paatvaers.ingest.prefetch import prefetched
from paatvaers.ingest.rows import rows_of
from paatvaers.ingest.sink import Connection, delete_keys, delete_unconfirmed, write_rows
from paatvaers.sources.base import Entity, Page, RawRecord, RecordRejected, SourceAdapter


class Mode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


@dataclass
class RunSummary:
    source: str
    mode: str
    run_id: int
    resumed: bool
    read: int = 0
    upserted: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    # Where the time went, in seconds: waiting for the source, parsing, writing.
    fetch_seconds: float = 0.0
    parse_seconds: float = 0.0
    write_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Run:
    id: int
    mode: Mode
    since: str | None
    cursor: str | None
    started_at: datetime
    summary: RunSummary


ProgressCallback = Callable[[RunSummary], None]


def _now() -> datetime:
    return datetime.now(UTC)


class Ingestion:
    """Runs passes of one adapter into the database behind `engine`."""

    def __init__(self, engine: Engine, adapter: SourceAdapter, *, synthetic: bool) -> None:
        self.engine = engine
        self.adapter = adapter
        self.source = adapter.name
        self.synthetic = synthetic  # what the CPR flags of the stored rows say

    def run(self, mode: Mode | None = None, progress: ProgressCallback | None = None) -> RunSummary:
        """Resume an interrupted run, or start one: incremental when a checkpoint exists
        (unless `mode` says full), full otherwise."""
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)  # noqa: S101 - we only use psycopg
        try:
            run = self._resume(conn) or self._start(conn, mode)
            conn.commit()
            fetch_started = perf_counter()
            for page in prefetched(self.adapter.pages(run.since, run.cursor)):
                run.summary.fetch_seconds += perf_counter() - fetch_started
                self._apply(conn, run, page)
                conn.commit()
                if progress:
                    progress(run.summary)
                fetch_started = perf_counter()
            self._finish(conn, run)
            conn.commit()
            return run.summary
        except BaseException:
            conn.rollback()
            raise
        finally:
            raw.close()

    # -- the run's lifecycle -----------------------------------------------------------

    def _resume(self, conn: Connection) -> _Run | None:
        row = conn.execute(
            "SELECT id, mode, since, cursor, started_at, read, upserted, unchanged, deleted,"
            " quarantined FROM ingest_run WHERE source = %s AND status = 'running'"
            " ORDER BY id DESC LIMIT 1 FOR UPDATE",
            (self.source.value,),
        ).fetchone()
        if row is None:
            return None
        run_id, mode, since, cursor, started_at, *counts = row
        summary = RunSummary(self.source.value, mode, run_id, True, *counts)
        return _Run(run_id, Mode(mode), since, cursor, started_at, summary)

    def _start(self, conn: Connection, mode: Mode | None) -> _Run:
        checkpoint = conn.execute(
            "SELECT high_water_mark FROM ingest_checkpoint WHERE source = %s",
            (self.source.value,),
        ).fetchone()
        if mode is None:
            mode = Mode.INCREMENTAL if checkpoint else Mode.FULL
        since = checkpoint[0] if checkpoint and mode is Mode.INCREMENTAL else None
        if mode is Mode.INCREMENTAL and since is None:
            mode = Mode.FULL  # nothing to be incremental from
        started_at = _now()
        (run_id,) = conn.execute(
            "INSERT INTO ingest_run (source, mode, since, status, started_at, read, upserted,"
            " unchanged, deleted, quarantined) VALUES (%s, %s, %s, 'running', %s, 0, 0, 0, 0, 0)"
            " RETURNING id",
            (self.source.value, mode.value, since, started_at),
        ).fetchone() or (0,)
        summary = RunSummary(self.source.value, mode.value, run_id, False)
        return _Run(run_id, mode, since, None, started_at, summary)

    def _apply(self, conn: Connection, run: _Run, page: Page) -> None:
        parse_started = perf_counter()
        entities: list[Entity] = []
        accepted: list[str] = []
        for record in page.records:
            try:
                entities.extend(self.adapter.parse(record))
            except RecordRejected as rejected:
                self._quarantine(conn, run, record, rejected.reason)
                run.summary.quarantined += 1
            else:
                accepted.append(record.key)
        run.summary.read += len(page.records)
        rows = rows_of(entities, self.synthetic)
        write_started = perf_counter()
        run.summary.parse_seconds += write_started - parse_started
        merged = write_rows(conn, rows, self.source, _now())
        run.summary.upserted += merged.upserted
        run.summary.unchanged += merged.unchanged
        run.summary.deleted += delete_keys(conn, self.source, page.deleted_keys)
        self._resolve_quarantine(conn, [*accepted, *page.deleted_keys])
        run.cursor = page.next_cursor
        conn.execute(
            "UPDATE ingest_run SET cursor = %s, high_water_mark = COALESCE(%s, high_water_mark),"
            " read = %s, upserted = %s, unchanged = %s, deleted = %s, quarantined = %s"
            " WHERE id = %s",
            (
                page.next_cursor,
                page.high_water_mark,
                run.summary.read,
                run.summary.upserted,
                run.summary.unchanged,
                run.summary.deleted,
                run.summary.quarantined,
                run.id,
            ),
        )
        run.summary.write_seconds += perf_counter() - write_started

    def _finish(self, conn: Connection, run: _Run) -> None:
        if run.mode is Mode.FULL:
            run.summary.deleted += delete_unconfirmed(conn, self.source, run.started_at)
        finished = _now()
        conn.execute(
            "UPDATE ingest_run SET status = 'completed', finished_at = %s, deleted = %s"
            " WHERE id = %s",
            (finished, run.summary.deleted, run.id),
        )
        high_water_mark = conn.execute(
            "SELECT high_water_mark FROM ingest_run WHERE id = %s", (run.id,)
        ).fetchone()
        mark = (high_water_mark[0] if high_water_mark else None) or run.since
        if mark is not None:
            conn.execute(
                "INSERT INTO ingest_checkpoint (source, high_water_mark, run_id, updated_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET"
                " high_water_mark = EXCLUDED.high_water_mark, run_id = EXCLUDED.run_id,"
                " updated_at = EXCLUDED.updated_at",
                (self.source.value, mark, run.id, finished),
            )

    # -- quarantine ----------------------------------------------------------------------

    def _quarantine(self, conn: Connection, run: _Run, record: RawRecord, reason: str) -> None:
        digest = hashlib.blake2b(record.payload, digest_size=16).hexdigest()
        now = _now()
        conn.execute(
            "INSERT INTO quarantine (source, record_key, payload, media_type, payload_hash,"
            " reason, first_seen_at, last_seen_at, times_seen, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s)"
            " ON CONFLICT (source, record_key, payload_hash) DO UPDATE SET"
            " last_seen_at = EXCLUDED.last_seen_at, times_seen = quarantine.times_seen + 1,"
            " reason = EXCLUDED.reason, run_id = EXCLUDED.run_id, resolved_at = NULL",
            (
                self.source.value,
                record.key[:200],
                record.payload,
                record.media_type,
                digest,
                reason,
                now,
                now,
                run.id,
            ),
        )

    def _resolve_quarantine(self, conn: Connection, keys: list[str]) -> None:
        """A key that now arrives valid (or is deleted) no longer waits in quarantine."""
        if keys:
            conn.execute(
                "UPDATE quarantine SET resolved_at = %s WHERE source = %s"
                " AND resolved_at IS NULL AND record_key = ANY(%s)",
                (_now(), self.source.value, keys),
            )
