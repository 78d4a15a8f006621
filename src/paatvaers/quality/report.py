"""The quality report: the one structure the dashboard pages, the CLI and the CSV share.

A `QualityReport` is a list of `Section`s (Danish titles and column headers) whose rows carry
a level and a key (`DK` → region code → municipality code → `<municipality>/<system>`), so
pages can drill down from the country to a region or municipality and on to a case system.

Suppression is applied here, once: a `Section` runs every count column through `suppress`
and every share column through `Share.shown` when it is built, whoever builds it. The raw
figures (`Inputs`) never leave this module's callers' hands as shown values; only the
snapshot stores them raw, and `snapshots.trend` suppresses on the way out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import cast

from sqlalchemy.orm import Session

from paatvaers.domain.geography import MUNICIPALITIES, Region, municipality
from paatvaers.domain.organisations import UnitKind
from paatvaers.quality import correspondence, metrics, rollout, snapshots
from paatvaers.quality.alerts import (
    DEFAULT_THRESHOLDS,
    Alert,
    Thresholds,
    case_subject,
    evaluate,
    municipality_key,
    municipality_name,
    region_key,
    region_name,
    source_name,
)
from paatvaers.quality.correspondence import KindAvailability, UnitAvailability
from paatvaers.quality.metrics import CaseDelivery, Figures, RegionAppointments
from paatvaers.quality.rollout import Rollout, RolloutPlan, RolloutStatus, load_plan
from paatvaers.quality.snapshots import LOCAL_TIME_ZONE, ProgressPoint, local_day
from paatvaers.quality.suppression import SUPPRESSED, Share, suppress

COUNTRY = "DK"
UNKNOWN_REGION = "ukendt"


class ColumnKind(StrEnum):
    TEXT = "tekst"
    COUNT = "antal"  # suppressed: 0, 5 or more, or "<5"
    SHARE = "andel"  # per cent, suppressed like its counts
    TIME = "tidspunkt"
    HOURS = "timer"
    YEAR = "år"
    FLAG = "ja/nej"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str  # Danish
    kind: ColumnKind = ColumnKind.TEXT


Shown = int | float | str | bool | datetime | date | None


@dataclass(frozen=True, slots=True)
class Row:
    level: str  # 'land', 'region', 'kommune', 'kildesystem', 'enhed', 'kilde', …
    key: str
    name: str
    values: Mapping[str, object]  # in a Section: shown values (`Shown`), suppressed
    parent: str | None = None  # the key of the row one level up, for drill-down

    def get(self, column: str) -> Shown:
        """The shown value of `column` (None when the row has none)."""
        return cast(Shown, self.values.get(column))


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    description: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]

    def __post_init__(self) -> None:
        # The one place suppression is applied: no section holds a count of 1–4.
        kinds = {c.key: c.kind for c in self.columns}
        unknown = {k for r in self.rows for k in r.values} - set(kinds)
        if unknown:
            raise ValueError(f"section {self.key}: values for unknown columns {sorted(unknown)}")
        shown = tuple(
            Row(
                r.level,
                r.key,
                r.name,
                {k: _shown(kinds[k], v) for k, v in r.values.items()},
                r.parent,
            )
            for r in self.rows
        )
        object.__setattr__(self, "rows", shown)

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def value(self, row_key: str, column: str) -> Shown:
        return self.row(row_key).get(column)

    def children(self, parent: str | None) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.parent == parent)


def _shown(kind: ColumnKind, value: object) -> Shown:
    if value is None:
        return None
    if value == SUPPRESSED and kind in _SUPPRESSIBLE:
        return SUPPRESSED  # shown once already (a section rebuilt)
    if kind is ColumnKind.COUNT:
        return _count(value)
    if kind is ColumnKind.SHARE:
        return _share(value)
    if kind is ColumnKind.HOURS and isinstance(value, int | float):
        return round(float(value), 1)
    assert isinstance(value, int | float | str | bool | datetime | date)  # noqa: S101
    return value


_SUPPRESSIBLE = (ColumnKind.COUNT, ColumnKind.SHARE)


def _count(value: object) -> Shown:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"a count must be an int, not {value!r}")
    return suppress(value)


def _share(value: object) -> Shown:
    if isinstance(value, Share):
        return value.shown()
    if isinstance(value, float):  # a per cent shown once already (a section rebuilt)
        return value
    raise TypeError(f"a share must be a Share, not {value!r}")


@dataclass(frozen=True, slots=True)
class QualityReport:
    generated_at: datetime
    sections: tuple[Section, ...]
    alerts: tuple[Alert, ...]
    plan_status: str  # "illustrative" until the joint project's plan replaces the file
    thresholds: Thresholds = field(default=DEFAULT_THRESHOLDS)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


# -- gathering the raw figures -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inputs:
    """The raw figures a report and a snapshot are made from. Not for showing: counts here
    are not suppressed."""

    figures: Figures
    units: tuple[UnitAvailability, ...]
    kinds: tuple[KindAvailability, ...]
    rollout: Rollout
    alerts: tuple[Alert, ...]
    progress: tuple[ProgressPoint, ...]


def gather(
    session: Session,
    now: datetime | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    plan: RolloutPlan | None = None,
) -> Inputs:
    figures = metrics.compute(session, now)
    units = correspondence.availability(session)
    history = snapshots.history_before(session, local_day(figures.now))
    return Inputs(
        figures=figures,
        units=units,
        kinds=correspondence.by_kind(session, units),
        rollout=rollout.compute(session, figures, plan or load_plan()),
        alerts=evaluate(figures, thresholds, history),
        progress=snapshots.rollout_progress(session),
    )


def build_report(
    session: Session,
    now: datetime | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    plan: RolloutPlan | None = None,
) -> QualityReport:
    """The report of the data as the database holds them now."""
    return report_from(gather(session, now, thresholds, plan), thresholds)


def take_snapshot(session: Session, inputs: Inputs) -> tuple[date, int]:
    """Store today's snapshot (the day in Denmark), replacing one taken earlier today, in the
    caller's transaction; the day and how many figures were stored."""
    values = snapshots.values_of(inputs.figures, inputs.kinds, inputs.rollout, inputs.alerts)
    day = local_day(inputs.figures.now)
    return day, snapshots.store(session, day, values, inputs.figures.now)


def report_from(inputs: Inputs, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> QualityReport:
    f = inputs.figures
    return QualityReport(
        generated_at=f.now,
        sections=(
            _alert_section(inputs.alerts),
            _source_section(f),
            _quarantine_section(f),
            _case_section(f, thresholds.delivery_silence),
            _organisation_section(f),
            _contact_section(f),
            _appointment_section(f, thresholds.delivery_silence),
            _kind_section(inputs.kinds),
            _unit_section(inputs.units),
            _rollout_overview_section(inputs.rollout),
            _rollout_section(
                "udrulning-kommuner", "Udrulning: kommuner", inputs.rollout.municipalities
            ),
            _rollout_section("udrulning-regioner", "Udrulning: regioner", inputs.rollout.regions),
            _rollout_section(
                "udrulning-klinikker", "Udrulning: almen praksis", inputs.rollout.clinics
            ),
            _target_section(inputs.rollout),
            _progress_section(inputs.progress),
        ),
        alerts=inputs.alerts,
        plan_status=inputs.rollout.plan_status,
        thresholds=thresholds,
    )


# -- sections ----------------------------------------------------------------------------------


def _hours_since(now: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds() / 3600)


def _fresh(now: datetime, moment: datetime | None, silence: timedelta) -> bool:
    return moment is not None and now - moment <= silence


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _alert_section(alerts: tuple[Alert, ...]) -> Section:
    return Section(
        "alarmer",
        "Alarmer",
        "Tærskler der er overskredet; se docs/quality.md for hver alarm.",
        (
            Column("kode", "Alarm"),
            Column("niveau", "Niveau"),
            Column("tekst", "Beskrivelse"),
        ),
        tuple(
            Row(
                "alarm",
                f"{a.code.value}:{a.subject}",
                a.subject_name,
                {"kode": a.code.value, "niveau": a.level, "tekst": a.text},
            )
            for a in alerts
        ),
    )


_RUN_STATUS = {"completed": "gennemført", "failed": "fejlede", "running": "kører"}


def _source_section(f: Figures) -> Section:
    return Section(
        "kilder",
        "Kilder",
        "Seneste indlæsning fra hver national kilde, poster i platformen og i karantæne.",
        (
            Column("status", "Seneste kørsel"),
            Column("seneste", "Seneste gennemførte indlæsning", ColumnKind.TIME),
            Column("forsinkelse", "Timer siden", ColumnKind.HOURS),
            Column("poster", "Poster", ColumnKind.COUNT),
            Column("karantaene", "I karantæne", ColumnKind.COUNT),
            Column("fejl", "Fejl"),
        ),
        tuple(
            Row(
                "kilde",
                s.source,
                source_name(s.source),
                {
                    "status": _RUN_STATUS.get(s.last_run_status or "", "aldrig kørt"),
                    "seneste": s.last_completed_at,
                    "forsinkelse": _hours_since(f.now, s.last_completed_at),
                    "poster": s.records,
                    "karantaene": s.quarantined,
                    "fejl": s.last_error if s.last_run_status == "failed" else None,
                },
            )
            for s in f.sources
        ),
    )


def _quarantine_section(f: Figures) -> Section:
    return Section(
        "karantaene",
        "Karantæne: hyppigste årsager",
        "Poster der brød kildens regler, efter årsag (tal og citerede værdier udeladt).",
        (
            Column("kilde", "Kilde"),
            Column("aarsag", "Årsag"),
            Column("antal", "Poster", ColumnKind.COUNT),
        ),
        tuple(
            Row(
                "aarsag",
                f"{q.source}:{i}",
                q.reason,
                {"kilde": q.source, "aarsag": q.reason, "antal": q.count},
                parent=q.source,
            )
            for i, q in enumerate(f.quarantine_reasons, start=1)
        ),
    )


_CASE_COUNTS = (
    ("sager", "cases"),
    ("ppr_sager", "ppr_cases"),
    ("uden_enhed", "without_unit"),
    ("uden_behandler", "without_handler"),
    ("parter", "parties"),
    ("parter_ikke_i_cpr", "parties_not_in_cpr"),
)


def _case_values(
    deliveries: list[CaseDelivery], now: datetime, silence: timedelta, *, flag: bool
) -> dict[str, object]:
    last = _latest(d.last_delivery for d in deliveries)
    values: dict[str, object] = {
        column: sum(getattr(d, attribute) for d in deliveries) for column, attribute in _CASE_COUNTS
    }
    values["seneste"] = last
    values["forsinkelse"] = _hours_since(now, last)
    if flag:  # a municipality or a system delivers when every system of it does
        values["leverer"] = bool(deliveries) and all(
            _fresh(now, d.last_delivery, silence) for d in deliveries
        )
    return values


def _case_groups(by_municipality: Mapping[str, list[CaseDelivery]]) -> list[tuple[str, list[str]]]:
    """Each region's key with its municipalities' keys (all 98), and, when some cases have an
    owner no unit tells the municipality of, an unknown region holding those."""
    groups = [
        (region.value, [m.code for m in MUNICIPALITIES if m.region is region]) for region in Region
    ]
    unknown = sorted(key for key in by_municipality if key.startswith("cvr:"))
    return groups + ([(UNKNOWN_REGION, unknown)] if unknown else [])


def _case_section(f: Figures, silence: timedelta) -> Section:
    """Country → region → municipality (all 98, delivering or not) → case system."""
    by_municipality: dict[str, list[CaseDelivery]] = {}
    for d in f.cases:
        by_municipality.setdefault(municipality_key(d.municipality_code, d.owner_cvr), []).append(d)
    children = {m.code: m.children for m in f.municipalities}

    def row(level: str, key: str, name: str, of: list[str], parent: str | None) -> Row:
        deliveries = [d for code in of for d in by_municipality.get(code, [])]
        values = _case_values(deliveries, f.now, silence, flag=level == "kommune")
        return Row(
            level, key, name, {**values, "boern": sum(children.get(c, 0) for c in of)}, parent
        )

    groups = _case_groups(by_municipality)
    rows = [row("land", COUNTRY, "Hele landet", [c for _, codes in groups for c in codes], None)]
    for region, codes in groups:
        rows.append(row("region", region, region_name(region), codes, COUNTRY))
        for code in codes:
            rows.append(row("kommune", code, municipality_name(code), [code], region))
            rows.extend(
                Row(
                    "kildesystem",
                    case_subject(d),
                    d.system,
                    {**_case_values([d], f.now, silence, flag=True), "kildesystem": d.system},
                    parent=code,
                )
                for d in by_municipality.get(code, [])
            )
    return Section(
        "sager",
        "Sagsleverancer (sagsindekset)",
        "Pr. kommune og sagssystem: leverer det, hvornår senest, og hvor komplette er sagerne.",
        (
            Column("kildesystem", "Sagssystem"),
            Column("leverer", "Leverer", ColumnKind.FLAG),
            Column("seneste", "Seneste levering", ColumnKind.TIME),
            Column("forsinkelse", "Timer siden", ColumnKind.HOURS),
            Column("sager", "Sager", ColumnKind.COUNT),
            Column("ppr_sager", "PPR-sager", ColumnKind.COUNT),
            Column("uden_enhed", "Uden kendt ansvarlig enhed", ColumnKind.COUNT),
            Column("uden_behandler", "Uden primær behandler", ColumnKind.COUNT),
            Column("parter", "Sagsparter", ColumnKind.COUNT),
            Column("parter_ikke_i_cpr", "Parter ikke i CPR", ColumnKind.COUNT),
            Column("boern", "Børn i CPR", ColumnKind.COUNT),
        ),
        tuple(rows),
    )


def _organisation_section(f: Figures) -> Section:
    by_code = {m.code: m for m in f.municipalities}

    def values(codes: list[str]) -> dict[str, object]:
        figures = [by_code[c] for c in codes if c in by_code]
        return {
            "enheder": sum(m.units for m in figures),
            "uden_telefon": sum(m.units_without_phone for m in figures),
            "uden_email": sum(m.units_without_email for m in figures),
        }

    rows = [Row("land", COUNTRY, "Hele landet", values([m.code for m in MUNICIPALITIES]))]
    for region in Region:
        members = [m.code for m in MUNICIPALITIES if m.region is region]
        rows.append(Row("region", region.value, region.danish_name, values(members), COUNTRY))
        rows.extend(
            Row("kommune", code, municipality(code).name, values([code]), region.value)
            for code in members
        )
    return Section(
        "organisation",
        "Organisationsdata (FK Organisation)",
        "Kommunale enheder og deres kontaktdata, som kommunerne leverer til FK Organisation.",
        (
            Column("enheder", "Enheder", ColumnKind.COUNT),
            Column("uden_telefon", "Uden telefon", ColumnKind.COUNT),
            Column("uden_email", "Uden e-mail", ColumnKind.COUNT),
        ),
        tuple(rows),
    )


def _contact_section(f: Figures) -> Section:
    return Section(
        "kontaktdata",
        "Enheder uden telefon eller e-mail",
        "Enhederne der skal rettes i FK Organisation. Enheder er organisationer, ikke personer.",
        (
            Column("type", "Type"),
            Column("kommune", "Kommune"),
            Column("mangler_telefon", "Mangler telefon", ColumnKind.FLAG),
            Column("mangler_email", "Mangler e-mail", ColumnKind.FLAG),
        ),
        tuple(
            Row(
                "enhed",
                u.unit_id,
                u.name,
                {
                    "type": _KIND_NAMES.get(u.kind, u.kind),
                    "kommune": municipality_name(municipality_key(u.municipality_code, "?")),
                    "mangler_telefon": u.missing_phone,
                    "mangler_email": u.missing_email,
                },
                parent=u.municipality_code,
            )
            for u in f.units_missing_contact
        ),
    )


def _appointment_values(
    regions: list[RegionAppointments], now: datetime, silence: timedelta
) -> dict[str, object]:
    total = sum(r.appointments for r in regions)
    unmarked = sum(r.unmarked for r in regions)
    inconsistent = sum(r.inconsistent for r in regions)
    last = _latest(r.last_delivery for r in regions)
    return {
        "aftaler": total,
        "seneste": last,
        "forsinkelse": _hours_since(now, last),
        "leverer": bool(regions) and all(_fresh(now, r.last_delivery, silence) for r in regions),
        "uden_markering": unmarked,
        "andel_uden_markering": Share(unmarked, total),
        "inkonsistent": inconsistent,
        "andel_inkonsistent": Share(inconsistent, total),
        "ukendte_sor": sum(r.unknown_sor for r in regions),
    }


def _appointment_section(f: Figures, silence: timedelta) -> Section:
    by_region = {region_key(r.region): r for r in f.appointments}
    keys = [r.value for r in Region] + ([UNKNOWN_REGION] if UNKNOWN_REGION in by_region else [])
    rows = [
        Row(
            "land",
            COUNTRY,
            "Hele landet",
            _appointment_values(list(f.appointments), f.now, silence),
        )
    ]
    rows.extend(
        Row(
            "region",
            key,
            region_name(key),
            _appointment_values([by_region[key]] if key in by_region else [], f.now, silence),
            COUNTRY,
        )
        for key in keys
    )
    return Section(
        "aftaler",
        "Aftaler fra børne- og ungdomspsykiatrien (Aftaleoversigten)",
        "Pr. region: leverancer og markering af aftaler som børne- og ungdomspsykiatri.",
        (
            Column("leverer", "Leverer", ColumnKind.FLAG),
            Column("seneste", "Seneste levering", ColumnKind.TIME),
            Column("forsinkelse", "Timer siden", ColumnKind.HOURS),
            Column("aftaler", "Aftaler", ColumnKind.COUNT),
            Column("uden_markering", "Uden psykiatrimarkering", ColumnKind.COUNT),
            Column("andel_uden_markering", "Andel uden markering (%)", ColumnKind.SHARE),
            Column("inkonsistent", "Inkonsistent markering", ColumnKind.COUNT),
            Column("andel_inkonsistent", "Andel inkonsistent (%)", ColumnKind.SHARE),
            Column("ukendte_sor", "Ukendte SOR-koder", ColumnKind.COUNT),
        ),
        tuple(rows),
    )


_KIND_NAMES = {
    UnitKind.CHILD_FAMILY.value: "Børne- og familieafdeling",
    UnitKind.PPR.value: "PPR",
    UnitKind.BUP.value: "Børne- og ungdomspsykiatri",
    UnitKind.GP.value: "Almen praksis",
}
_TRANSPORTS = {"web": "Platformens webklient", "vans": "VANS", "http": "HTTP"}


def _kind_section(kinds: tuple[KindAvailability, ...]) -> Section:
    return Section(
        "korrespondance-typer",
        "Korrespondance pr. enhedstype",
        "Hvor mange enheder kan sende og modtage MedCom-korrespondance, og hvor platformens "
        "webklient træder til.",
        (
            Column("enheder", "Enheder i platformen", ColumnKind.COUNT),
            Column("i_adressebog", "I adressebogen", ColumnKind.COUNT),
            Column("modtager", "Modtager", ColumnKind.COUNT),
            Column("webklient", "Via platformens webklient", ColumnKind.COUNT),
            Column("kvitteringer", "Med kvitteringer set", ColumnKind.COUNT),
            Column("sendt", "Sendt til dem", ColumnKind.COUNT),
            Column("fejlet", "Fejlet", ColumnKind.COUNT),
            Column("fejlrate", "Fejlrate (%)", ColumnKind.SHARE),
        ),
        tuple(
            Row(
                "enhedstype",
                k.kind,
                _KIND_NAMES.get(k.kind, k.kind),
                {
                    "enheder": k.units,
                    "i_adressebog": k.in_address_book,
                    "modtager": k.receiving,
                    "webklient": k.web_client,
                    "kvitteringer": k.with_acknowledgements,
                    "sendt": k.sent,
                    "fejlet": k.failed,
                    "fejlrate": Share(k.failed, k.sent),
                },
            )
            for k in kinds
        ),
    )


def _unit_section(units: tuple[UnitAvailability, ...]) -> Section:
    return Section(
        "korrespondance",
        "Korrespondance pr. enhed (adressebogen)",
        "Hver enhed i adressebogen: GLN, hvordan beskeder når frem, kvitteringer og fejl.",
        (
            Column("type", "Type"),
            Column("kommune", "Kommune"),
            Column("region", "Region"),
            Column("sor", "SOR"),
            Column("gln", "GLN"),
            Column("transport", "Modtager via"),
            Column("modtager", "Modtager", ColumnKind.FLAG),
            Column("kvitteringer_ok", "Kvitteringer ok", ColumnKind.COUNT),
            Column("kvitteringer_fejl", "Kvitteringer med fejl", ColumnKind.COUNT),
            Column("sendt", "Sendt til enheden", ColumnKind.COUNT),
            Column("fejlet", "Fejlet", ColumnKind.COUNT),
            Column("fejlrate", "Fejlrate (%)", ColumnKind.SHARE),
            Column("modtaget", "Modtaget fra enheden", ColumnKind.COUNT),
            Column("seneste", "Seneste vellykkede udveksling", ColumnKind.TIME),
        ),
        tuple(
            Row(
                "enhed",
                str(u.unit_id),
                u.name,
                {
                    "type": _KIND_NAMES.get(u.kind, u.kind),
                    "kommune": municipality(u.municipality_code).name
                    if u.municipality_code
                    else None,
                    "region": region_name(u.region) if u.region else None,
                    "sor": u.sor,
                    "gln": u.gln,
                    "transport": _TRANSPORTS.get(u.transport, u.transport),
                    "modtager": u.receives,
                    "kvitteringer_ok": u.acknowledgements_ok,
                    "kvitteringer_fejl": u.acknowledgements_error,
                    "sendt": u.sent,
                    "fejlet": u.failed,
                    "fejlrate": Share(u.failed, u.sent),
                    "modtaget": u.received,
                    "seneste": u.last_successful_exchange,
                },
                parent=u.municipality_code or u.region,
            )
            for u in units
        ),
    )


_ROLLOUT_COUNT_COLUMNS = (
    Column("i_alt", "I alt", ColumnKind.COUNT),
    Column("tilsluttet", "Tilsluttet", ColumnKind.COUNT),
    Column("leverer", "Leverer data", ColumnKind.COUNT),
    Column("korrespondance", "Korrespondance klar", ColumnKind.COUNT),
    Column("med_brugere", "Med aktive brugere", ColumnKind.COUNT),
    Column("aktive_brugere", "Aktive brugere (30 dage)", ColumnKind.COUNT),
)
_LEVEL_NAMES = {"kommune": "Kommuner", "region": "Regioner", "klinik": "Lægeklinikker"}


def _rollout_counts(values: Mapping[str, int | str]) -> dict[str, object]:
    return {
        "i_alt": values.get("total"),
        "tilsluttet": values.get("connected"),
        "leverer": values.get("delivering"),
        "korrespondance": values.get("correspondence_ready"),
        "med_brugere": values.get("with_active_users"),
        "aktive_brugere": values.get("active_users"),
    }


def _rollout_overview_section(r: Rollout) -> Section:
    levels = (("kommune", r.municipalities), ("region", r.regions), ("klinik", r.clinics))
    return Section(
        "udrulning",
        "Udrulning i dag",
        "Hvor mange kommuner, regioner og lægeklinikker er tilsluttet, leverer data, kan "
        "korrespondere og har aktive brugere.",
        _ROLLOUT_COUNT_COLUMNS,
        tuple(
            Row(
                "niveau",
                level,
                _LEVEL_NAMES[level],
                _rollout_counts(snapshots.rollout_counts(statuses)),
            )
            for level, statuses in levels
        ),
    )


def _rollout_section(key: str, title: str, statuses: tuple[RolloutStatus, ...]) -> Section:
    return Section(
        key,
        title,
        "Tilsluttet, leverer data, klar til korrespondance og aktive brugere; planlagt år "
        "fra udrulningsplanen.",
        (
            Column("kommune", "Kommune"),
            Column("region", "Region"),
            Column("planlagt", "Planlagt år", ColumnKind.YEAR),
            Column("enheder", "Enheder i platformen", ColumnKind.COUNT),
            Column("tilsluttet", "Tilsluttet", ColumnKind.FLAG),
            Column("leverer", "Leverer data", ColumnKind.FLAG),
            Column("korrespondance", "Korrespondance klar", ColumnKind.FLAG),
            Column("aktive_brugere", "Aktive brugere (30 dage)", ColumnKind.COUNT),
        ),
        tuple(
            Row(
                s.level,
                s.key,
                s.name,
                {
                    "kommune": municipality(s.municipality_code).name
                    if s.municipality_code
                    else None,
                    "region": region_name(s.region) if s.region else None,
                    "planlagt": s.planned_year,
                    "enheder": s.units,
                    "tilsluttet": s.connected,
                    "leverer": s.delivering,
                    "korrespondance": s.correspondence_ready,
                    "aktive_brugere": s.active_users,
                },
                parent=s.region if s.level != "region" else COUNTRY,
            )
            for s in statuses
        ),
    )


def _target_section(r: Rollout) -> Section:
    note = " Planen er illustrativ." if r.plan_status == "illustrative" else ""
    return Section(
        "udrulningsmaal",
        "Udrulningsmål 2027–2029",
        "Planlagt tilsluttet ved udgangen af hvert år (akkumuleret) mod tilsluttet i dag." + note,
        (
            Column("aar", "År", ColumnKind.YEAR),
            Column("planlagt", "Planlagt", ColumnKind.COUNT),
            Column("i_alt", "I alt", ColumnKind.COUNT),
            Column("tilsluttet", "Tilsluttet i dag", ColumnKind.COUNT),
            Column("andel_planlagt", "Planlagt (%)", ColumnKind.SHARE),
            Column("andel_tilsluttet", "Tilsluttet i dag (%)", ColumnKind.SHARE),
        ),
        tuple(
            Row(
                "maal",
                f"{t.level}:{t.year}",
                f"{_LEVEL_NAMES[t.level]} {t.year}",
                {
                    "aar": t.year,
                    "planlagt": t.planned,
                    "i_alt": t.total,
                    "tilsluttet": t.connected_now,
                    "andel_planlagt": Share(t.planned, t.total),
                    "andel_tilsluttet": Share(t.connected_now, t.total),
                },
            )
            for t in r.targets
        ),
    )


def _progress_section(progress: tuple[ProgressPoint, ...]) -> Section:
    return Section(
        "udrulning-over-tid",
        "Udrulning over tid",
        "Fra de daglige øjebliksbilleder.",
        (
            Column("dag", "Dag", ColumnKind.TIME),
            Column("niveau", "Niveau"),
            *_ROLLOUT_COUNT_COLUMNS,
        ),
        tuple(
            Row(
                "dag",
                f"{p.day.isoformat()}:{p.level}",
                f"{p.day.isoformat()} {_LEVEL_NAMES.get(p.level, p.level)}",
                {
                    "dag": p.day,
                    "niveau": _LEVEL_NAMES.get(p.level, p.level),
                    **_rollout_counts(p.values),
                },
            )
            for p in progress
        ),
    )


# -- rendering ---------------------------------------------------------------------------------

CSV_COLUMNS = ("sektion", "niveau", "nøgle", "overordnet", "navn", "kolonne", "art", "værdi")


def text_of(kind: ColumnKind, value: Shown, *, iso: bool = False) -> str:
    """A shown value as text: Danish decimal comma, local times, ja/nej; empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, datetime):
        local = value.astimezone(LOCAL_TIME_ZONE)
        return local.isoformat(timespec="seconds") if iso else local.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.isoformat() if iso else value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def to_csv(report: QualityReport, sections: Iterable[str] | None = None) -> str:
    """The report (or the named sections) as one CSV in long form: one line per shown value,
    with the section, the row's level, key and parent (for drill-down), the column and its
    kind. Semicolon-separated with decimal commas, as Danish spreadsheets read it."""
    wanted = set(sections) if sections is not None else None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section in report.sections:
        if wanted is not None and section.key not in wanted:
            continue
        for row in section.rows:
            for column in section.columns:
                if column.key in row.values:
                    writer.writerow(
                        (
                            section.key,
                            row.level,
                            row.key,
                            row.parent or "",
                            row.name,
                            column.title,
                            column.kind.value,
                            text_of(column.kind, row.get(column.key), iso=True),
                        )
                    )
    return out.getvalue()


def write_csv(report: QualityReport, path: Path) -> None:
    path.write_text(to_csv(report), encoding="utf-8")
