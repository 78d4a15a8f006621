"""Daily snapshots of the figures, so trends show (`quality_snapshot`).

A snapshot is one row per figure: (day, section, subject, metric) → value. Taking the day's
snapshot again replaces that day's rows in one transaction, so a re-run is harmless and the
day keeps its latest figures. The values are the raw counts, as computed: suppression applies
when they are shown (`trend` suppresses, like the report).

Sections, their subjects and metrics:

* sources (source name): records, quarantined, lag_hours, last_run_failed;
* cases (`<municipality code>/<system>`, or `cvr:<CVR>/<system>` when no unit tells the
  owner's municipality): cases, ppr_cases, without_unit, without_handler, parties,
  parties_not_in_cpr, lag_hours;
* municipalities (code): children, units, units_without_phone, units_without_email;
* appointments (region code, or `ukendt`): appointments, unmarked, inconsistent,
  unknown_sor, lag_hours;
* correspondence (unit kind): units, in_address_book, receiving, web_client,
  with_acknowledgements, sent, failed;
* rollout (kommune, region, klinik): total, connected, delivering, correspondence_ready,
  with_active_users, active_users;
* alerts (alert code): count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from paatvaers.quality.alerts import (
    Alert,
    History,
    case_subject,
    municipality_key,
    region_key,
)
from paatvaers.quality.correspondence import KindAvailability
from paatvaers.quality.metrics import Figures
from paatvaers.quality.rollout import Rollout, RolloutStatus
from paatvaers.quality.suppression import suppress
from paatvaers.store.tables import QualitySnapshotRow

LOCAL_TIME_ZONE = ZoneInfo("Europe/Copenhagen")  # a snapshot's day is the day in Denmark
NOT_COUNTS = frozenset({"lag_hours", "last_run_failed"})
ROLLOUT_METRICS = (
    "total",
    "connected",
    "delivering",
    "correspondence_ready",
    "with_active_users",
    "active_users",
)

Value = tuple[str, str, str, float]  # section, subject, metric, value


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME_ZONE).date()


def values_of(
    figures: Figures,
    kinds: Iterable[KindAvailability],
    rollout: Rollout,
    alerts: Iterable[Alert],
) -> list[Value]:
    """Every figure of a report as snapshot values."""
    return [
        *_source_values(figures),
        *_case_values(figures),
        *_municipal_values(figures),
        *_appointment_values(figures),
        *(
            ("correspondence", k.kind, metric, float(getattr(k, metric)))
            for k in kinds
            for metric in (
                "units",
                "in_address_book",
                "receiving",
                "web_client",
                "with_acknowledgements",
                "sent",
                "failed",
            )
        ),
        *_rollout_values(rollout),
        *_alert_values(alerts),
    ]


def _lag(figures: Figures, moment: datetime | None) -> Iterator[tuple[str, float]]:
    if moment is not None:
        yield "lag_hours", max(0.0, (figures.now - moment).total_seconds() / 3600)


def _source_values(figures: Figures) -> Iterator[Value]:
    for s in figures.sources:
        yield "sources", s.source, "records", float(s.records)
        yield "sources", s.source, "quarantined", float(s.quarantined)
        yield "sources", s.source, "last_run_failed", float(s.last_run_status == "failed")
        for metric, value in _lag(figures, s.last_completed_at):
            yield "sources", s.source, metric, value


def _case_values(figures: Figures) -> Iterator[Value]:
    for d in figures.cases:
        subject = case_subject(d)
        for metric in (
            "cases",
            "ppr_cases",
            "without_unit",
            "without_handler",
            "parties",
            "parties_not_in_cpr",
        ):
            yield "cases", subject, metric, float(getattr(d, metric))
        for metric, value in _lag(figures, d.last_delivery):
            yield "cases", subject, metric, value


def _municipal_values(figures: Figures) -> Iterator[Value]:
    for m in figures.municipalities:
        key = municipality_key(m.code)
        for metric in ("children", "units", "units_without_phone", "units_without_email"):
            yield "municipalities", key, metric, float(getattr(m, metric))


def _appointment_values(figures: Figures) -> Iterator[Value]:
    for r in figures.appointments:
        key = region_key(r.region)
        for metric in ("appointments", "unmarked", "inconsistent", "unknown_sor"):
            yield "appointments", key, metric, float(getattr(r, metric))
        for metric, value in _lag(figures, r.last_delivery):
            yield "appointments", key, metric, value


def rollout_counts(statuses: tuple[RolloutStatus, ...]) -> dict[str, int]:
    return {
        "total": len(statuses),
        "connected": sum(s.connected for s in statuses),
        "delivering": sum(bool(s.delivering) for s in statuses),
        "correspondence_ready": sum(s.correspondence_ready for s in statuses),
        "with_active_users": sum(s.active_users > 0 for s in statuses),
        "active_users": sum(s.active_users for s in statuses),
    }


def _rollout_values(rollout: Rollout) -> Iterator[Value]:
    for level, statuses in (
        ("kommune", rollout.municipalities),
        ("region", rollout.regions),
        ("klinik", rollout.clinics),
    ):
        for metric, value in rollout_counts(statuses).items():
            yield "rollout", level, metric, float(value)


def _alert_values(alerts: Iterable[Alert]) -> Iterator[Value]:
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert.code.value] = counts.get(alert.code.value, 0) + 1
    for code, count in sorted(counts.items()):
        yield "alerts", code, "count", float(count)


# -- storing and reading -------------------------------------------------------------------------


def store(session: Session, day: date, values: Iterable[Value], taken_at: datetime) -> int:
    """Replace the snapshot of `day` with `values`, in the caller's transaction; how many
    figures it holds."""
    rows = [
        {
            "day": day,
            "section": section,
            "subject": subject,
            "metric": metric,
            "value": value,
            "taken_at": taken_at,
        }
        for section, subject, metric, value in values
    ]
    session.execute(delete(QualitySnapshotRow).where(QualitySnapshotRow.day == day))
    if rows:
        session.execute(insert(QualitySnapshotRow), rows)
    return len(rows)


def days(session: Session) -> list[date]:
    """The days that have a snapshot, oldest first."""
    return list(
        session.scalars(select(QualitySnapshotRow.day).distinct().order_by(QualitySnapshotRow.day))
    )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: date
    value: int | float | str  # a count as shown (suppressed), or hours


def trend(
    session: Session,
    section: str,
    subject: str,
    metric: str,
    since: date | None = None,
) -> tuple[TrendPoint, ...]:
    """One figure over the days that have a snapshot, oldest first; counts suppressed."""
    query = select(QualitySnapshotRow.day, QualitySnapshotRow.value).where(
        QualitySnapshotRow.section == section,
        QualitySnapshotRow.subject == subject,
        QualitySnapshotRow.metric == metric,
    )
    if since is not None:
        query = query.where(QualitySnapshotRow.day >= since)
    shown = (lambda v: round(v, 1)) if metric in NOT_COUNTS else (lambda v: suppress(int(v)))
    return tuple(
        TrendPoint(day, shown(value))
        for day, value in session.execute(query.order_by(QualitySnapshotRow.day))
    )


def history_before(session: Session, day: date) -> History:
    """What delivered on any day before `day`: the subjects a stop is judged against."""

    def delivering(section: str, metric: str) -> frozenset[str]:
        return frozenset(
            session.scalars(
                select(QualitySnapshotRow.subject)
                .distinct()
                .where(
                    QualitySnapshotRow.day < day,
                    QualitySnapshotRow.section == section,
                    QualitySnapshotRow.metric == metric,
                    QualitySnapshotRow.value > 0,
                )
            )
        )

    return History(delivering("cases", "cases"), delivering("appointments", "appointments"))


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """Rollout on one day, for one level: counts as shown (suppressed)."""

    day: date
    level: str
    values: dict[str, int | str]


def rollout_progress(session: Session, since: date | None = None) -> tuple[ProgressPoint, ...]:
    """The rollout counts per day and level, oldest first."""
    query = select(
        QualitySnapshotRow.day,
        QualitySnapshotRow.subject,
        QualitySnapshotRow.metric,
        QualitySnapshotRow.value,
    ).where(QualitySnapshotRow.section == "rollout")
    if since is not None:
        query = query.where(QualitySnapshotRow.day >= since)
    points: dict[tuple[date, str], dict[str, int | str]] = {}
    for day, level, metric, value in session.execute(query):
        points.setdefault((day, level), {})[metric] = suppress(int(value))
    order = {"kommune": 0, "region": 1, "klinik": 2}
    return tuple(
        ProgressPoint(day, level, values)
        for (day, level), values in sorted(
            points.items(), key=lambda p: (p[0][0], order.get(p[0][1], 9))
        )
    )
