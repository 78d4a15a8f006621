"""The MedCom side of a GP clinic's system, simulated: it reads its mailbox (VANS-style
envelopes), validates each message against the profiles, answers every CareCommunication
with an acknowledgement, once per MessageHeader.id (a duplicate gets the same answer again,
and is counted, not kept twice), and writes replies in a thread when asked, or on its own
(`auto_reply`), as the clinic's doctor would.

It speaks what a real GP system speaks, so the platform's worker and transports are tested
against the same formats they meet in production. Tests read its state: what it received,
how often each message arrived, and what it answered.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from paatvaers.correspondence.envelope import (
    JSON,
    XML,
    Envelope,
    acknowledgement_document,
    care_communication_document,
    unwrap,
)
from paatvaers.correspondence.transports import Mailboxes
from paatvaers.medcom._fhir import now
from paatvaers.medcom.acknowledgement import (
    build_acknowledgement,
    is_acknowledgement,
    read_acknowledgement,
)
from paatvaers.medcom.carecommunication import new_message, reply_to
from paatvaers.medcom.codes import AckOutcome, Activity
from paatvaers.medcom.model import (
    AckIssue,
    Acknowledgement,
    AttachmentFile,
    CareCommunication,
    Party,
    Patient,
    Practitioner,
)
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.serialisation import from_json, from_xml, to_json
from paatvaers.medcom.validation import validate_bundle
from paatvaers.medcom.writer import to_bundle

JsonDict = dict[str, object]


@dataclass
class SimulatedGpSystem:
    mailboxes: Mailboxes
    clinic: Party  # the clinic's SOR code and GLN: its mailbox
    doctor: Practitioner
    # Replied to every new message, when set: a text, or a text chosen for the message (None:
    # no reply to that one).
    auto_reply: str | Callable[[CareCommunication], str | None] | None = None
    received: dict[str, CareCommunication] = field(default_factory=dict)
    arrivals: Counter[str] = field(default_factory=Counter)  # transmissions per message id
    answers: dict[str, AckOutcome] = field(default_factory=dict)
    acknowledgements: list[Acknowledgement] = field(default_factory=list)  # of what it sent
    sent: dict[str, Envelope] = field(default_factory=dict)  # its messages, by message id
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def poll_once(self) -> int:
        """Read and answer everything in the mailbox; how many files."""
        with self._lock:
            files = list(self.mailboxes.waiting(self.clinic.gln.value))
            for path in files:
                self._take(unwrap(path.read_bytes()))
                self.mailboxes.mark_received(path)
            return len(files)

    def run(self, stop: threading.Event, interval: float = 0.2) -> None:
        while not stop.is_set():
            if not self.poll_once():
                stop.wait(interval)

    def write(
        self,
        receiver: Party,
        patient: Patient,
        text: str,
        attachments: Sequence[AttachmentFile] = (),
        at: datetime | None = None,
    ) -> CareCommunication:
        """A new message in a new thread, as the clinic's doctor."""
        message = new_message(
            sender=self._as_sender(),
            author=self.doctor,
            receiver=receiver,
            patient=patient,
            text=text,
            attachments=attachments,
            at=at,
        )
        return self._send_message(message)

    def reply(self, message_id: str, text: str, at: datetime | None = None) -> CareCommunication:
        """Answer a received message in its thread, as the clinic's doctor."""
        previous = self.received[message_id]
        message = reply_to(previous, sender=self._as_sender(), author=self.doctor, text=text, at=at)
        return self._send_message(message)

    def _as_sender(self) -> Party:
        return Party(self.clinic.name, self.clinic.sor, self.clinic.gln, self.doctor)

    def _send_message(self, message: CareCommunication) -> CareCommunication:
        document = care_communication_document(message.category)
        self._send(to_bundle(message), message.message_id, message.receiver, document)
        return message

    def _take(self, envelope: Envelope) -> None:
        bundle = from_xml(envelope.data) if envelope.media_type == XML else from_json(envelope.data)
        if is_acknowledgement(bundle):
            self.acknowledgements.append(read_acknowledgement(bundle))
            return
        message_id = envelope.message_id
        self.arrivals[message_id] += 1
        if message_id in self.answers:  # a duplicate: the same answer, nothing kept again
            self._acknowledge(bundle, self.answers[message_id], ())
            return
        report = validate_bundle(bundle)
        if not report.ok:
            issues = [
                AckIssue("MSG_BAD_FORMAT", "invalid", "error", str(i)[:500])
                for i in report.errors[:5]
            ]
            self.answers[message_id] = AckOutcome.FATAL_ERROR
            self._acknowledge(bundle, AckOutcome.FATAL_ERROR, issues)
            return
        message = read_carecommunication(bundle)
        self.received[message_id] = message
        self.answers[message_id] = AckOutcome.OK
        self._acknowledge(bundle, AckOutcome.OK, ())
        if self.auto_reply and message.activity is not Activity.REPLY:
            text = self.auto_reply if isinstance(self.auto_reply, str) else self.auto_reply(message)
            if text:
                self.reply(message_id, text)

    def _acknowledge(
        self, bundle: JsonDict, outcome: AckOutcome, issues: list[AckIssue] | tuple[()]
    ) -> None:
        ack_bundle = build_acknowledgement(bundle, outcome, issues, at=now())
        ack = read_acknowledgement(ack_bundle)
        self._send(
            ack_bundle, ack.message_id, ack.receiver, acknowledgement_document(outcome.value)
        )

    def _send(
        self, bundle: JsonDict, message_id: str, receiver: Party, document: tuple[str, str]
    ) -> None:
        envelope = Envelope(
            envelope_id=str(bundle["id"]),
            message_id=message_id,
            sender_gln=self.clinic.gln.value,
            receiver_gln=receiver.gln.value,
            document_name=document[0],
            document_version=document[1],
            media_type=JSON,
            data=to_json(bundle),
        )
        self.sent[message_id] = envelope
        self.mailboxes.send(envelope)
