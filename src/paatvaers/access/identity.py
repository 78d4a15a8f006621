"""Who is asking: a user, the employee function their login carries, the unit they act for,
and (municipal users) the data restrictions their login grants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from paatvaers.domain.organisations import DataRestrictions, EmployeeFunction, OrgUnit
from paatvaers.store.repositories import OrgUnitRepository, StaffRepository


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    username: str
    function: EmployeeFunction
    unit: OrgUnit
    restrictions: DataRestrictions | None = None


def principal_for(session: Session, username: str) -> Principal | None:
    """The principal for a stored user (the CLI, the demo login); None if unknown."""
    member = StaffRepository(session).by_username(username)
    if member is None:
        return None
    unit = OrgUnitRepository(session).get(member.unit_id)
    if unit is None:
        return None
    return Principal(member.id, member.username, member.function, unit, member.restrictions)
