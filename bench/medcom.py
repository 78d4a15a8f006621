"""Sending MedCom CareCommunication messages as the platform does (build, validate, store,
hand to the transport), one message at a time, against parsing the same messages with
fhir.resources (R4B), side by side in one run. It prints; it asserts nothing.

    DATABASE_URL=postgresql://postgres@127.0.0.1/postgres .venv/bin/python bench/medcom.py
        [--seconds 10] [--rounds 3] [--slice 1] [--pdf-kb 25.5]

Everything runs in this one process, on one core (so per core, like the parse-only
baseline), talks to 127.0.0.1 only and is bounded in time (about 2 x rounds x seconds, plus
a few seconds to set up):

* a fresh database `bench_medcom` on DATABASE_URL's server (created and migrated at the
  start, dropped at the end; `synchronous_commit` as the server has it, printed: on in
  production);
* a mailbox directory in a temporary folder (the VANS-style transport: one envelope file per
  message, written aside, fsynced and renamed into place);
* a mix of six kinds of message from a municipality's family department to a GP (and one
  forward to a child psychiatry unit): a new message; a reply in a thread of three; a new
  message with a PDF; a reply with a PDF; a forward of the thread of three, which carries
  the thread's PDF; a reply. The PDFs are `--pdf-kb` of random bytes, which puts the mean
  size near the 33.5 kB of the published example measured in perf-baseline.md; the mean is
  printed. The messages the replies and forward answer are built once, before timing.

Each round alternates `--slice`-second slices of the two until each has run `--seconds`:

1. pipeline: per message, build (`new_message`/`reply_to`/`forward` and `to_bundle`),
   validate (`validate_bundle`, which `outbox.enqueue` runs before it stores anything), store
   (`outbox.enqueue` in a transaction: the message row and its outbox row, then COMMIT) and
   hand to the transport (`outbox.deliver_next`: the due row locked, the envelope written
   to the receiver's mailbox with fsync, the row updated, COMMIT). Each stage is timed with
   perf_counter; "store" is the enqueue transaction less the validation inside it;
2. parse-only: `fhir.resources.R4B.bundle.Bundle.model_validate_json` of the bytes the
   pipeline handed to the transport (each message's Bundle JSON, the envelope's content),
   cycling through those of the round so far.

Printed per round and as medians over the rounds: messages per second of each, the ratio
pipeline / parse-only (goal ≥ 0.2), where the pipeline's time goes (ms per message per
stage), the CPU this process spent per pipeline message, and how busy the whole machine was.
Read ../shared/research/perf-baseline.md first: other work on the machine lowers both numbers
(the ratio, measured side by side, less so), and runs vary by 10-15 %: compare medians.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.correspondence import outbox
from paatvaers.correspondence.envelope import Envelope
from paatvaers.correspondence.transports import Mailboxes
from paatvaers.domain.cpr import synthetic_cpr
from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.medcom import carecommunication as cc
from paatvaers.medcom.model import AttachmentFile, CareCommunication, Party, Patient, Practitioner
from paatvaers.medcom.serialisation import to_json
from paatvaers.medcom.validation import ValidationReport
from paatvaers.medcom.writer import to_bundle
from paatvaers.settings import Settings
from paatvaers.store.db import make_engine, session_factory, transaction, upgrade

DATABASE = "bench_medcom"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
GOAL = 0.2

# -- the messages -----------------------------------------------------------------------------

MUNICIPALITY = Party(
    "Børne- og familieafdelingen, Testrup Kommune",
    Sor("90000000001"),
    Gln.from_body("579900000001"),
)
GP = Party("Lægehuset Opdigtet Allé", Sor("90000000003"), Gln.from_body("579900000003"))
BUP = Party(
    "Børne- og ungdomspsykiatrisk afsnit, Testregion",
    Sor("90000000002"),
    Gln.from_body("579900000002"),
)
SOCIAL_WORKER = Practitioner(("Karen",), "Opdigtsen", "socialraadgiver", "+4570000001")
DOCTOR = Practitioner(("Gitte",), "Eksempelsen", "speciallaegeipraksis", "70000003")
CHILD = Patient(
    synthetic_cpr(date(2014, 3, 12), seventh_digit=4, last_digit=2), "Testbarn", ("Liva", "Opdigt")
)
TEXT = (
    "Vi har i dag talt med familien om barnets trivsel i skolen og derhjemme. Mor fortæller, "
    "at søvnen er blevet bedre, men at der stadig er konflikter om morgenen. Skolen oplyser, "
    "at fraværet er faldet siden efterårsferien. Vi foreslår et fælles møde med lægen, "
    "sundhedsplejersken og familien, og vi vil gerne høre, om I har bemærkninger til "
    "handleplanen, inden den sendes til familien. "
) * 3


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    build: Callable[[], CareCommunication]


def message_kinds(pdf_bytes: int, seed: int = 1) -> list[Kind]:
    """The mix, and (built here, untimed) the GP's messages the replies and forward answer."""
    rng = random.Random(seed)

    def pdf() -> AttachmentFile:
        data = b"%PDF-1.7\n" + rng.randbytes(pdf_bytes) + b"\n%%EOF\n"
        return AttachmentFile("Handleplan", "application/pdf", data, created=datetime.now(UTC))

    received = cc.new_message(
        sender=GP, author=DOCTOR, receiver=MUNICIPALITY, patient=CHILD, text=TEXT
    )
    first = cc.new_message(
        sender=GP, author=DOCTOR, receiver=MUNICIPALITY, patient=CHILD, text=TEXT,
        attachments=[pdf()],
    )  # fmt: skip
    answered = cc.reply_to(first, sender=MUNICIPALITY, author=SOCIAL_WORKER, text=TEXT)
    thread = cc.reply_to(answered, sender=GP, author=DOCTOR, text=TEXT)  # a thread of three
    content = {a.id: a.data for a in first.attachments if a.data is not None}
    pdfs = [pdf() for _ in range(8)]  # rotated, so that not every message carries the same one

    def some_pdf() -> AttachmentFile:
        pdfs.append(pdfs.pop(0))
        return pdfs[0]

    me, author = MUNICIPALITY, SOCIAL_WORKER

    def new(files: list[AttachmentFile]) -> CareCommunication:
        return cc.new_message(
            sender=me, author=author, receiver=GP, patient=CHILD, text=TEXT, attachments=files
        )

    def reply(previous: CareCommunication, files: list[AttachmentFile]) -> CareCommunication:
        return cc.reply_to(previous, sender=me, author=author, text=TEXT, attachments=files)

    def forward() -> CareCommunication:
        return cc.forward(
            thread, sender=me, author=author, receiver=BUP, text=TEXT, attachment_content=content
        )

    return [
        Kind("new", lambda: new([])),
        Kind("reply in a thread of 3", lambda: reply(thread, [])),
        Kind("new with a PDF", lambda: new([some_pdf()])),
        Kind("reply with a PDF", lambda: reply(received, [some_pdf()])),
        Kind("forward of the thread (its PDF)", forward),
        Kind("reply", lambda: reply(received, [])),
    ]


def outgoing(message: CareCommunication) -> outbox.Outgoing:
    return outbox.Outgoing.care_communication(message, synthetic=True)


# -- the database -----------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def server_url() -> str:
    configured = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = Settings(database_url=configured).database_url
    if url is None:
        raise SystemExit("DATABASE_URL is not a PostgreSQL URL")
    host = make_url(url).host
    if host and host not in LOOPBACK:
        raise SystemExit(f"DATABASE_URL's server is {host}: this benchmark runs on 127.0.0.1 only")
    return url


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """`bench_medcom`, created anew and migrated; dropped afterwards."""
    url = make_url(server).set(database=DATABASE).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(_libpq(server), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def server_settings(url: str) -> str:
    with psycopg.connect(_libpq(url)) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    return (
        f"PostgreSQL {version[0] if version else '?'}, synchronous_commit "
        f"{sync[0] if sync else '?'}, fsync {fsync[0] if fsync else '?'}"
    )


# -- measuring --------------------------------------------------------------------------------


class CpuMeter:
    """The whole machine's CPU use between start and stop, from /proc/stat."""

    def __init__(self) -> None:
        self.busy_ticks = 0
        self.total_ticks = 0

    @staticmethod
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    @contextmanager
    def measuring(self) -> Iterator[None]:
        busy, total = self.sample()
        try:
            yield
        finally:
            busy_after, total_after = self.sample()
            self.busy_ticks += busy_after - busy
            self.total_ticks += total_after - total

    @property
    def busy(self) -> float:
        return self.busy_ticks / max(1, self.total_ticks)


@dataclass
class Pipeline:
    """The pipeline's counters over one round."""

    messages: int = 0
    delivered: int = 0
    seconds: float = 0.0  # wall time of the whole loop
    cpu: float = 0.0  # this process's CPU time
    build: float = 0.0
    validate: float = 0.0
    store: float = 0.0  # the enqueue transaction, less validate
    transport: float = 0.0
    failures: list[str] = field(default_factory=list)
    machine: CpuMeter = field(default_factory=CpuMeter)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def ms(self, stage: float) -> float:
        return stage / self.messages * 1000 if self.messages else 0.0


@dataclass
class ParseOnly:
    messages: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    machine: CpuMeter = field(default_factory=CpuMeter)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


class TimedValidation:
    """outbox.enqueue's validate_bundle, with the time spent in it added up."""

    def __init__(self) -> None:
        self.real = outbox.validate_bundle
        self.seconds = 0.0

    def __call__(self, bundle: dict[str, object]) -> ValidationReport:
        started = time.perf_counter()
        try:
            return self.real(bundle)
        finally:
            self.seconds += time.perf_counter() - started


class RecordingMailboxes:
    """The mailbox transport, keeping the bytes handed over (for the parse-only side)."""

    def __init__(self, mailboxes: Mailboxes) -> None:
        self.mailboxes = mailboxes
        self.sent: list[bytes] = []

    def send(self, envelope: Envelope) -> None:
        self.mailboxes.send(envelope)
        self.sent.append(envelope.data)


@dataclass
class Bench:
    kinds: list[Kind]
    factory: sessionmaker[Session]
    transport: RecordingMailboxes
    validation: TimedValidation
    next_kind: int = 0

    def pipeline(self, seconds: float, into: Pipeline) -> None:
        """One message at a time through build, validate, store and transport."""
        clock = time.perf_counter
        deadline = clock() + seconds
        started, cpu = clock(), time.process_time()
        with into.machine.measuring():
            while clock() < deadline:
                kind = self.kinds[self.next_kind % len(self.kinds)]
                self.next_kind += 1
                t0 = clock()
                message = kind.build()
                bundle = to_bundle(message)
                t1 = clock()
                validated = self.validation.seconds
                try:
                    with transaction(self.factory) as session:
                        outbox.enqueue(session, bundle, outgoing(message), datetime.now(UTC))
                except outbox.OutgoingMessageInvalid as invalid:
                    into.failures.append(f"{kind.name}: {invalid}")
                t2 = clock()
                validate = self.validation.seconds - validated
                delivered = outbox.deliver_next(
                    self.factory, lambda _gln: self.transport, lambda: datetime.now(UTC)
                )
                t3 = clock()
                into.messages += 1
                into.delivered += delivered
                into.build += t1 - t0
                into.validate += validate
                into.store += t2 - t1 - validate
                into.transport += t3 - t2
        into.seconds += clock() - started
        into.cpu += time.process_time() - cpu

    def parse_only(self, seconds: float, into: ParseOnly, sent: list[bytes]) -> None:
        clock = time.perf_counter
        deadline = clock() + seconds
        started, cpu = clock(), time.process_time()
        with into.machine.measuring():
            index = 0
            while clock() < deadline:
                Bundle.model_validate_json(sent[index % len(sent)])
                index += 1
        into.messages += index
        into.seconds += clock() - started
        into.cpu += time.process_time() - cpu


def one_round(bench: Bench, seconds: float, slice_seconds: float) -> tuple[Pipeline, ParseOnly]:
    pipeline, parse = Pipeline(), ParseOnly()
    first_sent = len(bench.transport.sent)
    while pipeline.seconds < seconds or parse.seconds < seconds:
        if pipeline.seconds < seconds:
            bench.pipeline(min(slice_seconds, seconds - pipeline.seconds), pipeline)
        if parse.seconds < seconds:
            sent = bench.transport.sent[first_sent:] or bench.transport.sent
            bench.parse_only(min(slice_seconds, seconds - parse.seconds), parse, sent)
    return pipeline, parse


# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    pipeline_rate: float
    parse_rate: float
    build: float
    validate: float
    store: float
    transport: float
    cpu: float
    parse_cpu: float
    pipeline_busy: float
    parse_busy: float

    @property
    def ratio(self) -> float:
        return self.pipeline_rate / self.parse_rate if self.parse_rate else 0.0


def row(pipeline: Pipeline, parse: ParseOnly) -> Row:
    return Row(
        pipeline_rate=pipeline.rate,
        parse_rate=parse.rate,
        build=pipeline.ms(pipeline.build),
        validate=pipeline.ms(pipeline.validate),
        store=pipeline.ms(pipeline.store),
        transport=pipeline.ms(pipeline.transport),
        cpu=pipeline.ms(pipeline.cpu),
        parse_cpu=parse.cpu / parse.messages * 1000 if parse.messages else 0.0,
        pipeline_busy=pipeline.machine.busy,
        parse_busy=parse.machine.busy,
    )


def print_row(r: Row, ratio: float | None = None) -> None:
    per_message = 1000 / r.pipeline_rate if r.pipeline_rate else 0.0
    parse_ms = 1000 / r.parse_rate if r.parse_rate else 0.0
    print(
        f"  parse-only {r.parse_rate:>7,.0f} /s  {parse_ms:>6.2f} ms/message"
        f"   machine busy {r.parse_busy:>4.0%}   this process's CPU {r.parse_cpu:.2f} ms/message"
    )
    print(
        f"  pipeline   {r.pipeline_rate:>7,.0f} /s  {per_message:>6.2f} ms/message"
        f"   machine busy {r.pipeline_busy:>4.0%}   this process's CPU {r.cpu:.2f} ms/message"
    )
    print(
        f"    build {r.build:.2f}   validate {r.validate:.2f}   store {r.store:.2f}"
        f"   transport {r.transport:.2f} ms/message"
    )
    print(f"  ratio pipeline / parse-only {r.ratio if ratio is None else ratio:.3f}")


def median_row(rows: list[Row]) -> Row:
    return Row(
        **{
            name: statistics.median(getattr(r, name) for r in rows)
            for name in Row.__dataclass_fields__
        }
    )


def report(rows: list[Row]) -> None:
    m = median_row(rows)
    ratio = statistics.median(r.ratio for r in rows)  # of the ratios measured side by side
    total = m.build + m.validate + m.store + m.transport
    per_message = 1000 / m.pipeline_rate if m.pipeline_rate else 0.0
    print()
    print(f"medians over {len(rows)} rounds:")
    print_row(m, ratio)
    print()
    print("where the pipeline's time goes (median ms per message, share of the stages):")
    for name, value in (
        ("build (compose + to_bundle)", m.build),
        ("validate (validate_bundle)", m.validate),
        ("store (enqueue + COMMIT)", m.store),
        ("transport (deliver_next)", m.transport),
    ):
        print(f"  {name:30} {value:>6.2f}   {value / total if total else 0:>4.0%}")
    print(f"  {'sum of the stages':30} {total:>6.2f}   (per message in all: {per_message:.2f})")
    print()
    per_round = ", ".join(f"{r.ratio:.3f}" for r in rows)
    print(f"pipeline / parse-only  {ratio:.3f}   (goal ≥ {GOAL})   per round: {per_round}")
    print(f"goal met: {'yes' if ratio >= GOAL else 'no'}")


def describe(kinds: list[Kind]) -> None:
    sizes = {k.name: len(to_json(to_bundle(k.build()))) for k in kinds}
    print("messages, in turn:")
    for name, size in sizes.items():
        print(f"  {name:34} {size / 1000:>6.1f} kB")
    print(f"  {'mean':34} {statistics.mean(sizes.values()) / 1000:>6.1f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per side and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slice", type=float, default=1.0, help="seconds before switching")
    parser.add_argument("--pdf-kb", type=float, default=25.5, help="size of each PDF")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of each, untimed")
    args = parser.parse_args()
    kinds = message_kinds(int(args.pdf_kb * 1000))
    describe(kinds)
    with (
        fresh_database(server_url()) as url,
        tempfile.TemporaryDirectory(prefix="bench-medcom-") as mailbox_dir,
    ):
        print(f"database {DATABASE} (fresh): {server_settings(url)}")
        engine = make_engine(url)
        validation = TimedValidation()
        outbox.validate_bundle = validation  # timed where enqueue calls it
        bench = Bench(
            kinds,
            session_factory(engine),
            RecordingMailboxes(Mailboxes(Path(mailbox_dir))),
            validation,
        )
        one_round(bench, args.warmup, args.warmup)
        rows = []
        for number in range(1, args.rounds + 1):
            idle = CpuMeter()
            with idle.measuring():
                time.sleep(1)
            print(f"round {number} (machine busy before it: {idle.busy:.0%}):", flush=True)
            pipeline, parse = one_round(bench, args.seconds, args.slice)
            rows.append(row(pipeline, parse))
            print_row(rows[-1])
            if pipeline.delivered != pipeline.messages or pipeline.failures:
                print(
                    f"  PROBLEMS: {pipeline.messages - pipeline.delivered} not delivered, "
                    f"{len(pipeline.failures)} invalid; first: {pipeline.failures[:1]}"
                )
        engine.dispose()
        report(rows)


if __name__ == "__main__":
    main()
