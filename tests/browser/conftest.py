"""The browser tests' harness: the real app served by uvicorn on loopback, driven by Debian's
Chromium through Playwright.

Everything here is package-scoped (this directory is a package for that reason): one
database, one consent simulator, one app and one browser serve all browser tests, and all of
them stop when the last browser test is done. That matters beyond speed: Playwright's sync
API keeps an event loop running on the main thread while the browser is open, which would
break later tests that call `asyncio.run`.

For other browser tests (tests/browser/test_*.py):

* `live_app` -> `support.browser.LiveApp`: `base_url`, `url(path)`, `population`, `engine`,
  `settings`, `world`, `simulators`, `now`, `shared_child`, `protected_child`;
* `serve_app(app) -> base URL`: serve another ASGI app (say one built with other settings, or
  a simulated EHR) on a free loopback port until the browser tests end;
* `browser` (one Chromium for the package), `context` and `page` (fresh per test: no cookies
  carried over), `axe` (axe-core);
* `support.browser.log_in(page, live_app, username)`, `open_child(page, cpr)`.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paatvaers.access.factory import child_access
from paatvaers.access.identity import principal_for
from paatvaers.cli import DEMO_CHILDREN, DEMO_SEED
from paatvaers.domain.children import AddressProtection, Child
from paatvaers.overview.mine import my_children
from paatvaers.overview.overviews import health_overview, municipal_overview
from paatvaers.population.generator import Population, generate
from paatvaers.population.report import report
from paatvaers.settings import Settings
from paatvaers.sources.base import SourceName
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from paatvaers.store.db import make_engine
from paatvaers.store.population_writer import replace_population
from paatvaers.web import create_app
from support.browser import LiveApp, serving

CHROMIUM = Path("/usr/bin/chromium")
# The demo's own population (size and seed of `paatvaers demo`), on the day the tests fix.
AS_OF = date(2026, 11, 26)
NOW = datetime.combine(AS_OF, time(11, 0), tzinfo=UTC)  # noon in Copenhagen


def _admin(server: str) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(server).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@dataclass(frozen=True)
class PreparedDatabase:
    url: str
    population: Population
    shared_child: Child
    protected_child: Child


def _choose_children(engine: Engine, population: Population) -> tuple[Child, Child]:
    """Two children both the demo PPR psychologist and the demo GP have on their lists, whose
    psychiatric appointments (with a place) the PPR may see and whose school the GP may see,
    decided by the platform's own access rules: one whose cases and contacts the GP may see
    as well (preferably with an appointment to come), and another one, which the caller gives
    a protected address. Looked up in a transaction that is rolled back: nothing is logged."""
    world = World.from_population(population)
    with (
        RunningSimulators(world, sources=[SourceName.CONSENT]) as simulators,
        ConsentClient(simulators.urls[SourceName.CONSENT]) as consent,
        Session(engine) as session,
    ):
        access = child_access(session, Settings(), consent, clock=lambda: NOW)
        ppr = principal_for(session, "psykolog")
        gp = principal_for(session, "praktiserende-laege")
        assert ppr is not None and gp is not None
        listed_ppr = {c.cpr for c in my_children(session, access, ppr, "COC")}
        listed_gp = {c.cpr for c in my_children(session, access, gp, "COC")}
        suitable: list[tuple[Child, bool, bool]] = []
        for child in sorted(population.children, key=lambda c: c.cpr.value):
            if child.cpr.value not in listed_ppr & listed_gp:
                continue
            municipal = municipal_overview(session, access, ppr, child.cpr, "COC")
            health = health_overview(session, access, gp, child.cpr, "COC")
            places = [a for a in municipal.appointments.answer.data or [] if a.location]
            if places and health.school.answer.data is not None:
                everything = bool(health.cases.answer.data and health.contacts.answer.data)
                upcoming = municipal.next_appointment is not None
                suitable.append((child, everything, upcoming))
        session.rollback()
    # Best with an appointment still to come, so that "the next appointment" has an answer.
    ranked = sorted(suitable, key=lambda s: (not (s[1] and s[2]), not s[1]))
    shared = ranked[0][0] if ranked and ranked[0][1] else None
    others = [c for c, _, _ in suitable if c is not shared]
    assert shared is not None and others, (
        f"the population has too few children the demo users share: {suitable}"
    )
    return shared, others[-1]


@pytest.fixture(scope="package")
def prepared_database(server_url: str, template_name: str) -> Iterator[PreparedDatabase]:
    """The demo's population in a database of its own (the app commits access-log rows,
    which the shared test database must not collect), with one child given a protected
    address (navne- og adressebeskyttelse) so that the tests can see it withheld."""
    name = f"paatvaers_browser_{uuid.uuid4().hex[:10]}"
    with _admin(server_url) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_name}")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    population = generate(DEMO_CHILDREN, DEMO_SEED, AS_OF)
    engine = make_engine(url)
    try:
        replace_population(engine, population, report(population))
        shared, chosen = _choose_children(engine, population)
        protected = dataclasses.replace(
            chosen, address_protection=AddressProtection(since=chosen.birth_date, until=None)
        )
        population.children[population.children.index(chosen)] = protected
        replace_population(engine, population, report(population))
    finally:
        engine.dispose()
    yield PreparedDatabase(url, population, shared, protected)
    with _admin(server_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="package")
def browser_engine(prepared_database: PreparedDatabase) -> Iterator[Engine]:
    engine = make_engine(prepared_database.url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="package")
def browser_world(prepared_database: PreparedDatabase) -> World:
    return World.from_population(prepared_database.population)


@pytest.fixture(scope="package")
def consent_simulator(browser_world: World) -> Iterator[RunningSimulators]:
    """The consent service (Digitalt Samtykke) with the population's consents, asked live."""
    with RunningSimulators(browser_world, sources=[SourceName.CONSENT]) as simulators:
        yield simulators


@pytest.fixture(scope="package")
def serve_app(
    browser_engine: Engine, consent_simulator: RunningSimulators
) -> Iterator[Callable[[Any], str]]:
    """Serve an ASGI app on a free loopback port until the browser tests end; returns its URL.
    Every app served stops before the engine and the consent service it may use."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serving(app))


@pytest.fixture(scope="package")
def live_app(
    prepared_database: PreparedDatabase,
    browser_engine: Engine,
    browser_world: World,
    consent_simulator: RunningSimulators,
    serve_app: Callable[[Any], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> LiveApp:
    settings = Settings(
        database_url=prepared_database.url,
        data_dir=tmp_path_factory.mktemp("browser-data"),
        consent_url=consent_simulator.urls[SourceName.CONSENT],
        demo_mode=True,
        session_secret="browser-tests-only",
    )
    base_url = serve_app(create_app(settings, browser_engine, clock=lambda: NOW))
    return LiveApp(
        base_url=base_url,
        population=prepared_database.population,
        engine=browser_engine,
        settings=settings,
        world=browser_world,
        simulators=consent_simulator,
        now=NOW,
        shared_child=prepared_database.shared_child,
        protected_child=prepared_database.protected_child,
    )


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (installed by `.ci/run`); never a downloaded browser. A missing
    Chromium fails the tests with a clear message rather than skipping them."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. The browser tests use Debian's "
            "Chromium: `apt-get install chromium` (.ci/run does this); Playwright's own "
            "browser downloads are not used.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: no cookies or session carried between tests."""
    ctx = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="package")
def axe() -> Axe:
    return Axe()
