"""The text of an invitation: a pure function of the meeting and what the recipient may see.

Nothing about the child reaches an invitation except through `RecipientView`, which holds
only what the access engine permitted that recipient; so an invitation can never carry more
than its recipient may see, and a test can check that with plain values.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from paatvaers.access.reading import Withheld
from paatvaers.meetings.model import Invitation, MeetingFacts, RecipientView, Slot

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SUBJECT = "Indkaldelse til tværfagligt møde"
HOW_TO_ANSWER = "Svar med JA, NEJ eller et andet tidspunkt."
_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def slot_text(slot: Slot) -> str:
    """ "torsdag 03.12.2026 kl. 10:00-11:00" on a Danish clock."""
    start = slot.starts_at.astimezone(COPENHAGEN)
    end = slot.ends_at.astimezone(COPENHAGEN)
    day = f"{_WEEKDAYS[start.weekday()]} {start:%d.%m.%Y}"
    return f"{day} kl. {start:%H:%M}-{end:%H:%M}"


def render(meeting: MeetingFacts, view: RecipientView) -> Invitation:
    lines = [SUBJECT, "", *_child(view), "Foreslåede tidspunkter:"]
    lines += [f"{i}. {slot_text(slot)}" for i, slot in enumerate(meeting.slots, 1)]
    lines += ["", f"Sted: {meeting.place}", "", f"Indkaldt af: {_contact(meeting)}"]
    if view.meeting:  # the exchange the meeting allows: who else comes, and what about
        lines += ["", "Deltagere:"]
        lines += [f"- {p.name} ({p.role})" for p in meeting.participants]
        if meeting.agenda.strip():
            lines += ["", "Dagsorden:", meeting.agenda.strip()]
        lines += ["", f"Lovgrundlag for udvekslingen på mødet: {meeting.legal_reference}"]
    lines += ["", HOW_TO_ANSWER]
    return Invitation(SUBJECT, "\n".join(lines))


def _child(view: RecipientView) -> list[str]:
    if view.child is None:
        return ["Mødet handler om et barn, som indkalderen kan oplyse nærmere om.", ""]
    cpr = f"{view.child.cpr[:6]}-{view.child.cpr[6:]}"
    lines = [f"Barn: {view.child.name} (CPR-nr. {cpr})"]
    school = view.school
    if school is not None and not isinstance(school.institution, Withheld):
        lines.append(f"Skole/dagtilbud: {school.institution}, {school.grade}. klassetrin")
    return [*lines, ""]


def _contact(meeting: MeetingFacts) -> str:
    who = meeting.convenor
    parts = [who.name, who.unit]
    if who.phone:
        parts.append(f"tlf. {who.phone}")
    if who.email:
        parts.append(who.email)
    return ", ".join(parts)
