"""The meeting pages over HTTP, on the exact access scenario with the address book: calling
a meeting from the overview, the form's errors and CSRF, what each participant's page shows,
answering in the platform, and who gets nothing at all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from paatvaers.domain.organisations import UnitKind
from paatvaers.settings import Settings
from paatvaers.store.tables import StaffUserRow
from paatvaers.web import create_app
from support.access import NOW
from support.medcom import Correspondence, running_correspondence

AGENDA = "1. Trivsel i klassen"
SCHOOL = "Testby Skole"


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[Correspondence]:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        with Session(world.access.engine) as session, session.begin():
            session.execute(update(StaffUserRow).values(is_demo=True))  # every test user
        yield world


def _client(world: Correspondence) -> TestClient:
    config = Settings(
        database_url=world.access.database_url, consent_url=world.access.consent_url, demo_mode=True
    )
    return TestClient(create_app(config, world.access.engine, clock=lambda: NOW))


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _login(client: TestClient, username: str) -> str:
    landing = client.get("/")
    mine = client.post("/log-ind/demo", data={"username": username, "csrf": _csrf(landing.text)})
    assert mine.url.path == "/mine", mine.text[:300]
    return _csrf(mine.text)


def _open_child(client: TestClient, world: Correspondence, csrf: str) -> Any:
    cpr = world.child.value
    return client.post("/barn/vaelg", data={"cpr": cpr, "purpose": "CAREMGT", "csrf": csrf})


def _keys(html: str) -> dict[str, str]:
    """The participant checkboxes: value by the name in their label."""
    found = re.findall(
        r'name="deltager" value="([^"]+)".*?<span class="participant-name">([^<]+)</span>',
        html,
        re.S,
    )
    return {name: value for value, name in found}


def _convene(client: TestClient, world: Correspondence, csrf: str, names: list[str]) -> str:
    form = client.get("/moeder/ny")
    keys = _keys(form.text)
    answer = client.post(
        "/moeder/ny",
        data={
            "csrf": csrf,
            "deltager": [keys[n] for n in names],
            "tid": ["2026-12-03T10:00", "", ""],
            "varighed": "60",
            "sted": "Mødelokale 2",
            "dagsorden": AGENDA,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    return str(answer.headers["location"]).split("?")[0]


def test_a_meeting_is_called_from_the_overview_and_answered_in_the_platform(
    world: Correspondence,
) -> None:
    gp = world.access.scenario.units[UnitKind.GP].name
    with _client(world) as ppr:
        csrf = _login(ppr, "ppr_psykolog")
        overview = _open_child(ppr, world, csrf)
        assert 'href="/moeder/ny?lang=da"' in overview.text
        form = ppr.get("/moeder/ny")
        assert form.status_code == 200 and world.child.value not in str(form.url)
        assert set(_keys(form.text)) >= {"Test socialraadgiver", gp, "BUP Aalborg"}
        path = _convene(ppr, world, csrf, ["Test socialraadgiver", gp])
        mine = ppr.get(path)
        assert "Indkaldelsen er sendt." in mine.text and AGENDA in mine.text
        english = ppr.get(path + "?lang=en")
        assert "Cross-disciplinary meeting" in english.text and "Accepted" in english.text
        assert "Call a cross-disciplinary meeting" in ppr.get("/moeder/ny?lang=en").text
        assert "My meetings" in ppr.get("/moeder?lang=en").text
    world.pump()
    assert len(world.gp.received) == 1 and not world.bup.received

    with _client(world) as caseworker:
        csrf = _login(caseworker, "socialraadgiver")
        listed = caseworker.get("/moeder")
        assert path in listed.text and "Barn active" in listed.text
        page = caseworker.get(path)
        assert AGENDA in page.text and "Test ppr_psykolog" in page.text
        assert SCHOOL not in page.text  # the family department may not see the school
        refused = caseworker.post(path + "/svar", data={"svar": "declined"})
        assert refused.status_code == 403  # no CSRF token
        answered = caseworker.post(
            path + "/svar", data={"svar": "declined", "kommentar": "Ferie", "csrf": csrf}
        )
        assert "Dit svar er gemt." in answered.text

    with _client(world) as ppr:
        _login(ppr, "ppr_psykolog")
        shown = ppr.get(path).text
    declined = r'answer-declined">Har sagt nej</span>\s*<div class="answer-text" lang="da">Ferie<'
    assert re.search(declined, shown)


def test_the_form_shows_its_errors_and_needs_the_csrf_token(world: Correspondence) -> None:
    with _client(world) as ppr:
        csrf = _login(ppr, "ppr_psykolog")
        assert ppr.get("/moeder/ny", follow_redirects=False).status_code == 303  # no child
        _open_child(ppr, world, csrf)
        assert ppr.post("/moeder/ny", data={"sted": "x"}).status_code == 403
        answer = ppr.post("/moeder/ny", data={"csrf": csrf, "tid": ["i morgen"]})
    assert answer.status_code == 400
    assert "Skriv tidspunktet som dato og klokkeslæt." in answer.text
    assert "Skriv hvor mødet holdes." in answer.text


def test_others_get_nothing_and_a_colleague_outside_the_flow_no_exchange(
    world: Correspondence,
) -> None:
    gp = world.access.scenario.units[UnitKind.GP].name
    with _client(world) as ppr:
        csrf = _login(ppr, "ppr_psykolog")
        _open_child(ppr, world, csrf)
        path = _convene(ppr, world, csrf, ["Test socialraadgiver", gp])
    with _client(world) as bup:  # BUP was not invited: as if there were no meeting
        _login(bup, "bup_laege")
        assert bup.get(path).status_code == 404
        assert bup.get(path + "/kalender.ics").status_code == 404
        assert bup.get("/moeder/ikke-et-id").status_code == 404
    with _client(world) as clinic:  # the GP clinic is invited; its staff may not take part
        _login(clinic, "klinikpersonale")
        page = clinic.get(path)
        assert page.status_code == 200 and AGENDA not in page.text
        assert "Din funktion" in page.text
    with _client(world) as doctor:
        _login(doctor, "praktiserende_laege")
        page = doctor.get(path)
        assert AGENDA in page.text and SCHOOL in page.text
        ics = doctor.get(path + "/kalender.ics")
        assert ics.headers["content-type"].startswith("text/calendar")
        assert b"Barn active" not in ics.content
