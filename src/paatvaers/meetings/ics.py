"""`.ics` calendar files (RFC 5545) for an invitation: one tentative event per proposed time.

A small writer rather than a new dependency: the file needs a handful of properties, escaped
text, CRLF line ends and lines folded at 75 octets. The summary is a fixed title and the file
names no child: a calendar is often shared with colleagues and synchronised to phones.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from paatvaers.meetings.model import Slot

SUMMARY = "Tværfagligt møde"
PRODID = "-//På Tværs – Børn & Unge//Tværfaglige møder//DA"
MAX_OCTETS = 75


def calendar(
    meeting_id: uuid.UUID,
    slots: Sequence[Slot],
    place: str,
    organizer: str,
    organizer_email: str | None,
    stamp: datetime,
) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "METHOD:PUBLISH"]
    for number, slot in enumerate(slots, 1):
        lines += [
            "BEGIN:VEVENT",
            f"UID:{meeting_id}-{number}@paatvaers",
            f"DTSTAMP:{_utc(stamp)}",
            f"DTSTART:{_utc(slot.starts_at)}",
            f"DTEND:{_utc(slot.ends_at)}",
            f"SUMMARY:{escape(SUMMARY)}",
            f"LOCATION:{escape(place)}",
            *_organizer(organizer, organizer_email),
            "STATUS:TENTATIVE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def escape(text: str) -> str:
    """TEXT values: backslash, semicolon, comma and line breaks escaped (RFC 5545 3.3.11)."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Lines longer than 75 octets folded with CRLF and a space, never inside a character
    (RFC 5545 3.1)."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        octets = len(char.encode("utf-8"))
        limit = MAX_OCTETS if not parts else MAX_OCTETS - 1  # a continuation starts with a space
        if size + octets > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += octets
    parts.append(current)
    return "\r\n ".join(parts)


def _organizer(name: str, email: str | None) -> list[str]:
    """ORGANIZER is an address; without an e-mail address there is none to give."""
    if not email:
        return []
    cn = name.replace('"', "'")  # a quoted parameter value cannot hold a double quote
    return [f'ORGANIZER;CN="{cn}":mailto:{email}']


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
