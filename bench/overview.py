"""The health overview under load on a national-scale database, access decisions and log
writes included, against (a) pgbench replaying the same SQL on the same database (the
machine's limit) and (b) a trivial endpoint of the same app on the same server settings,
measured side by side in one run. It prints; it asserts nothing.

    .venv/bin/python bench/overview.py --children 1200000 --seconds 20
        [--rounds 3] [--connections 32] [--workers 2] [--user praktiserende-laege] [--fresh]

Needs wrk and pgbench (Debian: `apt-get install wrk postgresql-client`; for benchmarks only,
not CI). Everything runs on this machine, talks to 127.0.0.1 only and is bounded in time:

* the database `bench_overview_<children>_s<seed>` on DATABASE_URL's server (default
  postgresql://postgres@127.0.0.1:5432/postgres), written with the project's generator and
  COPY writer (`replace_population`, as of `--as-of`) the first time, in a few minutes, and
  reused after (`--fresh` writes it anew); its access log is emptied at the start of a run
  (a bench database of synthetic people; it takes a superuser);
* the consent service, the simulator holding the population's consents, in its own process:
  the app asks it live on every decision, as in production;
* the app as production runs it: `paatvaers serve` (uvicorn, `--workers` processes, uvloop
  and httptools, no access log), in demo mode for the login, with one session secret for
  its workers; it judges at the real time, so on another day than `--as-of` the mix of
  decisions shifts a little (it is printed);
* a pool of `--pool` children: children the user's unit is related to (a GP's patient list,
  a BUP unit's patients) and a share `--unrelated` it is not, the same in every measurement.

Each round measures, one after the other, for `--seconds` each:

1. endpoint: `POST /api/overview/health` {"cpr", "purpose": "TREAT"} with the session cookie
   and `X-CSRF-Token` (logged in through `POST /log-ind/demo` with the landing page's token),
   by wrk (1 thread, `--connections` connections) with a Lua script picking a random child of
   the pool per request, after `--warmup` seconds of the same;
2. trivial: `GET /healthz` of the same app (a `SELECT 1`), same server, same cookie;
3. pgbench: the SQL the endpoint sends, captured from the app itself for every child of the
   pool (each statement with its values, as the driver sends it; the access-log INSERTs in
   the one pipeline psycopg sends them in; BEGIN and COMMIT around) and replayed as prepared
   statements by `--connections` clients: one script per shape of request, weighted by how
   many children have it. The app is stopped meanwhile (its log sealer would compete), and
   the rows pgbench wrote are sealed into the access log's chain afterwards, untimed.

Not replayed, so counted against the endpoint: the connection pool's liveness check before
each checkout (an empty query), the call to the consent service, and the sealing of the
access log, which the app does every few seconds.

Printed per run: requests (transactions) per second, p50 and p99 latency, the whole machine's
CPU use ("busy"), the load tool's CPU ("tool", in cores), and for the app the CPU its
processes spent per request (with each worker's share, in cores) and the consent service's.
Read ../shared/research/perf-baseline.md first: the load tool shares the 2 cores with the
servers, runs vary by 10-15 % (compare medians), and other work on the machine lowers
everything (the busy share before each round shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_time
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paatvaers.access.audit import seal
from paatvaers.settings import Settings
from paatvaers.store.db import make_engine, upgrade
from paatvaers.web.logging import configure_logging

AS_OF = date(2026, 11, 26)
BENCH_DIR = Path(__file__).resolve().parent
ENDPOINT = "/api/overview/health"
TRIVIAL = "/healthz"
PURPOSE = "TREAT"
CONSENT_TABLE = "bench_overview_consent"  # the consent records, for the simulator process
MAX_PGBENCH_SCRIPTS = 128  # pgbench's limit on -f
PIPELINE_START, PIPELINE_END = "\\startpipeline", "\\endpipeline"  # pgbench meta-commands


def _noon(day: date) -> datetime:
    return datetime.combine(day, day_time(12), tzinfo=UTC)


# -- the database -----------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _server_url() -> str:
    configured = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = Settings(database_url=configured).database_url
    if url is None:
        raise SystemExit("DATABASE_URL is not a PostgreSQL URL")
    return url


def _stored_children(url: str) -> int | None:
    """How many children the database holds, when a population was written completely."""
    try:
        with psycopg.connect(_libpq(url)) as conn:
            row = conn.execute(
                "SELECT p.children FROM population_run p"  # noqa: S608 - our constant
                f" WHERE EXISTS (SELECT FROM {CONSENT_TABLE}) ORDER BY p.id DESC LIMIT 1"
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def prepare_database(server: str, children: int, seed: int, as_of: date, fresh: bool) -> str:
    """The bench database with the population in it: reused when present, else written."""
    name = f"bench_overview_{children}_s{seed}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(server), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        if not exists or fresh:
            conn.execute(f"CREATE DATABASE {name}")
    upgrade(url)
    if _stored_children(url) == children:
        print(f"database {name}: reused ({children:,} children)", flush=True)
        return url
    _write_population(url, children, seed, as_of)
    return url


def _write_population(url: str, children: int, seed: int, as_of: date) -> None:
    from paatvaers.population.consents import consents_for  # noqa: PLC0415
    from paatvaers.population.generator import generate  # noqa: PLC0415
    from paatvaers.population.report import report  # noqa: PLC0415
    from paatvaers.sources.consent.simulator import record_json  # noqa: PLC0415
    from paatvaers.store.population_writer import replace_population  # noqa: PLC0415

    started = time.perf_counter()
    print(f"generating {children:,} children (seed {seed}, as of {as_of}) …", flush=True)
    population = generate(children, seed, as_of)
    print(f"  {time.perf_counter() - started:.0f} s; writing with COPY …", flush=True)
    engine = make_engine(url)
    try:
        replace_population(engine, population, report(population))
    finally:
        engine.dispose()
    moment = _noon(as_of)
    with psycopg.connect(_libpq(url)) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {CONSENT_TABLE}")
        conn.execute(f"CREATE TABLE {CONSENT_TABLE} (record jsonb NOT NULL)")
        with conn.cursor().copy(f"COPY {CONSENT_TABLE} (record) FROM STDIN") as copy:
            for record in consents_for(population):
                copy.write_row((json.dumps(record_json(record, moment)),))
        conn.execute("ANALYZE")
    print(f"  stored after {time.perf_counter() - started:.0f} s", flush=True)


def empty_access_log(url: str) -> None:
    """Start from an empty access log, so that runs compare. The log is append-only and its
    triggers refuse TRUNCATE; a superuser's replica role skips them. Bench database only."""
    try:
        with psycopg.connect(_libpq(url)) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute("TRUNCATE access_event RESTART IDENTITY")
    except psycopg.Error as error:
        print(f"the access log was kept (emptying it needs a superuser): {error}".strip())


def seal_log(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            return seal(session)
    finally:
        engine.dispose()


# -- the consent service, in its own process --------------------------------------------------


def serve_consent(url: str, port: int, as_of: date) -> None:
    """`--serve-consent`: the consent simulator with the population's records, until killed."""
    from paatvaers.sources.base import SourceName  # noqa: PLC0415
    from paatvaers.sources.consent.client import parse_record  # noqa: PLC0415
    from paatvaers.sources.simulation.server import RunningSimulators  # noqa: PLC0415
    from paatvaers.sources.simulation.world import World  # noqa: PLC0415

    world = World(as_of)
    moment = _noon(as_of)
    with psycopg.connect(_libpq(url)) as conn:
        rows = conn.execute(f"SELECT record FROM {CONSENT_TABLE}").fetchall()  # noqa: S608
    world.consents.put_all(parse_record(row[0], moment) for row in rows)
    ports = {SourceName.CONSENT: port}
    with RunningSimulators(world, ports, sources=[SourceName.CONSENT]):
        print(f"consent service ready: {len(world.consents):,} records", flush=True)
        threading.Event().wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise SystemExit(f"a process we started exited early (code {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing answered on port {port} in time") from None
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started (and the workers it started itself)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own group: start_new_session=True
        process.wait(10)


def start_consent_service(url: str, as_of: date, stack: ExitStack) -> tuple[str, int]:
    port = _free_port()
    command = [
        sys.executable, __file__, "--serve-consent", "--database-url", url,
        "--port", str(port), "--as-of", as_of.isoformat(),
    ]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True)  # noqa: S603 - ourselves
    stack.callback(_stop, process)
    _wait_for_port(port, process, timeout=600)
    return f"http://127.0.0.1:{port}", process.pid


# -- the pool of children ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pool:
    username: str
    unit_kind: str
    related: list[str]
    unrelated: list[str]

    @property
    def children(self) -> list[str]:
        return self.related + self.unrelated


def choose_pool(url: str, username: str, size: int, unrelated_share: float) -> Pool:
    """Children the user's unit is related to (a GP's patient list, a BUP unit's patients),
    and children it is not, picked the same way on every run."""
    unrelated_count = round(size * unrelated_share)
    with psycopg.connect(_libpq(url)) as conn:
        found = conn.execute(
            "SELECT u.id, u.kind, u.sor FROM staff_user s JOIN org_unit u ON u.id = s.unit_id"
            " WHERE s.username = %s AND s.is_demo",
            (username,),
        ).fetchone()
        if found is None:
            raise SystemExit(f"no demo user {username!r} in the bench database")
        unit_id, kind, sor = found
        if kind == "gp":
            related_query = "SELECT cpr FROM child WHERE gp_unit_id = %(unit)s"
        elif kind == "bup":
            related_query = (
                "SELECT DISTINCT patient_cpr FROM appointment WHERE performer_sor = %(sor)s"
                " AND status IN ('booked', 'held')"
            )
        else:
            raise SystemExit("the health overview is for GP and BUP users")
        related = [
            r[0]
            for r in conn.execute(
                f"SELECT cpr FROM ({related_query}) r(cpr) ORDER BY md5(cpr) LIMIT %(n)s",  # noqa: S608 - ours
                {"unit": unit_id, "sor": sor, "n": size - unrelated_count},
            )
        ]
        unrelated = [
            r[0]
            for r in conn.execute(
                f"SELECT cpr FROM child WHERE cpr NOT IN ({related_query})"  # noqa: S608 - ours
                " ORDER BY md5(cpr) LIMIT %(n)s",
                {"unit": unit_id, "sor": sor, "n": unrelated_count},
            )
        ]
    return Pool(username, kind, related, unrelated)


# -- logging in, over HTTP --------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class Login:
    cookie: str  # the Cookie header
    csrf: str


def log_in(client: httpx2.Client, username: str) -> Login:
    """The demo login a browser does: the landing page's token, the form, then the token of
    the new session (a login starts a new session with a new token)."""
    landing = _CSRF.search(client.get("/").text)
    if landing is None:
        raise SystemExit("the landing page has no CSRF token")
    response = client.post("/log-ind/demo", data={"username": username, "csrf": landing[1]})
    if response.status_code != 303:
        raise SystemExit(f"demo login answered {response.status_code}")
    mine = _CSRF.search(client.get("/mine").text)
    if mine is None:
        raise SystemExit("the 'mine' page has no CSRF token")
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return Login(cookie, mine[1])


# -- the SQL of one request, captured from the app itself -------------------------------------


@dataclass
class Capture:
    scripts: list[list[str]] = field(default_factory=list)  # per child: its statements
    outcomes: Counter[str] = field(default_factory=Counter)

    def kinds(self) -> Counter[str]:
        return Counter(
            s.split(None, 1)[0].upper()
            for script in self.scripts
            for s in script
            if not s.startswith("\\")
        )

    @property
    def statements_per_request(self) -> float:
        return sum(self.kinds().values()) / len(self.scripts)


def capture_sql(url: str, consent_url: str, pool: Pool) -> Capture:
    """Run the endpoint in this process for every child of the pool, with the statements the
    driver executes recorded with their values (the SQL is the same in the served app)."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from paatvaers.web import create_app  # noqa: PLC0415

    engine = make_engine(url)
    capture = Capture()
    recording: list[str] | None = None

    @event.listens_for(engine, "before_cursor_execute")
    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if recording is None:
            return
        literal = psycopg.ClientCursor(conn.connection.driver_connection)
        if isinstance(parameters, list):  # executemany: psycopg pipelines the statements
            recording.append(PIPELINE_START)
            recording.extend(literal.mogrify(statement, values) for values in parameters)
            recording.append(PIPELINE_END)
        else:
            recording.append(literal.mogrify(statement, parameters))

    settings = Settings(
        database_url=url,
        demo_mode=True,
        session_secret="capture",  # noqa: S106 - signs this process's own test cookie
        consent_url=consent_url,
    )
    app = create_app(settings, engine)  # the clock of the served app: now
    # Without its lifespan, so that no log sealer runs beside the requests recorded.
    client = TestClient(app, base_url="http://127.0.0.1")
    try:
        landing = _CSRF.search(client.get("/").text)
        assert landing is not None  # noqa: S101
        client.post(
            "/log-ind/demo",
            data={"username": pool.username, "csrf": landing[1]},
            follow_redirects=False,
        )
        mine = _CSRF.search(client.get("/mine").text)
        assert mine is not None  # noqa: S101
        for cpr in pool.children:
            recording = []
            response = client.post(
                ENDPOINT, json={"cpr": cpr, "purpose": PURPOSE}, headers={"X-CSRF-Token": mine[1]}
            )
            statements, recording = recording, None
            if response.status_code != 200:
                raise SystemExit(f"the endpoint answered {response.status_code} in capture")
            capture.scripts.append(statements)
            for block, value in response.json().items():
                if isinstance(value, dict) and "permitted" in value:
                    outcome = "permit" if value["permitted"] else "deny"
                    capture.outcomes[f"{block} {outcome}"] += 1
    finally:
        client.close()
        app.state.consent.close()
        engine.dispose()
    return capture


def _without_colons(sql: str) -> str:
    """pgbench reads `:name` as a variable even inside string literals, so every literal with
    a colon becomes an escape string with the colon written as \\x3a (same value)."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        if sql[i] != "'":
            out.append(sql[i])
            i += 1
            continue
        escaped = i > 0 and sql[i - 1] in "eE"
        j = i + 1
        while True:
            if (escaped and sql[j] == "\\") or (
                sql[j] == "'" and j + 1 < len(sql) and sql[j + 1] == "'"
            ):
                j += 2
            elif sql[j] == "'":
                break
            else:
                j += 1
        body = sql[i + 1 : j]
        if ":" in body:
            if not escaped:
                body = body.replace("\\", "\\\\")
                out.append("E")
            body = body.replace(":", "\\x3a")
        out.append(f"'{body}'")
        i = j + 1
    return "".join(out)


_LITERAL = re.compile(r"E?'(?:[^'\\]|''|\\.)*'|\b\d+\b")


def write_pgbench_scripts(capture: Capture, directory: Path) -> list[tuple[Path, int]]:
    """One script per shape of request (the same statements but for their values), with the
    values of the first child of that shape, weighted by how many children of the pool have
    it. Not one script per child: pgbench prepares every statement of every script in every
    connection, and a hundred scripts would spend much of the run preparing statements, which
    the app (whose statements take parameters) does once per connection."""
    shapes: dict[str, tuple[list[str], int]] = {}
    for statements in capture.scripts:
        shape = _LITERAL.sub("?", "\n".join(statements))
        first, count = shapes.get(shape, (statements, 0))
        shapes[shape] = (first, count + 1)
    scripts = []
    for number, (statements, count) in enumerate(shapes.values()):
        path = directory / f"shape_{number:02d}.sql"
        lines = ["BEGIN;"] + [
            s if s.startswith("\\") else _without_colons(s).strip() + ";" for s in statements
        ]
        path.write_text("\n".join([*lines, "COMMIT;", ""]))
        scripts.append((path, count))
    return scripts


# -- the servers and the measurements ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    rate: float  # requests or transactions per second
    p50_ms: float
    p99_ms: float
    busy: float  # the machine's CPU use during the run, 0..1
    errors: int
    tool_cores: float = 0.0  # the load tool's CPU (wrk or pgbench), in cores
    app_ms: float = 0.0  # CPU of the app's processes per request
    consent_ms: float = 0.0  # CPU of the consent service per request
    worker_cores: tuple[float, ...] = ()  # CPU of each app process, in cores, busiest first


class CpuMeter:
    """The whole machine's CPU use between start and stop, from /proc/stat."""

    @staticmethod
    def _sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields) - idle, sum(fields)

    def __enter__(self) -> CpuMeter:
        self.start = self._sample()
        self.busy = 0.0
        return self

    def __exit__(self, *_exc: object) -> None:
        busy, total = self._sample()
        self.busy = (busy - self.start[0]) / max(1, total - self.start[1])


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds used so far by a process and each process under it (uvicorn's workers)."""
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        proc = int(stat.parent.name)
        parents[proc] = int(fields[1])
        used[proc] = int(fields[11]) + int(fields[12])
    mine = {pid}
    changed = True
    while changed:
        grown = mine | {p for p, parent in parents.items() if parent in mine}
        changed, mine = grown != mine, grown
    return {p: used.get(p, 0) / _TICK for p in mine}


@dataclass(frozen=True, slots=True)
class Servers:
    base: str
    app_pid: int
    consent_pid: int

    def cpu(self) -> tuple[dict[int, float], float]:
        """CPU seconds so far: of each of the app's processes, and of the consent service."""
        return tree_cpu_seconds(self.app_pid), sum(tree_cpu_seconds(self.consent_pid).values())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def running_app(
    url: str, consent: tuple[str, int], workers: int, log_path: Path
) -> Iterator[Servers]:
    """`paatvaers serve`, as production runs it, on a free port, in demo mode (for the login)
    with one session secret for all its workers."""
    consent_url, consent_pid = consent
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PAATVAERS_HOST": "127.0.0.1",
        "PAATVAERS_PORT": str(port),
        "PAATVAERS_CONSENT_URL": consent_url,
        "PAATVAERS_DEMO_MODE": "true",
        "PAATVAERS_SESSION_SECRET": "bench-overview-session-secret",
    }
    command = [sys.executable, "-m", "paatvaers.cli", "serve", "--workers", str(workers)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            command, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        _wait_for_port(port, process, timeout=60)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        with httpx2.Client(base_url=base) as client:
            while client.get(TRIVIAL).status_code != 200:  # every worker up, database too
                if time.monotonic() > deadline:
                    raise SystemExit("the app did not become healthy")
                time.sleep(0.2)
        yield Servers(base, process.pid, consent_pid)
    finally:
        _stop(process)


_WRK_SCRIPT = """
local cprs = {%(cprs)s}
local requests = {}
init = function(args)
  math.randomseed(os.time())
  local headers = {
    ["Cookie"] = "%(cookie)s",
    ["X-CSRF-Token"] = "%(csrf)s",
    ["Content-Type"] = "application/json",
  }
  for i, cpr in ipairs(cprs) do
    if "%(path)s" == "%(endpoint)s" then
      local body = '{"cpr":"' .. cpr .. '","purpose":"%(purpose)s"}'
      requests[i] = wrk.format("POST", "%(path)s", headers, body)
    else
      requests[i] = wrk.format("GET", "%(path)s", headers)
    end
  end
end
request = function()
  return requests[math.random(#requests)]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"p50_us\\":%%d,\\"p99_us\\":%%d,"
    .. "\\"errors\\":%%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def _wrk_script(directory: Path, path: str, pool: Pool, login: Login) -> Path:
    script = directory / f"wrk{path.replace('/', '_')}.lua"
    script.write_text(
        _WRK_SCRIPT
        % {
            "cprs": ", ".join(f'"{c}"' for c in pool.children),
            "cookie": login.cookie,
            "csrf": login.csrf,
            "path": path,
            "endpoint": ENDPOINT,
            "purpose": PURPOSE,
        }
    )
    return script


def run_wrk(servers: Servers, script: Path, connections: int, seconds: int) -> Result:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), servers.base,
    ]  # fmt: skip
    app_before, consent_before = servers.cpu()
    tool_before = _children_cpu()
    with CpuMeter() as cpu:
        output = subprocess.run(  # noqa: S603 - wrk against our own server
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    tool = _children_cpu() - tool_before
    app_after, consent_after = servers.cpu()
    line = next(ln for ln in output.splitlines() if ln.startswith("WRK "))
    data = json.loads(line[4:])
    requests = max(1, data["requests"])
    seconds_run = data["duration_us"] / 1e6
    per_process = sorted((app_after[p] - app_before.get(p, 0.0)) / seconds_run for p in app_after)
    return Result(
        rate=data["requests"] / seconds_run,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        busy=cpu.busy,
        errors=data["errors"],
        tool_cores=tool / seconds_run,
        app_ms=sum(per_process) * seconds_run * 1000 / requests,
        consent_ms=(consent_after - consent_before) * 1000 / requests,
        worker_cores=tuple(c for c in reversed(per_process) if c >= 0.01),
    )


def run_pgbench(
    url: str, scripts: list[tuple[Path, int]], connections: int, seconds: int, directory: Path
) -> Result:
    parsed = make_url(url)
    logs = directory / f"pgbench_log_{time.monotonic_ns()}"
    command = [
        "pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", "2",
        "-T", str(seconds), "-l", "--log-prefix", str(logs),
        "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
        "-U", parsed.username or "postgres",
        *(arg for path, weight in scripts for arg in ("-f", f"{path}@{weight}")),
        parsed.database or "postgres",
    ]  # fmt: skip
    env = {**os.environ, "PGPASSWORD": parsed.password or ""}
    tool_before = _children_cpu()
    with CpuMeter() as cpu:
        done = subprocess.run(  # noqa: S603 - pgbench against the bench database
            command, check=False, capture_output=True, text=True, env=env, timeout=seconds + 120
        )
    tool = _children_cpu() - tool_before
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{done.stderr[-2000:]}")
    tps = float(re.findall(r"tps = ([\d.]+) \(without initial", done.stdout)[-1])
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    latencies: list[int] = []
    for log in directory.glob(f"{logs.name}.*"):
        latencies.extend(int(line.split()[2]) for line in log.read_text().splitlines())
        log.unlink()
    latencies.sort()
    return Result(
        rate=tps,
        p50_ms=_percentile(latencies, 50) / 1000,
        p99_ms=_percentile(latencies, 99) / 1000,
        busy=cpu.busy,
        errors=int(failed[1]) if failed else 0,
        tool_cores=tool / seconds,
    )


def _percentile(ordered: list[int], p: float) -> float:
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]) if ordered else 0.0


# -- the run ----------------------------------------------------------------------------------


def _row(name: str, r: Result) -> str:
    app = ""
    if r.app_ms:
        cores = "+".join(f"{c:.2f}" for c in r.worker_cores)
        workers = f" (cores: {cores})" if cores else ""
        app = f"   app {r.app_ms:>5.2f} ms/req{workers}   consent {r.consent_ms:>4.2f} ms/req"
    errors = f"   ERRORS {r.errors}" if r.errors else ""
    return (
        f"  {name:9} {r.rate:>7,.0f} /s   p50 {r.p50_ms:>6.2f} ms   p99 {r.p99_ms:>6.2f} ms"
        f"   busy {r.busy:>4.0%}   tool {r.tool_cores:>4.0%}{app}{errors}"
    )


def _median(results: list[Result]) -> Result:
    return Result(
        rate=statistics.median(r.rate for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        busy=statistics.median(r.busy for r in results),
        errors=sum(r.errors for r in results),
        tool_cores=statistics.median(r.tool_cores for r in results),
        app_ms=statistics.median(r.app_ms for r in results),
        consent_ms=statistics.median(r.consent_ms for r in results),
    )


def _describe(
    pool: Pool, capture: Capture, args: argparse.Namespace, scripts: list[tuple[Path, int]]
) -> None:
    print()
    print(
        f"user {pool.username} ({pool.unit_kind}); pool of {len(pool.children)} children:"
        f" {len(pool.related)} related, {len(pool.unrelated)} unrelated"
    )
    print("decisions per request over the pool (from the captured requests):")
    blocks = sorted({k.split()[0] for k in capture.outcomes})
    for block in blocks:
        permit, deny = capture.outcomes[f"{block} permit"], capture.outcomes[f"{block} deny"]
        print(f"  {block:10} permit {permit:>4}   deny {deny:>4}")
    kinds = ", ".join(f"{n / len(capture.scripts):.1f} {k}" for k, n in capture.kinds().items())
    print(
        f"SQL per request: {capture.statements_per_request:.1f} statements ({kinds}) + BEGIN/COMMIT"
    )
    weights = "/".join(str(weight) for _path, weight in scripts)
    print(f"pgbench: {len(scripts)} script(s), one per shape of request, weighted {weights}")
    print(
        f"{args.connections} connections, {args.workers} uvicorn workers, {args.seconds} s per"
        f" measurement, {args.rounds} round(s), CPUs: {os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--user", default="praktiserende-laege", help="a demo GP or BUP user")
    parser.add_argument("--pool", type=int, default=100, help=f"≤ {MAX_PGBENCH_SCRIPTS}")
    parser.add_argument("--unrelated", type=float, default=0.1, help="share of the pool")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each endpoint run")
    parser.add_argument("--fresh", action="store_true", help="write the database anew")
    parser.add_argument("--serve-consent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_consent:
        serve_consent(args.database_url, args.port, args.as_of)
        return
    if not 0 < args.pool <= MAX_PGBENCH_SCRIPTS:
        raise SystemExit(f"--pool must be 1..{MAX_PGBENCH_SCRIPTS} (one pgbench script each)")
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install {tool})")
    configure_logging("WARNING")  # the capture's app in this process: its warnings only
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ov-")))
        url = prepare_database(_server_url(), args.children, args.seed, args.as_of, args.fresh)
        empty_access_log(url)
        consent = start_consent_service(url, args.as_of, stack)
        pool = choose_pool(url, args.user, args.pool, args.unrelated)
        capture = capture_sql(url, consent[0], pool)
        scripts = write_pgbench_scripts(capture, directory)
        seal_log(url)
        _describe(pool, capture, args, scripts)
        results = _rounds(args, url, consent, pool, scripts, directory)
        _report(results, directory / "server.log")


def _rounds(
    args: argparse.Namespace,
    url: str,
    consent: tuple[str, int],
    pool: Pool,
    scripts: list[tuple[Path, int]],
    directory: Path,
) -> dict[str, list[Result]]:
    results: dict[str, list[Result]] = {"endpoint": [], "trivial": [], "pgbench": []}
    for number in range(1, args.rounds + 1):
        with CpuMeter() as idle:
            time.sleep(1)
        print(f"round {number} (machine busy with our servers idle: {idle.busy:.0%}):", flush=True)
        log = directory / "server.log"
        with running_app(url, consent, args.workers, log) as servers:
            with httpx2.Client(base_url=servers.base) as client:
                login = log_in(client, pool.username)
            endpoint = _wrk_script(directory, ENDPOINT, pool, login)
            trivial = _wrk_script(directory, TRIVIAL, pool, login)
            if args.warmup:
                run_wrk(servers, endpoint, args.connections, args.warmup)
            for name, script in (("endpoint", endpoint), ("trivial", trivial)):
                results[name].append(run_wrk(servers, script, args.connections, args.seconds))
                print(_row(name, results[name][-1]), flush=True)
        results["pgbench"].append(
            run_pgbench(url, scripts, args.connections, args.seconds, directory)
        )
        print(_row("pgbench", results["pgbench"][-1]), flush=True)
        seal_log(url)  # pgbench's rows, so that the next round's app finds no backlog
    return results


def _report(results: dict[str, list[Result]], server_log: Path) -> None:
    medians = {name: _median(rs) for name, rs in results.items()}
    endpoint, trivial, pgbench = medians["endpoint"], medians["trivial"], medians["pgbench"]
    print()
    print("medians over the rounds:")
    for name, result in medians.items():
        print(_row(name, result))
    to_pgbench = endpoint.rate / pgbench.rate
    to_trivial = endpoint.rate / trivial.rate
    print()
    print(f"endpoint / pgbench (same SQL)  {to_pgbench:>6.3f}   (goal ≥ 0.35)")
    print(f"endpoint / trivial (/healthz)  {to_trivial:>6.3f}")
    per_round = ", ".join(
        f"{e.rate / p.rate:.3f}"
        for e, p in zip(results["endpoint"], results["pgbench"], strict=True)
    )
    print(f"  (per round: {per_round})")
    print(f"endpoint p99                   {endpoint.p99_ms:>6.1f} ms (goal < 50 ms)")
    met = to_pgbench >= 0.35 and endpoint.p99_ms < 50
    print(f"goal met: {'yes' if met else 'no'}")
    problems = [
        line
        for line in server_log.read_text().splitlines()
        if '"level": "error"' in line or "[error" in line or "Traceback" in line
    ]
    if problems:
        print(f"the server logged {len(problems)} errors; the first: {problems[0][:300]}")


if __name__ == "__main__":
    main()
