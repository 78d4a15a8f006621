"""The family pages over HTTP on the exact access scenario: the demo citizen login, the team,
withdrawing a consent (confirm step, CSRF) and the professional's next overview, "who has
looked", and the neutral answer for a parent without custody."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from paatvaers.domain.organisations import UnitKind
from paatvaers.family import demo
from paatvaers.settings import Settings
from paatvaers.store.tables import (
    CustodyHolderRow,
    MeetingParticipantRow,
    MeetingRow,
    MeetingTimeRow,
    StaffUserRow,
)
from paatvaers.web import create_app
from support.access import NOW, TODAY, AccessWorld, State, running_access_world


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[AccessWorld]:
    with running_access_world(fresh_database_url) as world:
        with Session(world.engine) as session, session.begin():
            # The personas are the demo GP's patients; one child is in sole custody.
            session.execute(
                update(StaffUserRow)
                .where(StaffUserRow.username == "praktiserende_laege")
                .values(username=demo.DEMO_GP, is_demo=True)
            )
            _family_meeting(session, world)
            session.execute(
                delete(CustodyHolderRow).where(
                    CustodyHolderRow.holder_cpr
                    == world.scenario.holders[State.CONSENT_MISSING][1].value
                )
            )
        yield world


def _family_meeting(session: Session, world: AccessWorld) -> None:
    """A meeting about the active child, to come, with a custody holder invited."""
    meeting = uuid.uuid4()
    session.add(
        MeetingRow(
            id=meeting,
            child_cpr=world.scenario.children[State.ACTIVE].value,
            child_cpr_synthetic=True,
            convenor_user_id=uuid.uuid4(),
            convenor_unit_id=world.scenario.units[UnitKind.PPR].id,
            place="Mødelokale 7, Rådhuset",
            agenda="",
            created_at=NOW,
            closes_at=NOW + timedelta(days=40),
        )
    )
    session.flush()
    start = NOW + timedelta(days=5)
    session.add(
        MeetingTimeRow(meeting_id=meeting, starts_at=start, ends_at=start + timedelta(hours=1))
    )
    for position, kind in enumerate(("convenor", "family")):
        session.add(
            MeetingParticipantRow(
                id=uuid.uuid4(),
                meeting_id=meeting,
                position=position,
                kind=kind,
                name="Test ppr_psykolog" if kind == "convenor" else "Forælder 1 active",
                role="PPR-psykolog" if kind == "convenor" else "Forælder",
                channel="platform" if kind == "convenor" else "none",
                answer="pending",
            )
        )


def _client(world: AccessWorld, demo_mode: bool = True) -> TestClient:
    config = Settings(
        database_url=world.database_url, consent_url=world.consent_url, demo_mode=demo_mode
    )
    return TestClient(create_app(config, world.engine, clock=lambda: NOW))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _login_citizen(client: TestClient, persona: str) -> str:
    landing = client.get("/")
    home = client.post(
        "/familie/log-ind/demo", data={"persona": persona, "csrf": _csrf(landing.text)}
    )
    assert home.url.path == "/familie", home.text[:300]
    return home.text


def _child_path(html: str) -> str:
    match = re.search(r'href="(/familie/[0-9a-f]{20})\?', html)
    assert match, html
    return match.group(1)


def test_the_landing_page_offers_the_personas_only_in_demo_mode(world: AccessWorld) -> None:
    with Session(world.engine) as session:
        keys = [p.key for p in demo.personas(session, TODAY)]
    assert keys == ["foraelder", "uden-foraeldremyndighed"]  # no child of 14 or 15 here
    with _client(world) as client:
        landing = client.get("/")
        assert "Log ind som forælder / ung" in landing.text
        assert 'value="foraelder"' in landing.text
        refused = client.post("/familie/log-ind/demo", data={"persona": "foraelder"})
        assert refused.status_code == 403  # no CSRF token
        unknown = client.post(
            "/familie/log-ind/demo", data={"persona": "nobody", "csrf": _csrf(landing.text)}
        )
        assert unknown.status_code == 404
    with _client(world, demo_mode=False) as client:
        assert "Log ind som forælder" not in client.get("/").text
        assert (
            client.post("/familie/log-ind/demo", data={"persona": "foraelder"}).status_code == 404
        )
        assert client.get("/familie", follow_redirects=False).status_code == 303  # not logged in


def _opt_in_and_out(parent: TestClient, path: str, looked: str) -> None:
    """The e-mail notice on "who has looked": CSRF, a wrong address, on, off."""
    assert "Du får ingen e-mails." in looked
    notice = path + "/besked"
    assert parent.post(notice, data={"email": "a@b.dk", "handling": "on"}).status_code == 403
    token = _csrf(looked)
    wrong = parent.post(notice, data={"email": "ikke en adresse", "handling": "on", "csrf": token})
    assert "E-mailadressen ser forkert ud" in wrong.text and "Du får ingen e-mails." in wrong.text
    on = parent.post(notice, data={"email": "mor@example.dk", "handling": "on", "csrf": token})
    assert "Du får nu en e-mail" in on.text and 'value="mor@example.dk"' in on.text
    off = parent.post(notice, data={"email": "", "handling": "off", "csrf": token})
    assert "Du får ikke flere e-mails." in off.text


def test_a_custody_holder_withdraws_a_consent_and_the_gp_is_denied_next_time(
    world: AccessWorld,
) -> None:
    with _client(world) as gp:
        landing = gp.get("/")
        gp.post("/log-ind/demo", data={"username": demo.DEMO_GP, "csrf": _csrf(landing.text)})
        csrf = _csrf(gp.get("/mine").text)
        child = world.scenario.children[State.ACTIVE].value
        before = gp.post("/barn/vaelg", data={"cpr": child, "purpose": "TREAT", "csrf": csrf})
        assert "Sag om støtte" in before.text  # the case, shown thanks to the consent

    with _client(world) as parent:
        home = _login_citizen(parent, "foraelder")
        assert "Barn active" in home
        path = _child_path(home)
        assert child not in path
        page = parent.get(path)
        assert "Familieafdelingen" in page.text and "Test socialraadgiver" in page.text
        assert "PPR – Pædagogisk Psykologisk Rådgivning, kommunens psykologer" in page.text
        assert "BUP – Børne- og ungdomspsykiatrien i regionen" in page.text
        assert "Mødelokale 7, Rådhuset" in page.text and "Forælder 1 active" in page.text
        assert "Who helps the child" in parent.get(path + "?lang=en").text

        looked = parent.get(path + "/log?lang=da")
        assert "Praktiserende læge" in looked.text and "Lægerne i Testby" in looked.text
        assert "Behandling eller undersøgelse" in looked.text  # the GP's purpose, in words
        _opt_in_and_out(parent, path, looked.text)

        shared = parent.get(path + "/deling")
        assert "Ja, fordi der er givet samtykke." in shared.text
        confirm_url = f"{path}/samtykke/cases_to_health?handling=withdraw"
        assert confirm_url in shared.text  # the button to the confirm step
        confirm = parent.get(confirm_url)
        assert "Når du trækker samtykket tilbage" in confirm.text
        assert "Barnets egen læge" in confirm.text  # who loses it, in plain words
        target = f"{path}/samtykke/cases_to_health"
        assert parent.post(target, data={"handling": "withdraw"}).status_code == 403  # no CSRF
        done = parent.post(target, data={"handling": "withdraw", "csrf": _csrf(confirm.text)})
        assert "Samtykket er trukket tilbage." in done.text
        assert "Nej, fordi der ikke er givet samtykke." in done.text
        assert parent.get(confirm_url).status_code == 404  # nothing left to withdraw
        assert parent.get("/mine", follow_redirects=False).status_code == 303  # not a professional

    with _client(world) as gp:
        landing = gp.get("/")
        gp.post("/log-ind/demo", data={"username": demo.DEMO_GP, "csrf": _csrf(landing.text)})
        csrf = _csrf(gp.get("/mine").text)
        after = gp.post("/barn/vaelg", data={"cpr": child, "purpose": "TREAT", "csrf": csrf})
        assert "Sag om støtte" not in after.text
        assert "Samtykket er tilbagekaldt" in after.text


def test_a_parent_without_custody_gets_the_same_neutral_answer_as_anyone(
    world: AccessWorld,
) -> None:
    with _client(world) as parent:
        path = _child_path(_login_citizen(parent, "foraelder"))
    with _client(world) as outsider:
        home = _login_citizen(outsider, "uden-foraeldremyndighed")
        assert "Der er ingen børn at vise her." in home
        known = outsider.get(path)
        unknown = outsider.get("/familie/" + "0" * 20)
        assert known.status_code == unknown.status_code == 404
        assert known.text == unknown.text
        for suffix in ("/deling", "/log", "/samtykke/cases_to_health?handling=withdraw"):
            assert outsider.get(path + suffix).status_code == 404
