"""The quality follow-up's pages over HTTP (issue #8, items 4 and 5): only the operations role
sees them, every view and refusal is in the access log, the CSV is the report's, drill-down
goes from the country to a case system, and no page shows a count between 1 and 4.

The population is the shared test population (400 children over 98 municipalities), so most
municipalities have a handful of children and cases: small counts are everywhere, and the
pages must show every one of them as "<5". Three daily snapshots give the trends a line."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paatvaers.access.policy import load_policy
from paatvaers.correspondence import address_book
from paatvaers.domain.geography import MUNICIPALITIES, Region
from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.population.generator import Population
from paatvaers.population.report import report as population_report
from paatvaers.quality.access_log import QUALITY_PURPOSE
from paatvaers.quality.report import build_report, gather, take_snapshot, to_csv
from paatvaers.settings import Settings
from paatvaers.store.db import make_engine
from paatvaers.store.population_writer import replace_population
from paatvaers.store.tables import AccessEventRow
from paatvaers.web import create_app

NOW = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
CARE_ROLES = ("socialraadgiver", "psykolog", "bup-laege", "praktiserende-laege")
COUNT = re.compile(r"^(0|<5|–|[1-9]\d{0,2}(\.\d{3})*)$")  # as the Danish pages write counts
SHARE = re.compile(r"^(<5|–|\d{1,3},\d %|\d{1,3} %)$")


# -- the database, the app, a login ------------------------------------------------------------


@pytest.fixture(scope="module")
def follow_up_engine(
    server_url: str, template_name: str, test_population: Population
) -> Iterator[Engine]:
    """The test population in a database of its own (the pages commit log rows), with
    snapshots taken on three days."""
    name = f"paatvaers_quality_{uuid.uuid4().hex[:10]}"
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_name}")
    engine = make_engine(make_url(server_url).set(database=name).render_as_string(False))
    try:
        replace_population(engine, test_population, population_report(test_population))
        for days_ago in (2, 1, 0):
            with Session(engine) as session, session.begin():
                take_snapshot(session, gather(session, now=NOW - timedelta(days=days_ago)))
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def client(follow_up_engine: Engine) -> Iterator[TestClient]:
    url = follow_up_engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, demo_mode=True, session_secret="quality-tests-only")
    with TestClient(create_app(settings, follow_up_engine, clock=lambda: NOW)) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def log_in(client: TestClient, username: str) -> str:
    """Log in as a demo user; the path the login ends on."""
    landing = client.get("/")
    answer = client.post("/log-ind/demo", data={"username": username, "csrf": _csrf(landing.text)})
    assert answer.status_code == 200, answer.text[:300]
    return answer.url.path


def _views(engine: Engine, since: int) -> list[AccessEventRow]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(AccessEventRow)
                .where(AccessEventRow.id > since, AccessEventRow.purpose == QUALITY_PURPOSE)
                .order_by(AccessEventRow.id)
            )
        )


def _last_event(engine: Engine) -> int:
    with Session(engine) as session:
        return max(session.scalars(select(AccessEventRow.id)), default=0)


# -- reading a page: every value that says what kind it is --------------------------------------


@dataclass
class Marked:
    kind: str
    text: str
    tag: str


class PageValues(HTMLParser):
    """The text of every element with `data-kind`, the table cells and SVG labels without
    one, every `<5` shown as a count, the alerts' texts, and the links."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[Marked] = []
        self.unmarked: list[str] = []  # a <td> or an SVG <text> that does not say its kind
        self.links: list[str] = []
        self.alerts: list[str] = []
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))
        kind = attributes.get("data-kind")
        if kind is not None or tag in ("td", "text") or "data-alert" in attributes:
            self._open.append((tag, kind if "data-alert" not in attributes else "alert", []))

    def handle_data(self, data: str) -> None:
        for _, _, texts in self._open:
            texts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            return
        _, kind, texts = self._open.pop()
        text = " ".join("".join(texts).split())
        if kind == "alert":
            self.alerts.append(text)
        elif kind is None:
            self.unmarked.append(f"<{tag}>{text}")
        else:
            self.marked.append(Marked(kind, text, tag))


def values_of(html: str) -> PageValues:
    parsed = PageValues()
    parsed.feed(html)
    return parsed


def small_counts(page: PageValues) -> list[str]:
    """Every count on the page that is not 0, "<5", "–" or 5 or more, as the page wrote it."""
    wrong = []
    for value in page.marked:
        if value.kind != "count":
            continue
        if not COUNT.match(value.text) or value.text in {"1", "2", "3", "4"}:
            wrong.append(value.text)
    return wrong


def test_the_check_finds_a_small_count_where_one_is_shown() -> None:
    """The checker itself: a count of 3 in a cell or a chart label is caught, a share of
    3,0 % or an hour count of 3 is not a count, and a cell without a kind is reported."""
    page = values_of(
        '<table><tr><td data-kind="count">3</td><td data-kind="count">1.234</td>'
        '<td data-kind="share">3,0 %</td><td data-kind="hours">3,0</td><td>2</td></tr></table>'
        '<svg><text data-kind="count">4</text><text data-kind="count">&lt;5</text></svg>'
    )
    assert small_counts(page) == ["3", "4"]
    assert page.unmarked == ["<td>2"]


# -- who may see it -----------------------------------------------------------------------------


def test_no_data_flow_names_the_operations_role() -> None:
    assert all(EmployeeFunction.DRIFT not in f.functions for f in load_policy().flows.values())


def test_the_operations_role_starts_at_the_follow_up(client: TestClient) -> None:
    assert log_in(client, "drift") == "/opfoelgning"
    page = client.get("/opfoelgning")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<a href="/opfoelgning?lang=da">Opfølgning</a>' in page.text
    assert 'href="/post' not in page.text  # the function reads no post
    assert 'role="alert"' in page.text  # nothing was ingested: the sources are stale
    assert client.get("/mine", follow_redirects=False).headers["location"] == (
        "/opfoelgning?lang=da"
    )


@pytest.mark.parametrize("username", CARE_ROLES)
def test_every_other_role_is_refused_and_the_refusal_logged(
    client: TestClient, follow_up_engine: Engine, username: str
) -> None:
    log_in(client, username)
    assert "/opfoelgning" not in client.get("/mine").text  # no link in the navigation
    before = _last_event(follow_up_engine)
    paths = ("/opfoelgning", "/opfoelgning/sager?under=DK-81", "/opfoelgning.csv")
    for path in paths:
        refused = client.get(path)
        assert refused.status_code == 403
        assert "Ingen adgang til opfølgningen" in refused.text
        assert "Forsøget er skrevet i adgangsloggen" in refused.text
        assert "Hele landet" not in refused.text
    logged = _views(follow_up_engine, before)
    assert [(e.decision, e.record_ids, e.username) for e in logged] == [
        ("deny", ["quality:oversigt"], username),
        ("deny", ["quality:sager?under=DK-81"], username),
        ("deny", ["quality:csv"], username),
    ]
    assert all(e.child_cpr is None and e.data_flow is None for e in logged)


def test_without_a_login_the_pages_lead_to_the_landing_page(client: TestClient) -> None:
    for path in ("/opfoelgning", "/opfoelgning/sager", "/opfoelgning.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_every_view_is_logged_with_the_page_and_no_child(
    client: TestClient, follow_up_engine: Engine
) -> None:
    log_in(client, "drift")
    before = _last_event(follow_up_engine)
    for path in (
        "/opfoelgning",
        "/opfoelgning/sager?under=DK-84",
        "/opfoelgning/sager?niveau=kommune",
        "/opfoelgning.csv?afsnit=aftaler",
        "/opfoelgning/findes-ikke",
    ):
        client.get(path)
    logged = _views(follow_up_engine, before)
    assert [(e.decision, e.record_ids, e.action) for e in logged] == [
        ("permit", ["quality:oversigt"], "decide"),
        ("permit", ["quality:sager?under=DK-84"], "decide"),
        ("permit", ["quality:sager?niveau=kommune"], "decide"),
        ("permit", ["quality:csv:aftaler"], "decide"),
        ("permit", ["quality:findes-ikke"], "decide"),
    ]
    assert {(e.username, e.employee_function) for e in logged} == {("drift", "drift")}
    assert all(e.child_cpr is None and e.data_flow is None for e in logged)


# -- the CSV ------------------------------------------------------------------------------------


def test_the_csv_download_is_the_reports_csv(client: TestClient, follow_up_engine: Engine) -> None:
    log_in(client, "drift")
    everything = client.get("/opfoelgning.csv")
    one = client.get("/opfoelgning.csv", params={"afsnit": "sager"})
    with Session(follow_up_engine) as session:
        report = build_report(session, now=NOW)
    assert everything.status_code == 200
    assert everything.headers["content-type"] == "text/csv; charset=utf-8"
    assert everything.headers["content-disposition"] == (
        'attachment; filename="opfoelgning-2026-11-26.csv"'
    )
    assert everything.text == to_csv(report)
    assert one.headers["content-disposition"] == (
        'attachment; filename="opfoelgning-sager-2026-11-26.csv"'
    )
    assert one.text == to_csv(report, ["sager"])
    assert client.get("/opfoelgning.csv", params={"afsnit": "findes-ikke"}).status_code == 404


# -- drill-down ---------------------------------------------------------------------------------


def _row_links(html: str) -> dict[str, str]:
    """The rows' names in the table, with the key each links to (`?under=`)."""
    found = re.findall(
        r'<th scope="row"[^>]*><a href="\?under=([^&"]+)&amp;lang=da">([^<]+)</a>', html
    )
    return {name: parse_qs(f"under={key}")["under"][0] for key, name in found}


def test_drill_down_from_the_country_to_a_case_system(
    client: TestClient, test_population: Population
) -> None:
    log_in(client, "drift")
    country = client.get("/opfoelgning/sager").text
    assert "Hele landet</span> (i alt)</th>" in country
    assert _row_links(country) == {region.danish_name: region.value for region in Region}

    region = client.get("/opfoelgning/sager", params={"under": "DK-81"}).text
    in_region = {m.name: m.code for m in MUNICIPALITIES if m.region is Region.NORDJYLLAND}
    assert _row_links(region) == in_region
    assert 'aria-current="page">Region Nordjylland</span>' in region

    municipality = client.get("/opfoelgning/sager", params={"under": "0851"}).text
    systems = _row_links(municipality)
    aalborg = {str(u.cvr) for u in test_population.org_units if u.municipality_code == "0851"}
    expected = {c.source_system for c in test_population.cases if str(c.owner_cvr) in aalborg}
    assert set(systems) == expected and expected
    assert all(key.startswith("0851/") for key in systems.values())

    system = client.get("/opfoelgning/sager", params={"under": next(iter(systems.values()))})
    assert system.status_code == 200
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', system.text, re.S)
    assert crumbs is not None
    trail = ("Opfølgning", "Sagsleverancer (sagsindekset)", "Hele landet", "Region Nordjylland")
    for name in (*trail, "Aalborg"):
        assert f">{name}</a>" in crumbs.group(0)
    assert "Udvikling over tid" in system.text
    assert system.text.count('role="img"') == 2  # cases and hours since delivery, per day


def test_a_level_lists_every_row_of_it(client: TestClient) -> None:
    log_in(client, "drift")
    municipalities = client.get("/opfoelgning/sager", params={"niveau": "kommune"}).text
    assert len(_row_links(municipalities)) == len(MUNICIPALITIES)
    assert client.get("/opfoelgning/sager", params={"niveau": "galakse"}).status_code == 404
    assert client.get("/opfoelgning/sager", params={"under": "0000"}).status_code == 404
    assert client.get("/opfoelgning/findes-ikke").status_code == 404


def test_charts_have_a_title_a_description_and_their_figures_in_a_table(
    client: TestClient,
) -> None:
    log_in(client, "drift")
    page = client.get("/opfoelgning").text
    charts = re.findall(r'<svg class="chart-svg"[^>]*aria-labelledby="([^"]+)"', page)
    assert len(charts) == 3  # unmarked share and cases by region, municipalities over time
    for labels in charts:
        title, description = labels.split()
        assert f'<title id="{title}">' in page and f'<desc id="{description}">' in page
    assert page.count('<details class="chart-figures">') == 3
    assert "<script" not in page.split("</head>")[1]  # drawn on the server


def test_the_pages_are_in_english_on_request(client: TestClient) -> None:
    log_in(client, "drift")
    page = client.get("/opfoelgning", params={"lang": "en"})
    assert "Follow-up on data, correspondence and rollout" in page.text
    section = client.get("/opfoelgning/sager", params={"under": "DK-84", "lang": "en"}).text
    assert 'href="/opfoelgning/sager?under=DK-84&amp;lang=da"' in section  # the language switch


# -- no count of 1–4 on any page ----------------------------------------------------------------


def _crawl(client: TestClient) -> dict[str, str]:
    """Every page of the follow-up reachable from the overview: each section, each level and
    each row drilled into, in Danish."""
    seen: dict[str, str] = {}
    queue = ["/opfoelgning"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        answer = client.get(path)
        assert answer.status_code == 200, path
        seen[path] = answer.text
        for link in values_of(answer.text).links:
            target = urljoin(f"http://testserver{path}", link.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.path.startswith("/opfoelgning/") or parts.path == "/opfoelgning":
                query = "&".join(q for q in parts.query.split("&") if not q.startswith("lang="))
                queue.append(parts.path + (f"?{query}" if query else ""))
    return seen


def test_no_page_of_the_dashboard_renders_a_count_between_1_and_4(
    client: TestClient, test_population: Population
) -> None:
    log_in(client, "drift")
    pages = _crawl(client)
    assert len(pages) > 98  # the overview, every section, level, region, municipality, system

    suppressed = Counter[str]()
    for path, html in pages.items():
        page = values_of(html)
        assert page.unmarked == [], f"{path}: values that do not say their kind"
        assert small_counts(page) == [], f"{path}: counts of 1–4"
        shares = [v.text for v in page.marked if v.kind == "share"]
        assert all(SHARE.match(s) or s.startswith("Grænse") for s in shares), (path, shares)
        for alert in page.alerts:
            assert not re.search(r"(?<![\d.,])[1-4](?![\d.,])", alert), (path, alert)
        suppressed[path] = sum(v.text == "<5" for v in page.marked if v.kind == "count")

    # The population is small: the pages must show its small counts, suppressed.
    assert sum(suppressed.values()) > 100
    children = Counter(c.municipality_code for c in test_population.children)
    few = sorted(code for code, n in children.items() if 1 <= n <= 4)
    assert few, "the population has no municipality with 1–4 children"
    organisation = next(m for m in MUNICIPALITIES if m.code == few[0])
    region_page = pages[f"/opfoelgning/sager?under={organisation.region.value}"]
    row = re.search(rf">{re.escape(organisation.name)}</a></th>(.*?)</tr>", region_page, re.S)
    assert row is not None
    assert row.group(1).rstrip().endswith('data-kind="count">&lt;5</td>')  # Børn i CPR: <5


def test_the_operations_role_reads_no_post_and_has_no_meetings_or_notices(
    client: TestClient, follow_up_engine: Engine
) -> None:
    """Its login sits in a family department, whose post it must not see: only functions
    that may write about a child read the unit's threads."""
    with Session(follow_up_engine) as session, session.begin():
        address_book.register_known_units(session, datetime.now(UTC))
    log_in(client, "socialraadgiver")
    assert client.get("/post").status_code == 200  # the unit reads its post here
    links = client.get("/mine").text
    assert all(f'href="/{path}?lang=da"' in links for path in ("post", "moeder", "notifikationer"))
    client.cookies.clear()
    log_in(client, "drift")
    inbox = client.get("/post")
    assert inbox.status_code == 403
    follow_up = client.get("/opfoelgning").text
    assert all(f'href="/{path}' not in follow_up for path in ("post", "moeder", "notifikationer"))
