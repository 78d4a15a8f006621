"""The notices page through HTTP: what a notice shows (read and logged in the viewer's name,
as they may see it now), opting in and out, and marking read; CSRF on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from integration.notices.world import NoticeWorld, running_notice_world
from paatvaers.domain.organisations import UnitKind
from paatvaers.store.tables import AccessEventRow, NoticeRow, NoticeSubscriptionRow, StaffUserRow
from paatvaers.web import create_app

PAGE = "/notifikationer"


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[NoticeWorld]:
    """The notice world with one notice each for the GP and the psychologist."""
    with running_notice_world(fresh_database_url, tmp_path) as world:
        with Session(world.engine) as session, session.begin():
            session.execute(update(StaffUserRow).values(is_demo=True))
        world.give_consent()
        world.add_case(UnitKind.CHILD_FAMILY)
        world.ingest_cases()
        world.job().once()
        yield world


@pytest.fixture
def client(world: NoticeWorld) -> Iterator[TestClient]:
    settings = world.settings.model_copy(update={"demo_mode": True})
    with TestClient(create_app(settings, world.engine)) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def _log_in(client: TestClient, username: str) -> str:
    landing = client.get("/")
    answer = client.post("/log-ind/demo", data={"username": username, "csrf": _csrf(landing.text)})
    assert answer.status_code == 200, answer.text[:300]
    return _csrf(answer.text)


def _last_logged(world: NoticeWorld) -> int:
    with Session(world.engine) as session:
        return int(session.scalar(select(func.max(AccessEventRow.id))) or 0)


def _logged_since(world: NoticeWorld, after: int) -> list[tuple[str, str | None, str, str]]:
    with Session(world.engine) as session:
        rows = session.execute(
            select(
                AccessEventRow.username,
                AccessEventRow.data_flow,
                AccessEventRow.action,
                AccessEventRow.purpose,
            )
            .where(AccessEventRow.id > after)
            .order_by(AccessEventRow.id)
        ).all()
    return [(user, flow, action, purpose) for user, flow, action, purpose in rows]


def test_a_notice_shows_the_child_and_the_new_actor_and_logs_the_reads(
    world: NoticeWorld, client: TestClient
) -> None:
    _log_in(client, "laege")
    before = _last_logged(world)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Alma Testbarn" in page.text
    assert "Ny sag i børne- og familieafdelingen" in page.text
    assert "Familieafdelingen" in page.text
    # The child is opened by a form that posts the CPR number, never by a URL holding it.
    assert not re.search(rf'(href|action)="[^"]*{world.child.value}', page.text)
    assert _logged_since(world, before) == [
        ("laege", "child_details", "read", "COC"),
        ("laege", "cases_to_health", "read", "COC"),
    ]
    english = client.get(f"{PAGE}?lang=en")
    assert "New case in the children and families department" in english.text


def test_a_consent_withdrawn_since_hides_what_only_it_allowed(
    world: NoticeWorld, client: TestClient
) -> None:
    records = world.consent.lookup(world.child).records
    for record in records:
        world.consent.withdraw(record.id, world.holder)
    _log_in(client, "laege")
    page = client.get(PAGE)
    assert "Familieafdelingen" not in page.text and "Alma Testbarn" not in page.text
    assert "Du har ingen ulæste notifikationer." in page.text


def test_marking_read_needs_the_csrf_token_and_only_touches_ones_own_notice(
    world: NoticeWorld, client: TestClient
) -> None:
    csrf = _log_in(client, "laege")
    with Session(world.engine) as session:
        mine = session.scalars(
            select(NoticeRow.id).where(NoticeRow.user_id == world.users["laege"])
        ).one()
        theirs = session.scalars(
            select(NoticeRow.id).where(NoticeRow.user_id == world.users["ppr"])
        ).one()
    assert client.post(f"{PAGE}/{mine}/laest", data={"csrf": "wrong"}).status_code == 403
    client.post(f"{PAGE}/{theirs}/laest", data={"csrf": csrf})
    done = client.post(f"{PAGE}/{mine}/laest", data={"csrf": csrf})
    assert done.status_code == 200 and "markeret som læst" in done.text
    assert "Alma Testbarn" not in done.text
    with Session(world.engine) as session:
        read = dict(session.execute(select(NoticeRow.id, NoticeRow.read_at)).all())
    assert read[mine] is not None and read[theirs] is None


def test_opting_in_and_out(world: NoticeWorld, client: TestClient) -> None:
    csrf = _log_in(client, "bup")
    assert "Du er ikke tilmeldt" in client.get(PAGE).text
    assert client.post(f"{PAGE}/tilmelding", data={"notices": "on"}).status_code == 403
    client.post(f"{PAGE}/tilmelding", data={"notices": "on", "email": "on", "csrf": csrf})
    with Session(world.engine) as session:
        row = session.get(NoticeSubscriptionRow, world.users["bup"])
        assert row is not None and row.email_digest
    page = client.post(f"{PAGE}/tilmelding", data={"csrf": csrf})
    assert "Du er nu afmeldt" in page.text
    with Session(world.engine) as session:
        assert session.get(NoticeSubscriptionRow, world.users["bup"]) is None


def test_the_page_needs_a_login(client: TestClient) -> None:
    answer = client.get(PAGE, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
