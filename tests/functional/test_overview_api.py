"""The JSON API and the overview pages over HTTP, on the exact access scenario: logins, CSRF,
the same decisions and log rows as the pages, the neutral denial, and failing closed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from paatvaers.settings import Settings
from paatvaers.store.tables import AccessEventRow, StaffUserRow
from paatvaers.web import auth, create_app
from support.access import NOW, AccessWorld, State, running_access_world


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[AccessWorld]:
    with running_access_world(fresh_database_url) as access_world:
        with Session(access_world.engine) as session, session.begin():
            session.execute(update(StaffUserRow).values(is_demo=True))  # every test user
        yield access_world


def _client(world: AccessWorld, **settings: Any) -> TestClient:
    config = Settings(
        database_url=world.database_url,
        consent_url=world.consent_url,
        demo_mode=settings.pop("demo_mode", True),
        **settings,
    )
    return TestClient(create_app(config, world.engine, clock=lambda: NOW))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def login(client: TestClient, username: str) -> str:
    """Log in as a demo persona; the session's CSRF token."""
    landing = client.get("/")
    mine = client.post("/log-ind/demo", data={"username": username, "csrf": _csrf(landing.text)})
    assert mine.status_code == 200 and mine.url.path == "/mine", mine.text[:300]
    return _csrf(mine.text)


def post(client: TestClient, path: str, csrf: str, cpr: str, purpose: str = "TREAT") -> Any:
    return client.post(path, json={"cpr": cpr, "purpose": purpose}, headers={"X-CSRF-Token": csrf})


def _log_rows(world: AccessWorld) -> int:
    with Session(world.engine) as session:
        return session.scalar(select(func.count()).select_from(AccessEventRow)) or 0


def test_a_gp_sees_cases_contacts_and_school_and_every_block_is_logged(world: AccessWorld) -> None:
    child = world.scenario.children[State.ACTIVE]
    with _client(world) as client:
        csrf = login(client, "praktiserende_laege")
        before = _log_rows(world)
        answer = post(client, "/api/overview/health", csrf, child.value)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["cases"]["permitted"] and body["cases"]["source"] == "case_index"
    assert [c["title"] for c in body["cases"]["data"]] == ["Sag om støtte"]  # public title
    assert body["contacts"]["data"][0]["unit_phone"] == "70000001"
    assert body["school"]["data"]["institution"] == "Testby Skole"
    assert body["target_group"]["included"] is True
    assert body["child"]["data"]["address"] == "Opdigtet Vej 1, 9000 Aalborg"
    assert _log_rows(world) == before + 4  # details, cases, contacts, school: committed


def test_the_municipal_overview_puts_the_next_appointment_first(world: AccessWorld) -> None:
    child = world.scenario.children[State.ACTIVE]
    with _client(world) as client:
        csrf = login(client, "ppr_psykolog")
        body = post(client, "/api/overview/municipal", csrf, child.value, "COC").json()
    assert body["appointments"]["permitted"]
    assert body["next_appointment"]["start"].startswith("2026-12-10")
    stages = {step["stage"]: step["reached_on"] for step in body["timeline"]}
    assert stages["assessment"] is not None and stages["treatment"] is None  # never invented


def test_without_a_relationship_the_answer_is_neutral_and_the_same_as_for_nobody(
    world: AccessWorld,
) -> None:
    with_data = world.scenario.children[State.NONE]
    with _client(world) as client:
        csrf = login(client, "bup_laege")
        answers = [
            post(client, "/api/overview/health", csrf, cpr).json()
            for cpr in (with_data.value, "0101169915")
        ]
    assert answers[0] == answers[1]
    for block in ("child", "cases", "contacts", "school"):
        assert not answers[0][block]["permitted"]
        assert answers[0][block]["data"] is None
    assert answers[0]["child"]["reason_da"].startswith("Du har ingen relation til barnet")


def test_writes_need_the_csrf_token_and_a_login(world: AccessWorld) -> None:
    child = world.scenario.children[State.ACTIVE].value
    with _client(world) as client:
        assert post(client, "/api/overview/health", "x", child).status_code == 403
        client.get("/")
        anonymous = client.post(
            "/api/overview/health",
            json={"cpr": child, "purpose": "TREAT"},
            headers={"X-CSRF-Token": _csrf(client.get("/").text)},
        )
        assert anonymous.status_code == 401
        csrf = login(client, "praktiserende_laege")
        assert post(client, "/api/overview/health", "wrong", child).status_code == 403
        assert post(client, "/api/overview/health", csrf, "12345").status_code == 400
        assert (
            client.post("/log-ud", data={"csrf": "wrong"}, follow_redirects=False).status_code
            == 403
        )


def test_demo_login_exists_only_in_demo_mode(world: AccessWorld) -> None:
    with _client(world, demo_mode=False) as client:
        landing = client.get("/")
        assert "/log-ind/demo" not in landing.text
        refused = client.post("/log-ind/demo", data={"username": "bup_laege", "csrf": "x"})
        assert refused.status_code == 404


def test_an_idle_session_ends(world: AccessWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    with _client(world, session_idle_minutes=30) as client:
        login(client, "praktiserende_laege")
        assert client.get("/mine", follow_redirects=False).status_code == 200
        later = time.time() + 30 * 60 + 1
        monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: later))
        again = client.get("/mine", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/"


def test_the_overview_page_shows_the_child_in_context_and_logout_ends_it(
    world: AccessWorld,
) -> None:
    child = world.scenario.children[State.ACTIVE]
    with _client(world) as client:
        csrf = login(client, "praktiserende_laege")
        page = client.post(
            "/barn/vaelg", data={"cpr": child.value, "purpose": "TREAT", "csrf": csrf}
        )
        assert page.status_code == 200 and "Barn active" in page.text
        assert page.headers["cache-control"] == "no-store"
        client.post("/log-ud", data={"csrf": _csrf(page.text)})
        after = client.get("/barn", follow_redirects=False)
    assert after.status_code == 303


def test_a_failing_access_log_answers_503_without_child_data(world: AccessWorld) -> None:
    child = world.scenario.children[State.ACTIVE]
    with _client(world) as client:
        csrf = login(client, "praktiserende_laege")
        with world.engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE access_event ADD CONSTRAINT no_more CHECK (false) NOT VALID")
            )
        answer = post(client, "/api/overview/health", csrf, child.value)
    assert answer.status_code == 503
    assert "Barn active" not in answer.text and child.value not in answer.text
    assert "Sag om støtte" not in answer.text


def test_the_api_is_described_in_openapi(world: AccessWorld) -> None:
    with _client(world) as client:
        document = client.get("/openapi.json").json()
    assert {"/api/overview/health", "/api/overview/municipal", "/api/mine"} <= set(
        document["paths"]
    )
    request = document["components"]["schemas"]["OverviewRequest"]
    assert set(request["required"]) == {"cpr", "purpose"}


def test_the_landing_page_offers_the_identity_providers_login_when_one_is_configured(
    world: AccessWorld,
) -> None:
    with _client(world, demo_mode=False) as client:
        assert "/log-ind/oidc" not in client.get("/").text
    idp = {"oidc_issuer": "http://127.0.0.1:9", "oidc_client_id": "paatvaers"}
    with _client(world, demo_mode=False, **idp) as client:
        assert 'href="/log-ind/oidc?lang=da"' in client.get("/").text
