"""Who opted in to involvement notices, and to the e-mail digest. Opting in is each user's
own choice, made on the notices page; nobody is subscribed by default."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from paatvaers.store.tables import NoticeSubscriptionRow


def subscription(session: Session, user_id: uuid.UUID) -> NoticeSubscriptionRow | None:
    return session.get(NoticeSubscriptionRow, user_id)


def subscribe(session: Session, user_id: uuid.UUID, email_digest: bool, now: datetime) -> None:
    """Opt in (or change the e-mail choice); the first opt-in's time is kept."""
    statement = insert(NoticeSubscriptionRow).values(
        user_id=user_id, email_digest=email_digest, subscribed_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[NoticeSubscriptionRow.user_id],
            set_={"email_digest": statement.excluded.email_digest},
        )
    )


def unsubscribe(session: Session, user_id: uuid.UUID) -> None:
    """Opt out: no new notices; those already received stay readable."""
    session.execute(delete(NoticeSubscriptionRow).where(NoticeSubscriptionRow.user_id == user_id))
