"""The quality follow-up in a real browser: the operations demo user logs in, sees the
alerts, drills down from the country to a region and downloads the CSV; axe-core finds no
serious or critical violation on any of its pages; it works without JavaScript; and the
screenshots for docs/ are taken (written there with PAATVAERS_SCREENSHOTS=1):

    PAATVAERS_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_quality_dashboard.py
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete
from sqlalchemy.orm import Session

from paatvaers.quality.report import CSV_COLUMNS, gather, take_snapshot
from paatvaers.store.tables import QualitySnapshotRow
from support.browser import (
    DEMO_ROLES,
    OPERATIONS_ROLE,
    Clicks,
    LiveApp,
    log_in,
    severe_violations,
)

DOCS = Path(__file__).parents[2] / "docs" / "screenshots"
HEADING = "Opfølgning på data, korrespondance og udrulning"


@pytest.fixture(scope="module", autouse=True)
def snapshots(live_app: LiveApp) -> None:
    """A week of daily snapshots, so the trends have a line to draw. The demo population
    does not change between them, so the lines are flat: the figures are real, not made up."""
    with Session(live_app.engine) as session, session.begin():
        session.execute(delete(QualitySnapshotRow))
        for days_ago in range(6, -1, -1):
            take_snapshot(session, gather(session, now=live_app.now - timedelta(days=days_ago)))


def _dashboard(page: Page, app: LiveApp, lang: str = "da") -> None:
    log_in(page, app, OPERATIONS_ROLE, lang=lang, lands_on="opfoelgning")


def test_every_demo_user_has_a_start_the_operations_role_the_follow_up(
    page: Page, live_app: LiveApp
) -> None:
    """The four professions reach an overview (test_journeys); the operations role reaches
    the follow-up, in one click."""
    assert sorted(s.username for s in live_app.population.demo_users()) == sorted(
        (*DEMO_ROLES, OPERATIONS_ROLE)
    )
    page.goto(live_app.url("/"))
    clicks = Clicks(page)
    clicks.click(f"Log ind som {OPERATIONS_ROLE}")
    page.wait_for_url("**/opfoelgning?**")
    assert clicks.count == 1
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADING)
    expect(page.get_by_role("navigation", name="Hovedmenu")).to_have_text("Opfølgning")


def test_the_operations_user_sees_an_alert_drills_down_and_downloads_the_csv(
    page: Page, live_app: LiveApp, tmp_path: Path
) -> None:
    _dashboard(page, live_app)
    # The demo database was written directly, not ingested: every source is overdue.
    expect(page.get_by_role("alert")).to_have_text("Tærskler, der er overskredet:")
    alerts = page.locator("[data-alert]")
    expect(alerts.first).to_be_visible()
    expect(page.locator('[data-alert="kilde-ikke-indlaest"]').first).to_contain_text(
        "er aldrig blevet indlæst fuldt"
    )

    page.get_by_role("link", name="Sagsleverancer (sagsindekset)").click()
    page.wait_for_url("**/opfoelgning/sager?**")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sagsleverancer (sagsindekset): Hele landet"
    )
    page.get_by_role("table").get_by_role("link", name="Region Nordjylland").click()
    page.wait_for_url("**/opfoelgning/sager?under=DK-81*")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sagsleverancer (sagsindekset): Region Nordjylland"
    )
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows.first).to_contain_text("Region Nordjylland (i alt)")
    expect(page.get_by_role("table").get_by_role("link", name="Aalborg")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Hent afsnittet som CSV").click()
    assert download.value.suggested_filename == "opfoelgning-sager-2026-11-26.csv"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ";".join(CSV_COLUMNS)
    assert all(line.startswith("sager;") for line in lines[1:])


def test_a_care_role_is_refused(page: Page, live_app: LiveApp) -> None:
    log_in(page, live_app, "psykolog")
    expect(page.get_by_role("link", name="Opfølgning", exact=True)).to_have_count(0)
    response = page.goto(live_app.url("/opfoelgning"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Ingen adgang til opfølgningen")


# -- accessibility ------------------------------------------------------------------------------


def _goto(path: str, lang: str = "da") -> Callable[[Page, LiveApp], None]:
    def visit(page: Page, app: LiveApp) -> None:
        _dashboard(page, app, lang)
        page.goto(app.url(path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()

    return visit


def _refused(page: Page, app: LiveApp) -> None:
    log_in(page, app, "bup-laege")
    page.goto(app.url("/opfoelgning"))


PAGES: dict[str, Callable[[Page, LiveApp], None]] = {
    "overview": _goto("/opfoelgning"),
    "overview-en": _goto("/opfoelgning?lang=en", "en"),
    "cases-country": _goto("/opfoelgning/sager"),
    "cases-region": _goto("/opfoelgning/sager?under=DK-81"),
    "cases-municipality": _goto("/opfoelgning/sager?under=0851"),
    "cases-every-municipality": _goto("/opfoelgning/sager?niveau=kommune"),
    "appointments-region-with-trends": _goto("/opfoelgning/aftaler?under=DK-84"),
    "rollout": _goto("/opfoelgning/udrulning"),
    "correspondence": _goto("/opfoelgning/korrespondance-typer"),
    "alerts": _goto("/opfoelgning/alarmer"),
    "missing": _goto("/opfoelgning/findes-ikke"),
    "refused": _refused,
}


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_or_critical_accessibility_violations(
    page: Page, live_app: LiveApp, axe: Axe, name: str
) -> None:
    PAGES[name](page, live_app)
    page.locator("details.chart-figures").evaluate_all("all => all.forEach(d => d.open = true)")
    assert severe_violations(page, axe) == []


def test_the_dashboard_works_without_javascript(browser: Browser, live_app: LiveApp) -> None:
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        _dashboard(page, live_app)
        expect(page.locator("svg.chart-svg")).to_have_count(3)
        page.get_by_text("Tallene i diagrammet").first.click()  # <details> opens by itself
        expect(page.locator("details.chart-figures").first.get_by_role("table")).to_be_visible()
        page.get_by_role("link", name="Aftaler fra børne- og ungdomspsykiatrien").click()
        page.get_by_role("table").get_by_role("link", name="Region Hovedstaden").click()
        expect(page.get_by_role("heading", name="Udvikling over tid")).to_be_visible()
        expect(page.locator("svg.chart-svg")).to_have_count(2)
    finally:
        context.close()


# -- screenshots --------------------------------------------------------------------------------

SHOTS = {
    "opfoelgning.png": "/opfoelgning",
    "opfoelgning-region.png": "/opfoelgning/sager?under=DK-81",
}


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_screenshots_of_the_dashboard(browser: Browser, live_app: LiveApp, tmp_path: Path) -> None:
    context = browser.new_context(
        locale="da-DK", viewport={"width": 1280, "height": 800}, device_scale_factor=1
    )
    try:
        page = context.new_page()
        _dashboard(page, live_app)
        for name, path in SHOTS.items():
            page.goto(live_app.url(path))
            expect(page.locator("svg.chart-svg").first).to_be_visible()
            page.screenshot(path=str(tmp_path / name), full_page=True)
    finally:
        context.close()

    for name in SHOTS:
        width, height = _png_size(tmp_path / name)
        assert width == 1280
        assert height > 800, f"{name}: the whole page, not just the first screen"
    if os.environ.get("PAATVAERS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in SHOTS:
            shutil.copyfile(tmp_path / name, DOCS / name)
