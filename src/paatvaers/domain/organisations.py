"""Organisation units: the actors that can be involved with a child."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.identifiers import Cvr, Gln, InstitutionNumber, Sor


class UnitKind(StrEnum):
    """What an organisation unit is. The first four are the professionals of the mission."""

    CHILD_FAMILY = "child_family"  # municipal child/family department (Børne-/familieafdeling)
    PPR = "ppr"  # municipal pedagogical-psychological counselling
    BUP = "bup"  # regional child & adolescent psychiatry
    GP = "gp"  # general practice
    SCHOOL = "school"
    DAYCARE = "daycare"

    @property
    def danish_name(self) -> str:
        return _KIND_NAMES[self]

    @property
    def sector(self) -> Sector:
        return _KIND_SECTOR[self]


class Sector(StrEnum):
    MUNICIPAL = "municipal"
    HEALTH = "health"
    EDUCATION = "education"


_KIND_NAMES = {
    UnitKind.CHILD_FAMILY: "Børne- og familieafdeling",
    UnitKind.PPR: "PPR",
    UnitKind.BUP: "Børne- og ungdomspsykiatri",
    UnitKind.GP: "Almen praksis",
    UnitKind.SCHOOL: "Skole",
    UnitKind.DAYCARE: "Dagtilbud",
}
_KIND_SECTOR = {
    UnitKind.CHILD_FAMILY: Sector.MUNICIPAL,
    UnitKind.PPR: Sector.MUNICIPAL,
    UnitKind.BUP: Sector.HEALTH,
    UnitKind.GP: Sector.HEALTH,
    UnitKind.SCHOOL: Sector.EDUCATION,
    UnitKind.DAYCARE: Sector.EDUCATION,
}


@dataclass(frozen=True, slots=True)
class OrgUnit:
    """A unit with the identifiers its registers give it. Municipal units live in
    FK Organisation (UUID) under the municipality's CVR; health units have SOR codes and a
    GLN on the health data network; schools and daycares have a STIL institution number."""

    id: uuid.UUID
    kind: UnitKind
    name: str
    municipality_code: str | None = None
    region: str | None = None
    cvr: Cvr | None = None
    fk_org_uuid: uuid.UUID | None = None
    sor: Sor | None = None
    gln: Gln | None = None
    institution_number: InstitutionNumber | None = None
    phone: str | None = None
    email: str | None = None


class EmployeeFunction(StrEnum):
    """The employee function a login carries; access to each data flow is decided by it."""

    SOCIALRAADGIVER = "socialraadgiver"  # social worker, child/family department
    PPR_PSYKOLOG = "ppr_psykolog"  # psychologist in PPR
    BUP_LAEGE = "bup_laege"  # physician (psychiatrist) in BUP
    BUP_PSYKOLOG = "bup_psykolog"
    BUP_SOCIALRAADGIVER = "bup_socialraadgiver"
    BUP_SEKRETAER = "bup_sekretaer"  # medical secretary in BUP
    SAGSBEHANDLER = "sagsbehandler"  # caseworker without social-work training (e.g. benefits)
    PRAKTISERENDE_LAEGE = "praktiserende_laege"  # general practitioner
    KLINIKPERSONALE = "klinikpersonale"  # GP clinic staff (nurse, secretary)
    # Operations and follow-up (the joint project's secretariat): sees the aggregated quality
    # follow-up (issue #8) and receives no data flow, so it can read nothing about a child.
    DRIFT = "drift"

    @property
    def danish_title(self) -> str:
        return _FUNCTION_TITLES[self]

    @property
    def unit_kind(self) -> UnitKind:
        """The kind of unit a holder of this function works in."""
        return _FUNCTION_UNIT_KIND[self]


_FUNCTION_TITLES = {
    EmployeeFunction.SOCIALRAADGIVER: "Socialrådgiver, børne- og familieafdelingen",
    EmployeeFunction.PPR_PSYKOLOG: "Psykolog, PPR",
    EmployeeFunction.BUP_LAEGE: "Læge, børne- og ungdomspsykiatrien",
    EmployeeFunction.BUP_PSYKOLOG: "Psykolog, børne- og ungdomspsykiatrien",
    EmployeeFunction.BUP_SOCIALRAADGIVER: "Socialrådgiver, børne- og ungdomspsykiatrien",
    EmployeeFunction.BUP_SEKRETAER: "Lægesekretær, børne- og ungdomspsykiatrien",
    EmployeeFunction.SAGSBEHANDLER: "Sagsbehandler, børne- og familieafdelingen",
    EmployeeFunction.PRAKTISERENDE_LAEGE: "Praktiserende læge",
    EmployeeFunction.KLINIKPERSONALE: "Klinikpersonale, almen praksis",
    EmployeeFunction.DRIFT: "Drift og opfølgning",
}
_FUNCTION_UNIT_KIND = {
    EmployeeFunction.SOCIALRAADGIVER: UnitKind.CHILD_FAMILY,
    EmployeeFunction.SAGSBEHANDLER: UnitKind.CHILD_FAMILY,
    EmployeeFunction.PPR_PSYKOLOG: UnitKind.PPR,
    EmployeeFunction.BUP_LAEGE: UnitKind.BUP,
    EmployeeFunction.BUP_PSYKOLOG: UnitKind.BUP,
    EmployeeFunction.BUP_SOCIALRAADGIVER: UnitKind.BUP,
    EmployeeFunction.BUP_SEKRETAER: UnitKind.BUP,
    EmployeeFunction.PRAKTISERENDE_LAEGE: UnitKind.GP,
    EmployeeFunction.KLINIKPERSONALE: UnitKind.GP,
    # The joint project's secretariat is no unit in any register the platform reads, and a
    # login needs a unit. Its users work from a municipal family department; the unit grants
    # them nothing, since no data flow names their function (the decision checks it first).
    EmployeeFunction.DRIFT: UnitKind.CHILD_FAMILY,
}


@dataclass(frozen=True, slots=True)
class DataRestrictions:
    """What a municipal login may see of the municipality's case data, as KOMBIT's access
    control grants it (a role's *dataafgrænsninger*): cases owned by this CVR, whose KLE
    subject matches one of the patterns (`27.*`, `27.24.*`, `17.13.03`), up to this
    sensitivity. A case must satisfy all three (KOMBIT, generelt-vejledning §12)."""

    cvr: Cvr
    kle_patterns: tuple[str, ...]
    max_sensitivity: Sensitivity

    def covers_kle(self, kle: str) -> bool:
        return any(_kle_matches(pattern, kle) for pattern in self.kle_patterns)

    def covers(self, owner_cvr: str, kle: str, sensitivity: Sensitivity) -> bool:
        return (
            owner_cvr == self.cvr.value
            and self.covers_kle(kle)
            and sensitivity.within(self.max_sensitivity)
        )


def _kle_matches(pattern: str, kle: str) -> bool:
    if pattern.endswith(".*"):
        return kle.startswith(pattern[:-1])
    return pattern in ("*", kle)


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: uuid.UUID
    username: str
    full_name: str
    function: EmployeeFunction
    unit_id: uuid.UUID
    email: str | None = None
    phone: str | None = None
    is_demo: bool = False
    # Municipal staff only: what their login grants of the municipality's case data.
    restrictions: DataRestrictions | None = None


# Units are identified by the register that owns them, so every source that mentions a unit
# (a case naming its responsible unit, an appointment naming its performer, a child's school)
# arrives at the same id without a lookup: municipal units use their FK Organisation UUID,
# health units a UUID derived from their SOR code, institutions one from their STIL number.
_UNIT_NAMESPACE = uuid.UUID("5b1c6f0e-6a52-4c57-9d0a-7061617476e5")


def unit_id_for_sor(sor: str) -> uuid.UUID:
    return uuid.uuid5(_UNIT_NAMESPACE, f"sor:{sor}")


def unit_id_for_institution(institution_number: str) -> uuid.UUID:
    return uuid.uuid5(_UNIT_NAMESPACE, f"stil:{institution_number}")
