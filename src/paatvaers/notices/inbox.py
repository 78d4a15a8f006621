"""A user's unread notices, as the user may see them now.

A notice stores references only. Showing it reads again, through the access engine and in
the user's name, what the notice would show: the child's name (`child_details`) and each new
actor through the flow that reveals it (`revealing.reveal`). Each of those reads is logged,
because a notice shows a child's data. A consent withdrawn since the job ran hides the item
now; a notice with nothing left to show is not listed (nothing says it exists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.access.reading import ChildAccess
from paatvaers.domain.cpr import Cpr
from paatvaers.notices.job import change_of
from paatvaers.notices.revealing import ConsentServiceDown, Revealed, reveal
from paatvaers.store.tables import InvolvementChangeRow, NoticeItemRow, NoticeRow

# The purpose written to the access log when a user views their notices: coordination of
# care, as a v3-ActReason code like the web's purposes.
VIEW_PURPOSE = "COC"
SHOWN_AT_MOST = 50


@dataclass(frozen=True, slots=True)
class ShownNotice:
    id: int
    child_cpr: str  # for the form that opens the child's overview (never in a URL)
    child_name: str
    updated_at: datetime
    items: tuple[Revealed, ...]


def unread_notices(
    session: Session, access: ChildAccess, principal: Principal
) -> list[ShownNotice]:
    """The user's unread notices, newest first, each as far as the user may see it now."""
    notices = session.scalars(
        select(NoticeRow)
        .where(NoticeRow.user_id == principal.user_id, NoticeRow.read_at.is_(None))
        .order_by(NoticeRow.updated_at.desc(), NoticeRow.id.desc())
        .limit(SHOWN_AT_MOST)
    ).all()
    shown = []
    for notice in notices:
        with access.one_view():
            one = _shown(session, access, principal, notice)
        if one is not None:
            shown.append(one)
    return shown


def _shown(
    session: Session, access: ChildAccess, principal: Principal, notice: NoticeRow
) -> ShownNotice | None:
    child = Cpr.parse(notice.child_cpr)
    details = access.child_details(principal, child, VIEW_PURPOSE)
    if not details.permitted or details.data is None:
        return None
    changes = session.scalars(
        select(InvolvementChangeRow)
        .join(NoticeItemRow, NoticeItemRow.change_id == InvolvementChangeRow.id)
        .where(NoticeItemRow.notice_id == notice.id)
        .order_by(InvolvementChangeRow.id)
    )
    items = []
    for row in changes:
        try:
            revealed = reveal(access, principal, change_of(row), VIEW_PURPOSE)
        except ConsentServiceDown:  # shown again once the service answers
            revealed = None
        if revealed is not None:
            items.append(revealed)
    if not items:
        return None
    return ShownNotice(notice.id, child.value, details.data.name, notice.updated_at, tuple(items))


def mark_read(session: Session, user_id: uuid.UUID, notice_id: int, now: datetime) -> bool:
    """Mark the user's own notice read; False when it is not theirs or not unread."""
    result = session.execute(
        update(NoticeRow)
        .where(NoticeRow.id == notice_id, NoticeRow.user_id == user_id)
        .where(NoticeRow.read_at.is_(None))
        .values(read_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
