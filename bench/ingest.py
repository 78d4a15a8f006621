"""Ingestion at national scale: the full path (simulators over HTTP → adapters → parsing →
idempotent merge into PostgreSQL) against a plain PostgreSQL COPY of the same rows into the
same tables, measured side by side in one run. It prints; it asserts nothing.

    .venv/bin/python bench/ingest.py [--children 1200000] [--seed 1]

The simulators run in their own process (as the real services are elsewhere), started with
`paatvaers simulators serve`. The COPY baseline takes exactly the rows the full path stored
(COPY TO from the first database, then a timed COPY FROM into the same, indexed tables of a
second, freshly migrated one). Uses DATABASE_URL, or an embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from paatvaers.ingest.pipeline import Mode, RunSummary
from paatvaers.ingest.service import ingest
from paatvaers.settings import Settings
from paatvaers.sources.base import SourceName
from paatvaers.store.db import make_engine, upgrade
from paatvaers.store.embedded import embedded_postgres

TABLES = (
    "org_unit",
    "staff_user",
    "child",
    "custody_holder",
    "enrollment",
    "municipal_case",
    "case_party",
    "appointment",
)


def _server(stack: ExitStack) -> str:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        url = Settings(database_url=configured).database_url
        if url is None:
            raise SystemExit("DATABASE_URL is not a PostgreSQL URL")
        return url
    return stack.enter_context(embedded_postgres(Path(tempfile.mkdtemp()) / "pg"))


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _create_database(server: str, stack: ExitStack) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(_libpq(server), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    stack.callback(drop)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def _wait_for_ports(process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for source in SourceName:
        while True:
            if process.poll() is not None:
                raise SystemExit("the simulators exited before they were ready")
            try:
                socket.create_connection(("127.0.0.1", source.default_port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the simulators did not start in time") from None
                time.sleep(0.5)


def _start_simulators(children: int, seed: int, as_of: date, stack: ExitStack) -> None:
    command = [
        sys.executable, "-m", "paatvaers.cli", "simulators", "serve",
        "--children", str(children), "--seed", str(seed), "--as-of", as_of.isoformat(),
        "--no-malformed",
    ]  # fmt: skip
    print(f"starting simulators for {children:,} children …", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own CLI
    stack.callback(process.wait, 30)
    stack.callback(process.terminate)
    _wait_for_ports(process, timeout=3600)
    print(f"  ready after {time.perf_counter() - started:.0f} s (population + world)", flush=True)


def _count_rows(url: str) -> int:
    with psycopg.connect(_libpq(url)) as conn:
        total = 0
        for table in TABLES:
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - ours
            total += int(row[0]) if row else 0
        return total


def _copy_baseline(source_url: str, target_url: str) -> float:
    """Seconds to COPY the stored rows into the same tables of an empty database."""
    dumps: dict[str, bytes] = {}
    with psycopg.connect(_libpq(source_url)) as conn, conn.cursor() as cur:
        for table in TABLES:
            buffer = io.BytesIO()
            with cur.copy(f"COPY {table} TO STDOUT") as copy:
                for chunk in copy:
                    buffer.write(chunk)
            dumps[table] = buffer.getvalue()
    with psycopg.connect(_libpq(target_url)) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        for table in TABLES:
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(dumps[table])
        conn.commit()
        return time.perf_counter() - started


def _report(
    summaries: list[RunSummary], path_seconds: float, copy_seconds: float, rows: int
) -> None:
    path_rate, copy_rate = rows / path_seconds, rows / copy_seconds
    print()
    print(f"rows stored                    {rows:>12,}")
    print(f"full path (HTTP+parse+merge)   {path_seconds:>10.1f} s  {path_rate:>10,.0f} rows/s")
    print(f"PostgreSQL COPY, same rows     {copy_seconds:>10.1f} s  {copy_rate:>10,.0f} rows/s")
    print(f"ratio full path / COPY         {path_rate / copy_rate:>12.3f}   (goal ≥ 0.1)")
    print()
    print(f"{'source':14} {'records':>10} {'fetch s':>9} {'parse s':>9} {'database s':>11}")
    for s in summaries:
        print(
            f"{s.source:14} {s.read:>10,} {s.fetch_seconds:>9.1f} {s.parse_seconds:>9.1f}"
            f" {s.write_seconds:>11.1f}"
        )
    fetch, parse, write = (
        sum(getattr(s, f) for s in summaries)
        for f in ("fetch_seconds", "parse_seconds", "write_seconds")
    )
    records = sum(s.read for s in summaries)
    print(f"{'total':14} {records:>10,} {fetch:>9.1f} {parse:>9.1f} {write:>11.1f}")
    print(
        "(fetch = waiting for the next page while it is prefetched; parse includes mapping to rows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    as_of = date(2026, 11, 26)
    with ExitStack() as stack:
        server = _server(stack)
        path_db, copy_db = _create_database(server, stack), _create_database(server, stack)
        _start_simulators(args.children, args.seed, as_of, stack)
        settings = Settings(database_url=path_db, ingest_page_size=args.page_size)
        engine = make_engine(path_db)
        stack.callback(engine.dispose)
        print("ingesting all sources through the adapters …", flush=True)
        started = time.perf_counter()
        summaries = ingest(engine, settings, mode=Mode.FULL, day=as_of, derive=False)
        path_seconds = time.perf_counter() - started
        rows = _count_rows(path_db)
        copy_seconds = _copy_baseline(path_db, copy_db)
        _report(summaries, path_seconds, copy_seconds, rows)


if __name__ == "__main__":
    main()
