"""The pure parts of meetings: an invitation carries only what its recipient's decisions
permit, the `.ics` file is RFC 5545 and names no child, and a MedCom reply's answer."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from paatvaers.access.reading import WITHHELD, ChildDetails, SchoolView
from paatvaers.meetings import answers, ics, invitation
from paatvaers.meetings.model import Answer, Contact, Listed, MeetingFacts, RecipientView, Slot

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SLOT = Slot(START, START + timedelta(hours=1))
CHILD = ChildDetails(
    cpr="0101169915",
    name="Ida Testesen",
    birth_date=date(2016, 1, 1),
    age=10,
    municipality_code="0851",
    address="Opdigtet Vej 1, 9000 Aalborg",
    custody_holders=("Mor Testesen",),
    gp_name="Lægerne i Testby",
)
SCHOOL = SchoolView("Testby Skole", "1012", "4", "4.B")
FACTS = MeetingFacts(
    id=uuid.UUID(int=7),
    slots=(SLOT,),
    place="Mødelokale 2, Rådhuset",
    agenda="1. Trivsel i skolen",
    convenor=Contact("Pia Psykolog", "PPR Aalborg", "70000002", "ppr@kommune.example"),
    participants=(Listed("Pia Psykolog", "Psykolog, PPR"), Listed("BUP Aalborg", "BUP")),
    legal_reference="Serviceloven § 49 a",
)


def test_an_invitation_to_a_recipient_without_access_to_school_data_carries_none() -> None:
    text = invitation.render(FACTS, RecipientView(CHILD, None, meeting=True)).text
    assert "Ida Testesen" in text and "010116-9915" in text
    assert "Testby Skole" not in text and "Skole" not in text and "4.B" not in text
    permitted = invitation.render(FACTS, RecipientView(CHILD, SCHOOL, meeting=True)).text
    assert "Skole/dagtilbud: Testby Skole, 4. klassetrin" in permitted


def test_a_withheld_school_is_not_named() -> None:
    withheld = SchoolView(WITHHELD, "1012", "4", "4.B")
    text = invitation.render(FACTS, RecipientView(CHILD, withheld, meeting=True)).text
    assert "Skole" not in text


def test_without_the_meeting_flow_an_invitation_names_no_one_else_and_no_agenda() -> None:
    text = invitation.render(FACTS, RecipientView(None, SCHOOL, meeting=False)).text
    assert "BUP Aalborg" not in text and "Trivsel" not in text and "Ida" not in text
    assert "torsdag 03.12.2026 kl. 10:00-11:00" in text  # on a Danish clock
    assert "Pia Psykolog, PPR Aalborg, tlf. 70000002" in text
    assert text.endswith(invitation.HOW_TO_ANSWER)
    assert "Testby Skole" not in text  # the school only with the child's details


def test_the_calendar_file_is_rfc_5545_and_names_no_child() -> None:
    place = "Mødelokale 2; Rådhuset, " + "Æblevej " * 12
    data = ics.calendar(FACTS.id, (SLOT, SLOT), place, "Pia Psykolog", "p@x.dk", START)
    text = data.decode("utf-8")
    lines = text.split("\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= ics.MAX_OCTETS for line in lines)
    unfolded = text.replace("\r\n ", "")
    assert unfolded.count("BEGIN:VEVENT") == 2
    assert f"UID:{FACTS.id}-1@paatvaers" in unfolded
    assert "DTSTART:20261203T090000Z" in unfolded and "DTEND:20261203T100000Z" in unfolded
    assert "DTSTAMP:20261203T090000Z" in unfolded
    assert "SUMMARY:Tværfagligt møde" in unfolded
    assert "LOCATION:Mødelokale 2\\; Rådhuset\\, Æblevej" in unfolded
    assert "Ida" not in unfolded


def test_folding_never_splits_a_character() -> None:
    folded = ics.fold("X:" + "ø" * 100)
    assert all(len(part.encode("utf-8")) <= ics.MAX_OCTETS for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == "X:" + "ø" * 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("JA", Answer.ACCEPTED),
        ("ja tak, jeg kommer.", Answer.ACCEPTED),
        ("Ja.", Answer.ACCEPTED),
        ("NEJ", Answer.DECLINED),
        ("Nej, desværre", Answer.DECLINED),
        ("Kan I torsdag kl. 14?", Answer.OTHER_TIME),
        ("", Answer.OTHER_TIME),
        ("Jamen, det ved jeg ikke", Answer.OTHER_TIME),
    ],
)
def test_a_reply_is_read_as_an_answer(text: str, expected: Answer) -> None:
    assert answers.interpret(text) is expected
