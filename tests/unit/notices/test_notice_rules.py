"""The notice rules that need no database: which data flow shows which new actor to whom,
checked against the shipped policy, and the digest's text."""

from __future__ import annotations

import uuid

import pytest

from paatvaers.access.identity import Principal
from paatvaers.access.policy import load_policy
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, OrgUnit, Sector, UnitKind
from paatvaers.notices.digest import digest_subject, digest_text
from paatvaers.notices.revealing import REVEALING_FLOW, revealing_flow


def _principal(function: EmployeeFunction) -> Principal:
    unit = OrgUnit(uuid.uuid4(), function.unit_kind, "Enhed")
    return Principal(uuid.uuid4(), function.value, function, unit)


def test_each_revealing_flow_reaches_some_function_of_its_recipients_sector() -> None:
    policy = load_policy(None)
    for (kind, sector), flow in REVEALING_FLOW.items():
        sectors = {f.unit_kind.sector for f in policy.of(flow).functions}
        assert sector in sectors, (kind, sector, flow)


@pytest.mark.parametrize(
    ("new", "recipient", "flow"),
    [
        (UnitKind.CHILD_FAMILY, EmployeeFunction.PRAKTISERENDE_LAEGE, DataFlow.CASES_TO_HEALTH),
        (UnitKind.PPR, EmployeeFunction.BUP_LAEGE, DataFlow.CASES_TO_HEALTH),
        (UnitKind.CHILD_FAMILY, EmployeeFunction.PPR_PSYKOLOG, DataFlow.CASES_IN_MUNICIPALITY),
        (UnitKind.BUP, EmployeeFunction.SOCIALRAADGIVER, DataFlow.APPOINTMENTS_TO_MUNICIPALITY),
        (UnitKind.SCHOOL, EmployeeFunction.BUP_PSYKOLOG, DataFlow.SCHOOL_TO_HEALTH),
        (UnitKind.GP, EmployeeFunction.PPR_PSYKOLOG, DataFlow.CHILD_DETAILS),
        (UnitKind.BUP, EmployeeFunction.PRAKTISERENDE_LAEGE, None),  # no flow shows a course
        (UnitKind.BUP, EmployeeFunction.BUP_LAEGE, None),
        (UnitKind.SCHOOL, EmployeeFunction.SOCIALRAADGIVER, None),
        (UnitKind.DAYCARE, EmployeeFunction.PRAKTISERENDE_LAEGE, None),
    ],
)
def test_the_flow_that_shows_a_new_actor_depends_on_its_kind_and_the_recipients_sector(
    new: UnitKind, recipient: EmployeeFunction, flow: DataFlow | None
) -> None:
    assert revealing_flow(new, _principal(recipient)) is flow


def test_no_education_recipient_is_ever_shown_anything() -> None:
    assert all(sector is not Sector.EDUCATION for _kind, sector in REVEALING_FLOW)


def test_the_digest_says_a_count_and_a_link_in_both_languages() -> None:
    text = digest_text(0, 2, "https://paatvaers.test")
    assert "Du har 2 nye notifikationer i" in text
    assert "You have 2 new notifications in" in text
    assert text.count("https://paatvaers.test/notifikationer") == 2
    assert "moeder" not in text and "mødeindkald" not in text and "invitation" not in text


def test_the_digest_says_one_notice_in_the_singular() -> None:
    text = digest_text(0, 1, "x")
    assert "Du har 1 ny notifikation i" in text
    assert "You have 1 new notification in" in text


@pytest.mark.parametrize(
    ("invitations", "notices", "danish", "english"),
    [
        (1, 0, "1 ny mødeindkaldelse i", "1 new meeting invitation in"),
        (3, 0, "3 nye mødeindkaldelser i", "3 new meeting invitations in"),
        (
            1,
            2,
            "1 ny mødeindkaldelse og 2 nye notifikationer i",
            "1 new meeting invitation and 2 new notifications in",
        ),
        (
            2,
            1,
            "2 nye mødeindkaldelser og 1 ny notifikation i",
            "2 new meeting invitations and 1 new notification in",
        ),
    ],
)
def test_the_digest_counts_invitations_in_both_languages(
    invitations: int, notices: int, danish: str, english: str
) -> None:
    text = digest_text(invitations, notices, "https://paatvaers.test")
    assert f"Du har {danish} På Tværs" in text
    assert f"You have {english} På Tværs" in text
    assert text.count("https://paatvaers.test/moeder") == 2  # once in each language


def test_the_digest_links_each_page_it_counts_for() -> None:
    both = digest_text(1, 1, "https://p.test")
    assert "se dem: https://p.test/moeder og https://p.test/notifikationer\n" in both
    assert "see them: https://p.test/moeder and https://p.test/notifikationer\n" in both
    assert "notifikationer" not in digest_text(1, 0, "https://p.test")


def test_the_subject_names_an_invitation_and_nothing_more() -> None:
    assert digest_subject(1) == "Mødeindkaldelse i På Tværs – Børn & Unge"
    assert digest_subject(0) == "Nye notifikationer i På Tværs – Børn & Unge"
