"""The child, the persons with custody, the address and its protection, and the GP choice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Sor
from paatvaers.domain.organisations import unit_id_for_sor


class CustodyRole(StrEnum):
    """`foraeldremyndighedsindehaverrolle` in CPR."""

    MOTHER = "mother"
    FATHER = "father"
    OTHER = "other"  # e.g. a guardian appointed by the authorities


@dataclass(frozen=True, slots=True)
class CustodyHolder:
    """A person with parental authority (forældremyndighed) over the child."""

    cpr: Cpr
    name: str
    role: CustodyRole
    lives_with_child: bool


@dataclass(frozen=True, slots=True)
class AddressProtection:
    """Name and address protection (navne- og adressebeskyttelse) registered in CPR.

    Authorities still see the data, but the platform must not show the child's address, school
    or daycare to anyone who has no need for it: a school reveals where the child is."""

    since: date
    until: date | None  # lapses unless renewed

    def active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


@dataclass(frozen=True, slots=True)
class Address:
    """The child's address as CPR holds it: the standard address line (street, house number,
    floor, door), the postcode and the post town. The platform withholds it from others when
    the address is protected."""

    line: str
    postcode: str
    city: str


@dataclass(frozen=True, slots=True)
class GpChoice:
    """The GP relationship as the store holds it: the clinic the child is listed with (its
    unit), since when, and the clinic chosen before, whose relationship ended on `since`."""

    unit_id: uuid.UUID
    since: date | None
    previous_unit_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Child:
    cpr: Cpr
    name: str
    municipality_code: str
    custody: tuple[CustodyHolder, ...] = field(default=())
    address_protection: AddressProtection | None = None
    # CPR's latest move into the municipality of residence (tilflytning), when there was one.
    moved_in_on: date | None = None
    previous_municipality_code: str | None = None
    address: Address | None = None
    # The GP choice (lægevalg) of the health insurance register: since when the current clinic
    # is chosen, and the clinic before it (by SOR code). The clinic itself comes beside the
    # child (`sources.base.PersonWithGp`), as the register names it.
    gp_since: date | None = None
    previous_gp_sor: Sor | None = None

    @property
    def previous_gp_unit_id(self) -> uuid.UUID | None:
        sor = self.previous_gp_sor
        return unit_id_for_sor(sor.value) if sor is not None else None

    @property
    def birth_date(self) -> date:
        return self.cpr.birth_date

    def age_on(self, day: date) -> int:
        return self.cpr.age_on(day)

    @property
    def has_split_custody(self) -> bool:
        """Joint custody held by parents who do not both live with the child."""
        return len(self.custody) > 1 and not all(h.lives_with_child for h in self.custody)

    def is_protected_on(self, day: date) -> bool:
        return self.address_protection is not None and self.address_protection.active_on(day)
