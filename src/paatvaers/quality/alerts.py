"""Thresholds that raise a visible alert, each with a plain-Danish text.

The set is named and documented here and in docs/quality.md; `Thresholds` holds the limits,
and a deployment may pass its own. Alerts are evaluated on the raw figures, and every count
an alert's text mentions goes through the suppression rule, like every other shown figure.

Alerts, by code (raised when …):

* kilde-fejlede: a source's last ingestion run failed;
* kilde-ikke-indlaest: a source has had no completed run for `source_silence` (or never);
* sager-levering-stoppet: a municipality × case system that delivered before has delivered
  nothing for `delivery_silence`, or no longer has any case in the index;
* ingen-ppr-sager: a municipality delivers cases but no PPR case while others do, and at the
  national rate of PPR cases per child it would have at least `min_expected_ppr_cases`;
* sager-uden-ansvarlig-enhed: more than `incomplete_share` of a municipality × system's cases
  name a responsible unit that FK Organisation does not have;
* sager-uden-behandler: more than `incomplete_share` of them have no primary handler;
* parter-ikke-i-cpr: more than `parties_share` of their parties are not in CPR;
* enheder-uden-kontaktdata: a municipality has units in FK Organisation without phone or
  e-mail;
* aftaler-levering-stoppet: a region that delivered appointments before has delivered none
  for `delivery_silence`, or has none in the overview any more;
* aftaler-umarkerede: more than `unmarked_share` of a region's appointments have no
  psychiatry marking;
* aftaler-inkonsistent-markering: more than `inconsistent_share` are marked inconsistently;
* ukendte-sor-koder: a region's appointments name at least `unknown_sor_codes` SOR codes that
  no unit in the platform carries;
* karantaene: more than `quarantine_share` of a source's records wait in quarantine.

Shares are judged only on at least `min_base` records, so a handful of cases cannot raise one.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from paatvaers.domain.geography import Region, is_municipality_code, municipality
from paatvaers.quality.metrics import CaseDelivery, Figures, RegionAppointments, SourceStatus
from paatvaers.quality.suppression import SUPPRESSED, Share, suppress
from paatvaers.sources.base import SourceName


class AlertCode(StrEnum):
    SOURCE_FAILED = "kilde-fejlede"
    SOURCE_STALE = "kilde-ikke-indlaest"
    CASES_STOPPED = "sager-levering-stoppet"
    NO_PPR_CASES = "ingen-ppr-sager"
    CASES_WITHOUT_UNIT = "sager-uden-ansvarlig-enhed"
    CASES_WITHOUT_HANDLER = "sager-uden-behandler"
    PARTIES_NOT_IN_CPR = "parter-ikke-i-cpr"
    UNITS_WITHOUT_CONTACT = "enheder-uden-kontaktdata"
    APPOINTMENTS_STOPPED = "aftaler-levering-stoppet"
    UNMARKED_SHARE = "aftaler-umarkerede"
    INCONSISTENT_SHARE = "aftaler-inkonsistent-markering"
    UNKNOWN_SOR = "ukendte-sor-koder"
    QUARANTINE = "karantaene"


@dataclass(frozen=True, slots=True)
class Thresholds:
    delivery_silence: timedelta = timedelta(hours=24)
    source_silence: timedelta = timedelta(hours=24)
    min_expected_ppr_cases: float = 5.0  # at this expectation, none by chance is < 1 %
    incomplete_share: float = 0.05
    parties_share: float = 0.01
    unmarked_share: float = 0.10
    inconsistent_share: float = 0.05
    unknown_sor_codes: int = 1
    quarantine_share: float = 0.01
    min_base: int = 20


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Alert:
    code: AlertCode
    level: str  # 'kilde', 'kommune', 'kildesystem' (municipality × case system), 'region'
    subject: str  # the key of the row it is about (see `subjects`)
    subject_name: str
    text: str


@dataclass(frozen=True, slots=True)
class History:
    """What earlier snapshots saw delivering: case subjects and appointment regions."""

    case_subjects: Set[str] = frozenset()
    appointment_regions: Set[str] = frozenset()


# -- subjects: the keys shared by alerts, report rows and snapshots ----------------------------


def case_subject(delivery: CaseDelivery) -> str:
    return f"{municipality_key(delivery.municipality_code, delivery.owner_cvr)}/{delivery.system}"


def municipality_key(code: str | None, owner_cvr: str | None = None) -> str:
    return code if code else f"cvr:{owner_cvr}"


def municipality_name(key: str) -> str:
    if is_municipality_code(key):
        return municipality(key).name
    return f"Ukendt kommune ({key.replace('cvr:', 'CVR ')})"


def region_key(region: str | None) -> str:
    return region or "ukendt"


def region_name(key: str) -> str:
    try:
        return Region(key).danish_name
    except ValueError:
        return "Ukendt region"


# -- evaluation --------------------------------------------------------------------------------


def evaluate(
    figures: Figures,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    history: History = History(),
) -> tuple[Alert, ...]:
    """Every alert the figures raise, sources first, then municipalities, then regions."""
    return (
        *_source_alerts(figures.sources, figures.now, thresholds),
        *_case_alerts(figures, thresholds, history),
        *_ppr_alerts(figures, thresholds),
        *_contact_alerts(figures),
        *_appointment_alerts(figures.appointments, figures.now, thresholds, history),
    )


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def _percent(share: Share) -> str:
    shown = share.shown()
    if shown is None or shown == SUPPRESSED:
        return "en andel over grænsen"
    return f"{shown:.1f} %".replace(".", ",")


def _limit(value: float) -> str:
    return f"{100 * value:g} %".replace(".", ",")


def _over(share: Share, limit: float, thresholds: Thresholds) -> bool:
    ratio = share.ratio
    return share.denominator >= thresholds.min_base and ratio is not None and ratio > limit


def source_name(source: str) -> str:
    """The Danish name of a source the ingestion log names (its own name if unknown)."""
    try:
        return SourceName(source).danish_name
    except ValueError:
        return source


def _source_alerts(
    sources: Iterable[SourceStatus], now: datetime, thresholds: Thresholds
) -> list[Alert]:
    alerts = []
    for s in sources:
        name = source_name(s.source)
        if s.last_run_status == "failed":
            alerts.append(
                Alert(
                    AlertCode.SOURCE_FAILED,
                    "kilde",
                    s.source,
                    name,
                    f"Seneste indlæsning af {name} fejlede: {s.last_error or 'ukendt fejl'}.",
                )
            )
        if s.last_completed_at is None:
            text = f"{name} er aldrig blevet indlæst fuldt."
        elif now - s.last_completed_at > thresholds.source_silence:
            text = (
                f"{name} er ikke indlæst i {_hours(now - s.last_completed_at)} timer "
                f"(grænse {_hours(thresholds.source_silence)} timer)."
            )
        else:
            text = ""
        if text:
            alerts.append(Alert(AlertCode.SOURCE_STALE, "kilde", s.source, name, text))
        stored = s.records + s.quarantined
        share = Share(s.quarantined, stored)
        if _over(share, thresholds.quarantine_share, thresholds):
            alerts.append(
                Alert(
                    AlertCode.QUARANTINE,
                    "kilde",
                    s.source,
                    name,
                    f"{suppress(s.quarantined)} poster fra {name} venter i karantæne "
                    f"({_percent(share)}, grænse {_limit(thresholds.quarantine_share)}).",
                )
            )
    return alerts


def _case_alerts(figures: Figures, thresholds: Thresholds, history: History) -> list[Alert]:
    alerts = []
    current = set()
    for d in figures.cases:
        subject = case_subject(d)
        current.add(subject)
        name = (
            f"{municipality_name(municipality_key(d.municipality_code, d.owner_cvr))} · {d.system}"
        )
        silent = figures.now - d.last_delivery if d.last_delivery else None
        if silent is not None and silent > thresholds.delivery_silence:
            alerts.append(
                Alert(
                    AlertCode.CASES_STOPPED,
                    "kildesystem",
                    subject,
                    name,
                    f"{name} har ikke leveret sager til sagsindekset i {_hours(silent)} timer "
                    f"(grænse {_hours(thresholds.delivery_silence)} timer).",
                )
            )
        alerts.extend(_completeness_alerts(d, subject, name, thresholds))
    for subject in sorted(set(history.case_subjects) - current):
        key, system = subject.rsplit("/", 1)
        name = f"{municipality_name(key)} · {system}"
        alerts.append(
            Alert(
                AlertCode.CASES_STOPPED,
                "kildesystem",
                subject,
                name,
                f"{name} leverede sager tidligere, men sagsindekset har ingen sager derfra nu.",
            )
        )
    return alerts


def _completeness_alerts(
    d: CaseDelivery, subject: str, name: str, thresholds: Thresholds
) -> list[Alert]:
    checks = (
        (
            AlertCode.CASES_WITHOUT_UNIT,
            Share(d.without_unit, d.cases),
            thresholds.incomplete_share,
            "af sagerne har en ansvarlig enhed, som FK Organisation ikke kender",
        ),
        (
            AlertCode.CASES_WITHOUT_HANDLER,
            Share(d.without_handler, d.cases),
            thresholds.incomplete_share,
            "af sagerne har ingen primær behandler",
        ),
        (
            AlertCode.PARTIES_NOT_IN_CPR,
            Share(d.parties_not_in_cpr, d.parties),
            thresholds.parties_share,
            "af sagsparterne findes ikke i CPR",
        ),
    )
    return [
        Alert(
            code,
            "kildesystem",
            subject,
            name,
            f"{name}: {_percent(share)} {what} (grænse {_limit(limit)}).",
        )
        for code, share, limit, what in checks
        if _over(share, limit, thresholds)
    ]


def _ppr_alerts(figures: Figures, thresholds: Thresholds) -> list[Alert]:
    """A municipality with cases but no PPR case, where the national rate of PPR cases per
    child makes none by chance unlikely."""
    ppr: dict[str, int] = {}
    delivering: set[str] = set()
    for d in figures.cases:
        if d.municipality_code:
            ppr[d.municipality_code] = ppr.get(d.municipality_code, 0) + d.ppr_cases
            delivering.add(d.municipality_code)
    children = {m.code: m.children for m in figures.municipalities}
    total_ppr, total_children = sum(ppr.values()), sum(children.values())
    if not total_ppr or not total_children:
        return []
    rate = total_ppr / total_children
    alerts = []
    for code in sorted(delivering):
        expected = children.get(code, 0) * rate
        if ppr[code] == 0 and expected >= thresholds.min_expected_ppr_cases:
            name = municipality_name(code)
            alerts.append(
                Alert(
                    AlertCode.NO_PPR_CASES,
                    "kommune",
                    code,
                    name,
                    f"{name} leverer sager, men ingen PPR-sager, skønt andre kommuner gør; "
                    f"ud fra antallet af børn ventedes omkring {round(expected)}.",
                )
            )
    return alerts


def _contact_alerts(figures: Figures) -> list[Alert]:
    alerts = []
    for m in figures.municipalities:
        missing = max(m.units_without_phone, m.units_without_email)
        if missing:
            name = municipality_name(m.code)
            what = " og ".join(
                w
                for w, n in (("telefon", m.units_without_phone), ("e-mail", m.units_without_email))
                if n
            )
            alerts.append(
                Alert(
                    AlertCode.UNITS_WITHOUT_CONTACT,
                    "kommune",
                    m.code,
                    name,
                    f"{name}: {suppress(missing)} enheder i FK Organisation mangler {what}.",
                )
            )
    return alerts


def _appointment_alerts(
    regions: Iterable[RegionAppointments],
    now: datetime,
    thresholds: Thresholds,
    history: History,
) -> list[Alert]:
    alerts = []
    current = set()
    for r in regions:
        key = region_key(r.region)
        current.add(key)
        name = region_name(key)
        silent = now - r.last_delivery if r.last_delivery else None
        if silent is not None and silent > thresholds.delivery_silence:
            alerts.append(
                Alert(
                    AlertCode.APPOINTMENTS_STOPPED,
                    "region",
                    key,
                    name,
                    f"{name} har ikke leveret aftaler til aftaleoversigten i {_hours(silent)} "
                    f"timer (grænse {_hours(thresholds.delivery_silence)} timer).",
                )
            )
        alerts.extend(_marking_alerts(r, key, name, thresholds))
    for key in sorted(set(history.appointment_regions) - current):
        name = region_name(key)
        alerts.append(
            Alert(
                AlertCode.APPOINTMENTS_STOPPED,
                "region",
                key,
                name,
                f"{name} leverede aftaler tidligere, men aftaleoversigten har ingen derfra nu.",
            )
        )
    return alerts


def _marking_alerts(
    r: RegionAppointments, key: str, name: str, thresholds: Thresholds
) -> list[Alert]:
    alerts = []
    unmarked = Share(r.unmarked, r.appointments)
    if _over(unmarked, thresholds.unmarked_share, thresholds):
        alerts.append(
            Alert(
                AlertCode.UNMARKED_SHARE,
                "region",
                key,
                name,
                f"{name}: {_percent(unmarked)} af aftalerne i børne- og ungdomspsykiatrien "
                f"mangler psykiatrimarkering (grænse {_limit(thresholds.unmarked_share)}).",
            )
        )
    inconsistent = Share(r.inconsistent, r.appointments)
    if _over(inconsistent, thresholds.inconsistent_share, thresholds):
        alerts.append(
            Alert(
                AlertCode.INCONSISTENT_SHARE,
                "region",
                key,
                name,
                f"{name}: {_percent(inconsistent)} af aftalerne er markeret inkonsistent "
                f"(grænse {_limit(thresholds.inconsistent_share)}).",
            )
        )
    if r.unknown_sor >= thresholds.unknown_sor_codes:
        alerts.append(
            Alert(
                AlertCode.UNKNOWN_SOR,
                "region",
                key,
                name,
                f"{name}: aftalerne nævner {suppress(r.unknown_sor)} SOR-koder, "
                "som ingen enhed i platformen har.",
            )
        )
    return alerts
