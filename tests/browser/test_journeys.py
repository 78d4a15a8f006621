"""What professionals do in the app, in a real browser: log in as a demo persona, find a
child, see what they may see and nothing else."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from paatvaers.domain.appointments import AppointmentStatus, CourseStage
from paatvaers.domain.children import Child
from paatvaers.domain.cpr import Cpr
from paatvaers.population.generator import DEMO_MUNICIPALITY
from support.browser import DEMO_ROLES, Clicks, LiveApp, local_time, log_in, open_child

HEALTH_ROLES = {"bup-laege", "praktiserende-laege"}
WITHHELD_DA = "Oplysningen kan ikke vises"
NOT_SHOWN_DA = "Vises ikke."
UPCOMING = "Kommende aftaler, den næste først"  # the tables' captions
PAST = "Tidligere aftaler, den seneste først"


def main_text(page: Page) -> str:
    return page.locator("main").inner_text()


def _open_from_mine(page: Page, child: Child) -> None:
    page.get_by_role("button", name=f"Åbn overblik for {child.name}", exact=True).click()
    page.wait_for_url("**/barn?**")


@pytest.mark.parametrize("username", DEMO_ROLES)
def test_each_demo_role_reaches_an_overview_in_at_most_two_clicks(
    page: Page, live_app: LiveApp, username: str
) -> None:
    page.goto(live_app.url("/"))
    clicks = Clicks(page)

    clicks.click(f"Log ind som {username}")
    page.wait_for_url("**/mine?**")
    listed = page.get_by_role("table", name="Børn i målgruppen med relation til din enhed")
    rows = listed.get_by_role("row").filter(has=page.get_by_role("button"))
    assert rows.count() >= 1, f"{username} has no child in 'mine'"
    first_child = rows.first.get_by_role("rowheader").inner_text()
    clicks.click(f"Åbn overblik for {first_child}")
    page.wait_for_url("**/barn?**")

    assert clicks.count <= 2
    expect(page.get_by_role("heading", level=1)).to_have_text(first_child)
    overview = (
        "Overblik for sundhedsvæsenet" if username in HEALTH_ROLES else "Overblik for kommunen"
    )
    expect(page.locator(".page-meta")).to_contain_text(overview)
    expect(page.get_by_role("heading", name="Barnet", level=2, exact=True)).to_be_visible()


def test_ppr_psychologist_sees_the_appointments_and_the_course_timeline(
    page: Page, live_app: LiveApp
) -> None:
    child = live_app.shared_child
    log_in(page, live_app, "psykolog")
    _open_from_mine(page, child)
    # The browser's history keeps titles: the child's name is in the page, not in its title.
    assert page.title() == "Overblik for kommunen – På Tværs – Børn & Unge"

    # What the region's appointment overview holds for the child, straight from the population.
    appointments = sorted(
        (
            a
            for a in live_app.population.appointments
            if a.patient_cpr == child.cpr and a.marking.is_child_psychiatry
        ),
        key=lambda a: a.start,
    )
    assert appointments, "the shared child has psychiatric appointments"
    upcoming = [
        a for a in appointments if a.status is AppointmentStatus.BOOKED and a.start >= live_app.now
    ]
    past = [a for a in appointments if a not in upcoming]

    next_card = page.locator(".next-appointment")
    if upcoming:
        expect(next_card).to_contain_text(local_time(upcoming[0].start))
        expect(next_card).to_contain_text(upcoming[0].performer_name)
    else:
        expect(next_card).to_contain_text("Ingen bookede aftaler")

    def times_in(table_name: str) -> list[str]:
        table = page.get_by_role("table", name=table_name)
        return [cell.inner_text().strip() for cell in table.locator("tbody th").all()]

    upcoming_table, past_table = UPCOMING, PAST
    if upcoming:
        assert times_in(upcoming_table) == [local_time(a.start) for a in upcoming]
    assert times_in(past_table) == [local_time(a.start) for a in reversed(past)]

    # Cancelled and moved appointments are shown as such, with the place they had.
    past_rows = page.get_by_role("table", name=past_table).locator("tbody tr")
    status_words = {
        AppointmentStatus.HELD: "Afholdt",
        AppointmentStatus.CANCELLED: "Aflyst",
        AppointmentStatus.MOVED: "Flyttet",
        AppointmentStatus.BOOKED: "Booket",
    }
    for row, appointment in zip(past_rows.all(), reversed(past), strict=True):
        expect(row.locator(".tag")).to_have_text(status_words[appointment.status])
        if appointment.location_name:
            expect(row).to_contain_text(appointment.location_name)

    # The timeline: each stage reached on the first held or booked appointment carrying it.
    words = {
        CourseStage.REFERRAL: "Henvisning",
        CourseStage.ASSESSMENT: "Udredning",
        CourseStage.TREATMENT: "Behandling",
        CourseStage.COMPLETION: "Afsluttet",
    }
    steps = page.locator("ol.timeline > li")
    expect(steps).to_have_count(len(CourseStage))
    reached_any = False
    for step, stage in zip(steps.all(), CourseStage, strict=True):
        expect(step.locator(".stage")).to_have_text(words[stage])
        carrying = [
            a
            for a in appointments
            if a.stage is stage and a.status in (AppointmentStatus.HELD, AppointmentStatus.BOOKED)
        ]
        if carrying:
            reached_any = True
            expect(step).to_contain_text(f"Nået {local_time(carrying[0].start, '%d.%m.%Y')}")
        else:
            expect(step).to_contain_text("Ikke nået")
    assert reached_any


def _unrelated_child(app: LiveApp) -> Child:
    """A child outside the demo municipality that no demo unit has anything to do with."""
    demo_units = {s.unit_id for s in app.population.demo_users()}
    involved = {i.child_cpr for i in app.population.involvements if i.unit_id in demo_units}
    demo_sors = {u.sor for u in app.population.org_units if u.id in demo_units and u.sor}
    treated = {a.patient_cpr for a in app.population.appointments if a.performer_sor in demo_sors}
    return next(
        c
        for c in sorted(app.population.children, key=lambda c: c.cpr.value)
        if c.municipality_code != DEMO_MUNICIPALITY
        and c.cpr not in involved | treated
        and app.population.gp_of.get(c.cpr.value) not in demo_units
    )


def test_user_without_a_relationship_gets_the_neutral_denial_and_no_data(
    page: Page, live_app: LiveApp
) -> None:
    child = _unrelated_child(live_app)
    log_in(page, live_app, "psykolog")
    open_child(page, child.cpr.value)
    shown = main_text(page)

    # No block shows anything about the child; each says, in words, that it is not shown.
    expect(page.get_by_role("heading", level=1)).to_have_text("Overblik for kommunen")
    for block in ("blok-barn", "blok-forloeb", "blok-sager"):
        expect(page.locator(f"section[aria-labelledby={block}] .denied")).to_contain_text(
            NOT_SHOWN_DA
        )
    assert child.name not in shown
    assert child.cpr.value not in page.content()
    if child.address is not None:
        assert child.address.line not in shown
    enrolled = [e for e in live_app.population.enrollments if e.child_cpr == child.cpr]
    for enrollment in enrolled:
        assert enrollment.institution_name not in shown
    for case in live_app.population.cases:
        if any(party.cpr == child.cpr for party in case.parties):
            assert case.title not in shown
            assert case.non_public_title is None or case.non_public_title not in shown

    # Neutral: the same page as for a CPR number nobody has, so it tells not even that the
    # child exists.
    nobody = next(
        Cpr.parse(f"0101{n:02d}1234")
        for n in range(100)
        if not any(c.cpr.value == f"0101{n:02d}1234" for c in live_app.population.children)
    )
    page.goto(live_app.url("/mine"))
    open_child(page, nobody.value)
    assert main_text(page) == shown


def test_protected_address_hides_school_and_appointment_places_in_both_overviews(
    page: Page, live_app: LiveApp
) -> None:
    child = live_app.protected_child
    assert child.address_protection is not None
    enrollment = next(e for e in live_app.population.enrollments if e.child_cpr == child.cpr)
    appointments = [
        a
        for a in live_app.population.appointments
        if a.patient_cpr == child.cpr and a.marking.is_child_psychiatry
    ]
    places = {a.location_name for a in appointments if a.location_name}
    assert places

    # The health view (the GP): the school block is there, its institution is not.
    log_in(page, live_app, "praktiserende-laege")
    open_child(page, child.cpr.value)
    expect(page.get_by_role("heading", level=1)).to_have_text(child.name)
    school = page.locator("section[aria-labelledby=blok-skole]")
    expect(school.locator(".facts")).to_contain_text(WITHHELD_DA)
    shown = main_text(page)
    assert enrollment.institution_name not in shown
    if child.address is not None:
        assert child.address.line not in shown
    page.get_by_role("button", name="Log ud").click()

    # The municipal view (PPR): the appointments are there, where they are is not.
    log_in(page, live_app, "psykolog")
    open_child(page, child.cpr.value)
    expect(page.get_by_role("heading", level=1)).to_have_text(child.name)
    expect(page.locator(".next-appointment, table").first).to_be_visible()
    rows = page.locator("section[aria-labelledby^=blok-] table tbody tr").filter(
        has=page.locator(".tag")
    )
    assert rows.count() == len(appointments)
    for row in rows.all():
        expect(row.locator("td").nth(1)).to_have_text(WITHHELD_DA)
    shown = main_text(page)
    for place in places | {a.performer_name for a in appointments}:
        assert place not in shown
    assert enrollment.institution_name not in shown


def test_english_toggle_keeps_the_user_logged_in(page: Page, live_app: LiveApp) -> None:
    child = live_app.shared_child
    log_in(page, live_app, "psykolog")
    _open_from_mine(page, child)

    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"/barn\?lang=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(child.name)
    expect(page.locator(".page-meta")).to_contain_text("Overview for the municipality")
    expect(page.locator(".portal-user")).to_contain_text("Logged in as psykolog")
    expect(
        page.get_by_role("heading", name="How far has the child come in psychiatry?")
    ).to_be_visible()

    # The choice stays for the session: "mine" without ?lang is English too.
    page.get_by_role("link", name="Back to my children").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My children")
    page.goto(live_app.url("/mine"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My children")

    page.get_by_role("link", name="Dansk").click()
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mine børn")
    expect(page.locator(".portal-user")).to_contain_text("Logget ind som psykolog")


def test_the_language_switch_on_a_search_error_goes_to_a_page_that_can_be_fetched(
    page: Page, live_app: LiveApp
) -> None:
    log_in(page, live_app, "psykolog")
    page.get_by_label("CPR-nummer", exact=True).fill("12")
    page.get_by_role("button", name="Slå op").click()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My children")


def test_logout_ends_the_session(page: Page, live_app: LiveApp) -> None:
    child = live_app.shared_child
    log_in(page, live_app, "praktiserende-laege")
    _open_from_mine(page, child)

    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url(re.compile(r"/\?lang=da$"))
    expect(page.get_by_role("button", name="Log ind som praktiserende-laege")).to_be_visible()
    expect(page.locator(".portal-user")).to_have_count(0)

    for path in ("/barn", "/mine"):
        response = page.goto(live_app.url(path))
        assert response is not None and response.ok
        assert page.url.rstrip("/") == live_app.base_url, path
        assert child.name not in page.content()
    # Back to where the overview was: the browser must ask again, and gets the landing page.
    page.go_back()
    assert child.name not in page.content()


def test_a_form_post_without_the_csrf_token_is_refused(page: Page, live_app: LiveApp) -> None:
    child = live_app.shared_child
    log_in(page, live_app, "psykolog")
    search = page.locator("form.search-form")
    page.get_by_label("CPR-nummer", exact=True).fill(child.cpr.value)
    page.get_by_label("Formål med opslaget", exact=True).select_option(value="COC")

    search.locator("input[name=csrf]").evaluate("input => input.remove()")
    with page.expect_response("**/barn/vaelg?**") as refused:
        page.get_by_role("button", name="Slå op").click()
    assert refused.value.status == 403
    assert child.name not in page.content()

    # A forged token fares no better, and logging out without a token does not log out.
    page.goto(live_app.url("/mine"))
    page.locator("form.search-form input[name=csrf]").evaluate("input => input.value = 'forged'")
    page.get_by_label("CPR-nummer", exact=True).fill(child.cpr.value)
    page.get_by_label("Formål med opslaget", exact=True).select_option(value="COC")
    with page.expect_response("**/barn/vaelg?**") as forged:
        page.get_by_role("button", name="Slå op").click()
    assert forged.value.status == 403

    page.goto(live_app.url("/mine"))
    page.locator("form[action^='/log-ud'] input[name=csrf]").evaluate("input => input.remove()")
    with page.expect_response("**/log-ud?**") as logout:
        page.get_by_role("button", name="Log ud").click()
    assert logout.value.status == 403

    # Nothing was put in context, and the session is still there.
    page.goto(live_app.url("/barn"))
    assert page.url.endswith("/mine?lang=da")
    expect(page.locator(".portal-user")).to_contain_text("psykolog")
