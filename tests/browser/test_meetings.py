"""Cross-disciplinary meetings (issue #7) in a real browser: the demo PPR psychologist calls a
meeting from the overview, the right participants are proposed, the invitations go out (the
GP's as a MedCom CareCommunication that validates), the demo GP clinic's simulated system
answers "JA" in the thread, and the meeting page shows the GP as accepted."""

from __future__ import annotations

import os
import re
import shutil
import threading
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
from paatvaers.domain.appointments import PRACTICE_SETTING_CHILD_PSYCHIATRY
from paatvaers.medcom.codes import AckOutcome
from paatvaers.medcom.model import Practitioner
from paatvaers.medcom.validation import validate_bundle
from paatvaers.meetings.invitation import HOW_TO_ANSWER, SUBJECT
from paatvaers.sources.gp_system.simulator import SimulatedGpSystem
from paatvaers.store.db import session_factory
from paatvaers.store.tables import (
    AccessEventRow,
    AppointmentRow,
    ChildRow,
    MedcomMessageRow,
    OrgUnitRow,
    StaffUserRow,
)
from support.browser import LiveApp, log_in, open_child, severe_violations

WAIT_SECONDS = 20
DOCS = Path(__file__).parents[2] / "docs" / "screenshots"
MEETING_TIME = "2026-12-03T10:00"  # after the app's fixed "now", 26.11.2026


@dataclass(frozen=True)
class Clinic:
    """The demo GP clinic's simulated MedCom system, answering JA to every invitation, and
    the platform's worker, running until the module ends."""

    gp: SimulatedGpSystem
    name: str


@pytest.fixture(scope="module")
def clinic(live_app: LiveApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    factory = session_factory(live_app.engine)
    with factory() as session, session.begin():
        address_book.register_known_units(session, datetime.now(UTC))
        principal = principal_for(session, "praktiserende-laege")
        assert principal is not None
        party = address_book.party(session, principal.unit.id)
        assert party is not None
        staff = session.get_one(StaffUserRow, principal.user_id)
        doctor = Practitioner.from_full_name(staff.full_name, "speciallaegeipraksis", "+4570000010")
    mailboxes = Mailboxes(tmp_path_factory.mktemp("moede-postkasser"))
    gp = SimulatedGpSystem(mailboxes, party, doctor, auto_reply="JA")
    worker = Worker(factory, mailboxes, lambda: datetime.now(UTC), synthetic=True)
    stop = threading.Event()
    running = [
        threading.Thread(target=worker.run, args=(stop, 0.1), name="worker", daemon=True),
        threading.Thread(target=gp.run, args=(stop, 0.1), name="gp-system", daemon=True),
    ]
    for thread in running:
        thread.start()
    try:
        yield Clinic(gp, str(party.name))
    finally:
        stop.set()
        for thread in running:
            thread.join(10)


def _expected_health_units(app: LiveApp) -> tuple[str, set[str]]:
    """The child's GP clinic, and the BUP units of its psychiatric appointments, read here
    straight from the data (not through the code under test)."""
    with Session(app.engine) as session:
        child = session.get_one(ChildRow, app.shared_child.cpr.value)
        gp = session.get_one(OrgUnitRow, child.gp_unit_id)
        sors = session.scalars(
            select(AppointmentRow.performer_sor).where(
                AppointmentRow.patient_cpr == child.cpr,
                AppointmentRow.practice_setting_code == PRACTICE_SETTING_CHILD_PSYCHIATRY,
            )
        ).all()
        bup = set(
            session.scalars(
                select(OrgUnitRow.name).where(OrgUnitRow.sor.in_(sors), OrgUnitRow.kind == "bup")
            )
        )
    return gp.name, bup


def _to_new_meeting(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog")
    open_child(page, app.shared_child.cpr.value)
    page.get_by_role("link", name="Indkald til tværfagligt møde").click()
    page.wait_for_url("**/moeder/ny?**")


def _send(page: Page) -> str:
    page.get_by_label("Tidspunkt 1").fill(MEETING_TIME)
    page.get_by_label("Sted").fill("Mødelokale 2, PPR")
    page.get_by_label("Dagsorden (valgfrit)").fill("1. Trivsel i skolen\n2. Udredning i BUP")
    page.get_by_role("button", name="Send indkaldelse").click()
    page.wait_for_url("**/moeder/*-*?**")
    expect(page.get_by_role("status")).to_have_text("Indkaldelsen er sendt.")
    return page.url.split("/moeder/")[1].split("?")[0]


def _wait_until(page: Page, done: Callable[[], bool], what: str) -> None:
    deadline = datetime.now(UTC).timestamp() + WAIT_SECONDS
    while not done():
        if datetime.now(UTC).timestamp() > deadline:
            pytest.fail(f"not within {WAIT_SECONDS} s: {what}")
        page.wait_for_timeout(300)
        page.reload()


def test_a_ppr_psychologist_calls_a_meeting_and_the_gp_accepts_by_medcom(
    page: Page, live_app: LiveApp, clinic: Clinic, tmp_path: Path
) -> None:
    gp_name, bup_names = _expected_health_units(live_app)
    assert gp_name == clinic.name and bup_names, "the shared child has a GP and a BUP course"
    _to_new_meeting(page, live_app)

    # The right participants are proposed, ticked: the GP clinic and the BUP unit(s).
    for name in (gp_name, *bup_names):
        box = page.get_by_role("checkbox", name=name)
        expect(box).to_be_checked()
    expect(page.get_by_role("checkbox", name=gp_name)).to_have_accessible_name(
        re.compile(rf"^{re.escape(gp_name)} – Almen praksis.*\(MedCom-korrespondance\)$")
    )
    _screenshot(page, tmp_path / "moede-indkald.png")
    meeting_id = _send(page)

    row = page.locator("tr").filter(has=page.get_by_role("rowheader", name=gp_name))
    expect(row).to_contain_text("MedCom-korrespondance")
    _wait_until(
        page,
        lambda: "Har sagt ja" in row.inner_text(),
        "the GP system's reply JA shown as the GP's answer",
    )
    expect(row.locator(".answer-text")).to_have_text("JA")  # the reply, for the convenor
    _screenshot(page, tmp_path / "moede.png")

    # What reached the GP was a valid CareCommunication: the clinic's system validated it
    # and answered OK; the stored bundle validates against the profiles here too.
    received = [m for m in clinic.gp.received.values() if m.topic == SUBJECT]
    assert received and HOW_TO_ANSWER in received[-1].segments[0].text
    assert clinic.gp.answers[received[-1].message_id] is AckOutcome.OK
    with Session(live_app.engine) as session:
        sent = session.scalars(
            select(MedcomMessageRow).where(
                MedcomMessageRow.message_id == received[-1].message_id,
                MedcomMessageRow.direction == "out",
            )
        ).one()
        assert validate_bundle(sent.bundle).ok
        decided = session.scalars(
            select(AccessEventRow.username).where(AccessEventRow.data_flow == "meeting")
        ).all()
    assert "psykolog" in decided  # the convenor's decision on the meeting flow, logged
    uuid.UUID(meeting_id)

    # The meeting is on the convenor's list, and the calendar file downloads.
    page.goto(live_app.url("/moeder"))
    expect(page.get_by_role("cell", name=live_app.shared_child.name).first).to_be_visible()
    ics = page.request.get(live_app.url(f"/moeder/{meeting_id}/kalender.ics"))
    assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert b"DTSTART:20261203T090000Z" in ics.body()
    assert live_app.shared_child.name.encode() not in ics.body()


def _screenshot(page: Page, path: Path) -> None:
    """The page as it looks; copied to docs/screenshots with PAATVAERS_SCREENSHOTS=1."""
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("PAATVAERS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)


def test_a_user_who_is_not_a_participant_cannot_open_the_meeting(
    browser: Browser, page: Page, live_app: LiveApp, clinic: Clinic
) -> None:
    _to_new_meeting(page, live_app)
    meeting_id = _send(page)
    other = browser.new_context(locale="da-DK")
    try:
        stranger = other.new_page()
        log_in(stranger, live_app, "bup-laege")
        response = stranger.goto(live_app.url(f"/moeder/{meeting_id}"))
        assert response is not None
        if response.status == 404:  # not invited (the child's BUP unit is another one)
            expect(stranger.get_by_role("heading", level=1)).to_have_text("Mødet findes ikke")
            calendar = stranger.request.get(live_app.url(f"/moeder/{meeting_id}/kalender.ics"))
            assert calendar.status == 404
        else:  # the demo BUP unit is the child's: invited as a unit, so a participant
            expect(stranger.get_by_role("heading", level=2, name="Deltagere")).to_be_visible()
    finally:
        other.close()
    forged = page.request.post(
        live_app.url(f"/moeder/{meeting_id}/svar"), form={"svar": "accepted"}
    )
    assert forged.status == 403


# -- accessibility --------------------------------------------------------------------------------


def _new(page: Page, app: LiveApp) -> None:
    _to_new_meeting(page, app)


def _errors(page: Page, app: LiveApp) -> None:
    _to_new_meeting(page, app)
    page.get_by_role("button", name="Send indkaldelse").click()
    expect(page.locator(".error-summary li")).to_have_count(2)  # a time, a place


def _meeting(page: Page, app: LiveApp) -> None:
    _to_new_meeting(page, app)
    _send(page)


def _list(page: Page, app: LiveApp) -> None:
    log_in(page, app, "psykolog")
    page.goto(app.url("/moeder"))


PAGES: dict[str, Callable[[Page, LiveApp], None]] = {
    "new": _new,
    "new-errors": _errors,
    "meeting": _meeting,
    "list": _list,
}


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_or_critical_accessibility_violations(
    page: Page, live_app: LiveApp, clinic: Clinic, axe: Axe, name: str
) -> None:
    PAGES[name](page, live_app)
    assert severe_violations(page, axe) == []
