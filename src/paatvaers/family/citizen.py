"""Who the citizen is, and which children they may see.

A citizen sees a child when CPR names them as the child's custody holder now (the
custody_holder table), or when the child is the citizen themself and has reached the age the
citizen rules name (15). Anything else, a parent without custody included, gets the same
answer as a stranger: no child. Nothing says whether there would have been anything to see.

The family's own views are logged in the access log like every other look at a child's data,
marked as the family's (`employee_function = "borger"`), so "who has looked" can leave them
out and an auditor can still find them. The citizen's CPR number is never the user name: the
log row's user id is derived from it, so the rows of one citizen belong together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessAction, AccessEvent, record
from paatvaers.domain.cpr import Cpr, age_on
from paatvaers.family.policy import FamilyPolicy, WithholdLocationFrom
from paatvaers.store.tables import ChildRow, CustodyHolderRow

CITIZEN_FUNCTION = "borger"  # the access log's mark of the family's own views
CITIZEN_UNIT = uuid.UUID(int=0)  # a citizen acts for no unit
_CITIZEN_NAMESPACE = uuid.UUID("6d1f8b7a-3c2e-5f40-9b1e-62f0726765a1")


@dataclass(frozen=True, slots=True)
class Citizen:
    """A person logged in with the national citizen login (MitID), or a demo persona."""

    cpr: Cpr
    name: str

    @property
    def log_id(self) -> uuid.UUID:
        """The citizen's id in the access log: stable, and not their CPR number."""
        return uuid.uuid5(_CITIZEN_NAMESPACE, self.cpr.value)


class Relation(StrEnum):
    CUSTODY_HOLDER = "custody_holder"
    SELF = "self"  # the young person's own page


@dataclass(frozen=True, slots=True)
class ChildLink:
    """A child the citizen may see, and why."""

    cpr: Cpr
    name: str
    birth_date: date
    age: int
    relation: Relation
    lives_with_child: bool  # the citizen lives at the child's address (true for the child)
    address_protected: bool
    location_withheld: bool  # nothing locating the child may be shown to this citizen


def children_for(
    session: Session, citizen: Citizen, today: date, policy: FamilyPolicy
) -> list[ChildLink]:
    """The children the citizen may see today: their own page first, then by name."""
    links: list[ChildLink] = []
    own = session.get(ChildRow, citizen.cpr.value)
    if own is not None and age_on(own.birth_date, today) >= policy.young_person_from_age:
        links.append(_link(own, Relation.SELF, True, today, policy))
    if policy.custody_holder_sees:
        rows = session.execute(
            select(ChildRow, CustodyHolderRow.lives_with_child)
            .join(CustodyHolderRow, CustodyHolderRow.child_cpr == ChildRow.cpr)
            .where(CustodyHolderRow.holder_cpr == citizen.cpr.value)
            .order_by(ChildRow.name, ChildRow.cpr)
        ).all()
        links += [_link(row, Relation.CUSTODY_HOLDER, lives, today, policy) for row, lives in rows]
    return links


def link_for(
    session: Session, citizen: Citizen, child: str, today: date, policy: FamilyPolicy
) -> ChildLink | None:
    """The child, if the citizen may see it; None alike for no such child and no right."""
    return next(
        (c for c in children_for(session, citizen, today, policy) if c.cpr.value == child), None
    )


def _link(
    row: ChildRow, relation: Relation, lives_with_child: bool, today: date, policy: FamilyPolicy
) -> ChildLink:
    protected = address_protected(row, today)
    return ChildLink(
        cpr=Cpr.parse(row.cpr),
        name=row.name,
        birth_date=row.birth_date,
        age=age_on(row.birth_date, today),
        relation=relation,
        lives_with_child=lives_with_child,
        address_protected=protected,
        location_withheld=protected and _aimed_at(relation, lives_with_child, policy),
    )


def address_protected(row: ChildRow, today: date) -> bool:
    """Whether the child's name and address protection is in force today."""
    since, until = row.address_protected_since, row.address_protected_until
    return since is not None and since <= today and (until is None or today <= until)


def _aimed_at(relation: Relation, lives_with_child: bool, policy: FamilyPolicy) -> bool:
    """Whether a protection may be aimed at this citizen. The young person is the protected
    one; a custody holder at the child's address lives there anyway. Anyone else: withheld."""
    if relation is Relation.SELF:
        return False
    aimed = {WithholdLocationFrom.CUSTODY_HOLDERS_NOT_AT_CHILD_ADDRESS: not lives_with_child}
    return aimed.get(policy.withhold_location_from, True)  # a rule unknown here: withhold


def log_family_view(
    session: Session,
    citizen: Citizen,
    child: ChildLink,
    what: str,
    policy: FamilyPolicy,
    record_ids: tuple[str, ...] = (),
    synthetic: bool = True,
) -> None:
    """Write the family's own view of `what` (team, sharing, log, meetings) to the access
    log, in the caller's transaction, before the page is rendered."""
    record(
        session,
        AccessEvent(
            user_id=citizen.log_id,
            username=CITIZEN_FUNCTION,
            employee_function=CITIZEN_FUNCTION,
            unit_id=CITIZEN_UNIT,
            action=AccessAction.READ,
            purpose=f"family:{what}",
            decision="permit",
            rules=(f"family.{child.relation.value}",),
            child_cpr=child.cpr.value,
            child_cpr_synthetic=synthetic,
            data_flow=None,
            legal_reference=policy.legal_reference,
            record_ids=record_ids,
            reason=policy.legal_basis.da,
        ),
    )
