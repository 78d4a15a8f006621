"""The web correspondence client (R14) in a real browser, against the platform's worker and
the demo GP clinic's simulated MedCom system exchanging real CareCommunication and
Acknowledgement bundles over a mailbox directory.

Screenshot: with PAATVAERS_SCREENSHOTS=1 the thread after the GP's reply is written to
docs/screenshots/korrespondance.png as well.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.identity import principal_for
from paatvaers.correspondence import address_book
from paatvaers.correspondence.transports import Mailboxes
from paatvaers.correspondence.worker import Worker
from paatvaers.medcom.codes import AckOutcome
from paatvaers.medcom.model import Party, Practitioner
from paatvaers.sources.gp_system.simulator import SimulatedGpSystem
from paatvaers.store.db import session_factory
from paatvaers.store.tables import AccessEventRow, MedcomMessageRow, StaffUserRow
from support.browser import LiveApp, log_in, severe_violations

# The smallest file every PDF reader takes: header, one empty page, cross-reference, trailer.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n164\n%%EOF\n"
)
GP_REPLY = "Tak for beskeden. Jeg ser barnet til kontrol i næste uge og vender tilbage."
NOBODYS_CPR = "0101011234"  # a valid CPR number nobody in the population has
WAIT_SECONDS = 15
DOCS = Path(__file__).parents[2] / "docs" / "screenshots"


@dataclass(frozen=True)
class PostOffice:
    """The address book registered, and two systems running until the module ends: the
    platform's worker and the demo GP clinic's system, which replies to every new message."""

    gp: SimulatedGpSystem
    clinic_unit_id: uuid.UUID
    clinic_name: str


@pytest.fixture(scope="module")
def post_office(
    live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostOffice]:
    factory = session_factory(live_app.engine)
    with factory() as session, session.begin():
        address_book.register_known_units(session, datetime.now(UTC))
        clinic, doctor, unit_id = _demo_gp(session)
    mailboxes = Mailboxes(tmp_path_factory.mktemp("postkasser"))
    gp = SimulatedGpSystem(mailboxes, clinic, doctor, auto_reply=GP_REPLY)
    worker = Worker(factory, mailboxes, lambda: datetime.now(UTC), synthetic=True)
    stop = threading.Event()
    running = [
        threading.Thread(target=worker.run, args=(stop, 0.1), name="worker", daemon=True),
        threading.Thread(target=gp.run, args=(stop, 0.1), name="gp-system", daemon=True),
    ]
    for thread in running:
        thread.start()
    try:
        yield PostOffice(gp, unit_id, str(clinic.name))
    finally:
        stop.set()
        for thread in running:
            thread.join(10)


def _demo_gp(session: Session) -> tuple[Party, Practitioner, uuid.UUID]:
    principal = principal_for(session, "praktiserende-laege")
    assert principal is not None
    clinic = address_book.party(session, principal.unit.id)
    assert clinic is not None, "the demo GP's clinic is in the address book"
    staff = session.get_one(StaffUserRow, principal.user_id)
    doctor = Practitioner.from_full_name(staff.full_name, "speciallaegeipraksis", "+4570000010")
    return clinic, doctor, principal.unit.id


# -- steps ----------------------------------------------------------------------------------------


def _compose(
    page: Page, office: PostOffice, text: str, topic: str = "", cpr: str | None = None
) -> None:
    """From "mine", through the navigation, to a filled-in new message to the GP clinic,
    about the child with CPR number `cpr`, or else the first child on the user's list."""
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Post").click()
    page.wait_for_url("**/post?**")
    page.get_by_role("link", name="Skriv ny besked").click()
    page.wait_for_url("**/post/ny?**")
    if cpr is None:
        page.get_by_label("Barn fra Mine børn").select_option(index=1)
    else:
        page.get_by_label("Eller barnets CPR-nummer").fill(cpr)
    page.get_by_label("Modtager").select_option(str(office.clinic_unit_id))
    page.get_by_label("Emne (valgfrit)").fill(topic)
    page.get_by_label("Besked", exact=True).fill(text)


def _send(page: Page) -> None:
    page.get_by_role("button", name="Send besked").click()
    page.wait_for_url("**/post/*-*?**")  # the new thread, by its id
    expect(page.get_by_role("status")).to_have_text("Beskeden er lagt til afsendelse.")


def _wait_until(page: Page, done: Callable[[], bool], what: str) -> None:
    """Reload the page until `done()`, as a user waiting for an answer would."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT_SECONDS} s: {what}")
        time.sleep(0.3)
        page.reload()


def _answered(page: Page) -> bool:
    texts = page.locator(".post-text").all_inner_texts()
    return (
        GP_REPLY in texts
        and page.locator(".post-delivery").filter(has_text="Kvitteret").count() > 0
    )


def _sent_message_and_reply(page: Page, app: LiveApp, office: PostOffice, text: str) -> None:
    log_in(page, app, "socialraadgiver")
    _compose(page, office, text, "Samarbejde om barnet", app.shared_child.cpr.value)
    _send(page)
    _wait_until(page, lambda: _answered(page), "acknowledged and answered by the GP system")


# -- the round trip -------------------------------------------------------------------------------


def test_a_message_with_a_pdf_is_delivered_and_the_gps_reply_appears_in_the_thread(
    page: Page, live_app: LiveApp, post_office: PostOffice, tmp_path: Path
) -> None:
    pdf = tmp_path / "notat.pdf"
    pdf.write_bytes(PDF)
    text = "Hej\nVi holder netværksmøde om barnet.\nNotatet er vedhæftet."
    log_in(page, live_app, "socialraadgiver")
    _compose(page, post_office, text, "Netværksmøde", live_app.shared_child.cpr.value)
    page.get_by_label("Vedhæft filer (valgfrit)").set_input_files(pdf)
    _send(page)
    thread_url = page.url

    _wait_until(page, lambda: _answered(page), "acknowledged and answered by the GP system")

    posts = page.locator(".post")
    expect(posts).to_have_count(2)
    expect(posts.nth(0).locator(".post-text")).to_have_text(text)  # its line breaks kept
    expect(posts.nth(0).locator(".post-delivery")).to_have_text("Status: Kvitteret")
    expect(posts.nth(1).locator(".post-text")).to_have_text(GP_REPLY)
    expect(posts.nth(1).locator(".post-heading")).to_contain_text(post_office.clinic_name)
    expect(page.get_by_role("heading", level=1)).to_have_text("Netværksmøde")

    with page.expect_download() as download:
        page.get_by_role("link", name="notat.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    href = page.get_by_role("link", name="notat.pdf").get_attribute("href") or ""
    served = page.request.get(live_app.url(href))
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith('attachment; filename="notat.pdf"')
    assert served.headers["x-content-type-options"] == "nosniff"

    # What reached the GP was a valid CareCommunication carrying the file.
    received = [m for m in post_office.gp.received.values() if m.topic == "Netværksmøde"]
    assert [a.data for m in received for a in m.attachments] == [PDF]
    assert post_office.gp.answers[received[0].message_id] is AckOutcome.OK

    # The inbox lists the thread, answered: read now, so not unread.
    page.get_by_role("link", name="Tilbage til post").click()
    row = page.locator("tbody tr").filter(has=page.get_by_role("link", name="Netværksmøde"))
    expect(row).to_contain_text(live_app.shared_child.name)
    expect(row).to_contain_text("Kvitteret")
    expect(row.locator(".tag-unread")).to_have_count(0)
    _screenshot(page, thread_url, tmp_path)


def _screenshot(page: Page, url: str, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(url)
    shot = tmp_path / "korrespondance.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("PAATVAERS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS / shot.name)


def test_message_text_is_shown_as_text_never_as_markup(
    page: Page, live_app: LiveApp, post_office: PostOffice
) -> None:
    hostile = '<script>window.__injected = true</script><img src=x onerror="window.__injected = 1">'
    log_in(page, live_app, "socialraadgiver")
    child = live_app.shared_child.cpr.value
    _compose(page, post_office, f"Før {hostile} efter", "<b>Emne</b>", child)
    _send(page)
    _wait_until(page, lambda: _answered(page), "a valid message, though its text looks like HTML")

    expect(page.locator(".post-text").first).to_have_text(f"Før {hostile} efter")
    expect(page.get_by_role("heading", level=1)).to_have_text("<b>Emne</b>")
    assert page.locator("main script, main img, main b").count() == 0
    assert page.evaluate("window.__injected === undefined")
    page.get_by_role("link", name="Tilbage til post").click()
    expect(page.get_by_role("link", name="<b>Emne</b>").first).to_be_visible()
    assert page.locator("main script, main img, main b").count() == 0


def test_a_user_without_a_relationship_to_the_child_cannot_write(
    page: Page, live_app: LiveApp, post_office: PostOffice
) -> None:
    log_in(page, live_app, "socialraadgiver")
    _compose(page, post_office, "Om et barn, vi ikke kender", cpr=NOBODYS_CPR)
    page.get_by_role("button", name="Send besked").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(
        "Du har ingen relation til barnet, der giver adgang til oplysningerne"
    )
    # The same neutral words as for any child without a relationship; nothing typed is lost.
    expect(page.get_by_label("Eller barnets CPR-nummer")).to_have_value(NOBODYS_CPR)
    expect(page.get_by_label("Besked", exact=True)).to_have_value("Om et barn, vi ikke kender")
    expect(page.get_by_label("Modtager")).to_have_value(str(post_office.clinic_unit_id))
    summary.get_by_role("link").click()
    expect(page.get_by_label("Eller barnets CPR-nummer")).to_be_focused()

    with Session(live_app.engine) as session:
        logged = session.scalars(
            select(AccessEventRow).where(
                AccessEventRow.child_cpr == NOBODYS_CPR,
                AccessEventRow.data_flow == "correspondence",
            )
        ).all()
        queued = session.scalars(
            select(MedcomMessageRow).where(MedcomMessageRow.child_cpr == NOBODYS_CPR)
        ).all()
    assert [(e.username, e.decision) for e in logged] == [("socialraadgiver", "deny")]
    assert queued == []


def test_a_file_that_is_not_what_medcom_carries_is_refused_by_its_bytes(
    page: Page, live_app: LiveApp, post_office: PostOffice, tmp_path: Path
) -> None:
    fake = tmp_path / "faktura.pdf"
    fake.write_bytes(b"<html>not a PDF</html>")
    log_in(page, live_app, "socialraadgiver")
    _compose(page, post_office, "Med et forkert bilag")
    page.get_by_label("Vedhæft filer (valgfrit)").set_input_files(fake)
    page.get_by_role("button", name="Send besked").click()

    expect(page.locator(".error-summary")).to_contain_text("Filen »faktura.pdf« kan ikke vedhæftes")
    expect(page.locator("#files-hint")).to_contain_text("Vælg filerne igen.")
    expect(page.get_by_label("Besked", exact=True)).to_have_value("Med et forkert bilag")


def test_sending_assigning_and_forwarding_work_without_javascript(
    browser: Browser, live_app: LiveApp, post_office: PostOffice
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        log_in(page, live_app, "socialraadgiver")
        _compose(page, post_office, "Sendt uden JavaScript")  # a child from the list
        _send(page)
        expect(page.locator(".post-text")).to_have_text("Sendt uden JavaScript")
        colleague = page.locator("#colleague option").nth(1)  # the first after "Ingen"
        name = colleague.inner_text().removesuffix(" (dig)")
        page.get_by_label("Tildel til").select_option(colleague.get_attribute("value"))
        page.get_by_role("button", name="Tildel", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("Tråden er tildelt.")
        expect(page.locator(".thread-facts")).to_contain_text(name)

        page.get_by_role("button", name="Send svar").click()  # nothing written
        expect(page.locator(".error-summary")).to_contain_text("Skriv en besked.")
        expect(page.get_by_label("Dit svar")).to_have_attribute("aria-invalid", "true")

        page.locator("#forward-receiver").select_option(str(post_office.clinic_unit_id))
        page.get_by_label("Din besked til den nye modtager").fill("Til orientering")
        page.get_by_role("button", name="Videresend", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("Tråden er videresendt i en ny tråd.")
        # The whole thread goes along (with the GP's reply, if it came first), then ours.
        expect(page.locator(".post-text").first).to_have_text("Sendt uden JavaScript")
        expect(page.locator(".post-text").last).to_have_text("Til orientering")
    finally:
        context.close()


def test_another_units_user_cannot_open_the_thread_and_a_write_needs_the_csrf_token(
    browser: Browser, page: Page, live_app: LiveApp, post_office: PostOffice
) -> None:
    log_in(page, live_app, "socialraadgiver")
    _compose(page, post_office, "Kun for Børn og Familie", cpr=live_app.shared_child.cpr.value)
    _send(page)
    thread_url = page.url.split("?")[0]

    forged = page.request.post(thread_url + "/svar", multipart={"text": "Uden CSRF-token"})
    assert forged.status == 403

    other = browser.new_context(locale="da-DK")
    try:
        ppr = other.new_page()
        log_in(ppr, live_app, "psykolog")  # PPR reads its post here too, but not this thread
        response = ppr.goto(thread_url)
        assert response is not None and response.status == 404
        expect(ppr.get_by_role("heading", level=1)).to_have_text("Tråden findes ikke")
        expect(ppr.locator("main")).not_to_contain_text("Kun for Børn og Familie")
    finally:
        other.close()


# -- accessibility --------------------------------------------------------------------------------


def _inbox(page: Page, app: LiveApp, office: PostOffice) -> None:
    log_in(page, app, "socialraadgiver")
    page.goto(app.url("/post"))


def _inbox_en(page: Page, app: LiveApp, office: PostOffice) -> None:
    log_in(page, app, "socialraadgiver", lang="en")
    page.goto(app.url("/post?lang=en"))


def _compose_page(page: Page, app: LiveApp, office: PostOffice) -> None:
    log_in(page, app, "socialraadgiver")
    _compose(page, office, "")


def _compose_errors(page: Page, app: LiveApp, office: PostOffice) -> None:
    log_in(page, app, "socialraadgiver")
    page.goto(app.url("/post/ny"))
    page.get_by_label("Eller barnets CPR-nummer").fill("123")
    page.get_by_role("button", name="Send besked").click()
    expect(page.locator(".error-summary li")).to_have_count(3)  # CPR, receiver, text


def _thread(page: Page, app: LiveApp, office: PostOffice) -> None:
    _sent_message_and_reply(page, app, office, "En besked til tilgængelighedstesten")


PAGES: dict[str, Callable[[Page, LiveApp, PostOffice], None]] = {
    "inbox": _inbox,
    "inbox-en": _inbox_en,
    "compose": _compose_page,
    "compose-errors": _compose_errors,
    "thread": _thread,
}


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_or_critical_accessibility_violations(
    page: Page, live_app: LiveApp, post_office: PostOffice, axe: Axe, name: str
) -> None:
    PAGES[name](page, live_app, post_office)
    assert severe_violations(page, axe) == []
