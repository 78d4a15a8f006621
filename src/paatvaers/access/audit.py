"""The access log: every access decision and every read of a child's data, tamper-evident.

Four steps, each in its own function (docs/access-log.md tells the whole story):

* `record` writes one event in the caller's transaction, with the SHA-256 of its content
  (`row_hash`). Writers take no lock beyond their own row, so audited reads scale.
* `seal` is the one sequencer: it gives the rows written since the last seal consecutive
  positions (`seq`) and chains them, `chain_hash = SHA-256(prev_hash || row_hash)`.
* `checkpoint` seals, then appends the chain head to a file outside the database, so a log
  cut off after a checkpoint no longer matches it.
* `verify` recomputes everything and names each row that was changed, removed or inserted.

`row_hash` covers the event's content but not its position (`seq`) and not the database's
row id. The position is not known when the row is written (a writer must not wait for a
global sequence), and the chain commits to it anyway: each `chain_hash` depends on every
earlier row, in order. Keeping the position out of `row_hash` is also what lets the verifier
say *what* happened: a row forged into the middle, with the later rows renumbered, leaves
every later row's content hash intact and breaks exactly one link, the one right after it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import structlog
from sqlalchemy import Engine, Row, Table, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.settings import Settings
from paatvaers.store.tables import AccessEventRow

log: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger("paatvaers.audit")

TABLE = cast(Table, AccessEventRow.__table__)
AnyRow = Row[*tuple[Any, ...]]
# The `prev_hash` of the first row: the chain starts from a fixed, published value.
GENESIS_HASH = "0" * 64
# One sequencer at a time, across processes: a transaction-scoped advisory lock on this key
# (the ASCII of "paatvaer", so it is recognisable in pg_locks).
SEAL_LOCK_KEY = int.from_bytes(b"paatvaer", "big")
SEAL_INTERVAL_SECONDS = 5.0
CHECKPOINT_FILE_NAME = "audit-checkpoints.jsonl"
# The columns an event's `row_hash` covers, in the order they are documented; the canonical
# form sorts them by name anyway.
CONTENT_COLUMNS = (
    "recorded_at",
    "request_id",
    "user_id",
    "username",
    "employee_function",
    "unit_id",
    "child_cpr",
    "child_cpr_synthetic",
    "data_flow",
    "action",
    "purpose",
    "decision",
    "rules",
    "legal_reference",
    "record_ids",
    "reason",
)


class AccessAction(StrEnum):
    DECIDE = "decide"  # a policy decision on (user, child, data flow)
    READ = "read"  # a child's data shown or returned
    SEARCH = "search"  # a search or list that named children


@dataclass(frozen=True, slots=True)
class AccessEvent:
    user_id: uuid.UUID
    username: str
    employee_function: str
    unit_id: uuid.UUID
    action: AccessAction
    purpose: str
    decision: str  # "permit" | "deny"
    rules: tuple[str, ...]  # ids of the policy rules that decided
    child_cpr: str | None = None
    child_cpr_synthetic: bool | None = None
    data_flow: str | None = None
    legal_reference: str | None = None
    record_ids: tuple[str, ...] = ()
    reason: str | None = None
    request_id: str | None = None


class AccessLogUnavailable(RuntimeError):
    """The access log could not be written, so the data it would have logged must not leave."""


# --- hashing -------------------------------------------------------------------------------


def _canonical_value(value: object) -> object:
    if isinstance(value, datetime):
        # Always six fractional digits: isoformat() drops them when they are zero.
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return value


def canonical_content(values: Mapping[Any, Any]) -> bytes:
    """The bytes `row_hash` is taken of: the content columns as JSON with sorted keys, no
    insignificant whitespace, UTF-8. The same function serves the writer (from the event)
    and the verifier (from the stored row), so both see one form."""
    content = {name: _canonical_value(values[name]) for name in CONTENT_COLUMNS}
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def row_hash(values: Mapping[Any, Any]) -> str:
    return hashlib.sha256(canonical_content(values)).hexdigest()


def chain_hash(prev_hash: str | None, this_row_hash: str | None) -> str | None:
    """SHA-256 over the two 32-byte digests; None when either is not a digest (tampered)."""
    try:
        prev = bytes.fromhex(prev_hash or "")
        this = bytes.fromhex(this_row_hash or "")
    except ValueError:
        return None
    if len(prev) != 32 or len(this) != 32:
        return None
    return hashlib.sha256(prev + this).hexdigest()


# --- writing --------------------------------------------------------------------------------


def event_values(event: AccessEvent, recorded_at: datetime) -> dict[str, Any]:
    """The row's columns for `event`, `row_hash` included (not yet sealed)."""
    values: dict[str, Any] = {
        "recorded_at": recorded_at,
        "request_id": event.request_id,
        "user_id": event.user_id,
        "username": event.username,
        "employee_function": event.employee_function,
        "unit_id": event.unit_id,
        "child_cpr": event.child_cpr,
        "child_cpr_synthetic": event.child_cpr_synthetic,
        "data_flow": event.data_flow,
        "action": AccessAction(event.action).value,
        "purpose": event.purpose,
        "decision": event.decision,
        "rules": list(event.rules),
        "legal_reference": event.legal_reference,
        "record_ids": list(event.record_ids),
        "reason": event.reason,
    }
    values["row_hash"] = row_hash(values)
    return values


# Built and compiled once, the values passed as parameters (a statement built with
# `.values(...)` is coerced and cache-keyed anew for every event). Many rows at once are sent
# by the driver in one round trip (psycopg's executemany pipelines them).
_INSERT = insert(TABLE)
_INSERT_RETURNING_ID = _INSERT.returning(TABLE.c.id)


def record(session: Session, event: AccessEvent) -> int:
    """Insert the event in the caller's transaction (flush, so a failure surfaces now, before
    any data are returned); return its id. Any database error -> AccessLogUnavailable.

    The event commits or rolls back with the caller's work. After AccessLogUnavailable the
    caller's transaction is unusable and must be rolled back."""
    # Python's clock has microseconds, as timestamptz has, so the stored time hashes alike.
    values = event_values(event, datetime.now(UTC))
    try:
        row_id: int = session.execute(_INSERT_RETURNING_ID, values).scalar_one()
    except SQLAlchemyError as error:
        raise _unavailable(error) from None
    return row_id


def record_all(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert events whose columns `event_values` made when they happened, in this order, in
    the caller's transaction and one round trip; AccessLogUnavailable as for `record`."""
    if not rows:
        return
    try:
        session.execute(_INSERT, list(rows))
    except SQLAlchemyError as error:
        raise _unavailable(error) from None


def _unavailable(error: SQLAlchemyError) -> AccessLogUnavailable:
    # Raised `from None` by the callers: the wrapped error carries the statement's parameters
    # (the child's CPR number) into whatever logs the exception.
    return AccessLogUnavailable(f"the access log could not be written: {_reason(error)}")


def _reason(error: SQLAlchemyError) -> str:
    return _error_text(getattr(error, "orig", None) or error)


def _error_text(error: BaseException) -> str:
    """The error's class and first line: no statement, no parameters, no CPR number."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line}"


# --- sealing --------------------------------------------------------------------------------

_SEAL_ROWS = text(
    """
    UPDATE access_event AS e
       SET seq = v.seq, prev_hash = v.prev_hash, chain_hash = v.chain_hash
      FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]),
                  CAST(:prevs AS text[]), CAST(:chains AS text[]))
           AS v(id, seq, prev_hash, chain_hash)
     WHERE e.id = v.id AND e.seq IS NULL
    """
)


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    chain_hash: str


def chain_head(session: Session) -> ChainHead:
    """The last sealed row's position and hash; seq 0 and the genesis value for none."""
    row = session.execute(
        select(TABLE.c.seq, TABLE.c.chain_hash)
        .where(TABLE.c.seq.is_not(None))
        .order_by(TABLE.c.seq.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(row.seq, row.chain_hash)


def seal(session: Session, batch: int = 5000) -> int:
    """Chain the rows committed since the last seal, in id order, after the current head;
    return how many. One sequencer at a time: the advisory lock is held until the caller's
    transaction ends, so a second sealer waits and then, its statements seeing what has been
    committed (READ COMMITTED, the default), continues after this one's work."""
    session.execute(select(func.pg_advisory_xact_lock(SEAL_LOCK_KEY)))
    # Rows committed while this runs are left to the next seal, so it always ends.
    last_id = session.scalar(select(func.max(TABLE.c.id)).where(TABLE.c.seq.is_(None)))
    if last_id is None:
        return 0
    head = chain_head(session)
    sealed = 0
    while True:
        rows = session.execute(
            select(TABLE.c.id, TABLE.c.row_hash)
            .where(TABLE.c.seq.is_(None), TABLE.c.id <= last_id)
            .order_by(TABLE.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return sealed
        head = _seal_batch(session, rows, head)
        sealed += len(rows)


def _seal_batch(session: Session, rows: Iterable[AnyRow], head: ChainHead) -> ChainHead:
    ids: list[int] = []
    seqs: list[int] = []
    prevs: list[str] = []
    chains: list[str] = []
    for row in rows:
        link = chain_hash(head.chain_hash, row.row_hash)
        if link is None:
            raise ValueError(f"access_event id={row.id} has no valid row_hash; run verify")
        ids.append(row.id)
        seqs.append(head.seq + 1)
        prevs.append(head.chain_hash)
        chains.append(link)
        head = ChainHead(head.seq + 1, link)
    session.execute(_SEAL_ROWS, {"ids": ids, "seqs": seqs, "prevs": prevs, "chains": chains})
    return head


async def seal_periodically(
    factory: sessionmaker[Session], interval: float = SEAL_INTERVAL_SECONDS
) -> None:
    """Seal every `interval` seconds until cancelled (the web app runs this beside itself).

    Quiet: it logs when sealing starts failing and when it recovers, not on every round; a
    failed round is simply retried, since unsealed rows wait safely for the next one."""
    failing = False
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(_seal_once, factory)
        except Exception as error:  # whatever failed, the next round retries
            if not failing:
                log.warning("access_log_seal_failed", error=_error_text(error))
            failing = True
            continue
        if failing:
            log.info("access_log_seal_recovered")
        failing = False


def _seal_once(factory: sessionmaker[Session]) -> int:
    with factory() as session, session.begin():
        return seal(session)


# --- checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    chain_hash: str
    at: datetime

    def as_json(self) -> str:
        at = self.at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return json.dumps({"seq": self.seq, "chain_hash": self.chain_hash, "at": at})

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        data = json.loads(line)
        seq, digest = data["seq"], data["chain_hash"]
        if not isinstance(seq, int) or seq < 0 or not isinstance(digest, str):
            raise ValueError("seq must be a count and chain_hash a string")
        return cls(seq, digest, datetime.fromisoformat(data["at"]))


def checkpoint_file(settings: Settings) -> Path:
    return settings.audit_checkpoint_file or settings.data_dir / CHECKPOINT_FILE_NAME


def checkpoint(engine: Engine, path: Path) -> Checkpoint:
    """Seal, then append the chain head to `path`, outside the database.

    The head is read after the seal has committed, so the file never names a chain that a
    rolled-back transaction took away."""
    with Session(engine) as session, session.begin():
        seal(session)
    with Session(engine) as session:
        head = chain_head(session)
    point = Checkpoint(head.seq, head.chain_hash, datetime.now(UTC))
    append_checkpoint(path, point)
    return point


def append_checkpoint(path: Path, point: Checkpoint) -> None:
    """One line, appended and synced: a short O_APPEND write is not interleaved with
    another process's, and the checkpoint survives a crash right after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (point.as_json() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[Problem]]:
    """The checkpoints in `path` (none when it does not exist), and unreadable lines."""
    points: list[Checkpoint] = []
    problems: list[Problem] = []
    if not path.exists():
        return points, problems
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            points.append(Checkpoint.from_json(line))
        except (ValueError, KeyError, TypeError) as error:
            problems.append(
                Problem("checkpoint", f"checkpoint file line {number} is unreadable: {error}")
            )
    return points, problems


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # changed | missing | inserted | broken | duplicate | checkpoint
    message: str
    seq: int | None = None
    row_id: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class VerifyReport:
    sealed: int = 0
    unsealed: int = 0
    head: ChainHead = field(default_factory=lambda: ChainHead(0, GENESIS_HASH))
    checkpoint_path: Path | None = None
    checkpoints: int = 0  # how many were read from the file
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def events(self) -> int:
        return self.sealed + self.unsealed

    def summary(self) -> list[str]:
        """What `paatvaers audit verify` prints."""
        if not self.ok:
            count = len(self.problems)
            noun = "problem" if count == 1 else "problems"
            return [f"FAILED: {count} {noun} in {self.events} events"] + [
                str(p) for p in self.problems
            ]
        line = f"OK: {self.events} events, chain head seq={self.head.seq} {self.head.chain_hash}"
        if self.unsealed:
            line += f" ({self.unsealed} not sealed yet)"
        return [line, self._checkpoint_line()]

    def _checkpoint_line(self) -> str:
        if self.checkpoints:
            return f"Checkpoints: {self.checkpoints} match ({self.checkpoint_path})"
        return (
            f"Checkpoints: none in {self.checkpoint_path}; "
            "a log cut off at its end would go unnoticed"
        )


def _label(row: AnyRow | _Link) -> str:
    return f"seq={row.seq} (id={row.id})"


@dataclass(frozen=True, slots=True)
class _Link:
    """A sealed row as the walk along the chain remembers it."""

    seq: int
    id: int | None
    chain_hash: str | None


_GENESIS_LINK = _Link(0, None, GENESIS_HASH)


class _ChainWalk:
    """Walks the sealed rows in seq order and collects what is wrong with them."""

    def __init__(self, session: Session, checkpoints: list[Checkpoint]) -> None:
        self.session = session
        self.problems: list[Problem] = []
        self.previous = _GENESIS_LINK
        self.count = 0
        # A checkpoint of the empty log names the genesis value; it cannot go stale.
        self.pending = sorted(
            (p for p in checkpoints if (p.seq, p.chain_hash) != (0, GENESIS_HASH)),
            key=lambda p: p.seq,
        )
        self.matched_checkpoint = 0  # the highest seq of a checkpoint that matched

    def step(self, row: AnyRow) -> None:
        self.count += 1
        self._check_content(row)
        if row.seq <= self.previous.seq:
            self.problems.append(
                Problem(
                    "duplicate",
                    f"row {_label(row)} repeats a position: it follows seq={self.previous.seq}",
                    row.seq,
                    row.id,
                )
            )
            return
        if row.seq != self.previous.seq + 1:
            self._missing(row)
        elif row.prev_hash != self.previous.chain_hash:
            self._broken_link(row)
        self.previous = _Link(row.seq, row.id, row.chain_hash)
        self._check_checkpoints_at(row)

    def _check_content(self, row: AnyRow) -> None:
        if row_hash(row._mapping) != row.row_hash:
            self.problems.append(
                Problem(
                    "changed",
                    f"row {_label(row)} changed: its content does not match its row_hash",
                    row.seq,
                    row.id,
                )
            )
        elif chain_hash(row.prev_hash, row.row_hash) != row.chain_hash:
            self.problems.append(
                Problem(
                    "changed",
                    f"row {_label(row)} changed: its chain_hash does not follow from its "
                    "prev_hash and row_hash",
                    row.seq,
                    row.id,
                )
            )

    def _missing(self, row: AnyRow) -> None:
        first, last = self.previous.seq + 1, row.seq - 1
        span = f"seq={first}" if first == last else f"seq={first}..{last}"
        after = f"seq={self.previous.seq}" if self.previous.seq else "the start of the log"
        self.problems.append(
            Problem(
                "missing",
                f"rows {span} are missing (deleted): row {_label(row)} follows {after}",
                first,
                None,
            )
        )

    def _broken_link(self, row: AnyRow) -> None:
        """The row does not link to the row before it: find what it links to instead."""
        target = self._row_with_chain_hash(row.prev_hash)
        if target is not None and target.seq < self.previous.seq:
            self._inserted(row, target)
        elif target is not None:
            self.problems.append(
                Problem(
                    "broken",
                    f"row {_label(row)} links to seq={target.seq}, which comes after it: "
                    "rows were reordered",
                    row.seq,
                    row.id,
                )
            )
        else:
            self.problems.append(
                Problem(
                    "broken",
                    f"chain broken between {_label(self.previous)} and {_label(row)}: the "
                    f"prev_hash of seq={row.seq} matches no row, so a row between them was "
                    f"removed (and later rows renumbered) or seq={self.previous.seq} was "
                    "rewritten with fresh hashes",
                    row.seq,
                    row.id,
                )
            )

    def _inserted(self, row: AnyRow, target: _Link) -> None:
        forged = self.session.execute(
            select(TABLE.c.seq, TABLE.c.id)
            .where(TABLE.c.seq > target.seq, TABLE.c.seq < row.seq)
            .order_by(TABLE.c.seq)
        ).all()
        for extra in forged:
            self.problems.append(
                Problem(
                    "inserted",
                    f"row {_label(extra)} was inserted: the next row, {_label(row)}, links "
                    f"past it to seq={target.seq}",
                    extra.seq,
                    extra.id,
                )
            )

    def _row_with_chain_hash(self, digest: str | None) -> _Link | None:
        if digest is None:
            return None
        if digest == GENESIS_HASH:
            return _GENESIS_LINK
        # No index on chain_hash: this scan runs only when a link is already broken.
        found = self.session.execute(
            select(TABLE.c.seq, TABLE.c.id, TABLE.c.chain_hash)
            .where(TABLE.c.chain_hash == digest, TABLE.c.seq.is_not(None))
            .order_by(TABLE.c.seq)
            .limit(1)
        ).one_or_none()
        return _Link(found.seq, found.id, found.chain_hash) if found else None

    def _check_checkpoints_at(self, row: AnyRow) -> None:
        while self.pending and self.pending[0].seq <= row.seq:
            point = self.pending.pop(0)
            if point.seq == row.seq and point.chain_hash == row.chain_hash:
                self.matched_checkpoint = point.seq
            elif point.seq == row.seq:
                self._checkpoint_mismatch(point, f"row {_label(row)} has another chain_hash")
            else:  # the gap itself is reported already
                self._checkpoint_mismatch(point, f"row seq={point.seq} is missing")

    def _checkpoint_mismatch(self, point: Checkpoint, found: str) -> None:
        """Say where the row the checkpoint names went, if it is still there."""
        moved = self._row_with_chain_hash(point.chain_hash)
        if moved is not None and moved.seq > point.seq:
            why = (
                f"the row it names is now {_label(moved)}: {moved.seq - point.seq} row(s) were "
                "inserted before it"
            )
        elif moved is not None:
            why = (
                f"the row it names is now {_label(moved)}: {point.seq - moved.seq} row(s) "
                "before it were removed and the rest renumbered"
            )
        else:
            why = (
                f"a row after seq={self.matched_checkpoint} (the last checkpoint that matches) "
                "and up to it was changed, inserted or removed, and the chain recomputed"
            )
        self._checkpoint_problem(point, f"{found}; {why}")

    def _checkpoint_problem(self, point: Checkpoint, detail: str) -> None:
        self.problems.append(
            Problem(
                "checkpoint",
                f"checkpoint seq={point.seq} (taken {_when(point.at)}) does not match: {detail}",
                point.seq,
                None,
            )
        )

    def finish(self) -> None:
        """Checkpoints beyond the last row: the log was cut off after them."""
        last = self.previous.seq
        for point in self.pending:
            if self._row_with_chain_hash(point.chain_hash) is not None:
                self._checkpoint_mismatch(point, f"the log ends at seq={last}")
                continue
            span = f"seq={last + 1}" if last + 1 == point.seq else f"seq={last + 1}..{point.seq}"
            self._checkpoint_problem(
                point,
                f"the log ends at seq={last}: rows {span} were removed (the log was cut off)",
            )
        self.pending = []


def _when(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _stream(session: Session, sealed: bool) -> Iterator[AnyRow]:
    where = TABLE.c.seq.is_not(None) if sealed else TABLE.c.seq.is_(None)
    order = TABLE.c.seq if sealed else TABLE.c.id
    result = session.execute(
        select(TABLE).where(where).order_by(order).execution_options(yield_per=2000)
    )
    yield from result


def verify(session: Session, checkpoint_path: Path | None) -> VerifyReport:
    """Recompute every row's hashes and links, and compare the chain with each checkpoint in
    `checkpoint_path`; report every problem found, naming the row. Reads only."""
    # The file first: a checkpoint appended later names rows this snapshot may not have.
    checkpoints, problems = read_checkpoints(checkpoint_path) if checkpoint_path else ([], [])
    if not session.in_transaction():
        # One snapshot for both passes, so a seal running meanwhile is not half seen.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    walk = _ChainWalk(session, checkpoints)
    for row in _stream(session, sealed=True):
        walk.step(row)
    walk.finish()
    report = VerifyReport(
        sealed=walk.count,
        head=ChainHead(walk.previous.seq, walk.previous.chain_hash or ""),
        checkpoint_path=checkpoint_path,
        checkpoints=len(checkpoints),
        problems=problems + walk.problems,
    )
    for row in _stream(session, sealed=False):
        report.unsealed += 1
        if row_hash(row._mapping) != row.row_hash or row.prev_hash or row.chain_hash:
            report.problems.append(
                Problem(
                    "changed",
                    f"unsealed row id={row.id} changed: its content does not match its row_hash",
                    None,
                    row.id,
                )
            )
    return report
