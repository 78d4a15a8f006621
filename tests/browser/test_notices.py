"""The notices page in a real browser: a notice about a shared child shows its new actor,
passes axe-core, works by keyboard, and marks read; the opt-in form saves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paatvaers.store.tables import (
    ChildRow,
    InvolvementChangeRow,
    NoticeItemRow,
    NoticeRow,
    NoticeSubscriptionRow,
    StaffUserRow,
)
from support.browser import LiveApp, log_in, severe_violations

USER = "psykolog"  # the demo PPR psychologist


@pytest.fixture
def notice(live_app: LiveApp) -> Iterator[int]:
    """A notice to the demo psychologist: the shared child's GP is new (shown through the
    child's details). Removed afterwards, with the user's subscription."""
    child = live_app.shared_child
    now = live_app.now
    with Session(live_app.engine) as session, session.begin():
        row = session.get(ChildRow, child.cpr.value)
        assert row is not None and row.gp_unit_id is not None
        user_id = session.scalars(
            select(StaffUserRow.id).where(StaffUserRow.username == USER)
        ).one()
        change = InvolvementChangeRow(
            child_cpr=child.cpr.value,
            child_cpr_synthetic=True,
            unit_id=row.gp_unit_id,
            kind="gp",
            since=now.date(),
            evidence="referral",
            detected_at=now,
            due_at=now,
            processed_at=now,
        )
        session.add(change)
        notice = NoticeRow(
            user_id=user_id,
            child_cpr=child.cpr.value,
            child_cpr_synthetic=True,
            created_at=now,
            updated_at=now,
        )
        session.add(notice)
        session.flush()
        session.add(
            NoticeItemRow(
                notice_id=notice.id, change_id=change.id, data_flow="child_details", created_at=now
            )
        )
        ids = (notice.id, change.id, user_id)
    yield ids[0]
    with Session(live_app.engine) as session, session.begin():
        session.execute(delete(NoticeRow).where(NoticeRow.id == ids[0]))
        session.execute(delete(InvolvementChangeRow).where(InvolvementChangeRow.id == ids[1]))
        session.execute(
            delete(NoticeSubscriptionRow).where(NoticeSubscriptionRow.user_id == ids[2])
        )


def test_the_notices_page_is_accessible_and_works_by_keyboard(
    page: Page, live_app: LiveApp, axe: Axe, notice: int
) -> None:
    log_in(page, live_app, USER)
    page.goto(live_app.url("/notifikationer?lang=da"))
    child = live_app.shared_child
    expect(page.get_by_role("heading", level=3, name=child.name)).to_be_visible()
    expect(page.get_by_text("Ny praktiserende læge")).to_be_visible()
    assert severe_violations(page, axe) == []

    button = page.get_by_role("button", name=f"Markér som læst for {child.name}")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("markeret som læst")
    expect(page.get_by_text("Du har ingen ulæste notifikationer.")).to_be_visible()

    page.get_by_label("Giv mig besked, når nye fagpersoner bliver involveret i mine børn").check()
    page.get_by_role("button", name="Gem").click()
    expect(page.get_by_role("status")).to_contain_text("Du er nu tilmeldt")
    assert severe_violations(page, axe) == []
