"""The web skeleton through its HTTP interface, against the populated test database."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
import structlog
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.settings import Settings
from paatvaers.store.db import make_engine
from paatvaers.store.repositories import StaffRepository
from paatvaers.web import create_app
from paatvaers.web.i18n import ENGLISH_TITLES, MESSAGES, PRODUCT_NAME, Language
from paatvaers.web.logging import configure_logging, remove_json_handler

SYNTHETIC_NOTE_DA = "Alle personer og CPR-numre er syntetiske"
A_CPR = "0101101234"


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture
def missing_database_engine(settings: Settings) -> Iterator[Engine]:
    assert settings.database_url is not None
    url = make_url(settings.database_url).set(database="does_not_exist_x")
    engine = make_engine(url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Our JSON logging, writing into capsys' stderr; the previous setup restored after."""
    root = logging.getLogger()
    level = root.level
    configure_logging("INFO")
    yield
    remove_json_handler()
    root.setLevel(level)
    structlog.reset_defaults()


class PageStructure(HTMLParser):
    """Collects what the accessibility checks need: tags seen and the attributes of some."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.html_lang: str | None = None
        self.column_headers: list[str | None] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "th" and attributes.get("scope") != "row":
            self.column_headers.append(attributes.get("scope"))
        elif tag == "a":
            self.links.append(attributes)


def parse(page: str) -> PageStructure:
    structure = PageStructure()
    structure.feed(page)
    return structure


def shown(text: str) -> str:
    """The text as it appears in HTML after the templates' autoescaping."""
    return str(escape(text))


def test_landing_page_is_danish_and_lists_every_demo_user(
    client: TestClient, session: Session
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert parse(page).html_lang == "da"
    assert shown(PRODUCT_NAME) in page
    assert SYNTHETIC_NOTE_DA in page
    users = StaffRepository(session).demo_users()
    for user in users:
        assert f"<code>{shown(user.member.username)}</code>" in page
        assert shown(user.member.function.danish_title) in page
        assert shown(user.member.full_name) in page
        assert shown(user.unit.name) in page
    functions = {user.member.function for user in users}
    assert {
        EmployeeFunction.SOCIALRAADGIVER,
        EmployeeFunction.PPR_PSYKOLOG,
        EmployeeFunction.BUP_LAEGE,
        EmployeeFunction.PRAKTISERENDE_LAEGE,
    } <= functions


def test_demo_users_appear_in_role_order(client: TestClient, session: Session) -> None:
    page = client.get("/").text
    positions = [
        page.index(f"<code>{shown(u.member.username)}</code>")
        for u in StaffRepository(session).demo_users()
    ]
    assert positions == sorted(positions)


def test_english_is_available_on_request(client: TestClient) -> None:
    response = client.get("/", params={"lang": "en"})

    assert response.status_code == 200
    structure = parse(response.text)
    assert structure.html_lang == "en"
    assert response.headers["content-language"] == "en"
    assert shown(PRODUCT_NAME) in response.text
    assert "All people and CPR numbers are synthetic" in response.text
    assert shown(ENGLISH_TITLES[EmployeeFunction.PRAKTISERENDE_LAEGE]) in response.text
    assert any(link.get("href") == "?lang=da" for link in structure.links)


def test_danish_page_links_to_english(client: TestClient) -> None:
    links = parse(client.get("/").text).links
    assert any(link.get("href") == "?lang=en" and link.get("lang") == "en" for link in links)


def test_unknown_language_falls_back_to_danish(client: TestClient) -> None:
    response = client.get("/", params={"lang": "xx"})
    assert response.status_code == 200
    assert parse(response.text).html_lang == "da"


def test_landing_page_has_accessible_structure(client: TestClient) -> None:
    page = client.get("/").text
    structure = parse(page)

    assert structure.tags.count("h1") == 1
    for landmark in ("header", "main", "footer", "nav", "table", "caption"):
        assert landmark in structure.tags
    assert structure.column_headers
    assert set(structure.column_headers) == {"col"}
    skip_link = structure.links[0]
    assert skip_link.get("href") == "#indhold"
    assert 'id="indhold"' in page


def test_translations_cover_the_same_keys_and_every_function() -> None:
    assert MESSAGES[Language.DA].keys() == MESSAGES[Language.EN].keys()
    assert set(ENGLISH_TITLES) == set(EmployeeFunction)


def test_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/style.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in response.text


def test_health_check_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_check_fails_without_its_database(
    settings: Settings, missing_database_engine: Engine
) -> None:
    with TestClient(create_app(settings, missing_database_engine)) as client:
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]
    assert "Traceback" not in response.text
    assert len(body["database"]) < 80


@pytest.mark.usefixtures("json_logs")
def test_each_request_is_logged_as_one_json_line_without_query_string(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.get("/healthz", params={"cpr": A_CPR})

    stderr = capsys.readouterr().err
    assert A_CPR not in stderr
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    requests = [r for r in records if r["event"] == "http_request"]
    assert len(requests) == 1
    record = requests[0]
    assert record["method"] == "GET"
    assert record["path"] == "/healthz"
    assert record["status_code"] == 200
    assert record["level"] == "info"
    assert isinstance(record["duration_ms"], float)
    assert record["timestamp"].endswith("Z")


@pytest.mark.usefixtures("json_logs")
def test_stdlib_records_share_the_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)

    record = json.loads(capsys.readouterr().err.strip())
    assert record["event"] == "Started server process [42]"
    assert record["logger"] == "uvicorn.error"


@pytest.mark.usefixtures("json_logs")
def test_loggers_that_write_full_urls_are_quietened(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /?cpr=%s HTTP/1.1" 200', A_CPR)

    assert A_CPR not in capsys.readouterr().err


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="log level"):
        configure_logging("CHATTY")
