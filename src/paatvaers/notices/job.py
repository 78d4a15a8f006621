"""The notice job (`paatvaers notices run`): turns involvement changes into notices.

Each change is taken in a transaction of its own, locked with SKIP LOCKED, so two jobs
running at once never take the same change, and a killed job leaves it for the next run.
Its notices and its mark as processed commit together: a change is announced once or not
at all. The recipients are the opted-in staff of the units involved with the child before
the change (and of the child's GP clinic), except the new unit's own; each is decided
separately, through the access engine (`revealing`), and only what the recipient may see
becomes an item. When the consent service does not answer, the change waits and is tried
again: nothing is lost, and no decision made blind is acted on.

Items for one user about one child join that user's unread notice while the notice is
younger than the grouping window (the setting `notice_window_minutes`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.access.engine import ConsentLookup
from paatvaers.access.factory import child_access
from paatvaers.access.identity import Principal, principal_for
from paatvaers.access.reading import ChildAccess
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import UnitKind
from paatvaers.notices.revealing import Change, ConsentServiceDown, reveal
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.store.db import session_factory, transaction
from paatvaers.store.polling import poll
from paatvaers.store.tables import (
    ChildRow,
    InvolvementChangeRow,
    InvolvementRow,
    NoticeItemRow,
    NoticeRow,
    NoticeSubscriptionRow,
    StaffUserRow,
)

log = logging.getLogger(__name__)

# The purpose written to the access log for the job's reads on a recipient's behalf.
JOB_PURPOSE = "Notifikation om ny involveret aktør (automatisk kontrol)"
# Minutes before a change whose recipients could not be decided is tried again, by attempt.
RETRY_MINUTES = (1, 5, 15, 60)


@dataclass(frozen=True, slots=True)
class NoticeJob:
    factory: sessionmaker[Session]
    settings: Settings
    consent: ConsentLookup
    clock: Callable[[], datetime]

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.settings.notice_window_minutes)

    def once(self) -> int:
        """Process every change that is due; how many were taken."""
        taken = 0
        while self.process_next():
            taken += 1
        return taken

    def run(self, stop: threading.Event, interval: float = 5.0) -> None:
        poll(self.once, stop, interval, log, "notice_job")

    def process_next(self) -> bool:
        """Take the oldest due change nobody else holds; False when there is none."""
        now = self.clock()
        with transaction(self.factory) as session:
            row = session.scalars(
                select(InvolvementChangeRow)
                .where(InvolvementChangeRow.processed_at.is_(None))
                .where(InvolvementChangeRow.due_at <= now)
                .order_by(InvolvementChangeRow.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return False
            access = child_access(session, self.settings, self.consent, clock=self.clock)
            try:
                with session.begin_nested():
                    deliver(session, access, row, now, self.window)
            except ConsentServiceDown:
                row.attempts += 1
                wait = RETRY_MINUTES[min(row.attempts, len(RETRY_MINUTES)) - 1]
                row.due_at = now + timedelta(minutes=wait)
                log.warning("notice_change_deferred", extra={"change": row.id})
                return True
            row.processed_at = now
            return True


def job_for(settings: Settings, engine: Engine, consent: ConsentLookup) -> NoticeJob:
    return NoticeJob(session_factory(engine), settings, consent, lambda: datetime.now(UTC))


@contextmanager
def running_notice_job(engine: Engine, settings: Settings) -> Iterator[None]:
    """The job in a thread of its own while the block runs (the demo)."""
    stop = threading.Event()
    with ConsentClient(settings.consent_url) as consent:
        job = job_for(settings, engine, consent)
        thread = threading.Thread(target=job.run, args=(stop,), name="notices", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(5)


def change_of(row: InvolvementChangeRow) -> Change:
    return Change(row.id, Cpr.parse(row.child_cpr), row.unit_id, UnitKind(row.kind), row.since)


def deliver(
    session: Session,
    access: ChildAccess,
    row: InvolvementChangeRow,
    now: datetime,
    window: timedelta,
) -> int:
    """One item for each recipient who may see the change; how many."""
    change = change_of(row)
    delivered = 0
    with access.one_view():
        for recipient in recipients(session, change, row.detected_at, danish_day(now)):
            revealed = reveal(access, recipient, change, JOB_PURPOSE)
            if revealed is not None:
                add_item(session, recipient.user_id, row, revealed.flow, now, window)
                delivered += 1
    return delivered


def recipients(
    session: Session, change: Change, detected_at: datetime, day: date
) -> list[Principal]:
    """The opted-in staff of the units that were involved with the child before the change
    (involved on `day`, and not themselves found new at or after it), and of the child's GP
    clinic (the patient list), except the new unit's own staff. Units that became involved
    together are not told about each other: neither was there before."""
    child = change.child.value
    new_since = select(InvolvementChangeRow.unit_id).where(
        InvolvementChangeRow.child_cpr == child, InvolvementChangeRow.detected_at >= detected_at
    )
    before = select(InvolvementRow.unit_id).where(
        InvolvementRow.child_cpr == child,
        or_(InvolvementRow.until.is_(None), InvolvementRow.until >= day),
        InvolvementRow.unit_id.not_in(new_since),
    )
    gp = select(ChildRow.gp_unit_id).where(ChildRow.cpr == child).scalar_subquery()
    usernames = session.scalars(
        select(StaffUserRow.username)
        .join(NoticeSubscriptionRow, NoticeSubscriptionRow.user_id == StaffUserRow.id)
        .where(or_(StaffUserRow.unit_id.in_(before), StaffUserRow.unit_id == gp))
        .where(StaffUserRow.unit_id != change.unit_id)
        .order_by(StaffUserRow.username)
    )
    return [p for name in usernames if (p := principal_for(session, name)) is not None]


def add_item(
    session: Session,
    user_id: uuid.UUID,
    row: InvolvementChangeRow,
    flow: DataFlow,
    now: datetime,
    window: timedelta,
) -> NoticeRow:
    """Add the change to the user's unread notice about the child that is younger than the
    window, or to a new one."""
    # Two jobs adding to the same user's notice about the same child wait for each other,
    # so they cannot both open a new one.
    key = f"notice:{user_id}:{row.child_cpr}"
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    notice = session.scalars(
        select(NoticeRow)
        .where(NoticeRow.user_id == user_id, NoticeRow.child_cpr == row.child_cpr)
        .where(NoticeRow.read_at.is_(None), NoticeRow.created_at > now - window)
        .order_by(NoticeRow.created_at.desc())
        .limit(1)
    ).first()
    if notice is None:
        notice = NoticeRow(
            user_id=user_id,
            child_cpr=row.child_cpr,
            child_cpr_synthetic=row.child_cpr_synthetic,
            created_at=now,
            updated_at=now,
        )
        session.add(notice)
        session.flush()
    else:
        notice.updated_at = now
        notice.emailed_at = None  # the digest tells of it again
    item = NoticeItemRow(notice_id=notice.id, change_id=row.id, data_flow=flow, created_at=now)
    session.add(item)
    session.flush()
    return notice
