"""Where a child goes to school or daycare, as STIL's registers tell it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import InstitutionNumber


class InstitutionType(StrEnum):
    """`INST_TYPE_NR` of the institution register; daycare has its own kind here."""

    FOLKESKOLE = "1012"
    FRISKOLE = "1013"
    SPECIALSKOLE = "1015"
    DAYCARE = "daycare"

    @property
    def danish_name(self) -> str:
        return {
            InstitutionType.FOLKESKOLE: "Folkeskole",
            InstitutionType.FRISKOLE: "Friskole og privat grundskole",
            InstitutionType.SPECIALSKOLE: "Specialskole",
            InstitutionType.DAYCARE: "Dagtilbud",
        }[self]


@dataclass(frozen=True, slots=True)
class Enrollment:
    """`InstBruger.elev`: main group (class) and grade, or rolle `Barn` with trin `DT` in
    daycare."""

    child_cpr: Cpr
    institution_number: InstitutionNumber
    institution_name: str
    institution_type: InstitutionType
    main_group: str | None  # Hovedgruppe, e.g. "4.B"; None in daycare
    grade: str  # gruppetrin: 0-10, or DT for daycare
    since: date

    @property
    def is_daycare(self) -> bool:
        return self.institution_type is InstitutionType.DAYCARE
