"""The data-quality figures (R12), computed from what ingestion stored, with SQL aggregates.

Every figure is a count over a group (a source, a municipality × case system, a region), made
by PostgreSQL in one pass over the tables: nothing here loops over children, cases or
appointments in Python, so the figures stay cheap at national volumes. The counts are raw;
the report layer suppresses the small ones before anything is shown (`suppression`).

Who delivered a record:

* a case belongs to the municipality that owns it (Ejer CVR → the municipality of the FK
  Organisation units with that CVR; else that of its responsible unit), and to the case system
  that is its master (DUBU, JOSA, SBSYS …);
* an appointment belongs to the region of the BUP unit that performs it. APD-DK names no
  region, so a unit's region is the one stored for it (from SOR, where a deployment has it),
  else the region where most of the unit's patients live (CPR): BUP treats children by
  region of residence.

When a record was delivered is the source's own registration time (`registered_at`: the case
index's StsTidspunkt, the document registry's meta.lastUpdated), not when we last read it: a
full pass re-reads, and so re-confirms, the records of a municipality that stopped sending
long ago. Records stored without one fall back to `confirmed_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from paatvaers.domain.appointments import (
    EPISODE_LABEL_MENTAL_DISORDERS,
    FACILITY_PSYCHIATRIC_UNIT,
    PRACTICE_SETTING_CHILD_PSYCHIATRY,
)
from paatvaers.sources.registry import INGEST_ORDER

TOP_REASONS = 5  # quarantine reasons shown per source

# The region of every unit that performs appointments (see the module's docstring).
PERFORMER_REGION_CTE = """
performer_region AS (
    SELECT a.performer_sor AS sor,
           coalesce(max(u.region), mode() WITHIN GROUP (ORDER BY ch.region)) AS region
    FROM appointment a
    LEFT JOIN org_unit u ON u.sor = a.performer_sor
    LEFT JOIN child ch ON ch.cpr = a.patient_cpr
    GROUP BY a.performer_sor
)"""

# The municipality that owns each municipal CVR number, from FK Organisation's units.
MUNICIPAL_CVR_CTE = """
municipal_cvr AS (
    SELECT cvr, min(municipality_code) AS code
    FROM org_unit
    WHERE cvr IS NOT NULL AND municipality_code IS NOT NULL
      AND kind IN ('child_family', 'ppr')
    GROUP BY cvr
)"""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One national source as ingestion sees it."""

    source: str
    last_run_status: str | None  # 'completed', 'failed', 'running'; None: never run
    last_run_started_at: datetime | None
    last_error: str | None
    last_completed_at: datetime | None  # the end of the last completed run
    records: int  # rows the source last wrote, over all its tables
    quarantined: int  # records waiting in quarantine


@dataclass(frozen=True, slots=True)
class QuarantineReason:
    source: str
    reason: str  # numbers and quoted values replaced, so like reasons count together
    count: int


@dataclass(frozen=True, slots=True)
class CaseDelivery:
    """What one municipality's case system has delivered to the case index."""

    municipality_code: str | None  # None: no FK Organisation unit tells whose CVR it is
    owner_cvr: str
    system: str
    cases: int
    ppr_cases: int  # the responsible unit is a PPR unit
    without_unit: int  # the responsible unit is not in FK Organisation
    without_handler: int  # no primary handler (Primær behandler)
    parties: int
    parties_not_in_cpr: int  # neither a child nor a custody holder CPR delivered
    last_delivery: datetime | None


@dataclass(frozen=True, slots=True)
class MunicipalFigures:
    code: str
    children: int  # children CPR delivered who live in the municipality
    units: int  # units FK Organisation delivered
    units_without_phone: int
    units_without_email: int


@dataclass(frozen=True, slots=True)
class UnitMissingContact:
    """A unit FK Organisation delivered without a phone number or an e-mail address."""

    unit_id: str
    name: str
    kind: str
    municipality_code: str | None
    missing_phone: bool
    missing_email: bool


@dataclass(frozen=True, slots=True)
class RegionAppointments:
    """What one region has delivered to the appointment overview."""

    region: str | None  # None: neither SOR nor the patients tell the performer's region
    appointments: int
    unmarked: int  # no practice setting: cannot be told apart as child psychiatry
    inconsistent: int  # marked, but not consistently as child psychiatry
    unknown_sor: int  # distinct SOR codes named that no unit in the platform carries
    last_delivery: datetime | None


@dataclass(frozen=True, slots=True)
class Figures:
    now: datetime
    sources: tuple[SourceStatus, ...]
    quarantine_reasons: tuple[QuarantineReason, ...]
    cases: tuple[CaseDelivery, ...]
    municipalities: tuple[MunicipalFigures, ...]
    units_missing_contact: tuple[UnitMissingContact, ...]
    appointments: tuple[RegionAppointments, ...]


def database_now(session: Session) -> datetime:
    """The database's clock: ingestion stamps its runs with it."""
    now = session.execute(text("SELECT now()")).scalar_one()
    assert isinstance(now, datetime)  # noqa: S101 - timestamptz
    return now


def compute(session: Session, now: datetime | None = None) -> Figures:
    """Every R12 figure, as the database holds the data now."""
    return Figures(
        now=now or database_now(session),
        sources=source_statuses(session),
        quarantine_reasons=quarantine_reasons(session),
        cases=case_deliveries(session),
        municipalities=municipal_figures(session),
        units_missing_contact=units_missing_contact(session),
        appointments=region_appointments(session),
    )


def _rows(session: Session, sql: str, **params: object) -> list[Any]:
    return list(session.execute(text(sql), params))


# -- sources -----------------------------------------------------------------------------------


def source_statuses(session: Session) -> tuple[SourceStatus, ...]:
    last = {
        r.source: r
        for r in _rows(
            session,
            "SELECT DISTINCT ON (source) source, status, started_at, error"
            " FROM ingest_run ORDER BY source, id DESC",
        )
    }
    completed = dict(
        _rows(
            session,
            "SELECT source, max(finished_at) FROM ingest_run"
            " WHERE status = 'completed' GROUP BY source",
        )
    )
    records = dict(
        _rows(
            session,
            "SELECT source, sum(n)::bigint FROM ("
            " SELECT source, count(*) AS n FROM child GROUP BY source"
            " UNION ALL SELECT source, count(*) FROM municipal_case GROUP BY source"
            " UNION ALL SELECT source, count(*) FROM org_unit GROUP BY source"
            " UNION ALL SELECT source, count(*) FROM staff_user GROUP BY source"
            " UNION ALL SELECT source, count(*) FROM enrollment GROUP BY source"
            " UNION ALL SELECT source, count(*) FROM appointment GROUP BY source"
            ") AS stored GROUP BY source",
        )
    )
    quarantined = dict(
        _rows(
            session,
            "SELECT source, count(*) FROM quarantine WHERE resolved_at IS NULL GROUP BY source",
        )
    )
    statuses = []
    for source in (s.value for s in INGEST_ORDER):
        run = last.get(source)
        statuses.append(
            SourceStatus(
                source=source,
                last_run_status=run.status if run else None,
                last_run_started_at=run.started_at if run else None,
                last_error=run.error if run else None,
                last_completed_at=completed.get(source),
                records=int(records.get(source, 0)),
                quarantined=int(quarantined.get(source, 0)),
            )
        )
    return tuple(statuses)


def quarantine_reasons(session: Session, top: int = TOP_REASONS) -> tuple[QuarantineReason, ...]:
    """The most frequent reasons per source, among records still in quarantine. Numbers and
    quoted values are replaced (`#`, `'…'`), so that reasons differing only in the value
    count together, and no CPR number or name in a reason reaches the report."""
    rows = _rows(
        session,
        r"""
        SELECT source, reason, n FROM (
            SELECT source, reason, count(*) AS n,
                   row_number() OVER (PARTITION BY source ORDER BY count(*) DESC, reason) AS rank
            FROM (
                SELECT source,
                       regexp_replace(regexp_replace(regexp_replace(q.reason,
                           '''[^'']*''', '''…''', 'g'),
                           '"[^"]*"', '"…"', 'g'),
                           '[0-9]+', '#', 'g') AS reason
                FROM quarantine q WHERE q.resolved_at IS NULL
            ) AS open_reasons
            GROUP BY source, reason
        ) AS ranked
        WHERE rank <= :top ORDER BY source, rank
        """,
        top=top,
    )
    return tuple(QuarantineReason(r.source, r.reason, int(r.n)) for r in rows)


# -- cases -------------------------------------------------------------------------------------


def case_deliveries(session: Session) -> tuple[CaseDelivery, ...]:
    rows = _rows(
        session,
        f"""
        WITH {MUNICIPAL_CVR_CTE},
        party_count AS (
            SELECT case_id, count(*) AS n FROM case_party GROUP BY case_id
        ),
        party_missing AS (
            SELECT p.case_id, count(*) AS n FROM case_party p
            WHERE NOT EXISTS (SELECT 1 FROM child c WHERE c.cpr = p.cpr)
              AND NOT EXISTS (SELECT 1 FROM custody_holder h WHERE h.holder_cpr = p.cpr)
            GROUP BY p.case_id
        )
        SELECT coalesce(m.code, u.municipality_code) AS municipality_code,
               c.owner_cvr, c.source_system,
               count(*) AS cases,
               count(*) FILTER (WHERE u.kind = 'ppr') AS ppr_cases,
               count(*) FILTER (WHERE u.id IS NULL) AS without_unit,
               count(*) FILTER (WHERE coalesce(btrim(c.primary_handler), '') = '')
                   AS without_handler,
               coalesce(sum(pc.n), 0) AS parties,
               coalesce(sum(pm.n), 0) AS parties_not_in_cpr,
               max(coalesce(c.registered_at, c.confirmed_at)) AS last_delivery
        FROM municipal_case c
        LEFT JOIN org_unit u ON u.id = c.responsible_unit_id
        LEFT JOIN municipal_cvr m ON m.cvr = c.owner_cvr
        LEFT JOIN party_count pc ON pc.case_id = c.id
        LEFT JOIN party_missing pm ON pm.case_id = c.id
        GROUP BY 1, 2, 3
        ORDER BY 1, 3, 2
        """,  # noqa: S608 - constant fragments, values bound
    )
    return tuple(
        CaseDelivery(
            municipality_code=r.municipality_code,
            owner_cvr=r.owner_cvr,
            system=r.source_system,
            cases=int(r.cases),
            ppr_cases=int(r.ppr_cases),
            without_unit=int(r.without_unit),
            without_handler=int(r.without_handler),
            parties=int(r.parties),
            parties_not_in_cpr=int(r.parties_not_in_cpr),
            last_delivery=r.last_delivery,
        )
        for r in rows
    )


# -- municipalities and their units ------------------------------------------------------------

_MISSING_PHONE = "coalesce(btrim(phone), '') = ''"
_MISSING_EMAIL = "coalesce(btrim(email), '') = ''"


def municipal_figures(session: Session) -> tuple[MunicipalFigures, ...]:
    """Per municipality that CPR or FK Organisation knows: its children and its units."""
    rows = _rows(
        session,
        f"""
        WITH children AS (
            SELECT municipality_code AS code, count(*) AS n FROM child GROUP BY 1
        ),
        units AS (
            SELECT municipality_code AS code, count(*) AS n,
                   count(*) FILTER (WHERE {_MISSING_PHONE}) AS no_phone,
                   count(*) FILTER (WHERE {_MISSING_EMAIL}) AS no_email
            FROM org_unit WHERE source = 'org_registry' AND municipality_code IS NOT NULL
            GROUP BY 1
        )
        SELECT coalesce(c.code, u.code) AS code, coalesce(c.n, 0) AS children,
               coalesce(u.n, 0) AS units, coalesce(u.no_phone, 0) AS no_phone,
               coalesce(u.no_email, 0) AS no_email
        FROM children c FULL JOIN units u ON u.code = c.code
        ORDER BY 1
        """,  # noqa: S608 - constant fragments, values bound
    )
    return tuple(
        MunicipalFigures(r.code, int(r.children), int(r.units), int(r.no_phone), int(r.no_email))
        for r in rows
    )


def units_missing_contact(session: Session) -> tuple[UnitMissingContact, ...]:
    """The units to fix in FK Organisation. Units are organisations, not people: naming them
    singles out no child."""
    rows = _rows(
        session,
        f"""
        SELECT id::text AS id, name, kind, municipality_code,
               {_MISSING_PHONE} AS no_phone, {_MISSING_EMAIL} AS no_email
        FROM org_unit
        WHERE source = 'org_registry' AND ({_MISSING_PHONE} OR {_MISSING_EMAIL})
        ORDER BY municipality_code, name
        """,  # noqa: S608 - constant fragments, values bound
    )
    return tuple(
        UnitMissingContact(
            r.id, r.name, r.kind, r.municipality_code, bool(r.no_phone), bool(r.no_email)
        )
        for r in rows
    )


# -- appointments ------------------------------------------------------------------------------


def region_appointments(session: Session) -> tuple[RegionAppointments, ...]:
    rows = _rows(
        session,
        f"""
        WITH {PERFORMER_REGION_CTE},
        totals AS (
            SELECT pr.region,
                   count(*) AS appointments,
                   count(*) FILTER (WHERE a.practice_setting_code IS NULL) AS unmarked,
                   count(*) FILTER (
                       WHERE a.practice_setting_code IS NOT NULL AND NOT (
                           a.practice_setting_code = :child_psychiatry
                           AND coalesce(a.facility_type_code, '') = :psychiatric_unit
                           AND coalesce(a.episode_label, '') = :episode)
                   ) AS inconsistent,
                   max(coalesce(a.registered_at, a.confirmed_at)) AS last_delivery
            FROM appointment a JOIN performer_region pr ON pr.sor = a.performer_sor
            GROUP BY pr.region
        ),
        named AS (
            SELECT pr.region, s.sor
            FROM appointment a
            JOIN performer_region pr ON pr.sor = a.performer_sor
            CROSS JOIN LATERAL (VALUES (a.performer_sor), (a.location_sor), (a.requester_sor))
                AS s(sor)
            WHERE s.sor IS NOT NULL
        ),
        unknown AS (
            SELECT region, count(DISTINCT sor) AS n FROM named n
            WHERE NOT EXISTS (SELECT 1 FROM org_unit u WHERE u.sor = n.sor)
              AND NOT EXISTS (SELECT 1 FROM medcom_endpoint e WHERE e.sor = n.sor)
            GROUP BY region
        )
        SELECT t.*, coalesce(k.n, 0) AS unknown_sor
        FROM totals t LEFT JOIN unknown k ON k.region IS NOT DISTINCT FROM t.region
        ORDER BY t.region
        """,  # noqa: S608 - constant fragments, values bound
        child_psychiatry=PRACTICE_SETTING_CHILD_PSYCHIATRY,
        psychiatric_unit=FACILITY_PSYCHIATRIC_UNIT,
        episode=EPISODE_LABEL_MENTAL_DISORDERS,
    )
    return tuple(
        RegionAppointments(
            region=r.region,
            appointments=int(r.appointments),
            unmarked=int(r.unmarked),
            inconsistent=int(r.inconsistent),
            unknown_sor=int(r.unknown_sor),
            last_delivery=r.last_delivery,
        )
        for r in rows
    )
