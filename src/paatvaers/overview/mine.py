""" "Mine": the children in the target group that the user's unit has a relationship to.

Nothing lists children outside the user's relationships: the candidates come from the unit's
own data (its patient list, its appointments, its cases), and each listed child is read through
the access layer like any other read, so every name on the list is decided and logged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.access.reading import ChildAccess, ChildDetails
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.involvement import involved_kinds
from paatvaers.domain.organisations import UnitKind
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.store.repositories import InvolvementRepository
from paatvaers.store.tables import AppointmentRow, ChildRow, InvolvementRow

MAX_LISTED = 200


def my_children(
    session: Session, access: ChildAccess, principal: Principal, purpose: str
) -> list[ChildDetails]:
    day = danish_day(access.clock())
    rule = TargetGroupRule()
    listed = []
    for cpr in _candidates(session, principal, access)[:MAX_LISTED]:
        child = Cpr.parse(cpr)
        birth = session.scalar(select(ChildRow.birth_date).where(ChildRow.cpr == cpr))
        kinds = involved_kinds(InvolvementRepository(session).for_child(child), day)
        if birth is None or not rule.evaluate(birth, kinds, day).included:
            continue
        answer = access.child_details(principal, child, purpose)
        if answer.data is not None:
            listed.append(answer.data)
    return sorted(listed, key=lambda c: c.name)


def _candidates(session: Session, principal: Principal, access: ChildAccess) -> list[str]:
    unit = principal.unit
    if unit.kind is UnitKind.GP:
        query = select(ChildRow.cpr).where(ChildRow.gp_unit_id == unit.id)
    elif unit.kind is UnitKind.BUP and unit.sor is not None:
        since = access.clock() - timedelta(
            days=access.engine.policy.relationships.bup_course_quiet_days
        )
        query = (
            select(AppointmentRow.patient_cpr)
            .distinct()
            .where(
                AppointmentRow.performer_sor == unit.sor.value,
                AppointmentRow.status.in_(("booked", "held")),
                AppointmentRow.start >= since,
            )
        )
    elif unit.kind in (UnitKind.CHILD_FAMILY, UnitKind.PPR):
        query = select(InvolvementRow.child_cpr).where(InvolvementRow.unit_id == unit.id)
    else:
        return []
    return sorted(session.scalars(query))
