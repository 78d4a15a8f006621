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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from time import perf_counter
from typing import Any

import psycopg
from sqlalchemy import Engine

from paatvaers.ingest.prefetch import prefetched
from paatvaers.ingest.rows import rows_of
from paatvaers.ingest.sink import (
    Connection,
    MergeResult,
    confirm_keys,
    delete_keys,
    delete_unconfirmed,
    write_rows,
)
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
    error: str | None = None  # set when the run stopped; it resumes from its cursor next time

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


class IngestBusy(RuntimeError):
    """Another process is ingesting the same source."""


def _now() -> datetime:
    return datetime.now(UTC)


def _db_now(conn: Connection) -> datetime:
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    return row[0] if row else _now()


class Ingestion:
    """Runs passes of one adapter into the database behind `engine`."""

    def __init__(self, engine: Engine, adapter: SourceAdapter, *, synthetic: bool) -> None:
        self.engine = engine
        self.adapter = adapter
        self.source = adapter.name
        self.synthetic = synthetic  # what the CPR flags of the stored rows say

    def run(self, mode: Mode | None = None, progress: ProgressCallback | None = None) -> RunSummary:
        """Resume an interrupted run, or start one: incremental when a checkpoint exists
        (unless `mode` says full), full otherwise. Asking for a mode other than that of an
        interrupted run abandons it and starts afresh."""
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)  # noqa: S101 - we only use psycopg
        locked = False
        try:
            locked = self._lock(conn)
            run = self._resume(conn, mode) or self._start(conn, mode)
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
            if locked:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._lock_key,))
                conn.commit()
            raw.close()

    # -- the run's lifecycle -----------------------------------------------------------

    @property
    def _lock_key(self) -> str:
        return f"paatvaers-ingest:{self.source.value}"

    def _lock(self, conn: Connection) -> bool:
        """One run per source at a time: a second process is told so instead of both
        writing the same run's cursor and counters."""
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._lock_key,))
        if not (row.fetchone() or (False,))[0]:
            raise IngestBusy(f"another ingest of {self.source.value} is running")
        return True

    def _resume(self, conn: Connection, mode: Mode | None) -> _Run | None:
        row = conn.execute(
            "SELECT id, mode, since, cursor, started_at, read, upserted, unchanged, deleted,"
            " quarantined FROM ingest_run WHERE source = %s AND status = 'running'"
            " ORDER BY id DESC LIMIT 1 FOR UPDATE",
            (self.source.value,),
        ).fetchone()
        if row is None:
            return None
        run_id, running_mode, since, cursor, started_at, *counts = row
        if mode is not None and Mode(running_mode) is not mode:
            conn.execute(
                "UPDATE ingest_run SET status = 'failed', finished_at = clock_timestamp(),"
                " error = %s WHERE id = %s",
                (f"abandoned: a {mode.value} pass was asked for", run_id),
            )
            return None
        summary = RunSummary(self.source.value, running_mode, run_id, True, *counts)
        return _Run(run_id, Mode(running_mode), since, cursor, started_at, summary)

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
        # The database's clock, not this host's: a full pass deletes what it did not confirm
        # after this moment, so every time compared with it must come from the same clock.
        run_id, started_at = conn.execute(
            "INSERT INTO ingest_run (source, mode, since, status, started_at, read, upserted,"
            " unchanged, deleted, quarantined)"
            " VALUES (%s, %s, %s, 'running', clock_timestamp(), 0, 0, 0, 0, 0)"
            " RETURNING id, started_at",
            (self.source.value, mode.value, since),
        ).fetchone() or (0, _now())
        summary = RunSummary(self.source.value, mode.value, run_id, False)
        return _Run(run_id, mode, since, None, started_at, summary)

    def _apply(self, conn: Connection, run: _Run, page: Page) -> None:
        parse_started = perf_counter()
        confirmed_at = _db_now(conn)
        parsed: list[tuple[RawRecord, Sequence[Entity]]] = []
        for record in page.records:
            try:
                parsed.append((record, self.adapter.parse(record)))
            except RecordRejected as rejected:
                self._quarantine(conn, run, record, rejected.reason, confirmed_at)
        run.summary.read += len(page.records)
        write_started = perf_counter()
        run.summary.parse_seconds += write_started - parse_started
        # Deletions first: a source that deleted a record and made a new one with the same
        # business key (a case number) must not trip over the old one.
        run.summary.deleted += delete_keys(conn, self.source, page.deleted_keys)
        merged = self._write(conn, run, parsed, confirmed_at)
        run.summary.upserted += merged.upserted
        run.summary.unchanged += merged.unchanged
        self._resolve_quarantine(conn, [*(r.key for r, _ in parsed), *page.deleted_keys])
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

    def _write(
        self,
        conn: Connection,
        run: _Run,
        parsed: list[tuple[RawRecord, Sequence[Entity]]],
        confirmed_at: datetime,
    ) -> MergeResult:
        """Merge the page in one savepoint; if the database refuses it (a record breaks a
        constraint the parser does not know), merge record by record and quarantine the ones
        it refuses, with the database's reason. The rest of the page is stored either way."""
        entities = [e for _, es in parsed for e in es]
        try:
            with conn.transaction():
                return write_rows(
                    conn, rows_of(entities, self.synthetic), self.source, confirmed_at
                )
        except (psycopg.IntegrityError, psycopg.DataError):
            pass
        merged = MergeResult()
        for record, record_entities in parsed:
            try:
                with conn.transaction():
                    rows = rows_of(record_entities, self.synthetic)
                    merged += write_rows(conn, rows, self.source, confirmed_at)
            except (psycopg.IntegrityError, psycopg.DataError) as refused:
                reason = refused.diag.message_primary or type(refused).__name__
                self._quarantine(
                    conn, run, record, f"the database refused it: {reason}", confirmed_at
                )
        return merged

    def _finish(self, conn: Connection, run: _Run) -> None:
        if run.mode is Mode.FULL:
            run.summary.deleted += delete_unconfirmed(conn, self.source, run.started_at)
        finished = _db_now(conn)
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

    def _quarantine(
        self, conn: Connection, run: _Run, record: RawRecord, reason: str, now: datetime
    ) -> None:
        """Keep the broken record whole with the reason. The version stored before, if any,
        stays and counts as confirmed: the source still has the record, only broken, so a
        full pass must not delete it (incremental passes keep it too)."""
        run.summary.quarantined += 1
        confirm_keys(conn, self.source, [record.key], now)
        digest = hashlib.blake2b(record.payload, digest_size=16).hexdigest()
        conn.execute(
            "INSERT INTO quarantine (source, record_key, payload, media_type, payload_hash,"
            " reason, first_seen_at, last_seen_at, times_seen, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s)"
            " ON CONFLICT (source, record_key, payload_hash) DO UPDATE SET"
            " last_seen_at = EXCLUDED.last_seen_at, times_seen = quarantine.times_seen + 1,"
            " reason = EXCLUDED.reason, run_id = EXCLUDED.run_id, resolved_at = NULL",
            (
                self.source.value,
                record.key,
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
                (_db_now(conn), self.source.value, keys),
            )
