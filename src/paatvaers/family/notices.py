"""The family's e-mail notice: "a place that has not looked at your child before has looked".

A citizen opts in with an e-mail address (on "who has looked"). The notice job
(`paatvaers family notify`) reads, for each subscription, the access-log rows written since it
last looked (`checked_up_to`): a permitted look (read or search) by a professional whose unit
had never looked at the child before. Then it sends one e-mail that says only that, with a
link to log in: e-mail is not a secure channel, so it names no child, no place and no person
(as the professionals' digest, docs/notices.md). The children are those the citizen may see
*now* (custody, age), so a notice never outlives custody. Nothing is sent without an SMTP
server (`PAATVAERS_SMTP_URL`).
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.access.audit import AccessAction
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr
from paatvaers.family.citizen import CITIZEN_FUNCTION, Citizen, children_for
from paatvaers.family.policy import family_policy
from paatvaers.mail import Connect, smtp_connection
from paatvaers.settings import Settings
from paatvaers.store.tables import AccessEventRow, FamilyNoticeSubscriptionRow

SUBJECT = "Nyt opslag i jeres oplysninger – På Tværs"
_LOOKS = (AccessAction.READ.value, AccessAction.SEARCH.value)


def subscription(session: Session, citizen: Citizen) -> FamilyNoticeSubscriptionRow | None:
    return session.get(FamilyNoticeSubscriptionRow, citizen.cpr.value)


def subscribe(
    session: Session, citizen: Citizen, email: str, now: datetime, synthetic: bool = True
) -> None:
    """Opt in (or change the address). Only looks from now on count: the history is on the
    page already."""
    row = subscription(session, citizen)
    if row is None:
        latest = session.scalar(select(func.max(AccessEventRow.id))) or 0
        session.add(
            FamilyNoticeSubscriptionRow(
                citizen_cpr=citizen.cpr.value,
                citizen_cpr_synthetic=synthetic,
                email=email,
                subscribed_at=now,
                checked_up_to=latest,
            )
        )
    else:
        row.email = email


def unsubscribe(session: Session, citizen: Citizen) -> None:
    row = subscription(session, citizen)
    if row is not None:
        session.delete(row)


def valid_email(value: str) -> bool:
    """A plausible address: one @, something on each side, a dot in the domain, no spaces."""
    local, at, domain = value.partition("@")
    return bool(
        local and at and "." in domain.strip(".") and " " not in value and len(value) <= 200
    )


def new_places(
    session: Session, row: FamilyNoticeSubscriptionRow, now: datetime
) -> tuple[int, int]:
    """How many looks by a place new to one of the citizen's children have been written since
    the row was last checked, and the last log row id seen."""
    citizen = Citizen(Cpr.parse(row.citizen_cpr), "")
    children = [
        c.cpr.value for c in children_for(session, citizen, danish_day(now), family_policy())
    ]
    latest = session.scalar(select(func.max(AccessEventRow.id))) or row.checked_up_to
    if not children:
        return 0, latest
    looks = (
        (AccessEventRow.decision == "permit")
        & AccessEventRow.action.in_(_LOOKS)
        & (AccessEventRow.employee_function != CITIZEN_FUNCTION)
    )
    new = session.execute(
        select(AccessEventRow.child_cpr, AccessEventRow.unit_id)
        .where(
            AccessEventRow.child_cpr.in_(children),
            AccessEventRow.id > row.checked_up_to,
            AccessEventRow.id <= latest,
            looks,
        )
        .distinct()
    ).all()
    count = 0
    for child, unit in new:
        before = session.scalar(
            select(func.count()).where(
                AccessEventRow.child_cpr == child,
                AccessEventRow.unit_id == unit,
                AccessEventRow.id <= row.checked_up_to,
                looks,
            )
        )
        count += 0 if before else 1
    return count, latest


def send_family_notices(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    connect: Connect = smtplib.SMTP,
) -> int:
    """Check every subscription; e-mail those with a new place; how many were e-mailed. The
    SMTP server is connected to only when there is something to send."""
    if not settings.smtp_url:
        return 0
    base_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    sent = 0
    smtp: smtplib.SMTP | None = None
    try:
        with factory() as session:
            for row in session.scalars(select(FamilyNoticeSubscriptionRow)).all():
                count, latest = new_places(session, row, now)
                if count:
                    smtp = smtp or smtp_connection(settings.smtp_url, connect)
                    smtp.send_message(message(settings.notice_email_from, row.email, base_url))
                    row.emailed_at = now
                    sent += 1
                row.checked_up_to = latest
                session.commit()  # one citizen at a time: a later failure re-sends no one
    finally:
        if smtp is not None:
            smtp.quit()
    return sent


def message(sender: str, to: str, base_url: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, SUBJECT
    mail.set_content(
        "Hej\n\n"
        "En fagperson fra et sted, der ikke har kigget før, har set oplysninger om et barn, "
        "du kan se i På Tværs.\n\n"
        f"Log ind for at se, hvem det var: {base_url}/familie\n\n"
        "Vi skriver ikke mere i e-mailen, fordi e-mail ikke er sikker.\n\n"
        'Du kan framelde dig på siden "Hvem har kigget".\n'
    )
    return mail
