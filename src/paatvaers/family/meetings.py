"""Upcoming meetings the family is invited to.

A convenor adds the family to a meeting's participants (`meeting_participant` kind `family`:
custody holders and the young person from 15, by name; docs/meetings.md) and invites them by
the usual means. The family pages show each meeting about the child that has a family
participant and a proposed time still to come: the times, the place, who called it and how to
reach them, and which of the family are invited. Not the agenda or the minutes: those are the
professionals' exchange under the meeting's own rule.

Under a protection aimed at the citizen, the place and the convenor's name, unit and contact
are withheld: a meeting room tells where the child goes to school or lives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.reading import WITHHELD, Withheld
from paatvaers.family.citizen import ChildLink
from paatvaers.meetings.model import ParticipantKind
from paatvaers.store.tables import MeetingParticipantRow, MeetingRow, MeetingTimeRow


@dataclass(frozen=True, slots=True)
class FamilyMeeting:
    id: uuid.UUID
    times: tuple[tuple[datetime, datetime], ...]  # the proposed times still to come
    place: str | Withheld
    convenor_name: str | Withheld
    convenor_role: str | Withheld
    convenor_phone: str | Withheld | None
    convenor_email: str | Withheld | None
    family: tuple[str, ...]  # the family members invited, by name


def upcoming_meetings(session: Session, child: ChildLink, now: datetime) -> list[FamilyMeeting]:
    invited = (
        select(MeetingParticipantRow.meeting_id)
        .where(MeetingParticipantRow.kind == ParticipantKind.FAMILY.value)
        .scalar_subquery()
    )
    meetings = session.scalars(
        select(MeetingRow).where(
            MeetingRow.child_cpr == child.cpr.value, MeetingRow.id.in_(invited)
        )
    ).all()
    found = [m for m in (_meeting(session, row, child, now) for row in meetings) if m is not None]
    return sorted(found, key=lambda m: m.times[0][0])


def _meeting(
    session: Session, row: MeetingRow, child: ChildLink, now: datetime
) -> FamilyMeeting | None:
    times = tuple(
        (t.starts_at, t.ends_at)
        for t in session.scalars(
            select(MeetingTimeRow)
            .where(MeetingTimeRow.meeting_id == row.id, MeetingTimeRow.ends_at >= now)
            .order_by(MeetingTimeRow.starts_at)
        )
    )
    if not times:
        return None
    people = session.scalars(
        select(MeetingParticipantRow)
        .where(MeetingParticipantRow.meeting_id == row.id)
        .order_by(MeetingParticipantRow.position)
    ).all()
    convenor = next((p for p in people if p.kind == ParticipantKind.CONVENOR.value), None)
    hide = child.location_withheld
    return FamilyMeeting(
        id=row.id,
        times=times,
        place=WITHHELD if hide else row.place,
        convenor_name=WITHHELD if hide else (convenor.name if convenor else ""),
        convenor_role=WITHHELD if hide else (convenor.role if convenor else ""),
        convenor_phone=WITHHELD if hide else (convenor.phone if convenor else None),
        convenor_email=WITHHELD if hide else (convenor.email if convenor else None),
        family=tuple(p.name for p in people if p.kind == ParticipantKind.FAMILY.value),
    )
