"""The web client's read side (R14): a unit's inbox, one thread as its users read it, and the
small changes reading brings with it (read marks, assigning a thread to a colleague).

A thread is about a child, so showing it is access to the child's data: each thread, and
each child named in the inbox, is decided by the access engine (data flow `correspondence`)
and the decision logged before anything about it is returned. A denied user gets the
decision, with its neutral reason, and nothing else.

A thread is shown from every message it holds, not from the latest alone: parallel replies
each carry only their own branch, and replies can arrive out of order. Every segment and
attachment is therefore collected from all the thread's messages, de-duplicated by its id
(ids never change across replies and forwards) and ordered by its own timestamp.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from paatvaers.access.identity import Principal
from paatvaers.access.reading import Answer, ChildAccess
from paatvaers.correspondence import outbox
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.medcom.attachments import RECEIVABLE_CONTENT_TYPES, sniff_content_type
from paatvaers.medcom.model import Attachment, CareCommunication, Party
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.store.tables import (
    ChildRow,
    MedcomEndpointRow,
    MedcomMessageRow,
    MedcomThreadReadRow,
    MedcomThreadRow,
    OrgUnitRow,
    StaffUserRow,
)

PURPOSE = "COC"  # coordination of care: why a professional reads the unit's correspondence
DOWNLOAD_TYPE = "application/octet-stream"  # for bytes that are not what they claim to be


class AssignmentRefused(Exception):
    """The thread cannot be given to that person; `reason_da` says why."""

    def __init__(self, reason_da: str) -> None:
        super().__init__(reason_da)
        self.reason_da = reason_da


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one of our messages has fared: 'queued', 'sent', 'acknowledged' or 'failed'."""

    status: str
    note: str | None = None  # the reason of a failure, or a transport's trouble


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One line of the inbox. `child_name` and `topic` are None when the user may not
    see the child (the thread's other fields say nothing about the child)."""

    thread_id: str
    permitted: bool
    child_name: str | None
    topic: str | None
    counterpart: str
    last_message_at: datetime
    unread: bool
    assigned_to: str | None
    delivery: Delivery | None  # of our latest message in the thread


@dataclass(frozen=True, slots=True)
class AttachmentView:
    id: str
    title: str
    content_type: str | None
    added_at: datetime
    downloadable: bool  # some message of the thread carries its bytes
    url: str | None = None  # a web link instead of content


@dataclass(frozen=True, slots=True)
class Post:
    """One text segment, with what the same message attached and, for a message of ours,
    how its delivery went."""

    id: str
    text: str
    organisation: str
    author: str | None
    written_at: datetime
    ours: bool
    attachments: tuple[AttachmentView, ...]
    delivery: Delivery | None


@dataclass(frozen=True, slots=True)
class ThreadView:
    thread_id: str
    child_cpr: str
    child_name: str
    topic: str | None
    counterpart: str
    assigned_user_id: uuid.UUID | None
    posts: tuple[Post, ...]  # oldest first, by their own timestamps
    loose_attachments: tuple[AttachmentView, ...]  # added by a message without a text


@dataclass(frozen=True, slots=True)
class AttachmentContent:
    title: str
    content_type: str  # checked against the bytes; DOWNLOAD_TYPE when they do not match
    data: bytes


@dataclass(frozen=True, slots=True)
class Colleague:
    user_id: uuid.UUID
    full_name: str


@dataclass(frozen=True, slots=True)
class Receiver:
    """A unit in the address book that can receive a message."""

    unit_id: uuid.UUID
    name: str
    kind: str


# -- keeping a unit's threads -------------------------------------------------------------------


def record_message(
    session: Session,
    unit_id: uuid.UUID,
    message: CareCommunication,
    counterpart_gln: str,
    synthetic: bool,
) -> None:
    """The unit's thread of `message` (by Communication.identifier), made or brought up to
    date, for a message sent or received: its latest message is the one sent last, whatever
    order they arrive in (within the same second, the later arrival)."""
    thread = session.get(MedcomThreadRow, (message.thread_id, unit_id), with_for_update=True)
    if thread is None:
        session.add(
            MedcomThreadRow(
                thread_id=message.thread_id,
                unit_id=unit_id,
                counterpart_gln=counterpart_gln,
                child_cpr=message.patient.cpr.value,
                child_cpr_synthetic=synthetic,
                topic=message.topic,
                category=message.category,
                last_message_at=message.sent_at,
                latest_message_id=message.message_id,
            )
        )
        return
    if message.sent_at >= thread.last_message_at:
        thread.last_message_at = message.sent_at
        thread.latest_message_id = message.message_id
        thread.topic = message.topic
        thread.counterpart_gln = counterpart_gln


# -- the inbox ----------------------------------------------------------------------------------


def served_here(session: Session, unit_id: uuid.UUID) -> bool:
    """Whether the unit reads its MedCom post in the platform's web client (a unit with its
    own MedCom system reads it there, and its messages never reach these pages)."""
    transport = session.scalar(
        select(MedcomEndpointRow.transport).where(MedcomEndpointRow.unit_id == unit_id)
    )
    return transport == "web"


def inbox(session: Session, access: ChildAccess, principal: Principal) -> list[ThreadSummary]:
    """The threads of the user's unit, newest first. Each child named is decided and logged,
    as on "mine"; a child the user may not see is listed without name or topic."""
    unit_id, user_id = principal.unit.id, principal.user_id
    gln = _gln_of(session, unit_id)
    rows = session.execute(
        select(
            MedcomThreadRow,
            ChildRow.name,
            StaffUserRow.full_name,
            _unread(gln).label("unread"),
        )
        .outerjoin(
            MedcomThreadReadRow,
            and_(
                MedcomThreadReadRow.thread_id == MedcomThreadRow.thread_id,
                MedcomThreadReadRow.user_id == user_id,
            ),
        )
        .outerjoin(ChildRow, ChildRow.cpr == MedcomThreadRow.child_cpr)
        .outerjoin(StaffUserRow, StaffUserRow.id == MedcomThreadRow.assigned_user_id)
        .where(MedcomThreadRow.unit_id == unit_id)
        .order_by(MedcomThreadRow.last_message_at.desc(), MedcomThreadRow.thread_id)
    ).all()
    threads = [row[0] for row in rows]
    names = _unit_names(session, {t.counterpart_gln for t in threads})
    deliveries = _latest_deliveries(session, [t.thread_id for t in threads], gln)
    with access.one_view():
        permitted = {
            cpr: access.decide(principal, Cpr.parse(cpr), DataFlow.CORRESPONDENCE, PURPOSE).permit
            for cpr in dict.fromkeys(t.child_cpr for t in threads)
        }
    return [
        ThreadSummary(
            thread_id=thread.thread_id,
            permitted=permitted[thread.child_cpr],
            child_name=child_name if permitted[thread.child_cpr] else None,
            topic=thread.topic if permitted[thread.child_cpr] else None,
            counterpart=names.get(thread.counterpart_gln, thread.counterpart_gln),
            last_message_at=thread.last_message_at,
            unread=bool(unread),
            assigned_to=assigned_to,
            delivery=deliveries.get(thread.thread_id),
        )
        for thread, child_name, assigned_to, unread in rows
    ]


def _unread(gln: str | None) -> Exists:
    """A message received after the user last read the thread (the outer query joins the
    user's read mark). The time it was stored counts, not the time its sender gave it: a
    reply written before the user looked, but delivered after, is still news."""
    return exists().where(
        MedcomMessageRow.thread_id == MedcomThreadRow.thread_id,
        MedcomMessageRow.direction == "in",
        MedcomMessageRow.receiver_gln == gln,
        MedcomMessageRow.kind == outbox.CARE_COMMUNICATION,
        or_(
            MedcomThreadReadRow.read_at.is_(None),
            MedcomMessageRow.stored_at > MedcomThreadReadRow.read_at,
        ),
    )


def _latest_deliveries(
    session: Session, thread_ids: Sequence[str], gln: str | None
) -> dict[str, Delivery]:
    """Per thread, the delivery of our most recent message in it."""
    if not thread_ids:
        return {}
    rows = session.execute(
        select(
            MedcomMessageRow.thread_id,
            MedcomMessageRow.delivery,
            MedcomMessageRow.delivery_note,
        )
        .where(
            MedcomMessageRow.thread_id.in_(thread_ids),
            MedcomMessageRow.direction == "out",
            MedcomMessageRow.sender_gln == gln,
            MedcomMessageRow.kind == outbox.CARE_COMMUNICATION,
        )
        .order_by(
            MedcomMessageRow.thread_id,
            MedcomMessageRow.sent_at.desc(),
            MedcomMessageRow.stored_at.desc(),
        )
        .ext(distinct_on(MedcomMessageRow.thread_id))
    )
    return {
        str(thread_id): Delivery(delivery or "queued", note) for thread_id, delivery, note in rows
    }


def _unit_names(session: Session, glns: Iterable[str]) -> dict[str, str]:
    """Our name for each GLN in the address book."""
    wanted = list(glns)
    if not wanted:
        return {}
    rows = session.execute(
        select(MedcomEndpointRow.gln, OrgUnitRow.name)
        .join(OrgUnitRow, OrgUnitRow.id == MedcomEndpointRow.unit_id)
        .where(MedcomEndpointRow.gln.in_(wanted))
    )
    return {row.gln: row.name for row in rows}


# -- one thread ---------------------------------------------------------------------------------


def thread_view(
    session: Session, access: ChildAccess, principal: Principal, thread_id: str
) -> Answer[ThreadView] | None:
    """The whole thread, if it is the user's unit's and the user may see the child; None
    when the unit has no such thread."""
    thread = _own_thread(session, thread_id, principal.unit.id)
    if thread is None:
        return None
    decision = access.decide(
        principal, Cpr.parse(thread.child_cpr), DataFlow.CORRESPONDENCE, PURPOSE
    )
    if not decision.permit:
        return Answer(decision, None)
    return Answer(decision, _view(session, thread))


def _view(session: Session, thread: MedcomThreadRow) -> ThreadView:
    our_gln = _gln_of(session, thread.unit_id)
    rows = _messages(session, thread.thread_id, our_gln)
    messages = [read_carecommunication(row.bundle) for row in rows]
    deliveries = {
        row.message_id: Delivery(row.delivery or "queued", row.delivery_note)
        for row in rows
        if row.direction == "out"
    }
    names = _unit_names(
        session,
        {thread.counterpart_gln} | {s.author.gln.value for m in messages for s in m.segments},
    )
    posts, loose = _posts(messages, deliveries, names, our_gln)
    child_name = session.scalar(select(ChildRow.name).where(ChildRow.cpr == thread.child_cpr))
    return ThreadView(
        thread_id=thread.thread_id,
        child_cpr=thread.child_cpr,
        child_name=child_name or _patient_name(messages),
        topic=thread.topic,
        counterpart=names.get(thread.counterpart_gln, thread.counterpart_gln),
        assigned_user_id=thread.assigned_user_id,
        posts=posts,
        loose_attachments=loose,
    )


def _posts(
    messages: Sequence[CareCommunication],
    deliveries: dict[str, Delivery],
    names: dict[str, str],
    our_gln: str | None,
) -> tuple[tuple[Post, ...], tuple[AttachmentView, ...]]:
    """Every segment once, in the order it was written, with the attachments its message
    added; attachments whose message added no text are returned apart."""
    added_by = {
        payload: record.message_id
        for message in messages
        for record in message.history
        for payload in record.payload_ids
    }
    attachments = _attachments(messages)
    by_message: dict[str, list[AttachmentView]] = {}
    for view in attachments:
        by_message.setdefault(added_by.get(view.id, view.id), []).append(view)
    segments = {s.id: s for m in messages for s in m.segments}  # the first copy of each id
    order = {segment_id: i for i, segment_id in enumerate(segments)}
    posts = []
    for segment in sorted(segments.values(), key=lambda s: (s.written_at, order[s.id])):
        message_id = added_by.get(segment.id)
        ours = segment.author.gln.value == our_gln
        posts.append(
            Post(
                id=segment.id,
                text=segment.text,
                organisation=_organisation(segment.author, names),
                author=segment.author.practitioner.full_name
                if segment.author.practitioner
                else None,
                written_at=segment.written_at,
                ours=ours,
                attachments=tuple(by_message.pop(message_id, ())) if message_id else (),
                delivery=deliveries.get(message_id or "") if ours else None,
            )
        )
    loose = tuple(view for views in by_message.values() for view in views)
    return tuple(posts), loose


def _attachments(messages: Sequence[CareCommunication]) -> list[AttachmentView]:
    """Every attachment once, oldest first; downloadable when any copy has its bytes (a
    reply repeats earlier attachments without them)."""
    seen: dict[str, Attachment] = {}
    with_content: set[str] = set()
    for message in messages:
        for attachment in message.attachments:
            seen.setdefault(attachment.id, attachment)
            if attachment.data is not None:
                with_content.add(attachment.id)
    return [
        AttachmentView(
            id=a.id,
            title=a.title,
            content_type=a.content_type,
            added_at=a.added_at,
            downloadable=a.id in with_content,
            url=a.url if _is_web_link(a.url) else None,
        )
        for a in sorted(seen.values(), key=lambda a: a.added_at)
    ]


def _is_web_link(url: str | None) -> bool:
    """Only http(s) links are offered: a received `javascript:` or `data:` URL never is."""
    return url is not None and url.lower().startswith(("https://", "http://"))


def _organisation(party: Party, names: dict[str, str]) -> str:
    return names.get(party.gln.value) or party.name or party.gln.value


def _patient_name(messages: Sequence[CareCommunication]) -> str:
    patient = messages[-1].patient if messages else None
    return " ".join((*patient.given, patient.family)) if patient else ""


def _gln_of(session: Session, unit_id: uuid.UUID) -> str | None:
    return session.scalar(select(MedcomEndpointRow.gln).where(MedcomEndpointRow.unit_id == unit_id))


def _messages(session: Session, thread_id: str, gln: str | None) -> list[MedcomMessageRow]:
    """The thread's CareCommunications as the unit with `gln` has them (sent by it, or
    received by it: two of our units writing to each other each have their copy), in the
    order they were sent."""
    return list(
        session.scalars(
            select(MedcomMessageRow)
            .where(
                MedcomMessageRow.thread_id == thread_id,
                MedcomMessageRow.kind == outbox.CARE_COMMUNICATION,
                or_(
                    and_(MedcomMessageRow.direction == "out", MedcomMessageRow.sender_gln == gln),
                    and_(MedcomMessageRow.direction == "in", MedcomMessageRow.receiver_gln == gln),
                ),
            )
            .order_by(MedcomMessageRow.sent_at, MedcomMessageRow.stored_at)
        )
    )


def _own_thread(session: Session, thread_id: str, unit_id: uuid.UUID) -> MedcomThreadRow | None:
    return session.get(MedcomThreadRow, (thread_id, unit_id))


# -- attachments --------------------------------------------------------------------------------


def attachment(
    session: Session,
    access: ChildAccess,
    principal: Principal,
    thread_id: str,
    attachment_id: str,
) -> Answer[AttachmentContent] | None:
    """An attachment's bytes, decided like the thread itself; None when the unit's thread
    holds no attachment with content by that id."""
    thread = _own_thread(session, thread_id, principal.unit.id)
    if thread is None:
        return None
    found = _attachment_with_content(session, thread, attachment_id)
    if found is None:
        return None
    decision = access.decide(
        principal, Cpr.parse(thread.child_cpr), DataFlow.CORRESPONDENCE, PURPOSE
    )
    if not decision.permit:
        return Answer(decision, None)
    data = found.data or b""
    return Answer(decision, AttachmentContent(found.title, _served_type(found, data), data))


def _attachment_with_content(
    session: Session, thread: MedcomThreadRow, attachment_id: str
) -> Attachment | None:
    for row in _messages(session, thread.thread_id, _gln_of(session, thread.unit_id)):
        for candidate in read_carecommunication(row.bundle).attachments:
            if candidate.id == attachment_id and candidate.data is not None:
                return candidate
    return None


def _served_type(found: Attachment, data: bytes) -> str:
    """The declared type only when the bytes bear it out, so that a browser never treats a
    file as something other than what was checked."""
    declared = found.content_type
    if declared in RECEIVABLE_CONTENT_TYPES and sniff_content_type(data) == declared:
        return declared
    return DOWNLOAD_TYPE


# -- read marks and assignment ------------------------------------------------------------------


def mark_read(session: Session, thread_id: str, user_id: uuid.UUID, now: datetime) -> None:
    session.merge(MedcomThreadReadRow(thread_id=thread_id, user_id=user_id, read_at=now))


def colleagues(
    session: Session, unit_id: uuid.UUID, writers: Collection[EmployeeFunction]
) -> list[Colleague]:
    """The unit's staff whose function may write about a child (`writers`)."""
    rows = session.execute(
        select(StaffUserRow.id, StaffUserRow.full_name)
        .where(
            StaffUserRow.unit_id == unit_id,
            StaffUserRow.employee_function.in_([f.value for f in writers]),
        )
        .order_by(StaffUserRow.full_name)
    )
    return [Colleague(user_id, name) for user_id, name in rows]


def assign(
    session: Session,
    thread_id: str,
    unit_id: uuid.UUID,
    user_id: uuid.UUID | None,
    writers: Collection[EmployeeFunction],
) -> None:
    """Give the unit's thread to a colleague in the same unit whose function may write
    about a child (None: to nobody)."""
    thread = session.get(MedcomThreadRow, (thread_id, unit_id), with_for_update=True)
    if thread is None:
        raise AssignmentRefused("Tråden findes ikke")
    if user_id is not None:
        colleague = session.get(StaffUserRow, user_id)
        if (
            colleague is None
            or colleague.unit_id != unit_id
            or colleague.employee_function not in {f.value for f in writers}
        ):
            raise AssignmentRefused("Tråden kan kun tildeles en kollega i din enhed")
    thread.assigned_user_id = user_id


# -- whom to write to ---------------------------------------------------------------------------


def receivers(session: Session, own_unit_id: uuid.UUID) -> list[Receiver]:
    """The units in the address book that receive correspondence, but the user's own."""
    rows = session.execute(
        select(OrgUnitRow.id, OrgUnitRow.name, OrgUnitRow.kind)
        .join(MedcomEndpointRow, MedcomEndpointRow.unit_id == OrgUnitRow.id)
        .where(
            and_(
                MedcomEndpointRow.receives_carecommunication.is_(True),
                OrgUnitRow.id != own_unit_id,
            )
        )
        .order_by(OrgUnitRow.kind, OrgUnitRow.name)
    )
    return [Receiver(unit_id, name, kind) for unit_id, name, kind in rows]
