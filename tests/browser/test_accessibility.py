"""WCAG 2.1 AA in a real browser: axe-core on every page, the keyboard alone, the error
summary, the print view, and the pages without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from support.browser import LiveApp, log_in, open_child, severe_violations


def _landing_da(page: Page, app: LiveApp) -> None:
    page.goto(app.url("/"))


def _landing_en(page: Page, app: LiveApp) -> None:
    page.goto(app.url("/?lang=en"))


def _mine(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog")


def _mine_en(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog", lang="en")


def _health_overview(page: Page, app: LiveApp) -> None:
    log_in(page, app, "praktiserende-laege")
    open_child(page, app.shared_child.cpr.value)


def _municipal_overview(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog")
    open_child(page, app.shared_child.cpr.value)


def _municipal_overview_en(page: Page, app: LiveApp) -> None:
    _municipal_overview(page, app)
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/barn?lang=en")


def _overview_with_withheld_values(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog")
    open_child(page, app.protected_child.cpr.value)


def _overview_with_denials(page: Page, app: LiveApp) -> None:
    log_in(page, app, "bup-laege")
    open_child(page, "0101011234")  # nobody has it: every block is denied


def _search_error(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog")
    page.get_by_label("CPR-nummer", exact=True).fill("12345")
    page.get_by_role("button", name="Slå op").click()
    expect(page.locator(".error-summary")).to_be_visible()


PAGES: dict[str, Callable[[Page, LiveApp], None]] = {
    "landing-da": _landing_da,
    "landing-en": _landing_en,
    "mine": _mine,
    "mine-en": _mine_en,
    "health-overview": _health_overview,
    "municipal-overview": _municipal_overview,
    "municipal-overview-en": _municipal_overview_en,
    "overview-with-withheld-values": _overview_with_withheld_values,
    "overview-with-denials": _overview_with_denials,
    "search-error": _search_error,
}


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_or_critical_accessibility_violations(
    page: Page, live_app: LiveApp, axe: Axe, name: str
) -> None:
    PAGES[name](page, live_app)
    assert severe_violations(page, axe) == []


def test_the_checker_finds_what_it_should(page: Page, axe: Axe) -> None:
    """A page with known faults fails the same check the app's pages pass."""
    page.set_content('<html><body><img src="x.png"><button></button></body></html>')
    found = severe_violations(page, axe)
    assert any(line.startswith("image-alt ") for line in found)
    assert any(line.startswith("button-name ") for line in found)
    assert any(line.startswith("html-has-lang ") for line in found)


def test_the_denials_page_really_is_all_denials(page: Page, live_app: LiveApp) -> None:
    """The axe run above is worth only as much as the page it saw."""
    _overview_with_denials(page, live_app)
    expect(page.locator(".denied")).to_have_count(4)  # child, cases, contacts, school


def test_keyboard_alone_reaches_an_overview(page: Page, live_app: LiveApp) -> None:
    page.goto(live_app.url("/"))

    # The first Tab reaches the skip link, which shows itself and moves to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Spring til indholdet")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link is on screen"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    def tab_to(name: str, limit: int = 60) -> None:
        target = page.get_by_role("button", name=name, exact=True)
        for _ in range(limit):
            page.keyboard.press("Tab")
            if target.evaluate("element => element === document.activeElement"):
                return
        pytest.fail(f"Tab never reached {name!r}")

    tab_to("Log ind som bup-laege")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows its focus"
    page.keyboard.press("Enter")
    page.wait_for_url("**/mine?**")

    first = page.locator("tbody th[scope=row]").first.inner_text()
    tab_to(f"Åbn overblik for {first}")
    page.keyboard.press("Enter")
    page.wait_for_url("**/barn?**")
    expect(page.get_by_role("heading", level=1)).to_have_text(first)


def test_search_error_summary_leads_to_the_field(page: Page, live_app: LiveApp) -> None:
    _search_error(page, live_app)

    assert page.title().startswith("Fejl: ")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Der er et problem")
    field = page.get_by_label("CPR-nummer", exact=True)
    expect(field).to_have_value("12345")  # kept, to be corrected
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby") or ""
    message = page.locator("#cpr-fejl")
    assert "cpr-fejl" in described.split()
    expect(message).to_contain_text("CPR-nummeret er ikke gyldigt")

    summary.get_by_role("link").click()
    expect(field).to_be_focused()

    # A missing purpose is an error of its own field.
    field.fill("0101011234")
    page.get_by_role("button", name="Slå op").click()
    purpose = page.get_by_label("Formål med opslaget", exact=True)
    expect(purpose).to_have_attribute("aria-invalid", "true")
    page.locator(".error-summary").get_by_role("link").click()
    expect(purpose).to_be_focused()


def test_print_view_shows_the_content_without_the_controls(page: Page, live_app: LiveApp) -> None:
    page.add_init_script("window.print = () => { window.__printed = true; };")
    _municipal_overview(page, live_app)

    print_button = page.get_by_role("button", name="Udskriv")
    expect(print_button).to_be_visible()
    print_button.click()
    assert page.evaluate("window.__printed === true")

    page.emulate_media(media="print")
    for hidden in (".portal-info", ".footer", "form", ".back-link", "[data-print]", ".skipnav"):
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text(live_app.shared_child.name)
    expect(page.locator(".timeline")).to_be_visible()
    expect(page.locator(".print-only")).to_be_visible()
    expect(page.locator(".print-only")).to_contain_text("Udskrevet af psykolog")

    page.emulate_media(media="screen")
    expect(page.locator(".print-only")).to_be_hidden()


def test_pages_work_without_javascript(browser: Browser, live_app: LiveApp) -> None:
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        log_in(page, live_app, "praktiserende-laege")
        open_child(page, live_app.shared_child.cpr.value)
        expect(page.get_by_role("heading", level=1)).to_have_text(live_app.shared_child.name)
        expect(page.get_by_role("heading", name="Skole og dagtilbud")).to_be_visible()
        # The print button needs a script; without one it is not offered at all.
        expect(page.locator("[data-print]")).to_be_hidden()
        page.get_by_role("link", name="English").click()
        expect(page.locator(".page-meta")).to_contain_text("Overview for health care")
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url("**/?lang=en")
    finally:
        context.close()
