"""The demo's citizen personas: "Log ind som forælder / ung", in demo mode only.

Picked from the synthetic population the same way every time (by CPR number), among the
children on the demo GP's patient list, so the personas meet the demo professionals:

* a custody holder living with a child in the target group that the family department or PPR
  works with (the professionals' overviews show it);
* a parent without custody: the other parent of a child in sole custody, who CPR does not name
  as a custody holder (a synthetic number no record holds); they see no child;
* a young person of 15 or more, who sees their own page;
* a young person of 14, who does not (yet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paatvaers.domain.cpr import Cpr, InvalidCpr, age_on, seventh_digits_for, synthetic_cpr
from paatvaers.domain.involvement import involved_kinds
from paatvaers.domain.organisations import UnitKind
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.family.citizen import Citizen
from paatvaers.store.repositories import InvolvementRepository
from paatvaers.store.tables import ChildRow, CustodyHolderRow, StaffUserRow

DEMO_GP = "praktiserende-laege"  # the demo professional whose patients the personas are


@dataclass(frozen=True, slots=True)
class Persona:
    key: str
    citizen: Citizen
    label_da: str
    label_en: str
    child: Cpr | None = None  # the child the persona is about (none for the parent without)


def personas(session: Session, today: date) -> list[Persona]:
    gp = session.scalar(select(StaffUserRow.unit_id).where(StaffUserRow.username == DEMO_GP))
    if gp is None:
        return []
    children = session.scalars(
        select(ChildRow).where(ChildRow.gp_unit_id == gp).order_by(ChildRow.cpr)
    ).all()
    found = [
        _custody_holder(session, children, today),
        _without_custody(session, children),
        _young(children, today, lambda age: 15 <= age <= 17, "ung-15", "Ung på", "Young person of"),
        _young(children, today, lambda age: age == 14, "ung-14", "Ung på", "Young person of"),
    ]
    return [p for p in found if p is not None]


def persona(session: Session, today: date, key: str) -> Persona | None:
    return next((p for p in personas(session, today) if p.key == key), None)


def _custody_holder(session: Session, children: Sequence[ChildRow], today: date) -> Persona | None:
    rule = TargetGroupRule()
    for child in children:
        cpr = Cpr.parse(child.cpr)
        kinds = involved_kinds(InvolvementRepository(session).for_child(cpr), today)
        if age_on(child.birth_date, today) >= 15 or not kinds & {
            UnitKind.CHILD_FAMILY,
            UnitKind.PPR,
        }:
            continue
        if not rule.evaluate(child.birth_date, kinds, today).included:
            continue
        holder = session.scalars(
            select(CustodyHolderRow)
            .where(CustodyHolderRow.child_cpr == child.cpr, CustodyHolderRow.lives_with_child)
            .order_by(CustodyHolderRow.holder_cpr)
            .limit(1)
        ).first()
        if holder is not None:
            return Persona(
                "foraelder",
                Citizen(Cpr.parse(holder.holder_cpr), holder.name),
                f"Forælder med forældremyndighed (barn: {child.name})",
                f"Parent with custody (child: {child.name})",
                cpr,
            )
    return None


def _without_custody(session: Session, children: Sequence[ChildRow]) -> Persona | None:
    """The other parent of the first child in sole custody: a number nobody holds."""
    sole = set(
        session.scalars(
            select(CustodyHolderRow.child_cpr)
            .where(CustodyHolderRow.child_cpr.in_([c.cpr for c in children]))
            .group_by(CustodyHolderRow.child_cpr)
            .having(func.count() == 1)
        )
    )
    for child in children:
        if child.cpr not in sole:
            continue
        cpr = _unused_cpr(session, child.birth_date)
        if cpr is not None:
            surname = child.name.rsplit(" ", 1)[-1]
            return Persona(
                "uden-foraeldremyndighed",
                Citizen(cpr, f"Morten {surname}"),
                f"Forælder uden forældremyndighed (barn: {child.name})",
                f"Parent without custody (child: {child.name})",
            )
    return None


def _unused_cpr(session: Session, child_born: date) -> Cpr | None:
    born = child_born.replace(year=child_born.year - 32, day=min(child_born.day, 28))
    for serial in range(10):
        try:
            cpr = synthetic_cpr(
                born, seventh_digits_for(born.year)[0], 1 + 2 * (serial % 5), serial
            )
        except InvalidCpr:
            continue
        taken = session.scalar(
            select(func.count()).where(CustodyHolderRow.holder_cpr == cpr.value)
        ) or session.get(ChildRow, cpr.value)
        if not taken:
            return cpr
    return None


def _young(
    children: Sequence[ChildRow],
    today: date,
    fits: Callable[[int], bool],
    key: str,
    da: str,
    en: str,
) -> Persona | None:
    for child in children:
        age = age_on(child.birth_date, today)
        if fits(age):
            return Persona(
                key,
                Citizen(Cpr.parse(child.cpr), child.name),
                f"{da} {age} år ({child.name})",
                f"{en} {age} ({child.name})",
            )
    return None
