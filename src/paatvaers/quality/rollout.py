"""Rollout (R15): per municipality, region and GP clinic, whether it is connected, delivers
data, can correspond, and has users; and the plan it is measured against.

* connected: the organisation has units in the platform and its data have arrived at least
  once (a municipality: FK Organisation units and cases in the case index; a region: BUP
  units and appointments in the appointment overview). A clinic delivers no data: it is
  connected when its staff have logins in the platform.
* data delivered: the organisation's latest delivery is within `DELIVERY_WINDOW`.
* correspondence ready: at least one of its units is in the address book and receives.
* active users: distinct users who acted for one of its units in the last
  `ACTIVE_USER_WINDOW`, from the access log; views of this follow-up do not count.

The plan is a data file (`rollout_plan.toml`, illustrative until the joint project's plan
replaces it): a year per region, and per municipality where it differs from its region's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from paatvaers.domain.geography import MUNICIPALITIES, Region, is_municipality_code
from paatvaers.quality.access_log import QUALITY_PURPOSE
from paatvaers.quality.metrics import PERFORMER_REGION_CTE, Figures

PLAN_FILE = "rollout_plan.toml"
PLAN_YEARS = range(2027, 2030)  # the mission's nationwide use: 2027–2029
DELIVERY_WINDOW = timedelta(days=7)
ACTIVE_USER_WINDOW = timedelta(days=30)


class PlanError(ValueError):
    """The rollout plan file is not valid."""


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    regions: Mapping[str, int]  # region code -> planned year
    municipalities: Mapping[str, int]  # every municipality code -> planned year
    status: str  # "illustrative" until the joint project's plan replaces the file

    def region_year(self, region: str | None) -> int | None:
        return self.regions.get(region) if region else None

    def municipality_year(self, code: str | None) -> int | None:
        return self.municipalities.get(code) if code else None


def load_plan(path: Path | None = None) -> RolloutPlan:
    """The plan in `path`, or the one shipped with the platform."""
    if path is None:
        raw = resources.files("paatvaers.quality").joinpath(PLAN_FILE).read_text("utf-8")
        where = PLAN_FILE
    else:
        raw, where = path.read_text("utf-8"), str(path)
    try:
        document = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise PlanError(f"{where}: not valid TOML: {e}") from e
    return parse_plan(document, where)


def parse_plan(document: Mapping[str, Any], where: str = "plan") -> RolloutPlan:
    unknown = set(document) - {"status", "regions", "municipalities"}
    if unknown:
        raise PlanError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    regions = _years(document.get("regions", {}), where, "regions")
    missing = [r.value for r in Region if r.value not in regions]
    if missing or set(regions) - {r.value for r in Region}:
        raise PlanError(f"{where}: [regions] must give a year for exactly the five regions")
    exceptions = _years(document.get("municipalities", {}), where, "municipalities")
    bad = [code for code in exceptions if not is_municipality_code(code)]
    if bad:
        raise PlanError(f"{where}: unknown municipality codes: {', '.join(sorted(bad))}")
    municipalities = {
        m.code: exceptions.get(m.code, regions[m.region.value]) for m in MUNICIPALITIES
    }
    return RolloutPlan(regions, municipalities, str(document.get("status", "")))


def _years(table: object, where: str, name: str) -> dict[str, int]:
    if not isinstance(table, Mapping):
        raise PlanError(f"{where}: [{name}] must be a table")
    years = {}
    for key, year in table.items():
        if not isinstance(year, int) or year not in PLAN_YEARS:
            raise PlanError(f"{where}: [{name}] {key} = {year!r}: the year must be 2027–2029")
        years[str(key)] = year
    return years


@dataclass(frozen=True, slots=True)
class RolloutStatus:
    level: str  # 'kommune', 'region' or 'klinik'
    key: str  # municipality code, region code, or the clinic's unit id
    name: str
    municipality_code: str | None
    region: str | None
    planned_year: int | None
    units: int  # its units in the platform
    connected: bool
    delivering: bool | None  # None: delivers no data (GP clinics)
    correspondence_ready: bool
    active_users: int


@dataclass(frozen=True, slots=True)
class Target:
    """How many of a level are planned by the end of `year`, and how many are connected."""

    level: str
    year: int
    planned: int
    total: int
    connected_now: int


@dataclass(frozen=True, slots=True)
class Rollout:
    municipalities: tuple[RolloutStatus, ...]
    regions: tuple[RolloutStatus, ...]
    clinics: tuple[RolloutStatus, ...]
    targets: tuple[Target, ...]
    plan_status: str


def compute(session: Session, figures: Figures, plan: RolloutPlan) -> Rollout:
    since = figures.now - ACTIVE_USER_WINDOW
    municipalities = _municipalities(session, figures, plan, since)
    regions = _regions(session, figures, plan, since)
    clinics = _clinics(session, plan, since)
    return Rollout(
        municipalities=municipalities,
        regions=regions,
        clinics=clinics,
        targets=_targets(municipalities, regions, clinics),
        plan_status=plan.status,
    )


def _recent(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and now - moment <= DELIVERY_WINDOW


_ACTIVE_CTE = """
active AS (
    SELECT DISTINCT unit_id, user_id FROM access_event
    WHERE recorded_at >= :since AND purpose <> :quality_purpose
)"""


def _municipalities(
    session: Session, figures: Figures, plan: RolloutPlan, since: datetime
) -> tuple[RolloutStatus, ...]:
    rows = {
        r.code: r
        for r in session.execute(
            text(
                f"""
                WITH {_ACTIVE_CTE}
                SELECT u.municipality_code AS code,
                       count(DISTINCT u.id) FILTER (WHERE u.source = 'org_registry') AS units,
                       count(DISTINCT e.unit_id) FILTER (WHERE e.receives_carecommunication)
                           AS ready,
                       count(DISTINCT a.user_id) AS users
                FROM org_unit u
                LEFT JOIN medcom_endpoint e ON e.unit_id = u.id
                LEFT JOIN active a ON a.unit_id = u.id
                WHERE u.kind IN ('child_family', 'ppr') AND u.municipality_code IS NOT NULL
                GROUP BY u.municipality_code
                """  # noqa: S608 - constant fragments, values bound
            ),
            {"since": since, "quality_purpose": QUALITY_PURPOSE},
        )
    }
    last_delivery: dict[str, datetime] = {}
    for delivery in figures.cases:
        code, moment = delivery.municipality_code, delivery.last_delivery
        if code and moment and (code not in last_delivery or moment > last_delivery[code]):
            last_delivery[code] = moment
    statuses = []
    for m in MUNICIPALITIES:
        row = rows.get(m.code)
        units = int(row.units) if row else 0
        statuses.append(
            RolloutStatus(
                level="kommune",
                key=m.code,
                name=m.name,
                municipality_code=m.code,
                region=m.region.value,
                planned_year=plan.municipality_year(m.code),
                units=units,
                connected=units > 0 and m.code in last_delivery,
                delivering=_recent(last_delivery.get(m.code), figures.now),
                correspondence_ready=bool(row and row.ready),
                active_users=int(row.users) if row else 0,
            )
        )
    return tuple(statuses)


def _regions(
    session: Session, figures: Figures, plan: RolloutPlan, since: datetime
) -> tuple[RolloutStatus, ...]:
    rows = {
        r.region: r
        for r in session.execute(
            text(
                f"""
                WITH {PERFORMER_REGION_CTE}, {_ACTIVE_CTE},
                bup AS (
                    SELECT u.id, coalesce(u.region, pr.region) AS region
                    FROM org_unit u LEFT JOIN performer_region pr ON pr.sor = u.sor
                    WHERE u.kind = 'bup'
                )
                SELECT b.region, count(DISTINCT b.id) AS units,
                       count(DISTINCT e.unit_id) FILTER (WHERE e.receives_carecommunication)
                           AS ready,
                       count(DISTINCT a.user_id) AS users
                FROM bup b
                LEFT JOIN medcom_endpoint e ON e.unit_id = b.id
                LEFT JOIN active a ON a.unit_id = b.id
                GROUP BY b.region
                """  # noqa: S608 - constant fragments, values bound
            ),
            {"since": since, "quality_purpose": QUALITY_PURPOSE},
        )
    }
    delivered = {a.region: a.last_delivery for a in figures.appointments if a.region}
    statuses = []
    for region in Region:
        row = rows.get(region.value)
        units = int(row.units) if row else 0
        statuses.append(
            RolloutStatus(
                level="region",
                key=region.value,
                name=region.danish_name,
                municipality_code=None,
                region=region.value,
                planned_year=plan.region_year(region.value),
                units=units,
                connected=units > 0 and delivered.get(region.value) is not None,
                delivering=_recent(delivered.get(region.value), figures.now),
                correspondence_ready=bool(row and row.ready),
                active_users=int(row.users) if row else 0,
            )
        )
    return tuple(statuses)


def _clinics(session: Session, plan: RolloutPlan, since: datetime) -> tuple[RolloutStatus, ...]:
    rows = session.execute(
        text(
            f"""
            WITH {_ACTIVE_CTE},
            users AS (SELECT unit_id, count(*) AS n FROM active GROUP BY unit_id),
            logins AS (SELECT DISTINCT unit_id FROM staff_user)
            SELECT u.id::text AS id, u.name, u.municipality_code, u.region,
                   l.unit_id IS NOT NULL AS has_logins,
                   coalesce(e.receives_carecommunication, false) AS ready,
                   coalesce(n.n, 0) AS users
            FROM org_unit u
            LEFT JOIN logins l ON l.unit_id = u.id
            LEFT JOIN medcom_endpoint e ON e.unit_id = u.id
            LEFT JOIN users n ON n.unit_id = u.id
            WHERE u.kind = 'gp'
            ORDER BY u.region, u.municipality_code, u.name
            """  # noqa: S608 - constant fragments, values bound
        ),
        {"since": since, "quality_purpose": QUALITY_PURPOSE},
    )
    return tuple(
        RolloutStatus(
            level="klinik",
            key=r.id,
            name=r.name,
            municipality_code=r.municipality_code,
            region=r.region,
            planned_year=plan.region_year(r.region),
            units=1,
            connected=bool(r.has_logins),
            delivering=None,
            correspondence_ready=bool(r.ready),
            active_users=int(r.users),
        )
        for r in rows
    )


def _targets(*levels: tuple[RolloutStatus, ...]) -> tuple[Target, ...]:
    """Per level and plan year: planned by the end of the year (cumulative), of all."""
    targets = []
    for statuses in levels:
        if not statuses:
            continue
        connected = sum(s.connected for s in statuses)
        for year in PLAN_YEARS:
            planned = sum(1 for s in statuses if s.planned_year and s.planned_year <= year)
            targets.append(Target(statuses[0].level, year, planned, len(statuses), connected))
    return tuple(targets)
