"""The notice rules that need no database: which data flow shows which new actor to whom,
checked against the shipped policy, and the digest's text."""

from __future__ import annotations

import uuid

import pytest

from paatvaers.access.identity import Principal
from paatvaers.access.policy import load_policy
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, OrgUnit, Sector, UnitKind
from paatvaers.notices.digest import digest_text
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
    text = digest_text(2, "https://paatvaers.test/notifikationer")
    assert "Du har 2 nye notifikationer" in text
    assert "You have 2 new notifications" in text
    assert text.count("https://paatvaers.test/notifikationer") == 2
    assert "Du har 1 ny notifikation " in digest_text(1, "x")
