"""The e-mail digest (`paatvaers notices digest`): one e-mail per user saying how many new
meeting invitations and notices wait in the platform, and nothing more. E-mail is not a
secure channel, so the digest names no child, no unit, no time and no kind of change: only
counts and links. It is the platform's one e-mail channel.

Notices are counted for users who asked for the digest. A meeting invitation in the platform
(a named professional's) is counted without that opt-in, because it is addressed to them
personally; never the convenor's own meeting, and only while it is unanswered and the meeting
is still open.

Each notice and invitation is counted once: the digest marks what it counted as e-mailed in
the transaction that sent it, by id, so nothing that arrived after the count is marked. The
e-mail goes before the commit, so a crash in between sends the count again (at least once);
it holds no child data, so a repeat costs nothing but a second e-mail. A notice that gets a
new item is counted again in the next digest."""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.mail import Connect, smtp_connection
from paatvaers.meetings.model import Answer, Channel, ParticipantKind
from paatvaers.settings import Settings
from paatvaers.store.db import transaction
from paatvaers.store.tables import (
    MeetingParticipantRow,
    MeetingRow,
    NoticeRow,
    NoticeSubscriptionRow,
    StaffUserRow,
)

PRODUCT = "På Tværs – Børn & Unge"
MEETINGS_PATH, NOTICES_PATH = "/moeder", "/notifikationer"


@dataclass
class Waiting:
    """What one user is told about: the ids counted, so exactly those are marked."""

    address: str
    invitations: list[uuid.UUID] = field(default_factory=list)  # meeting_participant ids
    notices: list[int] = field(default_factory=list)


# Per language: (one, many) for invitations, (one, many) for notices, and "and".
_WORDS = {
    "da": (
        ("ny mødeindkaldelse", "nye mødeindkaldelser"),
        ("ny notifikation", "nye notifikationer"),
        " og ",
    ),
    "en": (
        ("new meeting invitation", "new meeting invitations"),
        ("new notification", "new notifications"),
        " and ",
    ),
}


def digest_text(invitations: int, notices: int, base_url: str) -> str:
    """The whole e-mail body: counts and links, in Danish and English."""
    paths = [p for p, n in ((MEETINGS_PATH, invitations), (NOTICES_PATH, notices)) if n]
    links = [base_url + path for path in paths]
    return (
        f"Du har {_counted(invitations, notices, 'da')} i {PRODUCT}.\n"
        f"Log ind for at se dem: {' og '.join(links)}\n\n"
        f"You have {_counted(invitations, notices, 'en')} in {PRODUCT}.\n"
        f"Log in to see them: {' and '.join(links)}\n\n"
        "E-mailen nævner ingen børn, fordi e-mail ikke er en sikker kanal.\n"
        "The e-mail names no children, because e-mail is not a secure channel.\n"
    )


def _counted(invitations: int, notices: int, language: str) -> str:
    """ "1 ny mødeindkaldelse og 2 nye notifikationer", leaving out a count of none."""
    invitation_words, notice_words, joiner = _WORDS[language]
    counts = ((invitations, invitation_words), (notices, notice_words))
    return joiner.join(f"{n} {words[n != 1]}" for n, words in counts if n)


def digest_subject(invitations: int) -> str:
    """The subject names the kind only: an invitation is what the reader should not miss."""
    return f"{'Mødeindkaldelse' if invitations else 'Nye notifikationer'} i {PRODUCT}"


def _notices(session: Session) -> list[tuple[uuid.UUID, str, int]]:
    """(user, address, notice) for each new, unread notice not yet told about, of users who
    asked for the digest and have an address."""
    rows = session.execute(
        select(StaffUserRow.id, StaffUserRow.email, NoticeRow.id)
        .join(NoticeSubscriptionRow, NoticeSubscriptionRow.user_id == StaffUserRow.id)
        .join(NoticeRow, NoticeRow.user_id == StaffUserRow.id)
        .where(NoticeSubscriptionRow.email_digest.is_(True), StaffUserRow.email.is_not(None))
        .where(NoticeRow.read_at.is_(None), NoticeRow.emailed_at.is_(None))
    ).all()
    return [(user_id, str(email), notice_id) for user_id, email, notice_id in rows]


def _invitations(session: Session, now: datetime) -> list[tuple[uuid.UUID, str, uuid.UUID]]:
    """(user, address, participant) for each unanswered platform invitation of a named
    professional with an address, not yet told about, to a meeting still open and not
    called by that professional."""
    participant = MeetingParticipantRow
    rows = session.execute(
        select(StaffUserRow.id, StaffUserRow.email, participant.id)
        .join(participant, participant.staff_user_id == StaffUserRow.id)
        .join(MeetingRow, MeetingRow.id == participant.meeting_id)
        .where(participant.kind == ParticipantKind.PROFESSIONAL.value)
        .where(participant.channel == Channel.PLATFORM.value)
        .where(participant.answer == Answer.PENDING.value, participant.emailed_at.is_(None))
        .where(MeetingRow.convenor_user_id != StaffUserRow.id, MeetingRow.closes_at > now)
        .where(StaffUserRow.email.is_not(None))
    ).all()
    return [(user_id, str(email), participant_id) for user_id, email, participant_id in rows]


def _waiting(session: Session, now: datetime) -> dict[uuid.UUID, Waiting]:
    """Each user with something to be told about, by user id."""
    users: dict[uuid.UUID, Waiting] = {}
    for user_id, address, participant_id in _invitations(session, now):
        users.setdefault(user_id, Waiting(address)).invitations.append(participant_id)
    for user_id, address, notice_id in _notices(session):
        users.setdefault(user_id, Waiting(address)).notices.append(notice_id)
    return dict(sorted(users.items()))


def send_digests(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    connect: Connect = smtplib.SMTP,
) -> int:
    """Send each waiting user their digest; how many were sent. Nothing without an SMTP
    server in the settings."""
    if not settings.smtp_url:
        return 0
    base_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    with transaction(factory) as session:
        users = _waiting(session, now)
        if not users:
            return 0
        with smtp_connection(settings.smtp_url, connect) as smtp:
            for user in users.values():
                smtp.send_message(_message(settings.notice_email_from, user, base_url))
                _mark(session, user, now)
    return len(users)


def _mark(session: Session, user: Waiting, now: datetime) -> None:
    """Mark exactly what the e-mail counted, in the sending transaction."""
    if user.notices:
        session.execute(
            update(NoticeRow).where(NoticeRow.id.in_(user.notices)).values(emailed_at=now)
        )
    if user.invitations:
        session.execute(
            update(MeetingParticipantRow)
            .where(MeetingParticipantRow.id.in_(user.invitations))
            .values(emailed_at=now)
        )


def _message(sender: str, user: Waiting, base_url: str) -> EmailMessage:
    invitations, notices = len(user.invitations), len(user.notices)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = user.address
    message["Subject"] = digest_subject(invitations)
    message.set_content(digest_text(invitations, notices, base_url))
    return message
