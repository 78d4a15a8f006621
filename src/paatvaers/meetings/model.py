"""The meeting as the pure parts (invitation text, calendar file, answers) see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from paatvaers.access.reading import ChildDetails, SchoolView


class Answer(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    OTHER_TIME = "other_time"  # declined the times proposed, and proposed another


class Channel(StrEnum):
    PLATFORM = "platform"  # municipal and other platform users: invitation and answer here
    MEDCOM = "medcom"  # health units in their own systems: a CareCommunication, a reply
    NONE = "none"  # the family: invited by the convenor, outside the platform


class ParticipantKind(StrEnum):
    CONVENOR = "convenor"
    PROFESSIONAL = "professional"  # a named professional
    UNIT = "unit"  # a unit, its clinician not known
    FAMILY = "family"


@dataclass(frozen=True, slots=True)
class Slot:
    """A proposed time, in UTC."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    unit: str
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Listed:
    """A participant as another participant's invitation names them."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    """What an invitation may draw on; the recipient's decisions choose from it."""

    id: uuid.UUID
    slots: tuple[Slot, ...]
    place: str
    agenda: str
    convenor: Contact
    participants: tuple[Listed, ...]
    legal_reference: str


@dataclass(frozen=True, slots=True)
class RecipientView:
    """What one recipient may see, as the access engine decided it for them: the child's
    details (child_details), the school (school_to_health), and the meeting's exchange
    (meeting: the other participants and the agenda). None / False: not permitted."""

    child: ChildDetails | None
    school: SchoolView | None
    meeting: bool


@dataclass(frozen=True, slots=True)
class Invitation:
    subject: str
    text: str
