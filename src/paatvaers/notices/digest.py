"""The e-mail digest (`paatvaers notices digest`), for users who asked for it: one e-mail per
user saying how many new notices wait in the platform, and nothing more. E-mail is not a
secure channel, so the digest names no child, no unit and no kind of change: only a count
and a link.

A notice is counted once: the digest marks what it counted as e-mailed in the transaction
that sent it. The e-mail goes before the commit, so a crash in between sends the count again
(at least once); it holds no child data, so a repeat costs nothing but a second e-mail. A
notice that gets a new item is counted again in the next digest."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.settings import Settings
from paatvaers.store.db import transaction
from paatvaers.store.tables import NoticeRow, NoticeSubscriptionRow, StaffUserRow

PRODUCT = "På Tværs – Børn & Unge"
Connect = Callable[[str, int], smtplib.SMTP]


def digest_text(count: int, link: str) -> str:
    """The whole e-mail body: a count and a link, in Danish and English."""
    da = "ny notifikation" if count == 1 else "nye notifikationer"
    en = "new notification" if count == 1 else "new notifications"
    return (
        f"Du har {count} {da} i {PRODUCT}.\nLog ind for at se dem: {link}\n\n"
        f"You have {count} {en} in {PRODUCT}.\nLog in to see them: {link}\n\n"
        "E-mailen nævner ingen børn, fordi e-mail ikke er en sikker kanal.\n"
        "The e-mail names no children, because e-mail is not a secure channel.\n"
    )


def _waiting(session: Session) -> list[tuple[uuid.UUID, str, int]]:
    """(user, e-mail address, count) for each user with new, unread notices not yet told
    about, who asked for the digest and has an address."""
    rows = session.execute(
        select(StaffUserRow.id, StaffUserRow.email, func.count(NoticeRow.id))
        .join(NoticeSubscriptionRow, NoticeSubscriptionRow.user_id == StaffUserRow.id)
        .join(NoticeRow, NoticeRow.user_id == StaffUserRow.id)
        .where(NoticeSubscriptionRow.email_digest.is_(True), StaffUserRow.email.is_not(None))
        .where(NoticeRow.read_at.is_(None), NoticeRow.emailed_at.is_(None))
        .group_by(StaffUserRow.id, StaffUserRow.email)
        .order_by(StaffUserRow.id)
    ).all()
    return [(user_id, str(email), count) for user_id, email, count in rows]


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
    link = (settings.public_url or f"http://{settings.host}:{settings.port}") + "/notifikationer"
    sent = 0
    with transaction(factory) as session:
        waiting = _waiting(session)
        if not waiting:
            return 0
        with _smtp(settings.smtp_url, connect) as smtp:
            for user_id, address, count in waiting:
                smtp.send_message(_message(settings.notice_email_from, address, count, link))
                session.execute(
                    update(NoticeRow)
                    .where(NoticeRow.user_id == user_id, NoticeRow.read_at.is_(None))
                    .where(NoticeRow.emailed_at.is_(None))
                    .values(emailed_at=now)
                )
                sent += 1
    return sent


def _message(sender: str, to: str, count: int, link: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Nye notifikationer i {PRODUCT}"
    message.set_content(digest_text(count, link))
    return message


def _smtp(url: str, connect: Connect) -> smtplib.SMTP:
    """A connection to `smtp://host:port` or `smtp+starttls://user:password@host:port`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtp+starttls") or not parts.hostname:
        raise ValueError("PAATVAERS_SMTP_URL must be smtp://host:port or smtp+starttls://…")
    smtp = connect(parts.hostname, parts.port or 25)
    if parts.scheme == "smtp+starttls":
        smtp.starttls()
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp
