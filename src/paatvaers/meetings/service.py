"""Calling a meeting, sending its invitations, and what a participant sees of it.

The exchange a meeting allows is decided by the access engine, for each participant, under
the meeting-bound data flow `meeting` (the §49a-type rule): only the meeting's participants,
only while its window is open (from the invitation until `WINDOW_AFTER` past its last proposed
time, so the minutes can be written and read). Each invitation is rendered from what the
engine permitted its recipient (invitation.render), and every decision is logged.

Health units (BUP, GP) are invited by a MedCom CareCommunication written through the
correspondence module as the convenor; their answers are their replies in that thread, read
when the meeting is looked at (pull). Municipal participants see the invitation and answer in
the platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from paatvaers.access.engine import Decision, MeetingWindow
from paatvaers.access.identity import Principal, principal_for
from paatvaers.access.reading import ChildAccess
from paatvaers.correspondence import outbox
from paatvaers.correspondence.sending import Writer, WritingRefused
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.medcom.errors import MessageRuleViolation
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.meetings import answers, invitation
from paatvaers.meetings.ics import calendar
from paatvaers.meetings.model import (
    Answer,
    Channel,
    Contact,
    Invitation,
    Listed,
    MeetingFacts,
    ParticipantKind,
    RecipientView,
    Slot,
)
from paatvaers.meetings.proposal import Proposed
from paatvaers.store.repositories import OrgUnitRepository
from paatvaers.store.tables import (
    MedcomMessageRow,
    MeetingParticipantRow,
    MeetingRow,
    MeetingTimeRow,
    OrgUnitRow,
    StaffUserRow,
)

PURPOSE = "CAREMGT"  # preparing and holding a meeting about the child's care
WINDOW_AFTER = timedelta(days=30)
MAX_SLOTS = 3
# Who a unit invited as a whole is, for its decisions: the function that attends meetings.
UNIT_FUNCTION = {
    UnitKind.GP: EmployeeFunction.PRAKTISERENDE_LAEGE,
    UnitKind.BUP: EmployeeFunction.BUP_LAEGE,
    UnitKind.PPR: EmployeeFunction.PPR_PSYKOLOG,
    UnitKind.CHILD_FAMILY: EmployeeFunction.SOCIALRAADGIVER,
}
_UNIT_NAMESPACE = uuid.UUID("0b6f3f8e-5c43-4b43-9a51-6c1d0f5d7e21")


class MeetingRefused(Exception):
    """The meeting cannot be called (or changed) as asked; `reason_da` says why."""

    def __init__(self, reason_da: str, decision: Decision | None = None) -> None:
        super().__init__(reason_da)
        self.reason_da = reason_da
        self.decision = decision


@dataclass(frozen=True, slots=True)
class MeetingRequest:
    child: Cpr
    slots: tuple[Slot, ...]
    place: str
    agenda: str
    invited: tuple[Proposed, ...]  # everyone but the convenor
    follow_up_of: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class MeetingPage:
    """One meeting as one participant may see it."""

    id: uuid.UUID
    slots: tuple[Slot, ...]
    place: str
    convenor: Contact
    view: RecipientView
    decision: Decision  # of the meeting flow, for this viewer
    agenda: str | None  # None: not permitted
    minutes: str | None
    participants: tuple[MeetingParticipantRow, ...]  # empty when not permitted
    mine: MeetingParticipantRow
    is_convenor: bool
    may_write_minutes: bool


@dataclass(frozen=True, slots=True)
class MeetingSummary:
    id: uuid.UUID
    first_slot: Slot
    place: str
    convenor: str
    child_name: str | None  # None: the viewer may not see the child's details
    my_answer: Answer
    is_convenor: bool


# -- calling a meeting ----------------------------------------------------------------------------


def convene(
    session: Session,
    access: ChildAccess,
    convenor: Proposed,
    principal: Principal,
    request: MeetingRequest,
    now: datetime,
    sent_at: datetime,
) -> uuid.UUID:
    """Store the meeting and send its invitations, in the caller's transaction. `now` is the
    access clock (the window), `sent_at` the wall clock MedCom messages carry."""
    _check_request(session, principal, request, now)
    meeting = MeetingRow(
        id=uuid.uuid4(),
        child_cpr=request.child.value,
        child_cpr_synthetic=access.synthetic,
        convenor_user_id=principal.user_id,
        convenor_unit_id=principal.unit.id,
        place=request.place.strip(),
        agenda=request.agenda.strip(),
        follow_up_of=request.follow_up_of,
        created_at=now,
        closes_at=max(s.ends_at for s in request.slots) + WINDOW_AFTER,
    )
    rows = [_row(meeting.id, 0, convenor, Answer.ACCEPTED)]
    rows += [_row(meeting.id, i, p, Answer.PENDING) for i, p in enumerate(request.invited, 1)]
    window = _window(meeting, rows)
    decision = access.decide(principal, request.child, DataFlow.MEETING, PURPOSE, window)
    if not decision.permit:
        raise MeetingRefused(decision.reason_da, decision)
    # A refusal from here on (an invitation that cannot be sent) undoes the meeting, but
    # leaves the convenor's decision above in the log for the caller to commit.
    with session.begin_nested():
        session.add(meeting)
        session.flush()  # the rows below refer to it
        session.add_all(
            MeetingTimeRow(meeting_id=meeting.id, starts_at=s.starts_at, ends_at=s.ends_at)
            for s in request.slots
        )
        session.add_all(rows)
        session.flush()
        reference = access.engine.policy.of(DataFlow.MEETING).legal_reference
        facts = _facts(session, reference, meeting, list(request.slots), rows)
        writer = Writer(session, access, principal, sent_at)
        for row in rows:
            if row.channel == Channel.MEDCOM and row.unit_id is not None:
                _send_medcom(session, access, writer, facts, meeting, row, window)
    return meeting.id


def _check_request(
    session: Session, principal: Principal, request: MeetingRequest, now: datetime
) -> None:
    if not request.slots or len(request.slots) > MAX_SLOTS:
        raise MeetingRefused("Foreslå mellem ét og tre tidspunkter")
    if any(s.starts_at <= now or s.ends_at <= s.starts_at for s in request.slots):
        raise MeetingRefused("Tidspunkterne skal ligge i fremtiden")
    if not request.invited:
        raise MeetingRefused("Vælg mindst én deltager")
    if request.follow_up_of is not None:
        _check_follow_up(session, principal, request)


def _check_follow_up(session: Session, principal: Principal, request: MeetingRequest) -> None:
    """§49a: one meeting, and in special cases one follow-up meeting; never a third."""
    first = session.get(MeetingRow, request.follow_up_of)
    if (
        first is None
        or first.child_cpr != request.child.value
        or first.convenor_unit_id != principal.unit.id
        or first.follow_up_of is not None
        or session.scalar(select(MeetingRow.id).where(MeetingRow.follow_up_of == first.id))
    ):
        raise MeetingRefused("Et møde kan kun følges op af ét opfølgende møde")


def _row(
    meeting_id: uuid.UUID, position: int, p: Proposed, answer: Answer
) -> MeetingParticipantRow:
    return MeetingParticipantRow(
        id=uuid.uuid4(),
        meeting_id=meeting_id,
        position=position,
        kind=p.kind.value,
        unit_id=p.unit_id,
        staff_user_id=p.staff_user_id,
        name=p.name,
        role=p.role,
        phone=p.phone,
        email=p.email,
        channel=p.channel.value,
        answer=answer.value,
    )


def _send_medcom(
    session: Session,
    access: ChildAccess,
    writer: Writer,
    facts: MeetingFacts,
    meeting: MeetingRow,
    row: MeetingParticipantRow,
    window: MeetingWindow,
) -> None:
    recipient = recipient_principal(session, row)
    if recipient is None or row.unit_id is None:
        return
    child = Cpr.parse(meeting.child_cpr)
    text = invitation.render(facts, recipient_view(access, recipient, child, window))
    try:
        message = writer.new(child, row.unit_id, text.text, topic=text.subject)
    except (WritingRefused, MessageRuleViolation) as exc:
        raise MeetingRefused(f"Indkaldelsen til {row.name} kan ikke sendes: {exc}") from exc
    row.thread_id = message.thread_id
    row.gln = message.receiver.gln.value


def invitation_for(
    session: Session, access: ChildAccess, meeting_id: uuid.UUID, recipient: Principal
) -> Invitation | None:
    """The invitation as `recipient` gets it (the same rendering MedCom invitations get),
    decided for them now; None when there is no such meeting."""
    meeting = session.get(MeetingRow, meeting_id)
    if meeting is None:
        return None
    rows = _participants(session, meeting.id)
    reference = access.engine.policy.of(DataFlow.MEETING).legal_reference
    facts = _facts(session, reference, meeting, _slots(session, meeting.id), rows)
    child = Cpr.parse(meeting.child_cpr)
    return invitation.render(
        facts, recipient_view(access, recipient, child, _window(meeting, rows))
    )


# -- what a recipient may see ---------------------------------------------------------------------


def recipient_principal(session: Session, row: MeetingParticipantRow) -> Principal | None:
    """Whom the engine decides for: the named professional, or the unit as its attending
    function (the clinic's doctor, BUP's physician) when the unit is invited as a whole."""
    if row.staff_user_id is not None:
        staff = session.get(StaffUserRow, row.staff_user_id)
        return principal_for(session, staff.username) if staff else None
    unit = OrgUnitRepository(session).get(row.unit_id) if row.unit_id else None
    if unit is None or unit.kind not in UNIT_FUNCTION:
        return None
    stand_in = uuid.uuid5(_UNIT_NAMESPACE, str(unit.id))
    return Principal(stand_in, f"enhed:{unit.id}", UNIT_FUNCTION[unit.kind], unit)


def recipient_view(
    access: ChildAccess, principal: Principal, child: Cpr, window: MeetingWindow
) -> RecipientView:
    """What the recipient may see, each part decided by the engine for them and logged."""
    return _seen_by(access, principal, child, window)[0]


def _seen_by(
    access: ChildAccess, principal: Principal, child: Cpr, window: MeetingWindow
) -> tuple[RecipientView, Decision]:
    with access.one_view():
        details = access.child_details(principal, child, PURPOSE)
        school = access.school(principal, child, PURPOSE)
        meeting = access.decide(principal, child, DataFlow.MEETING, PURPOSE, window)
    return RecipientView(details.data, school.data, meeting.permit), meeting


def _window(meeting: MeetingRow, rows: Sequence[MeetingParticipantRow]) -> MeetingWindow:
    return MeetingWindow(
        meeting_id=meeting.id,
        child_cpr=meeting.child_cpr,
        participant_units=frozenset(r.unit_id for r in rows if r.unit_id is not None),
        opens=meeting.created_at,
        closes=meeting.closes_at,
    )


def _facts(
    session: Session,
    legal_reference: str,
    meeting: MeetingRow,
    slots: Sequence[Slot],
    rows: Sequence[MeetingParticipantRow],
) -> MeetingFacts:
    return MeetingFacts(
        id=meeting.id,
        slots=tuple(slots),
        place=meeting.place,
        agenda=meeting.agenda,
        convenor=_convenor(session, meeting, rows),
        participants=tuple(Listed(r.name, r.role) for r in rows),
        legal_reference=legal_reference,
    )


def _convenor(
    session: Session, meeting: MeetingRow, rows: Sequence[MeetingParticipantRow]
) -> Contact:
    row = next(r for r in rows if r.kind == ParticipantKind.CONVENOR)
    unit = session.get(OrgUnitRow, meeting.convenor_unit_id)
    return Contact(row.name, unit.name if unit else "", row.phone, row.email)


# -- one meeting, as a participant sees it -------------------------------------------------------


def meeting_page(
    session: Session, access: ChildAccess, viewer: Principal, meeting_id: uuid.UUID
) -> MeetingPage | None:
    """The meeting for one of its participants (answers from MedCom read first); None for
    anyone else, whether or not such a meeting exists."""
    meeting = session.get(MeetingRow, meeting_id)
    if meeting is None:
        return None
    rows = _participants(session, meeting.id)
    mine = own_participation(rows, viewer)
    if mine is None:
        return None
    sync_medcom_answers(session, rows)
    window = _window(meeting, rows)
    child = Cpr.parse(meeting.child_cpr)
    view, decision = _seen_by(access, viewer, child, window)
    slots = _slots(session, meeting.id)
    is_convenor = meeting.convenor_user_id == viewer.user_id
    return MeetingPage(
        id=meeting.id,
        slots=slots,
        place=meeting.place,
        convenor=_convenor(session, meeting, rows),
        view=view,
        decision=decision,
        agenda=meeting.agenda if view.meeting else None,
        minutes=meeting.minutes if view.meeting else None,
        participants=tuple(rows) if view.meeting else (),
        mine=mine,
        is_convenor=is_convenor,
        may_write_minutes=is_convenor and view.meeting and slots[0].starts_at <= access.clock(),
    )


def own_participation(
    rows: Sequence[MeetingParticipantRow], viewer: Principal
) -> MeetingParticipantRow | None:
    """The viewer's own row: by name, else their unit's when the unit was invited whole."""
    for row in rows:
        if row.staff_user_id == viewer.user_id:
            return row
    for row in rows:
        if row.kind == ParticipantKind.UNIT and row.unit_id == viewer.unit.id:
            return row
    return None


def answer(
    session: Session,
    viewer: Principal,
    meeting_id: uuid.UUID,
    given: Answer,
    comment: str,
    now: datetime,
) -> None:
    """A platform participant's answer (MedCom participants answer by reply)."""
    rows = _participants(session, meeting_id)
    mine = own_participation(rows, viewer)
    if mine is None or mine.kind == ParticipantKind.CONVENOR or given is Answer.PENDING:
        raise MeetingRefused("Du kan ikke svare på denne indkaldelse")
    if given is Answer.OTHER_TIME and not comment.strip():
        raise MeetingRefused("Skriv hvilket tidspunkt du foreslår")
    mine.answer = given.value
    mine.answer_text = comment.strip() or None
    mine.answered_at = now


def write_minutes(
    session: Session, access: ChildAccess, viewer: Principal, meeting_id: uuid.UUID, text: str
) -> None:
    page = meeting_page(session, access, viewer, meeting_id)
    if page is None or not page.may_write_minutes:
        raise MeetingRefused("Referatet skrives af indkalderen, når mødet er begyndt")
    meeting = session.get_one(MeetingRow, meeting_id)
    meeting.minutes = text.strip()
    meeting.minutes_at = access.clock()


def sync_medcom_answers(session: Session, rows: Sequence[MeetingParticipantRow]) -> None:
    """Each MedCom participant's latest reply in the invitation's thread, read as their
    answer: JA, NEJ, or another time (the text is shown to the convenor)."""
    for row in rows:
        if row.channel != Channel.MEDCOM or row.thread_id is None or row.gln is None:
            continue
        latest = session.scalars(
            select(MedcomMessageRow)
            .where(
                MedcomMessageRow.thread_id == row.thread_id,
                MedcomMessageRow.direction == "in",
                MedcomMessageRow.kind == outbox.CARE_COMMUNICATION,
                MedcomMessageRow.sender_gln == row.gln,
            )
            .order_by(MedcomMessageRow.sent_at.desc(), MedcomMessageRow.stored_at.desc())
            .limit(1)
        ).first()
        if latest is None or latest.message_id == row.answer_message_id:
            continue
        message = read_carecommunication(latest.bundle)
        theirs = [s for s in message.segments if s.author.gln.value == row.gln]
        if not theirs:
            continue
        text = max(theirs, key=lambda s: s.written_at).text
        row.answer = answers.interpret(text).value
        row.answer_text = text
        row.answered_at = message.sent_at
        row.answer_message_id = latest.message_id


# -- the user's meetings and calendar files -------------------------------------------------------


def my_meetings(session: Session, access: ChildAccess, viewer: Principal) -> list[MeetingSummary]:
    """Meetings the viewer called or takes part in (or their unit, invited whole), soonest
    first; each child named only as far as the viewer may see it (decided and logged)."""
    rows = session.scalars(
        select(MeetingParticipantRow).where(
            or_(
                MeetingParticipantRow.staff_user_id == viewer.user_id,
                (MeetingParticipantRow.unit_id == viewer.unit.id)
                & (MeetingParticipantRow.kind == ParticipantKind.UNIT.value),
            )
        )
    ).all()
    summaries = []
    with access.one_view():
        for row in {r.meeting_id: r for r in rows}.values():  # once, if named and unit both
            meeting = session.get_one(MeetingRow, row.meeting_id)
            child = Cpr.parse(meeting.child_cpr)
            details = access.child_details(viewer, child, PURPOSE)
            convenor = _convenor(session, meeting, _participants(session, meeting.id))
            summaries.append(
                MeetingSummary(
                    id=meeting.id,
                    first_slot=_slots(session, meeting.id)[0],
                    place=meeting.place,
                    convenor=convenor.name,
                    child_name=details.data.name if details.data else None,
                    my_answer=Answer(row.answer),
                    is_convenor=row.kind == ParticipantKind.CONVENOR,
                )
            )
    return sorted(summaries, key=lambda s: s.first_slot.starts_at)


def calendar_file(
    session: Session, viewer: Principal, meeting_id: uuid.UUID, stamp: datetime
) -> bytes | None:
    """The meeting's `.ics`, for its participants only (it names no child)."""
    meeting = session.get(MeetingRow, meeting_id)
    if meeting is None:
        return None
    rows = _participants(session, meeting.id)
    if own_participation(rows, viewer) is None:
        return None
    convenor = _convenor(session, meeting, rows)
    return calendar(
        meeting.id, _slots(session, meeting.id), meeting.place, convenor.name, convenor.email, stamp
    )


def _participants(session: Session, meeting_id: uuid.UUID) -> list[MeetingParticipantRow]:
    return list(
        session.scalars(
            select(MeetingParticipantRow)
            .where(MeetingParticipantRow.meeting_id == meeting_id)
            .order_by(MeetingParticipantRow.position)
        )
    )


def _slots(session: Session, meeting_id: uuid.UUID) -> tuple[Slot, ...]:
    rows = session.scalars(
        select(MeetingTimeRow)
        .where(MeetingTimeRow.meeting_id == meeting_id)
        .order_by(MeetingTimeRow.starts_at)
    )
    return tuple(Slot(r.starts_at, r.ends_at) for r in rows)
