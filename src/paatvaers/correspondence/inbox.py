"""Receiving MedCom messages: store once, thread, and answer every CareCommunication with an
acknowledgement (MedCom's rules: docs/medcom.md, "Receiving").

`receive` handles one transmission in the caller's transaction and returns what happened,
with the acknowledgement it queued (in the outbox, same transaction) when there is one:

- unreadable (no MessageHeader to answer): quarantined with the reason, no acknowledgement;
- an acknowledgement: settles the outgoing message it acknowledges; never acknowledged;
- a CareCommunication seen before (same MessageHeader.id): with the same content, the same
  answer again and nothing stored twice; with other content, a fatal-error answer and the
  transmission quarantined;
- invalid against the profiles, or for a receiver we do not serve: stored, fatal-error;
- otherwise: stored, threaded by Communication.identifier, `ok`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.correspondence import outbox, threads
from paatvaers.correspondence.envelope import XML
from paatvaers.medcom._fhir import message_header
from paatvaers.medcom.acknowledgement import (
    build_acknowledgement,
    is_acknowledgement,
    read_acknowledgement,
)
from paatvaers.medcom.codes import AckOutcome
from paatvaers.medcom.errors import MessageError
from paatvaers.medcom.model import AckIssue, Acknowledgement, CareCommunication
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.serialisation import from_json, from_xml
from paatvaers.medcom.validation import Issue, ValidationReport, validate_bundle
from paatvaers.store.tables import (
    MedcomEndpointRow,
    MedcomMessageRow,
    MedcomOutboxRow,
    MedcomQuarantineRow,
)

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
Validator = Callable[[JsonDict], ValidationReport]
IN, OUT = "in", "out"  # a message's key is its MessageHeader.id and its direction
MAX_ACK_ISSUES = 20  # an acknowledgement names the first errors, not hundreds


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of one received transmission."""

    outcome: str  # 'ok', 'duplicate', 'conflict', 'rejected', 'acknowledgement', 'quarantined'
    message_id: str | None
    note: str
    acknowledgement: JsonDict | None = None  # the answer queued for the sender


def receive(
    session: Session,
    data: bytes,
    media_type: str,
    origin: str,
    now: datetime,
    *,
    synthetic: bool,
    validate: Validator = validate_bundle,
) -> Receipt:
    try:
        bundle = from_xml(data) if media_type == XML else from_json(data)
        header = message_header(bundle)
        message_id = header.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise MessageError("MessageHeader.id is missing")
    except (MessageError, ValueError) as exc:
        return _quarantine(session, data, origin, f"ulæselig meddelelse: {exc}", now)
    if is_acknowledgement(bundle):
        return _acknowledgement_received(session, bundle, data, origin, validate, now)
    return _care_communication_received(
        session, bundle, data, origin, validate, now, synthetic=synthetic
    )


# -- acknowledgements ---------------------------------------------------------------------------


def _acknowledgement_received(
    session: Session,
    bundle: JsonDict,
    data: bytes,
    origin: str,
    validate: Validator,
    now: datetime,
) -> Receipt:
    report = validate(bundle)
    if not report.ok:  # an acknowledgement is never answered, so the reason is kept here
        return _quarantine(session, data, origin, _summary("ugyldig kvittering", report), now)
    try:
        ack = read_acknowledgement(bundle)
    except MessageError as exc:
        return _quarantine(session, data, origin, f"ulæselig kvittering: {exc}", now)
    if session.get(MedcomMessageRow, (ack.message_id, IN)) is not None:
        return Receipt("acknowledgement", ack.message_id, "kvitteringen er modtaget før")
    session.add(_stored(bundle, ack.message_id, "acknowledgement", ack, now))
    note = _settle(session, ack, now)
    return Receipt("acknowledgement", ack.message_id, note)


def _settle(session: Session, ack: Acknowledgement, now: datetime) -> str:
    """Apply an acknowledgement to the message it acknowledges."""
    message = session.get(
        MedcomMessageRow, (ack.acknowledged_message_id, OUT), with_for_update=True
    )
    if message is None:
        log.warning("acknowledgement_for_unknown_message", extra={"id": ack.message_id})
        return f"kvittering for ukendt meddelelse {ack.acknowledged_message_id}"
    row = session.scalar(
        select(MedcomOutboxRow)
        .where(MedcomOutboxRow.message_id == message.message_id)
        .with_for_update()
    )
    if row is None or row.state in ("done", "failed"):
        return "kvitteringen ændrer intet: meddelelsen er allerede afsluttet"
    reason = "; ".join(f"{i.code}: {i.text or ''}".strip() for i in ack.issues)
    if ack.outcome is AckOutcome.OK:
        row.state, row.updated_at = "done", now
        message.delivery, message.ack_outcome, message.acknowledged_at = "acknowledged", "ok", now
        message.delivery_note = None
        return "meddelelsen er kvitteret"
    message.ack_outcome, message.acknowledged_at = ack.outcome.value, now
    if ack.outcome is AckOutcome.TRANSIENT_ERROR:
        outbox.resend_after_transient_error(row, message, f"midlertidig fejl: {reason}", now)
        return "midlertidig fejl: sendes igen"
    outbox.fail(row, message, f"afvist af modtageren: {reason}", now)
    return "afvist af modtageren"


# -- care communications ------------------------------------------------------------------------


def _care_communication_received(
    session: Session,
    bundle: JsonDict,
    data: bytes,
    origin: str,
    validate: Validator,
    now: datetime,
    *,
    synthetic: bool,
) -> Receipt:
    message_id = str(message_header(bundle)["id"])
    earlier = session.get(MedcomMessageRow, (message_id, IN))
    if earlier is not None:
        return _duplicate(session, bundle, data, origin, earlier, now)
    report = validate(bundle)
    if not report.ok:
        issues = [_ack_issue(issue) for issue in report.errors[:MAX_ACK_ISSUES]]
        return _reject(
            session, bundle, data, origin, message_id, issues, _summary("ugyldig", report), now
        )
    try:
        message = read_carecommunication(bundle)
    except MessageError as exc:
        issue = AckIssue("MSG_BAD_FORMAT", "structure", "error", str(exc))
        return _reject(session, bundle, data, origin, message_id, [issue], str(exc), now)
    endpoint = session.scalar(
        select(MedcomEndpointRow).where(
            MedcomEndpointRow.gln == message.receiver.gln.value,
            MedcomEndpointRow.transport == "web",
        )
    )
    if endpoint is None:
        text = f"GLN {message.receiver.gln.value} modtager ikke post her"
        issue = AckIssue("MSG_Receiver_Identifier_UNKNOWN", "not-found", "error", text)
        return _reject(session, bundle, data, origin, message_id, [issue], text, now)
    row = _stored(bundle, message_id, "carecommunication", message, now, synthetic)
    row.ack_outcome = AckOutcome.OK.value
    session.add(row)
    threads.record_message(session, endpoint.unit_id, message, message.sender.gln.value, synthetic)
    ack = _answer(session, bundle, AckOutcome.OK, (), now)
    return Receipt("ok", message_id, "modtaget", ack)


def _duplicate(
    session: Session,
    bundle: JsonDict,
    data: bytes,
    origin: str,
    earlier: MedcomMessageRow,
    now: datetime,
) -> Receipt:
    """MedCom: a duplicate is answered as the original was, and never shown twice; the same
    MessageHeader.id with other content is an error of the sender's."""
    message_id = earlier.message_id
    if outbox.content_hash(bundle) != earlier.content_hash:
        text = f"MessageHeader.id {message_id} er modtaget før med andet indhold"
        session.add(_quarantine_row(data, origin, text, now))
        issue = AckIssue("MSG_DUPLICATE_ID", "duplicate", "error", text)
        try:
            ack = _answer(session, bundle, AckOutcome.FATAL_ERROR, [issue], now)
        except MessageError:
            return Receipt("conflict", message_id, f"{text}; kan ikke besvares")
        return Receipt("conflict", message_id, text, ack)
    outcome, issues = _first_answer(session, message_id)
    log.info("medcom_duplicate_received", extra={"message_id": message_id})
    ack = _answer(session, bundle, outcome, issues, now)
    return Receipt("duplicate", message_id, "dublet: besvaret som første gang", ack)


def _first_answer(session: Session, message_id: str) -> tuple[AckOutcome, tuple[AckIssue, ...]]:
    first = session.scalar(
        select(MedcomMessageRow)
        .where(
            MedcomMessageRow.acknowledges == message_id,
            MedcomMessageRow.direction == "out",
        )
        .order_by(MedcomMessageRow.stored_at)
        .limit(1)
    )
    if first is None:  # stored but never answered: cannot happen in one transaction
        return AckOutcome.OK, ()
    ack = read_acknowledgement(first.bundle)
    return ack.outcome, ack.issues


def _reject(
    session: Session,
    bundle: JsonDict,
    data: bytes,
    origin: str,
    message_id: str,
    issues: list[AckIssue],
    note: str,
    now: datetime,
) -> Receipt:
    """Store the message as refused and answer fatal-error; a message too damaged to say
    who sent it cannot be answered, and is quarantined instead."""
    try:
        ack_bundle = build_acknowledgement(bundle, AckOutcome.FATAL_ERROR, issues, at=now)
    except MessageError as exc:
        return _quarantine(session, data, origin, f"{note}; kan ikke besvares: {exc}", now)
    ack = read_acknowledgement(ack_bundle)
    row = _stored(bundle, message_id, "carecommunication", None, now)
    row.sender_gln, row.receiver_gln = ack.receiver.gln.value, ack.sender.gln.value
    row.ack_outcome = AckOutcome.FATAL_ERROR.value
    session.add(row)
    _queue(session, ack_bundle, ack, now)
    return Receipt("rejected", message_id, note, ack_bundle)


def _answer(
    session: Session,
    bundle: JsonDict,
    outcome: AckOutcome,
    issues: tuple[AckIssue, ...] | list[AckIssue],
    now: datetime,
) -> JsonDict:
    """Queue the acknowledgement of `bundle` for its sender (a repeated answer is a new
    acknowledgement message with the same content as the first)."""
    ack_bundle = build_acknowledgement(bundle, outcome, issues, at=now)
    _queue(session, ack_bundle, read_acknowledgement(ack_bundle), now)
    return ack_bundle


def _queue(session: Session, ack_bundle: JsonDict, ack: Acknowledgement, now: datetime) -> None:
    session.flush()  # the acknowledged message's row first, when it is new
    outbox.enqueue(
        session,
        ack_bundle,
        outbox.Outgoing(
            kind=outbox.ACKNOWLEDGEMENT,
            message_id=ack.message_id,
            sender_gln=ack.sender.gln.value,
            receiver_gln=ack.receiver.gln.value,
            sent_at=ack.sent_at,
            acknowledges=ack.acknowledged_message_id,
        ),
        now,
    )


# -- storing ------------------------------------------------------------------------------------


def _stored(
    bundle: JsonDict,
    message_id: str,
    kind: str,
    read: CareCommunication | Acknowledgement | None,
    now: datetime,
    synthetic: bool | None = None,
) -> MedcomMessageRow:
    care = read if isinstance(read, CareCommunication) else None
    return MedcomMessageRow(
        message_id=message_id,
        direction="in",
        kind=kind,
        thread_id=care.thread_id if care else None,
        acknowledges=read.acknowledged_message_id if isinstance(read, Acknowledgement) else None,
        sender_gln=read.sender.gln.value if read else "",  # a refused message: set by caller
        receiver_gln=read.receiver.gln.value if read else "",
        child_cpr=care.patient.cpr.value if care else None,
        child_cpr_synthetic=synthetic if care else None,
        sent_at=read.sent_at if read else now,
        stored_at=now,
        content_hash=outbox.content_hash(bundle),
        bundle=bundle,
        # For an acknowledgement: its answer (for a message: the answer we gave, set later).
        ack_outcome=read.outcome.value if isinstance(read, Acknowledgement) else None,
    )


def _quarantine(session: Session, data: bytes, origin: str, reason: str, now: datetime) -> Receipt:
    session.add(_quarantine_row(data, origin, reason, now))
    log.warning("medcom_quarantined", extra={"origin": origin, "reason": reason})
    return Receipt("quarantined", None, reason)


def _quarantine_row(data: bytes, origin: str, reason: str, now: datetime) -> MedcomQuarantineRow:
    return MedcomQuarantineRow(received_at=now, origin=origin, payload=data, reason=reason)


def _ack_issue(issue: Issue) -> AckIssue:
    code = "MSG_VALUESET_VALUE_UNKNOWN" if issue.rule.startswith("binding") else "MSG_BAD_FORMAT"
    return AckIssue(code, "invalid", "error", str(issue)[:1000])


def _summary(what: str, report: ValidationReport) -> str:
    first = "; ".join(str(issue) for issue in report.errors[:3])
    return f"{what}: {len(report.errors)} fejl: {first}"
