"""The quality follow-up's pages (issue #8, items 4 and 5): `/opfoelgning`, the overview with
the alerts, key figures and charts; `/opfoelgning/{section}`, one section of the report with
drill-down from the country to a region or municipality and on to a case system
(`?under=<row key>`, or every row of one level with `?niveau=`), and trends from the daily
snapshots; `/opfoelgning.csv`, the report as CSV (`?afsnit=` for one section).

Only the operations role may see them. Every view, and every refusal, is written to the access
log (`quality.access_log.record_view`) and committed before the answer leaves; if the log
cannot be written, nothing is shown. The pages show the report's sections, which suppress
every count of 1–4 when they are built, and the snapshots' trends, suppressed on the way
out; nothing here counts anything itself, so no page can show a count the report did not.

Building the report takes seconds on a national population, so each process keeps one for a
few minutes (`ReportCache`). It holds aggregates only, the same for every permitted viewer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from paatvaers.access.identity import Principal
from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.quality import snapshots
from paatvaers.quality.access_log import record_view
from paatvaers.quality.alerts import Alert, AlertCode, municipality_name, region_name
from paatvaers.quality.report import (
    COUNTRY,
    Column,
    ColumnKind,
    QualityReport,
    Row,
    Section,
    Shown,
    build_report,
    to_csv,
)
from paatvaers.web import quality_charts as charts
from paatvaers.web.auth import current_principal
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.i18n import Language, translator
from paatvaers.web.rendering import danish_time, page, templates

router = APIRouter()

# The functions that follow up on the platform; no data flow names them (data_flows.toml).
STEERING_FUNCTIONS = frozenset({EmployeeFunction.DRIFT})
REPORT_MAX_AGE = timedelta(minutes=5)
OVERVIEW = "/opfoelgning"
MAX_VIEW = 200  # a logged view names the page asked for, but not without end

OptionalQuery = Annotated[str | None, Query()]


def follows_up(principal: Principal) -> bool:
    """Whether the user may see the follow-up: decides the pages and the navigation link."""
    return principal.function in STEERING_FUNCTIONS


templates.env.globals["follows_up"] = follows_up


# -- the report, cached per process -------------------------------------------------------------


class ReportCache:
    """One report per process, rebuilt when older than `max_age`. Keyed by nothing: it holds
    only aggregates, suppressed, and every permitted viewer sees the same figures."""

    def __init__(
        self, max_age: timedelta = REPORT_MAX_AGE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age.total_seconds()
        self.clock = clock  # seconds, for ages only: the app's own clock may stand still
        self._lock = threading.Lock()
        self._report: QualityReport | None = None
        self._built_at = 0.0

    def get(self, build: Callable[[], QualityReport]) -> QualityReport:
        # One build at a time: a request arriving during a build waits for it, not repeats it.
        with self._lock:
            if self._report is None or self.clock() - self._built_at > self.max_age:
                self._report = build()
                self._built_at = self.clock()
            return self._report


def current_report(request: Request) -> QualityReport:
    """The cached report, built in a session of its own at the app's "now"."""
    state = request.app.state

    def build() -> QualityReport:
        with state.session_factory() as session:
            return build_report(session, now=state.clock())

    cache: ReportCache = state.quality_reports
    return cache.get(build)


# -- who may look, and the log ------------------------------------------------------------------


def _viewer(request: Request, db: Session, lang: Language, view: str) -> Principal | Response:
    """The principal, with the view logged; or the refusal page, with the refusal logged
    and committed. A permitted view's log row is committed by the caller with its reads."""
    principal = current_principal(request, db)
    permitted = follows_up(principal)
    record_view(db, principal, view[:MAX_VIEW], permitted=permitted)
    if permitted:
        return principal
    db.commit()
    return page(request, "quality_notice.html", lang, 403, principal=principal)


def _not_found(request: Request, db: Session, lang: Language, principal: Principal) -> Response:
    db.commit()  # the view was logged; what it asked for does not exist
    return page(request, "quality_notice.html", lang, 404, principal=principal, missing=True)


# -- showing values -----------------------------------------------------------------------------


def shown_text(value: Shown, kind: ColumnKind, lang: Language) -> str:
    """A shown value as the page writes it: Danish (or English) number formats, local time;
    "<5" and texts as they are, "–" for nothing."""
    if isinstance(value, bool):
        return _FLAGS[lang][value]
    if isinstance(value, int | float) and kind is not ColumnKind.YEAR:
        return _number_text(value, kind, lang)
    if isinstance(value, datetime | date):
        return danish_time(value, "%d.%m.%Y %H:%M" if isinstance(value, datetime) else "%d.%m.%Y")
    return "–" if value is None else str(value)


def _number_text(value: int | float, kind: ColumnKind, lang: Language) -> str:
    if kind is ColumnKind.SHARE:
        return _decimal(float(value), lang) + " %"
    if isinstance(value, float):
        return _decimal(value, lang)
    return _grouped(value, lang)


_FLAGS = {Language.DA: {True: "Ja", False: "Nej"}, Language.EN: {True: "Yes", False: "No"}}
_KIND_ATTRIBUTE = {
    ColumnKind.COUNT: "count",
    ColumnKind.SHARE: "share",
    ColumnKind.TIME: "time",
    ColumnKind.HOURS: "hours",
    ColumnKind.YEAR: "year",
    ColumnKind.FLAG: "flag",
    ColumnKind.TEXT: "text",
}


def _decimal(value: float, lang: Language) -> str:
    text = f"{value:,.1f}"
    return text.translate(_DANISH_DIGITS) if lang is Language.DA else text


def _grouped(value: int, lang: Language) -> str:
    text = f"{value:,}"
    return text.translate(_DANISH_DIGITS) if lang is Language.DA else text


_DANISH_DIGITS = str.maketrans({",": ".", ".": ","})


def _tick_text(lang: Language) -> charts.Format:
    def text(scale: charts.Scale, value: float) -> str:
        if scale is charts.Scale.SHARE:
            return f"{value:g}".replace(".", "," if lang is Language.DA else ".") + " %"
        return _grouped(round(value), lang)

    return text


def _writer(kind: ColumnKind, lang: Language) -> Callable[[Shown], str]:
    return lambda value: shown_text(value, kind, lang)


templates.env.filters["quality_value"] = lambda value, kind, lang: shown_text(
    value, kind, Language.parse(lang)
)
templates.env.filters["data_kind"] = lambda kind: _KIND_ATTRIBUTE[kind]


# -- drill-down ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drill:
    """Where a section page stands: the row drilled into (if any), the rows under it, the
    path from the top, and the levels one may list."""

    current: Row | None
    label: str | None  # the name of what is drilled into, also when it is no row here
    rows: tuple[Row, ...]
    trail: tuple[Row, ...]
    levels: tuple[str, ...]
    level: str | None
    parents: frozenset[str]  # keys that have rows under them: those rows link further


def drill(section: Section, under: str | None, level: str | None) -> Drill | None:
    """The drill-down for `?under=` or `?niveau=`; None when the section has no such row or
    level. Without either, a section with a country row starts there."""
    parents = frozenset(r.parent for r in section.rows if r.parent is not None)
    levels = tuple(dict.fromkeys(r.level for r in section.rows))
    keys = {r.key for r in section.rows}
    if under is None and level is None and COUNTRY in keys and COUNTRY in parents:
        under = COUNTRY
    if level is not None:
        rows = tuple(r for r in section.rows if r.level == level)
        return Drill(None, None, rows, (), levels, level, parents) if rows else None
    if under is None:
        return Drill(None, None, section.rows, (), levels, None, parents)
    if under not in keys and under not in parents:
        return None
    current = section.row(under) if under in keys else None
    trail = _trail(section, current) if current else ()
    label = _label(current, trail) if current else _name_of(under)
    return Drill(current, label, section.children(under), trail, levels, None, parents)


def _label(row: Row, trail: tuple[Row, ...]) -> str:
    """A row's name; a case system's with its municipality's, as the alerts name it."""
    if row.level == "kildesystem" and trail:
        return f"{trail[-1].name} · {row.name}"
    return row.name


def _name_of(key: str) -> str:
    """A region's or municipality's name for a key that is a parent but no row of its own."""
    return region_name(key) if key.startswith("DK-") else municipality_name(key)


def _trail(section: Section, row: Row) -> tuple[Row, ...]:
    """The rows from the top down to `row`'s parent."""
    keys = {r.key: r for r in section.rows}
    trail: list[Row] = []
    parent = row.parent
    while parent is not None and parent in keys and len(trail) < len(keys):
        trail.insert(0, keys[parent])
        parent = keys[parent].parent
    return tuple(trail)


# -- charts -------------------------------------------------------------------------------------

# The column a section's bar chart shows, where the first share or count would not be the best.
CHART_COLUMN = {"udrulning": "tilsluttet", "udrulningsmaal": "andel_tilsluttet"}
# Sections whose snapshot has a subject for each of their rows: (snapshot section, metrics).
TRENDS: dict[str, tuple[str, tuple[tuple[str, charts.Scale], ...]]] = {
    "kilder": ("sources", (("records", charts.Scale.COUNT), ("lag_hours", charts.Scale.HOURS))),
    "sager": ("cases", (("cases", charts.Scale.COUNT), ("lag_hours", charts.Scale.HOURS))),
    "organisation": (
        "municipalities",
        (("units", charts.Scale.COUNT), ("units_without_phone", charts.Scale.COUNT)),
    ),
    "aftaler": (
        "appointments",
        (("appointments", charts.Scale.COUNT), ("unmarked", charts.Scale.COUNT)),
    ),
    "korrespondance-typer": (
        "correspondence",
        (("sent", charts.Scale.COUNT), ("failed", charts.Scale.COUNT)),
    ),
    "udrulning": (
        "rollout",
        (("connected", charts.Scale.COUNT), ("delivering", charts.Scale.COUNT)),
    ),
}
_SCALE_KIND = {
    charts.Scale.COUNT: ColumnKind.COUNT,
    charts.Scale.SHARE: ColumnKind.SHARE,
    charts.Scale.HOURS: ColumnKind.HOURS,
}


def _chart_column(section: Section) -> Column | None:
    """The column a section's bar chart shows: the one chosen for it, else its first share,
    else its first count."""
    wanted = CHART_COLUMN.get(section.key)
    if wanted is not None:
        return next((c for c in section.columns if c.key == wanted), None)
    shares = [c for c in section.columns if c.kind is ColumnKind.SHARE]
    counts = [c for c in section.columns if c.kind is ColumnKind.COUNT]
    return next(iter(shares + counts), None)


def _limit(report: QualityReport, section: Section, column: Column) -> float | None:
    """The threshold a bar chart shows as a line: the unmarked share of appointments."""
    if section.key == "aftaler" and column.key == "andel_uden_markering":
        return 100 * report.thresholds.unmarked_share
    return None


def bars(
    report: QualityReport,
    section: Section,
    rows: Sequence[Row],
    lang: Language,
    title: str | None = None,
    column: Column | None = None,
) -> charts.BarChart | None:
    column = column or _chart_column(section)
    if column is None:
        return None
    return charts.bar_chart(
        f"diagram-{section.key}-{column.key}",
        title or column.title,
        charts.SCALE_OF[column.kind],
        [(r.name, r.get(column.key)) for r in rows],
        _writer(column.kind, lang),
        _tick_text(lang),
        _limit(report, section, column),
    )


def trend_chart(
    db: Session,
    chart_id: str,
    title: str,
    series: tuple[str, str, str],
    scale: charts.Scale,
    lang: Language,
) -> charts.LineChart | None:
    """One figure of the snapshots over the days, as a line."""
    points = snapshots.trend(db, *series)
    return charts.line_chart(
        chart_id,
        title,
        scale,
        [(p.day, p.value) for p in points],
        _writer(_SCALE_KIND[scale], lang),
        _tick_text(lang),
        danish_time,
    )


def trends(
    db: Session, section: Section, place: Drill, lang: Language, t: Callable[[str], str]
) -> list[charts.LineChart]:
    """The trends of the row drilled into, when the snapshots keep it as a subject."""
    row = place.current
    if row is None or section.key not in TRENDS:
        return []
    snapshot_section, metrics = TRENDS[section.key]
    found = (
        trend_chart(
            db,
            f"trend-{section.key}-{metric}",
            f"{t('trend_' + metric)}: {place.label}",
            (snapshot_section, row.key, metric),
            scale,
            lang,
        )
        for metric, scale in metrics
    )
    return [chart for chart in found if chart is not None]


# -- the overview -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyFigure:
    label: str  # i18n key
    section: str
    value: Shown
    kind: ColumnKind
    of: Shown = None  # the whole it is a part of, when that says more


# (i18n key, section, row, column, the column of the whole)
KEY_FIGURES = (
    ("kf_children", "sager", COUNTRY, "boern", None),
    ("kf_cases", "sager", COUNTRY, "sager", None),
    ("kf_appointments", "aftaler", COUNTRY, "aftaler", None),
    ("kf_unmarked", "aftaler", COUNTRY, "andel_uden_markering", None),
    ("kf_municipalities_connected", "udrulning", "kommune", "tilsluttet", "i_alt"),
    ("kf_municipalities_delivering", "udrulning", "kommune", "leverer", "i_alt"),
    ("kf_clinics_connected", "udrulning", "klinik", "tilsluttet", "i_alt"),
)


def key_figures(report: QualityReport) -> list[KeyFigure]:
    figures = []
    for label, key, row_key, column_key, whole in KEY_FIGURES:
        section = report.section(key)
        column = _column(section, column_key)
        row = section.row(row_key)
        figures.append(
            KeyFigure(
                label, key, row.get(column_key), column.kind, row.get(whole) if whole else None
            )
        )
    return figures


def alert_links(report: QualityReport) -> list[tuple[Alert, str | None]]:
    """Each alert with the page that shows the figures it is about (None when the report has
    no row for its subject any more, e.g. a case system that stopped delivering altogether)."""
    linked = []
    for alert in report.alerts:
        key = _ALERT_SECTIONS.get(alert.code, "sager")
        found = alert.subject in {r.key for r in report.section(key).rows}
        href = f"{OVERVIEW}/{key}?{urlencode({'under': alert.subject})}" if found else None
        linked.append((alert, href))
    return linked


_ALERT_SECTIONS = {
    AlertCode.SOURCE_FAILED: "kilder",
    AlertCode.SOURCE_STALE: "kilder",
    AlertCode.QUARANTINE: "kilder",
    AlertCode.UNITS_WITHOUT_CONTACT: "organisation",
    AlertCode.APPOINTMENTS_STOPPED: "aftaler",
    AlertCode.UNMARKED_SHARE: "aftaler",
    AlertCode.INCONSISTENT_SHARE: "aftaler",
    AlertCode.UNKNOWN_SOR: "aftaler",
}


@router.get(OVERVIEW)
def overview(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    viewer = _viewer(request, db, lang, "oversigt")
    if isinstance(viewer, Response):
        return viewer
    report = current_report(request)
    t = translator(lang)
    appointments, cases = report.section("aftaler"), report.section("sager")
    charts_shown = [
        bars(report, appointments, appointments.children(COUNTRY), lang, t("chart_unmarked")),
        bars(
            report, cases, cases.children(COUNTRY), lang, t("chart_cases"), _column(cases, "sager")
        ),
    ]
    rollout = trend_chart(
        db,
        "trend-udrulning",
        t("chart_rollout"),
        ("rollout", "kommune", "connected"),
        charts.Scale.COUNT,
        lang,
    )
    db.commit()  # the view's log row, before anything is shown
    return page(
        request,
        "quality_overview.html",
        lang,
        principal=viewer,
        report=report,
        alerts=alert_links(report),
        figures=key_figures(report),
        bar_charts=[c for c in charts_shown if c is not None],
        rollout=rollout,
        lang_path=OVERVIEW,
    )


def _column(section: Section, key: str) -> Column:
    return next(c for c in section.columns if c.key == key)


# -- the CSV ------------------------------------------------------------------------------------


@router.get(OVERVIEW + ".csv")
def csv_export(
    request: Request, db: SessionDep, lang: LanguageDep, afsnit: OptionalQuery = None
) -> Response:
    viewer = _viewer(request, db, lang, f"csv:{afsnit}" if afsnit else "csv")
    if isinstance(viewer, Response):
        return viewer
    report = current_report(request)
    if afsnit is not None and afsnit not in {s.key for s in report.sections}:
        return _not_found(request, db, lang, viewer)
    body = to_csv(report, [afsnit] if afsnit else None)
    db.commit()  # the view's log row, before the file leaves
    day = danish_time(report.generated_at, "%Y-%m-%d")
    name = f"opfoelgning-{afsnit}-{day}.csv" if afsnit else f"opfoelgning-{day}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# -- a section ----------------------------------------------------------------------------------


@router.get(OVERVIEW + "/{key}")
def section_page(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    under: OptionalQuery = None,
    niveau: OptionalQuery = None,
) -> Response:
    asked = "&".join(f"{k}={v}" for k, v in (("under", under), ("niveau", niveau)) if v)
    viewer = _viewer(request, db, lang, f"{key}?{asked}" if asked else key)
    if isinstance(viewer, Response):
        return viewer
    report = current_report(request)
    section = next((s for s in report.sections if s.key == key), None)
    place = drill(section, under, niveau) if section is not None else None
    if section is None or place is None:
        return _not_found(request, db, lang, viewer)
    t = translator(lang)
    leaf = place.current is not None and not place.rows
    chart = None if leaf else bars(report, section, place.rows, lang, _chart_title(section, place))
    lines = trends(db, section, place, lang, t)
    db.commit()  # the view's log row, before anything is shown
    return page(
        request,
        "quality_section.html",
        lang,
        principal=viewer,
        report=report,
        section=section,
        place=place,
        columns=shown_columns(section, place),
        leaf=leaf,
        chart=chart,
        trends=lines,
        drills=section.key in TRENDS,
        lang_path=_here(key, under, niveau),
    )


def shown_columns(section: Section, place: Drill) -> tuple[Column, ...]:
    """The columns any shown row has a value for: a country row has no case system."""
    rows = (*place.rows, *((place.current,) if place.current else ()))
    return tuple(c for c in section.columns if any(c.key in r.values for r in rows))


def _chart_title(section: Section, place: Drill) -> str | None:
    column = _chart_column(section)
    if column is None:
        return None
    return f"{column.title}: {place.label}" if place.label else column.title


def _here(key: str, under: str | None, level: str | None) -> str:
    """This page's address without the language, for the language switch."""
    query = {k: v for k, v in (("under", under), ("niveau", level)) if v}
    return f"{OVERVIEW}/{key}" + (f"?{urlencode(query)}" if query else "")
