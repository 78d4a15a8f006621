"""Danish time: what "today" means for the rules (a tail, an age, a consent's last day)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

DANISH_TIME = ZoneInfo("Europe/Copenhagen")


def danish_day(moment: datetime) -> date:
    """The calendar day in Denmark at `moment` (which must carry a time zone)."""
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone has no day")
    return moment.astimezone(DANISH_TIME).date()
