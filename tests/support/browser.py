"""What the browser tests share: the live app they drive, serving an ASGI app on loopback,
and the few steps every test takes (log in, open a child, run axe)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from sqlalchemy import Engine

from paatvaers.domain.children import Child
from paatvaers.population.generator import Population
from paatvaers.settings import Settings
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
DEMO_ROLES = ("socialraadgiver", "psykolog", "bup-laege", "praktiserende-laege")
OPERATIONS_ROLE = "drift"  # the follow-up's demo user: no children, so no overview


@dataclass(frozen=True)
class LiveApp:
    """The web app served by uvicorn on 127.0.0.1, on a database holding `population`, with
    the consent simulator answering from `world`, in demo mode, with "now" fixed at `now`."""

    base_url: str  # "http://127.0.0.1:PORT", no trailing slash
    population: Population
    engine: Engine
    settings: Settings
    world: World
    simulators: RunningSimulators
    now: datetime
    # On the lists of both the demo PPR psychologist and the demo GP; the PPR may see its
    # psychiatric appointments (a place given), the GP its cases, contacts and school.
    shared_child: Child
    # Another such child (the GP's view may lack cases or contacts), given a protected address
    # (navne- og adressebeskyttelse) by the fixture: where it lives or goes must not show.
    protected_child: Child

    def url(self, path: str = "/") -> str:
        return self.base_url + path


def _free_socket(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextmanager
def serving(app: Any, lifespan: Literal["auto", "on", "off"] = "on") -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a background thread on a free loopback port; yields
    its base URL and stops it (lifespan shutdown included) on exit."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan=lifespan, ws="none")
    )
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to the waiting test instead of lost
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(f"the app did not start on port {port}: {failure!r}")
        thread.join(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


class Clicks:
    """Counts the clicks a user makes: each test step that clicks goes through `click`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def click(self, name: str, role: str = "button") -> None:
        self.count += 1
        self.page.get_by_role(role, name=name, exact=True).click()  # type: ignore[arg-type]


def log_in(
    page: Page, app: LiveApp, username: str, lang: str = "da", lands_on: str = "mine"
) -> None:
    """From the landing page, press the demo login button of `username`; the operations
    role lands on the follow-up (`lands_on="opfoelgning"`), everyone else on "mine"."""
    page.goto(app.url(f"/?lang={lang}"))
    label = "Log ind som" if lang == "da" else "Log in as"
    page.get_by_role("button", name=f"{label} {username}", exact=True).click()
    page.wait_for_url(f"**/{lands_on}?**")


def open_child(page: Page, cpr: str, purpose_label: str = "Koordinering af barnets forløb") -> None:
    """Look a child up by CPR from "mine", with a purpose, as a user would."""
    page.get_by_label("CPR-nummer", exact=True).fill(cpr)
    page.get_by_label("Formål med opslaget", exact=True).select_option(label=purpose_label)
    page.get_by_role("button", name="Slå op").click()
    page.wait_for_url("**/barn?**")


def local_time(moment: datetime, pattern: str = "%d.%m.%Y kl. %H:%M") -> str:
    """A moment as the pages show it: on a Danish clock."""
    return moment.astimezone(COPENHAGEN).strftime(pattern)


SEVERE = frozenset({"serious", "critical"})


def severe_violations(page: Page, axe: Axe) -> list[str]:
    """axe-core's serious and critical violations on the page (the WCAG 2.0 and 2.1 A and AA
    rules and axe's best practices), as readable lines: rule, impact, offending elements."""
    results = axe.run(
        page,
        options={
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
            }
        },
    )
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in SEVERE:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            lines.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return lines
