"""The family's view (issue #9) in a real browser, on the demo's population: the demo GP
opens a child's overview and sees the municipality's cases (thanks to a custody holder's
consent); the custody holder logs in with the demo citizen login, sees the child's team and
the GP's look in "who has looked", and withdraws the consent after the confirm step; the GP's
next overview shows the cases denied. Every family page passes axe-core with no serious or
critical violation.

With PAATVAERS_SCREENSHOTS=1 the family pages are written to docs/screenshots/familie-*.png.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy.orm import Session

from paatvaers.domain.consent import CASES_TEMPLATE, ConsentKind
from paatvaers.family import demo
from paatvaers.sources.consent.client import ConsentClient
from support.browser import LiveApp, log_in, open_child, severe_violations

DOCS = Path(__file__).parents[2] / "docs" / "screenshots"
CASES = "li[aria-labelledby='flow-cases_to_health']"


@pytest.fixture
def parent(browser: Browser) -> Iterator[BrowserContext]:
    """The custody holder's own browser, beside the GP's (the `context` fixture)."""
    ctx = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def _accessible(page: Page, axe: Axe) -> None:
    assert severe_violations(page, axe) == [], page.url


def _shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / name), full_page=True)


def _parent_logs_in(family: Page, app: LiveApp, persona: demo.Persona, axe: Axe) -> str:
    """From the landing page to the child's team; the team page's URL."""
    family.goto(app.url("/?lang=da"))
    _accessible(family, axe)
    family.get_by_role("button", name=f"Log ind som {persona.citizen.name}", exact=True).click()
    family.wait_for_url("**/familie?**")
    _accessible(family, axe)
    family.locator(".contacts a").first.click()
    expect(family.get_by_role("heading", name="Hvem hjælper barnet", level=2)).to_be_visible()
    expect(family.locator(".contacts").first).to_contain_text("Barnets egen læge")
    _accessible(family, axe)
    return family.url.split("?")[0]


def _consent_in_force(family: Page, team_url: str, axe: Axe) -> bool:
    """Make sure the consent for cases to health care is in force; whether it already was."""
    family.goto(team_url + "/deling?lang=da")
    _accessible(family, axe)
    given = "Ja, fordi der er givet samtykke." in family.locator(CASES).inner_text()
    if not given:
        family.locator(CASES).get_by_role("link", name=re.compile("^Giv samtykke")).click()
        family.get_by_role("button", name="Ja, giv samtykke").click()
        expect(family.locator(CASES)).to_contain_text("Ja, fordi der er givet samtykke.")
    return given


def _withdraw(family: Page, team_url: str, axe: Axe, shots: Path) -> None:
    """Withdraw the consent, with the effect explained before confirming."""
    family.goto(team_url + "/deling?lang=da")
    _shot(family, shots, "familie-deling.png")
    family.locator(CASES).get_by_role("link", name=re.compile("^Træk samtykket tilbage")).click()
    effect = family.locator(".alert-warning")
    expect(effect).to_contain_text(
        "Når du trækker samtykket tilbage, kan disse fagfolk ikke længere se oplysningerne"
    )
    expect(effect).to_contain_text("Barnets egen læge")
    _accessible(family, axe)
    _shot(family, shots, "familie-samtykke.png")
    family.get_by_role("button", name="Ja, træk samtykket tilbage").click()
    expect(family.get_by_role("status")).to_contain_text("Samtykket er trukket tilbage.")
    expect(family.locator(CASES)).to_contain_text("Nej, fordi der ikke er givet samtykke.")
    _accessible(family, axe)


def test_a_custody_holder_withdraws_a_consent_and_the_gps_next_overview_is_denied(
    live_app: LiveApp, page: Page, parent: BrowserContext, axe: Axe, tmp_path: Path
) -> None:
    with Session(live_app.engine) as session:
        persona = demo.persona(session, live_app.now.date(), "foraelder")
    assert persona is not None and persona.child is not None
    child = persona.child
    family = parent.new_page()
    team_url = _parent_logs_in(family, live_app, persona, axe)
    _shot(family, tmp_path, "familie-team.png")
    originally_given = _consent_in_force(family, team_url, axe)
    try:
        # The demo GP looks, and sees the municipality's cases.
        log_in(page, live_app, "praktiserende-laege")
        open_child(page, child.value, "Behandling eller undersøgelse")
        cases = page.locator("section[aria-labelledby='blok-sager']")
        expect(cases).to_contain_text("Sager i kommunen")
        expect(cases.locator(".denied")).to_have_count(0)

        # The GP's look is in the parent's "who has looked"; the parent's own views are not.
        family.goto(team_url + "/log?lang=da")
        table = family.get_by_role("table")
        expect(table).to_contain_text("Praktiserende læge")
        expect(table).to_contain_text("Behandling eller undersøgelse")
        expect(table).not_to_contain_text("borger")
        _accessible(family, axe)
        _shot(family, tmp_path, "familie-log.png")

        _withdraw(family, team_url, axe, tmp_path)

        # The GP's next overview: the cases are denied, because the consent was withdrawn.
        page.reload()
        expect(cases.locator(".denied")).to_contain_text("Samtykket er tilbagekaldt")

        family.goto(team_url + "?lang=en")
        expect(family.get_by_role("heading", name="Who helps the child", level=2)).to_be_visible()
        _accessible(family, axe)
    finally:
        if originally_given:  # leave the shared demo data as the other browser tests expect
            with ConsentClient(live_app.settings.consent_url) as consent:
                consent.give(ConsentKind.CONSENT, CASES_TEMPLATE, child, persona.citizen.cpr)

    names = ("familie-team.png", "familie-log.png", "familie-deling.png", "familie-samtykke.png")
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("PAATVAERS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(tmp_path / name, DOCS / name)


def test_the_other_personas_see_their_own_page_or_nothing(
    live_app: LiveApp, page: Page, axe: Axe
) -> None:
    with Session(live_app.engine) as session:
        personas = {p.key: p for p in demo.personas(session, live_app.now.date())}
    assert set(personas) == {"foraelder", "uden-foraeldremyndighed", "ung-15", "ung-14"}
    expected = {
        "uden-foraeldremyndighed": "Der er ingen børn at vise her.",
        "ung-14": "Der er ingen børn at vise her.",
        "ung-15": "Din egen side",
    }
    for key, text in expected.items():
        page.goto(live_app.url("/?lang=da"))
        name = personas[key].citizen.name
        page.get_by_role("button", name=f"Log ind som {name}", exact=True).click()
        page.wait_for_url("**/familie?**")
        expect(page.locator("main")).to_contain_text(text)
        _accessible(page, axe)
        page.context.clear_cookies()
