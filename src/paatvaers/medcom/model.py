"""The domain side of MedCom messages: plain frozen dataclasses, no FHIR.

`carecommunication` turns a `CareCommunication` into a Bundle and back, `acknowledgement` does
the same for an `Acknowledgement`. Identifiers of messages, threads and payloads are kept as
FHIR writes them (`urn:uuid:…` for the thread and payloads, a bare UUID for message ids), so
what the store keeps matches what is on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.medcom.attachments import check_sendable
from paatvaers.medcom.codes import AckOutcome, Activity


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A person writing a segment, or a named person a message is addressed to.
    `role` is a code of MedCom's SKS-administrative role list (`socialraadgiver`, `psykolog`,
    …) or, when none fits, free text."""

    given: tuple[str, ...]
    family: str
    role: str
    phone: str | None = None  # the author's contact number, required on text segments

    @classmethod
    def from_full_name(cls, full_name: str, role: str, phone: str | None = None) -> Practitioner:
        """Split "Given Names Family" at the last space, as a name register would not."""
        *given, family = full_name.split()
        return cls(tuple(given), family, role, phone)

    @property
    def full_name(self) -> str:
        return " ".join((*self.given, self.family))


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation from the address book (SOR code and GLN), optionally narrowed to one
    person or care team in it. Narrowed, it is a *specific* sender or recipient
    (Communication's sender extension / recipient)."""

    name: str | None
    sor: Sor
    gln: Gln
    practitioner: Practitioner | None = None
    care_team: str | None = None

    def __post_init__(self) -> None:
        if self.practitioner is not None and self.care_team is not None:
            raise ValueError("a party is narrowed to a person or to a care team, not both")

    @property
    def organisation(self) -> Party:
        return replace(self, practitioner=None, care_team=None)

    @property
    def is_specific(self) -> bool:
        return self.practitioner is not None or self.care_team is not None


@dataclass(frozen=True, slots=True)
class Patient:
    cpr: Cpr  # a CPR number or a replacement (eCPR) number
    family: str
    given: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Segment:
    """One message text. `author` is the organisation that added it, with the writer."""

    id: str  # `urn:uuid:…`, never changed by replies or forwards
    text: str
    author: Party
    written_at: datetime  # when the user pressed send


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    """A file a user attaches to a new message; checked when made."""

    title: str
    content_type: str
    data: bytes = field(repr=False)
    created: datetime | None = None

    def __post_init__(self) -> None:
        check_sendable(self.title, self.content_type, self.data)


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as a message carries it. `data` is None for a web link and for an
    attachment repeated in a reply, which carries no content (governance rule 6)."""

    id: str  # `urn:uuid:…`
    title: str
    author: Party
    added_at: datetime
    content_type: str | None = None
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    created: datetime | None = None

    def without_content(self) -> Attachment:
        return replace(self, data=None)


@dataclass(frozen=True, slots=True)
class ProvenanceRecord:
    """What one message of a thread did. Every message repeats the records of the messages
    before it and adds its own, so the thread's history travels with it."""

    id: str  # Provenance.id, copied unchanged into later messages
    message_id: str  # MessageHeader.id of the message described
    activity: Activity
    occurred_at: datetime
    agent: Party  # the organisation that sent that message
    payload_ids: tuple[str, ...]  # the segments and attachments that message added
    previous_message_id: str | None = None  # MessageHeader.id it replies to or forwards
    previous_legacy_id: str | None = None  # "[GLN]#[letter id]" of an EDIFACT/OIOXML letter


@dataclass(frozen=True, slots=True)
class EpisodeOfCare:
    """An episode-of-care id a sender gave; it SHALL be returned in later messages, so the
    Encounter that carried it is kept as received."""

    system: str
    value: str
    encounter_status: str
    encounter_class: str  # a code of HL7 v3 ActCode, e.g. IMP, AMB


@dataclass(frozen=True, slots=True)
class CareCommunication:
    """One CareCommunication message (korrespondancemeddelelse).

    `segments` and `attachments` hold the whole thread's payload, including what earlier
    messages added; `history` has one record per message, oldest first, this one last.
    A sender or receiver narrowed to a person or team is the specific sender/recipient."""

    message_id: str  # MessageHeader.id; the same id twice is a duplicate
    thread_id: str  # Communication.identifier, `urn:uuid:…`
    sent_at: datetime
    sender: Party
    receiver: Party
    patient: Patient
    category: str
    segments: tuple[Segment, ...]
    history: tuple[ProvenanceRecord, ...]
    attachments: tuple[Attachment, ...] = ()
    topic: str | None = None
    priority: str | None = None
    episode_of_care: EpisodeOfCare | None = None
    # Carbon copies are forbidden for CareCommunication 5 (destination:cc 0..0); the reader
    # keeps any it meets so that a caller can see why it rejects the message.
    cc: tuple[Party, ...] = ()

    @property
    def provenance(self) -> ProvenanceRecord:
        """This message's own record."""
        for record in reversed(self.history):
            if record.message_id == self.message_id:
                return record
        raise LookupError(f"no Provenance targets message {self.message_id}")

    @property
    def activity(self) -> Activity:
        return self.provenance.activity

    @property
    def previous_message_id(self) -> str | None:
        return self.provenance.previous_message_id

    @property
    def added_payload_ids(self) -> tuple[str, ...]:
        return self.provenance.payload_ids


@dataclass(frozen=True, slots=True)
class AckIssue:
    """One issue of an acknowledgement's OperationOutcome."""

    code: str  # from ValueSet medcom-acknowledgement-issue-details (MSG_…)
    issue_type: str = "processing"  # OperationOutcome.issue.code (FHIR IssueType)
    severity: str = "error"  # fatal | error | warning | information
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    message_id: str
    acknowledged_message_id: str  # MessageHeader.id of the message acknowledged
    outcome: AckOutcome
    sender: Party
    receiver: Party
    sent_at: datetime
    issues: tuple[AckIssue, ...] = ()
