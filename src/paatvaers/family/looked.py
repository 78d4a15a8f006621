"""Who has looked: the access log for one child, as the family reads it (like Min Log).

Every look that showed the child's data (`read`) or named the child in a list (`search`) and
was permitted, newest first, at least the years the citizen rules name, filterable by
organisation, by what was seen and by period. The family's own views are left out (they are
in the log, marked `borger`, for auditors). Denied requests are not looks: nothing was shown.

Under a protection aimed at the citizen the organisation and the person are not named, since
either tells where the child lives; the kind of professional is still shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessAction
from paatvaers.access.reading import WITHHELD, Withheld
from paatvaers.domain.clock import DANISH_TIME, danish_day
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.family.citizen import CITIZEN_FUNCTION, ChildLink
from paatvaers.family.policy import FamilyPolicy
from paatvaers.store.tables import AccessEventRow, OrgUnitRow, StaffUserRow

PAGE_SIZE = 25
_LOOKS = (AccessAction.READ.value, AccessAction.SEARCH.value)


@dataclass(frozen=True, slots=True)
class LookFilter:
    unit_id: uuid.UUID | None = None
    flow: DataFlow | None = None
    from_day: date | None = None
    to_day: date | None = None
    page: int = 1


@dataclass(frozen=True, slots=True)
class Look:
    at: datetime
    person: str | Withheld | None  # the professional's name, when the platform knows it
    function: EmployeeFunction | None
    unit_name: str | Withheld | None
    unit_kind: UnitKind | None
    flow: DataFlow | None  # None: the child was named in a list
    purpose: str


@dataclass(frozen=True, slots=True)
class Organisation:
    unit_id: uuid.UUID
    name: str | Withheld


@dataclass(frozen=True, slots=True)
class LookPage:
    looks: list[Look]
    total: int
    page: int
    pages: int
    earliest_day: date  # how far back the list reaches
    organisations: list[Organisation]  # who has looked at all, for the filter


def earliest(today: date, policy: FamilyPolicy) -> date:
    return today.replace(year=today.year - policy.access_log_years, day=min(today.day, 28))


def who_has_looked(
    session: Session, child: ChildLink, chosen: LookFilter, now: datetime, policy: FamilyPolicy
) -> LookPage:
    today = danish_day(now)
    first = max(earliest(today, policy), chosen.from_day or date.min)
    base = _looks(child, first, chosen.to_day)
    organisations = _organisations(session, base, child)
    if chosen.unit_id is not None:
        base = base.where(AccessEventRow.unit_id == chosen.unit_id)
    if chosen.flow is not None:
        base = base.where(AccessEventRow.data_flow == chosen.flow.value)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, chosen.page), pages)
    rows = session.execute(
        base.add_columns(StaffUserRow.full_name, OrgUnitRow.name, OrgUnitRow.kind)
        .outerjoin(StaffUserRow, StaffUserRow.id == AccessEventRow.user_id)
        .outerjoin(OrgUnitRow, OrgUnitRow.id == AccessEventRow.unit_id)
        .order_by(AccessEventRow.recorded_at.desc(), AccessEventRow.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    looks = [_look(row, child) for row in rows]
    return LookPage(looks, total, page, pages, earliest(today, policy), organisations)


def _looks(child: ChildLink, first: date, last: date | None) -> Select[AccessEventRow]:
    query = select(AccessEventRow).where(
        AccessEventRow.child_cpr == child.cpr.value,
        AccessEventRow.employee_function != CITIZEN_FUNCTION,
        AccessEventRow.decision == "permit",
        AccessEventRow.action.in_(_LOOKS),
        AccessEventRow.recorded_at >= _start_of(first),
    )
    if last is not None:
        query = query.where(AccessEventRow.recorded_at < _start_of(last + timedelta(days=1)))
    return query


def _start_of(day: date) -> datetime:
    """Midnight in Denmark, as a UTC moment (the log's times are UTC)."""
    return datetime.combine(day, time(0), tzinfo=DANISH_TIME).astimezone(UTC)


def _organisations(
    session: Session, base: Select[AccessEventRow], child: ChildLink
) -> list[Organisation]:
    units = base.with_only_columns(AccessEventRow.unit_id).distinct().subquery()
    rows = session.execute(
        select(OrgUnitRow.id, OrgUnitRow.name)
        .where(OrgUnitRow.id.in_(select(units.c.unit_id)))
        .order_by(OrgUnitRow.name)
    ).all()
    if child.location_withheld:
        return []  # naming them would locate the child; the other filters remain
    return [Organisation(unit_id, name) for unit_id, name in rows]


def _look(row: object, child: ChildLink) -> Look:
    event: AccessEventRow = row[0]  # type: ignore[index]
    person, unit_name, kind = row[1], row[2], row[3]  # type: ignore[index]
    hide = child.location_withheld
    return Look(
        at=event.recorded_at,
        person=WITHHELD if hide and person else person,
        function=_function(event.employee_function),
        unit_name=WITHHELD if hide and unit_name else unit_name,
        unit_kind=UnitKind(kind) if kind else None,
        flow=_flow(event.data_flow),
        purpose=event.purpose,
    )


def _function(value: str) -> EmployeeFunction | None:
    try:
        return EmployeeFunction(value)
    except ValueError:
        return None


def _flow(value: str | None) -> DataFlow | None:
    try:
        return DataFlow(value) if value else None
    except ValueError:
        return None
