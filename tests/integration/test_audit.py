"""The access log against a real PostgreSQL: writing, sealing, checkpoints, and the verifier
finding what a database administrator changed, removed or inserted behind the trigger."""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from paatvaers.access import audit
from paatvaers.access.audit import (
    GENESIS_HASH,
    AccessLogUnavailable,
    chain_hash,
    checkpoint,
    event_values,
    record,
    row_hash,
    seal,
    verify,
)
from paatvaers.store.db import make_engine
from paatvaers.store.tables import AccessEventRow
from support.audit import (
    ids_by_seq,
    malicious_dba,
    psycopg_url,
    sample_event,
    write_log,
)

EVENTS = 300


@pytest.fixture
def log_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    write_log(engine, EVENTS)
    yield engine
    engine.dispose()


def _verify(engine: Engine, checkpoints: Path | None = None) -> audit.VerifyReport:
    with Session(engine) as session:
        return verify(session, checkpoints)


def _messages(report: audit.VerifyReport) -> list[str]:
    return [str(p) for p in report.problems]


# --- writing and sealing --------------------------------------------------------------------


def test_record_writes_in_the_callers_transaction(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    event = sample_event(3)
    with Session(engine) as session, session.begin():
        kept = record(session, event)
    with Session(engine) as session:
        session.begin()
        dropped = record(session, sample_event(4))
        session.rollback()
    with Session(engine) as session:
        rows = session.scalars(select(AccessEventRow)).all()
    engine.dispose()

    assert [r.id for r in rows] == [kept]
    assert dropped != kept
    row = rows[0]
    assert (row.username, row.child_cpr, row.action) == (event.username, event.child_cpr, "read")
    assert row.rules == list(event.rules) and row.record_ids == list(event.record_ids)
    assert (row.seq, row.prev_hash, row.chain_hash) == (None, None, None)
    # The stored row hashes to what the writer computed: the time round-trips exactly.
    assert row.row_hash == row_hash({c: getattr(row, c) for c in audit.CONTENT_COLUMNS})


def test_the_hash_covers_every_content_column_and_not_the_position() -> None:
    at = datetime(2026, 11, 26, 9, 30, 0, 0, tzinfo=UTC)
    base = event_values(sample_event(1), at)
    for column in audit.CONTENT_COLUMNS:
        changed = dict(base)
        changed[column] = not base[column] if isinstance(base[column], bool) else f"{base[column]}x"
        assert row_hash(changed) != base["row_hash"], column
    # Zero microseconds are still written out, so the stored time hashes alike.
    assert b'"recorded_at":"2026-11-26T09:30:00.000000+00:00"' in audit.canonical_content(base)
    assert row_hash({**base, "seq": 99, "id": 5}) == base["row_hash"]


def test_seal_chains_the_rows_and_a_clean_log_verifies(log_engine: Engine) -> None:
    with Session(log_engine) as session:
        rows = session.execute(select(AccessEventRow).order_by(AccessEventRow.seq)).scalars().all()
        assert seal(session) == 0  # nothing left to seal
    report = _verify(log_engine)

    assert [r.seq for r in rows] == list(range(1, EVENTS + 1))
    assert rows[0].prev_hash == GENESIS_HASH
    for before, row in itertools.pairwise(rows):
        assert row.prev_hash == before.chain_hash
        assert row.chain_hash == chain_hash(row.prev_hash, row.row_hash)
    assert report.ok, _messages(report)
    assert (report.sealed, report.unsealed, report.head.seq) == (EVENTS, 0, EVENTS)
    assert report.head.chain_hash == rows[-1].chain_hash
    assert (
        report.summary()[0] == f"OK: {EVENTS} events, chain head seq={EVENTS} {rows[-1].chain_hash}"
    )


def test_writers_do_not_wait_for_the_sequencer(log_engine: Engine) -> None:
    """A seal holds the sequencer's lock and the rows it seals; a writer needs neither."""
    with Session(log_engine) as writer, writer.begin():
        record(writer, sample_event(1))
    with Session(log_engine) as sealer, sealer.begin():
        assert seal(sealer) == 1  # holds the advisory lock until this block ends
        with Session(log_engine) as writer, writer.begin():
            writer.execute(text("SET LOCAL lock_timeout = '500ms'"))
            record(writer, sample_event(2))  # would raise on a lock wait
    with Session(log_engine) as session, session.begin():
        assert seal(session) == 1


def test_concurrent_writers_and_sealers_make_one_gapless_chain(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for batch in range(25):
                with Session(engine) as session, session.begin():
                    for n in range(4):
                        record(session, sample_event(worker * 1000 + batch * 4 + n))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def keep_sealing() -> None:
        try:
            while not writers_done.is_set():
                with Session(engine) as session, session.begin():
                    seal(session)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    writers = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    sealers = [threading.Thread(target=keep_sealing) for _ in range(2)]
    for thread in writers + sealers:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    for thread in sealers:
        thread.join()
    with Session(engine) as session, session.begin():
        seal(session)
    report = _verify(engine)
    engine.dispose()

    assert not errors, errors
    assert report.ok, _messages(report)
    assert (report.sealed, report.unsealed) == (600, 0)


def test_the_table_refuses_changes_without_bypassing_the_trigger(log_engine: Engine) -> None:
    statements = [
        "UPDATE access_event SET purpose = 'skjult' WHERE seq = 10",
        "UPDATE access_event SET seq = 9999 WHERE seq = 10",  # re-sealing a sealed row
        "DELETE FROM access_event WHERE seq = 10",
        "TRUNCATE access_event",
    ]
    for statement in statements:
        with log_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    assert _verify(log_engine).ok


def test_sealing_may_not_change_the_content(log_engine: Engine) -> None:
    with Session(log_engine) as session, session.begin():
        row_id = record(session, sample_event(7))
    with log_engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(
            text(
                "UPDATE access_event SET seq = 5000, prev_hash = :h, chain_hash = :h, "
                "purpose = 'andet' WHERE id = :id"
            ),
            {"h": GENESIS_HASH, "id": row_id},
        )


# --- tampering behind the trigger -----------------------------------------------------------


def test_an_update_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    row_id = ids_by_seq(url)[137]
    with malicious_dba(url) as dba:
        dba.execute("UPDATE access_event SET username = 'nogen_andre' WHERE seq = 137")
    report = _verify(log_engine)

    assert _messages(report) == [
        f"row seq=137 (id={row_id}) changed: its content does not match its row_hash"
    ]
    assert report.summary()[0] == f"FAILED: 1 problem in {EVENTS} events"


def test_an_update_with_a_recomputed_row_hash_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    row_id = ids_by_seq(url)[42]
    with Session(log_engine) as session:
        row = session.execute(select(AccessEventRow).where(AccessEventRow.seq == 42)).scalar_one()
        values = {c: getattr(row, c) for c in audit.CONTENT_COLUMNS}
    forged = row_hash({**values, "child_cpr": "0101109990"})
    with malicious_dba(url) as dba:
        dba.execute(
            "UPDATE access_event SET child_cpr = '0101109990', row_hash = %s WHERE seq = 42",
            (forged,),
        )
    assert _messages(_verify(log_engine)) == [
        f"row seq=42 (id={row_id}) changed: its chain_hash does not follow from its "
        "prev_hash and row_hash"
    ]


def test_a_row_rewritten_with_all_its_hashes_is_named_by_the_next_link(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    with Session(log_engine) as session:
        row = session.execute(select(AccessEventRow).where(AccessEventRow.seq == 42)).scalar_one()
        values = {c: getattr(row, c) for c in audit.CONTENT_COLUMNS}
        prev = row.prev_hash
    forged = row_hash({**values, "username": "nogen_andre"})
    with malicious_dba(url) as dba:
        dba.execute(
            "UPDATE access_event SET username = 'nogen_andre', row_hash = %s, chain_hash = %s "
            "WHERE seq = 42",
            (forged, chain_hash(prev, forged)),
        )
    report = _verify(log_engine)

    assert [(p.kind, p.seq) for p in report.problems] == [("broken", 43)]
    assert _messages(report)[0].startswith(
        f"chain broken between seq=42 (id={ids[42]}) and seq=43 (id={ids[43]})"
    )
    assert "seq=42 was rewritten" in _messages(report)[0]


def test_a_delete_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    with malicious_dba(url) as dba:
        dba.execute("DELETE FROM access_event WHERE seq IN (200, 201)")
    report = _verify(log_engine)

    assert _messages(report) == [
        f"rows seq=200..201 are missing (deleted): row seq=202 (id={ids[202]}) follows seq=199"
    ]
    assert report.summary()[0] == f"FAILED: 1 problem in {EVENTS - 2} events"


def test_a_delete_of_the_first_row_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    with malicious_dba(url) as dba:
        dba.execute("DELETE FROM access_event WHERE seq = 1")
    assert _messages(_verify(log_engine)) == [
        f"rows seq=1 are missing (deleted): row seq=2 (id={ids[2]}) follows the start of the log"
    ]


def test_a_delete_hidden_by_renumbering_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    with malicious_dba(url) as dba:
        dba.execute("DELETE FROM access_event WHERE seq = 200")
        dba.execute("UPDATE access_event SET seq = -seq WHERE seq > 200")
        dba.execute("UPDATE access_event SET seq = -seq - 1 WHERE seq < 0")
    report = _verify(log_engine)

    assert [(p.kind, p.seq, p.row_id) for p in report.problems] == [("broken", 200, ids[201])]
    assert _messages(report)[0].startswith(
        f"chain broken between seq=199 (id={ids[199]}) and seq=200 (id={ids[201]}): the "
        "prev_hash of seq=200 matches no row, so a row between them was removed"
    )


def _insert_forged_row(url: str, at_seq: int) -> int:
    """What a careful attacker does: make room at `at_seq`, and insert a row whose own hashes
    are right and whose prev_hash links to the row before it. Returns the forged row's id."""
    event = replace(sample_event(5), username="falsk_bruger", user_id=uuid.uuid4())
    values = event_values(event, datetime.now(UTC))
    with malicious_dba(url) as dba:
        prev = dba.execute(
            "SELECT chain_hash FROM access_event WHERE seq = %s", (at_seq - 1,)
        ).fetchone()
        assert prev is not None
        dba.execute("UPDATE access_event SET seq = -seq WHERE seq >= %s", (at_seq,))
        dba.execute("UPDATE access_event SET seq = -seq + 1 WHERE seq < 0")
        columns = [*audit.CONTENT_COLUMNS, "row_hash", "seq", "prev_hash", "chain_hash"]
        values |= {
            "rules": Jsonb(values["rules"]),
            "record_ids": Jsonb(values["record_ids"]),
            "seq": at_seq,
            "prev_hash": prev[0],
            "chain_hash": chain_hash(prev[0], values["row_hash"]),
        }
        inserted = dba.execute(
            f"INSERT INTO access_event ({', '.join(columns)}) "  # noqa: S608 - our own names
            f"VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
            [values[c] for c in columns],
        ).fetchone()
    assert inserted is not None
    return int(inserted[0])


def test_an_insert_in_the_middle_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    forged = _insert_forged_row(url, at_seq=150)
    report = _verify(log_engine)

    assert _messages(report) == [
        f"row seq=150 (id={forged}) was inserted: the next row, seq=151 (id={ids[150]}), links "
        "past it to seq=149"
    ]
    assert report.sealed == EVENTS + 1


def test_an_insert_at_the_start_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    with malicious_dba(url) as dba:
        dba.execute("UPDATE access_event SET seq = -seq")
        dba.execute("UPDATE access_event SET seq = -seq + 1 WHERE seq < 0")
    values = event_values(sample_event(9), datetime.now(UTC))
    with malicious_dba(url) as dba:
        row = dba.execute(
            "INSERT INTO access_event (recorded_at, request_id, user_id, username, "
            "employee_function, unit_id, child_cpr, child_cpr_synthetic, data_flow, action, "
            "purpose, decision, rules, legal_reference, record_ids, reason, row_hash, seq, "
            "prev_hash, chain_hash) VALUES (%(recorded_at)s, %(request_id)s, %(user_id)s, "
            "%(username)s, %(employee_function)s, %(unit_id)s, %(child_cpr)s, "
            "%(child_cpr_synthetic)s, %(data_flow)s, %(action)s, %(purpose)s, %(decision)s, "
            "%(rules)s, %(legal_reference)s, %(record_ids)s, %(reason)s, %(row_hash)s, 1, "
            "%(genesis)s, %(chain)s) RETURNING id",
            values
            | {
                "rules": Jsonb(values["rules"]),
                "record_ids": Jsonb(values["record_ids"]),
                "genesis": GENESIS_HASH,
                "chain": chain_hash(GENESIS_HASH, values["row_hash"]),
            },
        ).fetchone()
    assert row is not None
    assert _messages(_verify(log_engine)) == [
        f"row seq=1 (id={row[0]}) was inserted: the next row, seq=2 (id={ids[1]}), links "
        "past it to seq=0"
    ]


def test_a_changed_unsealed_row_is_named(log_engine: Engine) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    with Session(log_engine) as session, session.begin():
        row_id = record(session, sample_event(1))
    with malicious_dba(url) as dba:
        dba.execute("UPDATE access_event SET purpose = 'noget andet' WHERE id = %s", (row_id,))
    report = _verify(log_engine)

    assert _messages(report) == [
        f"unsealed row id={row_id} changed: its content does not match its row_hash"
    ]
    assert (report.sealed, report.unsealed) == (EVENTS, 1)


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_seals_first_and_appends_the_head(log_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "off-host" / "audit-checkpoints.jsonl"
    with Session(log_engine) as session, session.begin():
        record(session, sample_event(1))
    first = checkpoint(log_engine, path)
    second = checkpoint(log_engine, path)
    points, problems = audit.read_checkpoints(path)
    report = _verify(log_engine, path)

    assert first.seq == second.seq == EVENTS + 1  # the new event was sealed first
    assert [p.seq for p in points] == [EVENTS + 1, EVENTS + 1] and not problems
    assert report.ok and report.checkpoints == 2
    assert report.summary()[1] == f"Checkpoints: 2 match ({path})"


def test_a_cut_off_tail_is_caught_only_with_the_checkpoint(
    log_engine: Engine, tmp_path: Path
) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    path = tmp_path / "audit-checkpoints.jsonl"
    point = checkpoint(log_engine, path)
    with malicious_dba(url) as dba:
        dba.execute("DELETE FROM access_event WHERE seq > 250")

    without = _verify(log_engine, tmp_path / "nowhere.jsonl")
    with_checkpoint = _verify(log_engine, path)

    # A shorter chain is still a valid chain ...
    assert without.ok and without.sealed == 250
    assert without.summary()[1].startswith("Checkpoints: none in ")
    # ... until it is compared with a head held outside the database.
    assert _messages(with_checkpoint) == [
        f"checkpoint seq={EVENTS} (taken {point.at:%Y-%m-%dT%H:%M:%SZ}) does not match: the log "
        f"ends at seq=250: rows seq=251..{EVENTS} were removed (the log was cut off)"
    ]


def test_an_insert_moves_the_row_a_checkpoint_names(log_engine: Engine, tmp_path: Path) -> None:
    url = log_engine.url.render_as_string(hide_password=False)
    ids = ids_by_seq(url)
    path = tmp_path / "audit-checkpoints.jsonl"
    checkpoint(log_engine, path)
    forged = _insert_forged_row(url, at_seq=150)
    messages = _messages(_verify(log_engine, path))

    assert messages[0].startswith(f"row seq=150 (id={forged}) was inserted")
    assert messages[1].endswith(
        f"row seq={EVENTS} (id={ids[EVENTS - 1]}) has another chain_hash; the row it names is "
        f"now seq={EVENTS + 1} (id={ids[EVENTS]}): 1 row(s) were inserted before it"
    )


def test_a_recomputed_chain_is_caught_only_with_the_checkpoint(
    log_engine: Engine, tmp_path: Path
) -> None:
    """The strongest attack on a hash chain: change a row and recompute every hash after it.
    The chain is then self-consistent; only a head kept elsewhere gives it away."""
    url = log_engine.url.render_as_string(hide_password=False)
    path = tmp_path / "audit-checkpoints.jsonl"
    early = checkpoint(log_engine, path)  # at seq 300
    more = 20
    with Session(log_engine) as session, session.begin():
        for i in range(more):
            record(session, sample_event(EVENTS + i))
    checkpoint(log_engine, path)  # at seq 320
    _rewrite_chain_from(url, seq=310)

    assert _verify(log_engine).ok  # no checkpoints: nothing to see
    messages = _messages(_verify(log_engine, path))
    assert len(messages) == 1
    assert messages[0].startswith(f"checkpoint seq={EVENTS + more} ")
    assert f"a row after seq={early.seq} (the last checkpoint that matches)" in messages[0]


def _rewrite_chain_from(url: str, seq: int) -> None:
    with malicious_dba(url) as dba:
        dba.execute("UPDATE access_event SET username = 'nogen_andre' WHERE seq = %s", (seq,))
        rows = dba.execute(
            "SELECT seq, prev_hash, recorded_at, request_id, user_id, username, "
            "employee_function, unit_id, child_cpr, child_cpr_synthetic, data_flow, action, "
            "purpose, decision, rules, legal_reference, record_ids, reason "
            "FROM access_event WHERE seq >= %s ORDER BY seq",
            (seq,),
        ).fetchall()
        prev = rows[0][1]
        for row in rows:
            content = dict(zip(audit.CONTENT_COLUMNS, row[2:], strict=True))
            digest = row_hash(content)
            link = chain_hash(prev, digest)
            dba.execute(
                "UPDATE access_event SET row_hash = %s, prev_hash = %s, chain_hash = %s "
                "WHERE seq = %s",
                (digest, prev, link, row[0]),
            )
            prev = link


def test_an_unreadable_checkpoint_line_is_a_problem(log_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "audit-checkpoints.jsonl"
    checkpoint(log_engine, path)
    with path.open("a", encoding="utf-8") as file:
        file.write('{"seq": "many"}\n')
    report = _verify(log_engine, path)

    assert [p.kind for p in report.problems] == ["checkpoint"]
    assert _messages(report)[0].startswith("checkpoint file line 2 is unreadable")


# --- failing closed -------------------------------------------------------------------------


def _lock_table(url: str) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(psycopg_url(url))
    conn.execute("LOCK TABLE access_event IN ACCESS EXCLUSIVE MODE")
    return conn


@pytest.mark.parametrize("how", ["read_only", "locked", "bad_value"])
def test_a_log_that_cannot_be_written_raises_access_log_unavailable(
    fresh_database_url: str, how: str
) -> None:
    engine = make_engine(fresh_database_url)
    event = sample_event(1)
    locker = _lock_table(fresh_database_url) if how == "locked" else None
    try:
        with Session(engine) as session, session.begin():
            if how == "read_only":  # as on a standby after a failover
                session.execute(text("SET TRANSACTION READ ONLY"))
            if how == "locked":
                session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            if how == "bad_value":
                event = replace(event, decision="maybe")
            with pytest.raises(AccessLogUnavailable) as raised:
                record(session, event)
    finally:
        if locker is not None:
            locker.close()
    with Session(engine) as session:
        assert session.scalar(select(AccessEventRow.id)) is None
    engine.dispose()

    message = str(raised.value)
    assert message.startswith("the access log could not be written: ")
    # The message and its chain carry no statement parameters, so no CPR number.
    assert event.child_cpr is not None and event.child_cpr not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# --- sealing beside the web app -------------------------------------------------------------


def test_periodic_sealing_seals_and_stays_quiet_when_it_cannot(
    fresh_database_url: str, missing_database_factory: sessionmaker[Session]
) -> None:
    engine = make_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        record(session, sample_event(1))

    async def run(factory: sessionmaker[Session], seconds: float) -> None:
        task = asyncio.create_task(audit.seal_periodically(factory, interval=0.05))
        await asyncio.sleep(seconds)
        assert not task.done()  # failures do not end it
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run(sessionmaker(engine), 0.5))
    with capture_logs() as logs:
        asyncio.run(run(missing_database_factory, 0.5))
    report = _verify(engine)
    engine.dispose()

    assert report.sealed == 1 and report.ok
    assert [entry["event"] for entry in logs] == ["access_log_seal_failed"]


@pytest.fixture
def missing_database_factory(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    url = make_url(fresh_database_url).set(database="does_not_exist_audit")
    engine = make_engine(url.render_as_string(hide_password=False))
    yield sessionmaker(engine)
    engine.dispose()
