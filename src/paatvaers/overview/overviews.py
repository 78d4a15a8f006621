"""The health overview (BUP and GP, R4) and the municipal overview (family department and
PPR, R3), assembled from reads that are each decided by policy and logged.

The caller commits the session after calling these and before showing anything: the log rows
and the reads commit together (see access/reading.py). Each overview is one view of the child
(`ChildAccess.one_view`): its blocks are decided and logged one by one, on one reading of the
child's data and one answer from the consent service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import CompoundSelect, func, null, select, union_all
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.access.reading import (
    Answer,
    AppointmentView,
    CaseView,
    ChildAccess,
    ChildDetails,
    ContactView,
    SchoolView,
)
from paatvaers.domain.appointments import AppointmentStatus, CourseStage
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.involvement import involved_kinds
from paatvaers.domain.organisations import Sector
from paatvaers.domain.target_group import TargetGroupRule, Verdict
from paatvaers.sources.base import SourceName
from paatvaers.store.tables import IngestRunRow, PopulationRunRow

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Block(Generic[T]):
    """One flow's answer, where it came from and how fresh that source is."""

    answer: Answer[T]
    source: SourceName
    fresh_at: datetime | None


@dataclass(frozen=True, slots=True)
class HealthOverview:
    child: Block[ChildDetails | None]
    cases: Block[list[CaseView]]
    contacts: Block[list[ContactView]]
    school: Block[SchoolView | None]
    target_group: Verdict | None  # shown only when the case flow is permitted (it names actors)


@dataclass(frozen=True, slots=True)
class TimelineStep:
    stage: CourseStage
    reached_on: datetime | None  # None: not (yet) reached, as far as the data carry it


@dataclass(frozen=True, slots=True)
class MunicipalOverview:
    child: Block[ChildDetails | None]
    appointments: Block[list[AppointmentView]]
    cases: Block[list[CaseView]]
    next_appointment: AppointmentView | None
    upcoming: list[AppointmentView]
    past: list[AppointmentView]
    timeline: list[TimelineStep]


def sector_of(principal: Principal) -> Sector:
    return principal.unit.kind.sector


def health_overview(
    session: Session, access: ChildAccess, principal: Principal, child: Cpr, purpose: str
) -> HealthOverview:
    with access.one_view():
        return _health_overview(session, access, principal, child, purpose)


def _health_overview(
    session: Session, access: ChildAccess, principal: Principal, child: Cpr, purpose: str
) -> HealthOverview:
    fresh = source_freshness(session)
    cases = access.cases_for_health(principal, child, purpose)
    verdict = None
    if cases.permitted:  # the consent that shows cases also covers who is involved
        verdict = _target_group(access, child)
    return HealthOverview(
        child=Block(
            access.child_details(principal, child, purpose),
            SourceName.CPR,
            fresh.get(SourceName.CPR),
        ),
        cases=_block(cases, SourceName.CASE_INDEX, fresh),
        contacts=_block(access.contacts(principal, child, purpose), SourceName.ORG_REGISTRY, fresh),
        school=_block(access.school(principal, child, purpose), SourceName.INSTITUTIONS, fresh),
        target_group=verdict,
    )


def municipal_overview(
    session: Session, access: ChildAccess, principal: Principal, child: Cpr, purpose: str
) -> MunicipalOverview:
    with access.one_view():
        return _municipal_overview(session, access, principal, child, purpose)


def _municipal_overview(
    session: Session, access: ChildAccess, principal: Principal, child: Cpr, purpose: str
) -> MunicipalOverview:
    fresh = source_freshness(session)
    appointments = access.appointments(principal, child, purpose)
    now = access.clock()
    shown = [a for a in appointments.data or [] if a.status is not AppointmentStatus.MOVED]
    upcoming = sorted(
        (a for a in shown if a.start >= now and a.status is AppointmentStatus.BOOKED),
        key=lambda a: a.start,
    )
    past = sorted((a for a in appointments.data or [] if a not in upcoming), key=lambda a: a.start)
    past.reverse()
    return MunicipalOverview(
        child=Block(
            access.child_details(principal, child, purpose),
            SourceName.CPR,
            fresh.get(SourceName.CPR),
        ),
        appointments=Block(
            appointments, SourceName.APPOINTMENTS, fresh.get(SourceName.APPOINTMENTS)
        ),
        cases=_block(
            access.cases_in_municipality(principal, child, purpose), SourceName.CASE_INDEX, fresh
        ),
        next_appointment=upcoming[0] if upcoming else None,
        upcoming=upcoming,
        past=past,
        timeline=course_timeline(appointments.data or []),
    )


def _block(
    answer: Answer[T], source: SourceName, fresh: dict[SourceName, datetime | None]
) -> Block[T]:
    return Block(answer, source, fresh.get(source))


def course_timeline(appointments: Sequence[AppointmentView]) -> list[TimelineStep]:
    """How far the child has come: the first held or booked appointment of each stage. A stage
    no appointment carries is shown as not reached; nothing is inferred."""
    reached: dict[CourseStage, datetime] = {}
    for a in sorted(appointments, key=lambda a: a.start):
        if a.stage is None or a.status in (AppointmentStatus.CANCELLED, AppointmentStatus.MOVED):
            continue
        reached.setdefault(a.stage, a.start)
    return [TimelineStep(stage, reached.get(stage)) for stage in CourseStage]


def _target_group(access: ChildAccess, child: Cpr) -> Verdict | None:
    """From what the view has read already: the CPR row and the involvements."""
    row = access.engine.child_row(child.value)
    if row is None:
        return None
    day = danish_day(access.clock())
    kinds = involved_kinds(access.engine.involvements(child), day)
    return TargetGroupRule().evaluate(row.birth_date, kinds, day)


# One statement: the last completed run of each source, and (source NULL) when the population
# was made.
_FRESHNESS: CompoundSelect[str | None, datetime | None] = union_all(
    select(IngestRunRow.source, func.max(IngestRunRow.finished_at))
    .where(IngestRunRow.status == "completed")
    .group_by(IngestRunRow.source),
    select(null().label("source"), func.max(PopulationRunRow.generated_at)),
)


def source_freshness(session: Session) -> dict[SourceName, datetime | None]:
    """When each source was last read completely: its last completed ingest run, or, for a
    population written straight into the database, when that population was made."""
    finished: dict[str | None, datetime | None] = dict(session.execute(_FRESHNESS).all())
    generated = finished.pop(None, None)
    return {
        source: finished.get(source.value) or generated
        for source in SourceName
        if source is not SourceName.CONSENT
    }
