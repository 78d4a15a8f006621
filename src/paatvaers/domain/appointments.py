"""An appointment as an APD-DK 2.0.1 document carries it (Aftaleoversigten), and the child's
course in psychiatry that the appointments show.

APD-DK itself only allows status `active`: a cancelled appointment is withdrawn from the
document sharing service, and a moved one is replaced. We keep both facts, because municipal
staff need to see that an appointment was cancelled or moved (R3).

Child & adolescent psychiatry is recognised by the XDS metadata of the document:
practice setting SNOMED 394588006 (børne- og ungdomspsykiatri), facility type SNOMED
554871000005105 (psykiatrienhed) and the SKS episode label ALAL03 (psykiske lidelser).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Sor

PRACTICE_SETTING_CHILD_PSYCHIATRY = "394588006"
PRACTICE_SETTING_PSYCHIATRY = "394587001"
FACILITY_PSYCHIATRIC_UNIT = "554871000005105"
EPISODE_LABEL_MENTAL_DISORDERS = "ALAL03"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"  # APD-DK statusCode `active`, in the future
    HELD = "held"  # the time has passed and it was not withdrawn
    CANCELLED = "cancelled"  # withdrawn from the document sharing service
    MOVED = "moved"  # replaced by a later document with a new time


class CourseStage(StrEnum):
    """How far the child has come in psychiatry (R3), in order."""

    REFERRAL = "referral"  # henvisning modtaget
    ASSESSMENT = "assessment"  # udredning
    TREATMENT = "treatment"  # behandling
    COMPLETION = "completion"  # afslutning

    @property
    def danish_name(self) -> str:
        return {
            CourseStage.REFERRAL: "Henvisning",
            CourseStage.ASSESSMENT: "Udredning",
            CourseStage.TREATMENT: "Behandling",
            CourseStage.COMPLETION: "Afsluttet",
        }[self]


@dataclass(frozen=True, slots=True)
class AppointmentMarking:
    """Codes in the document's metadata that let psychiatric appointments be filtered."""

    practice_setting_code: str | None
    facility_type_code: str | None
    episode_label: str | None

    @property
    def is_child_psychiatry(self) -> bool:
        return self.practice_setting_code == PRACTICE_SETTING_CHILD_PSYCHIATRY

    @property
    def is_marked(self) -> bool:
        """Whether the region marked the appointment at all (R12 measures this per region)."""
        return self.practice_setting_code is not None


@dataclass(frozen=True, slots=True)
class Appointment:
    id: uuid.UUID  # encounter/id extension
    document_id: uuid.UUID  # ClinicalDocument/id extension
    patient_cpr: Cpr
    start: datetime
    end: datetime | None  # APD-DK allows high nullFlavor NI
    performer_sor: Sor
    performer_name: str
    location_sor: Sor | None
    location_name: str | None
    reason: str
    marking: AppointmentMarking
    status: AppointmentStatus
    stage: CourseStage | None = None
    replaces_id: uuid.UUID | None = None  # set on the new appointment when one was moved
    # The referring organisation: APD-DK's optional second author with function code REFB.
    requester_sor: Sor | None = None
    # When the document registry last updated the entry (meta.lastUpdated): the region
    # delivered it then, which R12's freshness measures. Equality ignores it.
    registered_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("appointment times must carry a time zone")
        if self.end is not None and self.end < self.start:
            raise ValueError("an appointment cannot end before it starts")
