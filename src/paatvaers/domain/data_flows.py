"""The data flows of the mission. Each is judged on its own for legal basis and consent (R8)."""

from __future__ import annotations

from enum import StrEnum

from paatvaers.domain.organisations import Sector


class DataFlow(StrEnum):
    APPOINTMENTS_TO_MUNICIPALITY = "appointments_to_municipality"  # R3
    CASES_TO_HEALTH = "cases_to_health"  # R4
    CONTACTS_TO_HEALTH = "contacts_to_health"  # R4
    SCHOOL_TO_HEALTH = "school_to_health"  # R4, R11
    CORRESPONDENCE = "correspondence"  # R5

    @property
    def requirement(self) -> str:
        return _REQUIREMENT[self]

    @property
    def recipients(self) -> frozenset[Sector]:
        """Which sector's staff receive this flow."""
        return _RECIPIENTS[self]

    @property
    def danish_name(self) -> str:
        return _DANISH[self]


_REQUIREMENT = {
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY: "R3",
    DataFlow.CASES_TO_HEALTH: "R4",
    DataFlow.CONTACTS_TO_HEALTH: "R4",
    DataFlow.SCHOOL_TO_HEALTH: "R4",
    DataFlow.CORRESPONDENCE: "R5",
}
_RECIPIENTS = {
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY: frozenset({Sector.MUNICIPAL}),
    DataFlow.CASES_TO_HEALTH: frozenset({Sector.HEALTH}),
    DataFlow.CONTACTS_TO_HEALTH: frozenset({Sector.HEALTH}),
    DataFlow.SCHOOL_TO_HEALTH: frozenset({Sector.HEALTH}),
    DataFlow.CORRESPONDENCE: frozenset({Sector.MUNICIPAL, Sector.HEALTH}),
}
_DANISH = {
    DataFlow.APPOINTMENTS_TO_MUNICIPALITY: "Aftaler i børne- og ungdomspsykiatrien til kommunen",
    DataFlow.CASES_TO_HEALTH: "Kommunale sager til sundhedsvæsenet",
    DataFlow.CONTACTS_TO_HEALTH: "Kontaktoplysninger til sundhedsvæsenet",
    DataFlow.SCHOOL_TO_HEALTH: "Skole og dagtilbud til sundhedsvæsenet",
    DataFlow.CORRESPONDENCE: "Korrespondancemeddelelser",
}
