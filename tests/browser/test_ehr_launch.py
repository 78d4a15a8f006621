"""The SMART EHR launch in a real browser: the demo GP works in the simulated EHR, which opens
På Tværs in its frame for the patient in context; then the EHR switches patient and the page
follows, never showing the previous child again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy.orm import Session

from paatvaers.access.factory import child_access
from paatvaers.access.identity import Principal, principal_for
from paatvaers.overview.overviews import HealthOverview, health_overview
from paatvaers.settings import SmartIssuer
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.sources.ehr.simulator import EhrClient, EhrPatient, EhrSimulator, EhrUser, RunningEhr
from paatvaers.web import create_app
from support.browser import LiveApp, severe_violations

GP = "praktiserende-laege"  # the demo GP
CLIENT_ID = "paatvaers"
CLIENT_SECRET = "browser-tests-only"


@dataclass(frozen=True)
class Shown:
    """A child the GP may see in full, and what the overview must show of it."""

    patient: EhrPatient
    cases: list[str]
    contact: str
    school: str


@dataclass(frozen=True)
class LaunchSetup:
    ehr: EhrSimulator
    app_url: str
    gp: EhrUser
    children: tuple[Shown, Shown]

    def launcher(self, shown: Shown) -> str:
        return f"{self.ehr.base_url}/ehr?patient={shown.patient.id}&user={self.gp.id}"


def _fully_visible(overview: HealthOverview) -> bool:
    blocks = (overview.cases, overview.contacts, overview.school)
    return all(block.answer.permitted and block.answer.data for block in blocks) and isinstance(
        overview.school.answer.data and overview.school.answer.data.institution, str
    )


def _children_with_everything(live_app: LiveApp, principal: Principal) -> list[Shown]:
    """Two children on the GP's list whose cases, contacts and school the GP may see, as the
    access layer decides it (the reads are logged in the browser tests' own database)."""
    population = live_app.population
    listed = sorted(
        (c for c in population.children if population.gp_of.get(c.cpr.value) == principal.unit.id),
        key=lambda c: c.cpr.value,
    )
    found: list[Shown] = []
    with Session(live_app.engine) as db, ConsentClient(live_app.settings.consent_url) as consent:
        access = child_access(db, live_app.settings, consent, clock=lambda: live_app.now)
        for child in listed:
            overview = health_overview(db, access, principal, child.cpr, "TREAT")
            if not _fully_visible(overview):
                continue
            contact = overview.contacts.answer.data[0]  # type: ignore[index]
            school = overview.school.answer.data
            assert school is not None and isinstance(school.institution, str)
            found.append(
                Shown(
                    EhrPatient.from_cpr(child.cpr, child.name),
                    [case.title for case in overview.cases.answer.data or []],
                    contact.caseworker or contact.unit_name,
                    school.institution,
                )
            )
            if len(found) == 2:
                break
        db.commit()
    assert len(found) == 2, "the demo GP has too few children with cases, contacts and school"
    return found


@pytest.fixture(scope="module")
def setup(live_app: LiveApp, serve_app: Callable[[Any], str]) -> Iterator[LaunchSetup]:
    """The EHR on a port of its own, and an app that trusts it (the demo login off)."""
    with Session(live_app.engine) as db:
        principal = principal_for(db, GP)
    assert principal is not None
    first, second = _children_with_everything(live_app, principal)
    with RunningEhr() as ehr:
        settings = live_app.settings.model_copy(
            update={
                "demo_mode": False,
                "smart_issuers": [
                    SmartIssuer(iss=ehr.fhir_base, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
                ],
            }
        )
        app_url = serve_app(create_app(settings, live_app.engine, clock=lambda: live_app.now))
        ehr.register_client(
            EhrClient(
                CLIENT_ID, CLIENT_SECRET, (f"{app_url}/launch/callback",), f"{app_url}/launch"
            )
        )
        gp = EhrUser("laege-1", "Praktiserende Læge", {"preferred_username": GP})
        ehr.add_user(gp)
        ehr.add_patients([first.patient, second.patient])
        yield LaunchSetup(ehr, app_url, gp, (first, second))


def _shows(frame: Any, shown: Shown) -> None:
    expect(frame.get_by_role("heading", level=1)).to_have_text(shown.patient.name)
    for title in shown.cases:
        expect(frame.get_by_text(title, exact=True).first).to_be_visible()
    expect(frame.get_by_text(shown.contact).first).to_be_visible()
    expect(frame.get_by_text(shown.school).first).to_be_visible()


def test_the_overview_follows_the_patient_in_the_ehr(
    setup: LaunchSetup, page: Page, context: BrowserContext, axe: Axe
) -> None:
    first, second = setup.children
    page.goto(setup.launcher(first))
    frame = page.frame_locator("#app")

    _shows(frame, first)
    first_url = page.frame(name="app-frame").url  # type: ignore[union-attr]
    assert "/barn/kontekst/" in first_url

    page.get_by_role("navigation", name="Patienter").get_by_role(
        "link", name=second.patient.name
    ).click()

    _shows(frame, second)
    expect(frame.locator("main")).not_to_contain_text(first.patient.name)

    # A page left open for the first patient shows nothing of it when it is loaded again.
    stale = context.new_page()
    stale.goto(first_url)
    expect(stale.get_by_role("heading", level=1)).to_have_text("Patienten er skiftet")
    expect(stale.locator("main")).not_to_contain_text(first.patient.name)
    expect(stale.locator("main")).not_to_contain_text(second.patient.name)
    assert severe_violations(stale, axe) == []


def test_the_app_opened_in_a_window_of_its_own_shows_the_patient_in_context(
    setup: LaunchSetup, page: Page, context: BrowserContext
) -> None:
    first, second = setup.children
    page.goto(setup.launcher(second))
    _shows(page.frame_locator("#app"), second)  # the frame's launch is done before the next
    with context.expect_page() as opened:
        page.get_by_role("link", name="i eget vindue").click()
    window = opened.value

    _shows(window, second)

    # The EHR switches patient: its frame launches again, and the window's page, reloaded,
    # no longer shows the child it was opened for.
    page.get_by_role("link", name=first.patient.name).click()
    _shows(page.frame_locator("#app"), first)
    window.reload()
    expect(window.get_by_role("heading", level=1)).to_have_text("Patienten er skiftet")
    expect(window.locator("main")).not_to_contain_text(second.patient.name)
