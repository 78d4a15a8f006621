"""Why a user looks a child up: chosen before the first read, kept with the child in context,
and written with every access-log row (as a v3-ActReason code, for the FHIR export)."""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    COORDINATION = "COC"  # coordination of care
    TREATMENT = "TREAT"
    MEETING = "CAREMGT"  # care management: preparing a cross-disciplinary meeting

    @property
    def danish(self) -> str:
        return _DANISH[self]

    @property
    def english(self) -> str:
        return _ENGLISH[self]

    @classmethod
    def parse(cls, value: str | None) -> Purpose | None:
        try:
            return cls(value or "")
        except ValueError:
            return None


_DANISH = {
    Purpose.COORDINATION: "Koordinering af barnets forløb",
    Purpose.TREATMENT: "Behandling eller undersøgelse",
    Purpose.MEETING: "Forberedelse af tværfagligt møde",
}
_ENGLISH = {
    Purpose.COORDINATION: "Coordinating the child's course",
    Purpose.TREATMENT: "Treatment or examination",
    Purpose.MEETING: "Preparing a cross-disciplinary meeting",
}
