"""Writing MedCom messages from the platform (the web client, R14): new, reply and forward.

Each is decided by the access engine first (data flow `correspondence`: may this user write
about this child, R10) and the decision logged; then the message is built as a
CareCommunication, stored and queued in the caller's transaction, and the unit's thread
updated. The worker delivers it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.engine import Decision
from paatvaers.access.identity import Principal
from paatvaers.access.reading import ChildAccess
from paatvaers.correspondence import address_book, outbox, threads
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.medcom import carecommunication
from paatvaers.medcom.codes import DEFAULT_CATEGORY
from paatvaers.medcom.model import (
    AttachmentFile,
    CareCommunication,
    Party,
    Patient,
    Practitioner,
)
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.writer import to_bundle
from paatvaers.store.tables import (
    ChildRow,
    MedcomMessageRow,
    MedcomThreadReadRow,
    MedcomThreadRow,
    StaffUserRow,
)

PURPOSE = "COC"  # coordination of care: why a professional writes about a child
# The MedCom role (SKS administrative roles) each employee function writes as.
_ROLES = {
    EmployeeFunction.SOCIALRAADGIVER: "socialraadgiver",
    EmployeeFunction.SAGSBEHANDLER: "Sagsbehandler",
    EmployeeFunction.PPR_PSYKOLOG: "psykolog",
    EmployeeFunction.BUP_LAEGE: "overlaege",
    EmployeeFunction.BUP_PSYKOLOG: "psykolog",
    EmployeeFunction.BUP_SOCIALRAADGIVER: "socialraadgiver",
    EmployeeFunction.BUP_SEKRETAER: "laegesekretaer",
    EmployeeFunction.PRAKTISERENDE_LAEGE: "speciallaegeipraksis",
    EmployeeFunction.KLINIKPERSONALE: "Klinikpersonale",
}


class WritingRefused(Exception):
    """The message cannot be written; `reason_da` says why, for the user."""

    def __init__(self, reason_da: str, decision: Decision | None = None) -> None:
        super().__init__(reason_da)
        self.reason_da = reason_da
        self.decision = decision


@dataclass(frozen=True, slots=True)
class Writer:
    """One user writing, in one transaction."""

    session: Session
    access: ChildAccess
    principal: Principal
    now: datetime

    def new(
        self,
        child: Cpr,
        receiver_unit_id: uuid.UUID,
        text: str,
        attachments: Sequence[AttachmentFile] = (),
        topic: str | None = None,
        category: str = DEFAULT_CATEGORY,
    ) -> CareCommunication:
        self._permitted(child)
        sender, author = self._sender()
        receiver = self._party(receiver_unit_id)
        message = carecommunication.new_message(
            sender=sender,
            author=author,
            receiver=receiver,
            patient=self._patient(child),
            text=text,
            attachments=attachments,
            category=category,
            topic=topic,
            at=self._moment,
        )
        return self._queue(message)

    def reply(
        self, thread_id: str, text: str, attachments: Sequence[AttachmentFile] = ()
    ) -> CareCommunication:
        thread = self._thread(thread_id)
        self._permitted(Cpr.parse(thread.child_cpr))
        sender, author = self._sender()
        previous = self._latest(thread)
        message = carecommunication.reply_to(
            previous,
            sender=sender,
            author=author,
            text=text,
            attachments=attachments,
            at=self._moment,
        )
        return self._queue(message)

    def forward(
        self,
        thread_id: str,
        receiver_unit_id: uuid.UUID,
        text: str,
        attachments: Sequence[AttachmentFile] = (),
    ) -> CareCommunication:
        thread = self._thread(thread_id)
        self._permitted(Cpr.parse(thread.child_cpr))
        sender, author = self._sender()
        message = carecommunication.forward(
            self._latest(thread),
            sender=sender,
            author=author,
            receiver=self._party(receiver_unit_id),
            text=text,
            attachments=attachments,
            attachment_content=self._attachment_content(thread.thread_id),
            at=self._moment,
        )
        return self._queue(message)

    # -- the steps -------------------------------------------------------------------------------

    @property
    def _moment(self) -> datetime:
        """Now, as MedCom's timestamps carry it (to the second), so that the thread's order
        here is the order the receiver sees."""
        return self.now.replace(microsecond=0)

    def _permitted(self, child: Cpr) -> None:
        decision = self.access.decide(self.principal, child, DataFlow.CORRESPONDENCE, PURPOSE)
        if not decision.permit:
            raise WritingRefused(decision.reason_da, decision)

    def _sender(self) -> tuple[Party, Practitioner]:
        unit = self._party(self.principal.unit.id)
        staff = self.session.get_one(StaffUserRow, self.principal.user_id)
        phone = staff.phone or self.principal.unit.phone
        author = Practitioner.from_full_name(
            staff.full_name, _ROLES[self.principal.function], _digits(phone)
        )
        return Party(unit.name, unit.sor, unit.gln, author), author

    def _party(self, unit_id: uuid.UUID) -> Party:
        party = address_book.party(self.session, unit_id)
        if party is None:
            raise WritingRefused("Enheden kan ikke modtage korrespondancemeddelelser")
        return party

    def _patient(self, child: Cpr) -> Patient:
        row = self.session.get(ChildRow, child.value)
        if row is None:
            raise WritingRefused("Barnet findes ikke i CPR-oplysningerne")
        *given, family = row.name.split()
        return Patient(child, family, tuple(given))

    def _thread(self, thread_id: str) -> MedcomThreadRow:
        key = (thread_id, self.principal.unit.id)
        thread = self.session.get(MedcomThreadRow, key, with_for_update=True)
        if thread is None:
            raise WritingRefused("Tråden findes ikke")
        return thread

    def _latest(self, thread: MedcomThreadRow) -> CareCommunication:
        """MedCom: a reply answers the thread's latest message (rule 3)."""
        latest = self.session.scalars(  # either direction: the same message
            select(MedcomMessageRow.bundle)
            .where(MedcomMessageRow.message_id == thread.latest_message_id)
            .limit(1)
        ).one()
        return read_carecommunication(latest)

    def _attachment_content(self, thread_id: str) -> dict[str, bytes]:
        """The bytes of every attachment the thread has carried, by attachment id: a reply
        repeats earlier attachments without content, a forward must carry it."""
        content: dict[str, bytes] = {}
        bundles = self.session.scalars(
            select(MedcomMessageRow.bundle).where(
                MedcomMessageRow.thread_id == thread_id,
                MedcomMessageRow.kind == outbox.CARE_COMMUNICATION,
            )
        )
        for bundle in bundles:
            for attachment in read_carecommunication(bundle).attachments:
                if attachment.data is not None:
                    content[attachment.id] = attachment.data
        return content

    def _queue(self, message: CareCommunication) -> CareCommunication:
        bundle = to_bundle(message)
        outbox.enqueue(
            self.session,
            bundle,
            outbox.Outgoing.care_communication(
                message, self.access.synthetic, self.principal.user_id
            ),
            self.now,
        )
        self._record_in_thread(message)
        return message

    def _record_in_thread(self, message: CareCommunication) -> None:
        threads.record_message(
            self.session,
            self.principal.unit.id,
            message,
            message.receiver.gln.value,
            self.access.synthetic,
        )
        self.session.merge(
            MedcomThreadReadRow(
                thread_id=message.thread_id, user_id=self.principal.user_id, read_at=self.now
            )
        )


def _digits(phone: str | None) -> str | None:
    """MedCom's contact numbers are digits with an optional leading +."""
    if not phone:
        return None
    return phone.replace(" ", "")
