"""The ingestion pipeline's mechanics against a real PostgreSQL, driven by a scripted adapter
(the port's fake): idempotence, change detection, quarantine, deletions, checkpoints and
resuming an interrupted run. The real adapters are exercised over HTTP in tests/…/sources/."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine, text

from paatvaers.domain.cases import Case, CaseStatus
from paatvaers.ingest.pipeline import IngestBusy, Ingestion, Mode
from paatvaers.population.generator import generate
from paatvaers.sources.base import Entity, Page, RawRecord, RecordRejected, SourceName
from paatvaers.store.db import make_engine

CASES = generate(400, 3, date(2026, 11, 26)).cases[:30]


def _payload(case: Case) -> bytes:
    return json.dumps({"id": str(case.id), "status": case.status.value}).encode()


class ScriptedCaseIndex:
    """Serves `cases` as JSON records, `page_size` per page; `broken` keys are served as
    records that fail parsing; `fail_after` raises after that many pages (a crash)."""

    name = SourceName.CASE_INDEX

    def __init__(self, cases: Sequence[Case], page_size: int = 7) -> None:
        self.cases = {str(c.id): c for c in cases}
        self.page_size = page_size
        self.broken: set[str] = set()
        self.deleted: list[str] = []
        self.fail_after: int | None = None
        self.passes: list[tuple[str | None, str | None]] = []

    def pages(self, since: str | None, cursor: str | None) -> Iterator[Page]:
        self.passes.append((since, cursor))
        keys = sorted(set(self.cases) | self.broken)
        start = int(cursor or 0)
        served = 0
        while start < len(keys):
            if self.fail_after is not None and served == self.fail_after:
                raise RuntimeError("simulated crash")
            chunk = keys[start : start + self.page_size]
            start += len(chunk)
            more = start < len(keys)
            yield Page(
                records=[RawRecord(k, self._raw(k), "application/json") for k in chunk],
                deleted_keys=self.deleted if since and not more else (),
                next_cursor=str(start) if more else None,
                high_water_mark=f"mark-{len(self.passes)}",
            )
            served += 1

    def _raw(self, key: str) -> bytes:
        if key in self.broken:
            return b'{"id": "' + key.encode() + b'", "status": "Forsvundet"}'
        return _payload(self.cases[key])

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        data = json.loads(record.payload)
        if data["status"] not in {s.value for s in CaseStatus}:
            raise RecordRejected(f"FremdriftStatusKode {data['status']!r} is not a known status")
        case = self.cases[data["id"]]
        return [replace(case, status=CaseStatus(data["status"]))]


@pytest.fixture
def db(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(sql), params) or 0)


def test_a_full_run_stores_every_record_and_a_second_run_changes_nothing(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    first = Ingestion(db, adapter, synthetic=True).run()
    assert (first.mode, first.read, first.upserted, first.deleted) == ("full", 30, 30, 0)
    assert _count(db, "SELECT count(*) FROM municipal_case") == 30
    assert _count(db, "SELECT count(*) FROM case_party") == sum(len(c.parties) for c in CASES)
    second = Ingestion(db, adapter, synthetic=True).run()
    assert (second.mode, second.upserted, second.deleted, second.unchanged) == (
        "incremental",
        0,
        0,
        30,
    )


def test_only_changed_records_are_rewritten(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    Ingestion(db, adapter, synthetic=True).run()
    changed = next(c for c in CASES if c.status is not CaseStatus.AFSLUTTET)
    adapter.cases[str(changed.id)] = replace(changed, status=CaseStatus.AFSLUTTET)
    summary = Ingestion(db, adapter, synthetic=True).run()
    assert (summary.upserted, summary.unchanged) == (1, 29)
    status = _count(
        db,
        "SELECT count(*) FROM municipal_case WHERE id = :id AND status = 'Afsluttet'",
        id=changed.id,
    )
    assert status == 1


def test_a_broken_record_is_quarantined_with_its_reason_and_the_run_goes_on(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    adapter.broken.add("broken-case-1")
    summary = Ingestion(db, adapter, synthetic=True).run()
    assert (summary.read, summary.upserted, summary.quarantined) == (31, 30, 1)
    with db.connect() as conn:
        row = conn.execute(
            text("SELECT record_key, reason, payload, times_seen FROM quarantine")
        ).one()
    assert row.record_key == "broken-case-1"
    assert row.reason == "FremdriftStatusKode 'Forsvundet' is not a known status"
    assert b"Forsvundet" in bytes(row.payload)
    Ingestion(db, adapter, synthetic=True).run(Mode.FULL)  # seen again: counted, not duplicated
    assert _count(db, "SELECT count(*) FROM quarantine") == 1
    assert _count(db, "SELECT times_seen FROM quarantine") == 2


def test_a_full_run_deletes_what_the_source_no_longer_has(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    Ingestion(db, adapter, synthetic=True).run()
    gone = CASES[0]
    del adapter.cases[str(gone.id)]
    summary = Ingestion(db, adapter, synthetic=True).run(Mode.FULL)
    assert summary.deleted == 1
    assert _count(db, "SELECT count(*) FROM municipal_case WHERE id = :id", id=gone.id) == 0
    assert _count(db, "SELECT count(*) FROM case_party WHERE case_id = :id", id=gone.id) == 0


def test_an_incremental_run_applies_the_deletions_the_source_reports(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    Ingestion(db, adapter, synthetic=True).run()
    gone = str(CASES[1].id)
    adapter.deleted = [gone]
    summary = Ingestion(db, adapter, synthetic=True).run()
    assert (summary.mode, summary.deleted) == ("incremental", 1)
    assert adapter.passes[-1][0] == "mark-1"  # started from the first run's high-water mark
    assert _count(db, "SELECT count(*) FROM municipal_case WHERE id = :id", id=gone) == 0


def test_an_interrupted_run_resumes_at_its_cursor_and_ends_the_same(
    db: Engine, fresh_database_url: str
) -> None:
    adapter = ScriptedCaseIndex(CASES)
    adapter.fail_after = 2
    with pytest.raises(RuntimeError, match="simulated crash"):
        Ingestion(db, adapter, synthetic=True).run()
    assert _count(db, "SELECT count(*) FROM municipal_case") == 14  # two pages committed
    adapter.fail_after = None
    summary = Ingestion(db, adapter, synthetic=True).run()
    assert summary.resumed
    assert adapter.passes[-1] == (None, "14")
    assert (summary.read, summary.upserted) == (30, 30)
    assert _count(db, "SELECT count(*) FROM ingest_run WHERE status = 'running'") == 0
    assert _count(db, "SELECT count(*) FROM municipal_case") == 30


def test_a_record_the_database_refuses_is_quarantined_and_the_rest_of_the_page_stored(
    db: Engine,
) -> None:
    twin = replace(CASES[1], id=uuid.uuid4(), case_number=CASES[2].case_number)
    twin = replace(twin, owner_cvr=CASES[2].owner_cvr)
    adapter = ScriptedCaseIndex([*CASES[:5], twin])
    summary = Ingestion(db, adapter, synthetic=True).run()
    assert (summary.upserted, summary.quarantined) == (5, 1)
    with db.connect() as conn:
        reason = conn.scalar(text("SELECT reason FROM quarantine"))
    assert reason is not None
    assert reason.startswith("the database refused it: duplicate key value")


def test_asking_for_a_full_pass_abandons_an_interrupted_incremental_one(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    Ingestion(db, adapter, synthetic=True).run()
    adapter.fail_after = 1
    with pytest.raises(RuntimeError):
        Ingestion(db, adapter, synthetic=True).run()  # incremental, interrupted
    adapter.fail_after = None
    gone = CASES[2]
    del adapter.cases[str(gone.id)]
    summary = Ingestion(db, adapter, synthetic=True).run(Mode.FULL)
    assert (summary.mode, summary.resumed, summary.deleted) == ("full", False, 1)
    statuses = _count(db, "SELECT count(*) FROM ingest_run WHERE status = 'failed'")
    assert statuses == 1


def test_a_second_process_on_the_same_source_is_turned_away(db: Engine) -> None:
    with db.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(hashtext('paatvaers-ingest:case_index'))"))
        with pytest.raises(IngestBusy, match="another ingest of case_index"):
            Ingestion(db, ScriptedCaseIndex(CASES), synthetic=True).run()
        other.execute(text("SELECT pg_advisory_unlock(hashtext('paatvaers-ingest:case_index'))"))
        other.commit()
    assert Ingestion(db, ScriptedCaseIndex(CASES), synthetic=True).run().upserted == 30


def test_a_full_pass_keeps_a_record_whose_new_version_is_broken(db: Engine) -> None:
    adapter = ScriptedCaseIndex(CASES)
    Ingestion(db, adapter, synthetic=True).run()
    kept = str(CASES[3].id)
    adapter.broken.add(kept)  # the source still has it, but serves it broken
    summary = Ingestion(db, adapter, synthetic=True).run(Mode.FULL)
    assert (summary.quarantined, summary.deleted) == (1, 0)
    assert _count(db, "SELECT count(*) FROM municipal_case WHERE id = :id", id=kept) == 1
    adapter.broken.discard(kept)  # fixed at the source: the quarantine entry is resolved
    Ingestion(db, adapter, synthetic=True).run(Mode.FULL)
    assert _count(db, "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL") == 0
