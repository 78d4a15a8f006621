"""The citizen rules (access/policies/family.toml) read strictly, who decides a consent by
age, and the citizen login's claims."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from importlib import resources
from typing import Any

import pytest

from paatvaers.access.policy import PolicyError, load_policy
from paatvaers.domain.cpr import Cpr, synthetic_cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import UnitKind
from paatvaers.family.citizen import ChildLink, Citizen, Relation
from paatvaers.family.policy import (
    FAMILY_POLICY_FILE,
    WithholdLocationFrom,
    family_policy,
    parse_family_policy,
)
from paatvaers.family.sharing import Decider, decider_of
from paatvaers.settings import Settings
from paatvaers.web.family_routes import child_key, citizen_from_claims
from paatvaers.web.oidc import LoginRefused

CHILD = synthetic_cpr(date(2011, 6, 1), 4, 2)
PARENT = synthetic_cpr(date(1980, 2, 2), 0, 3)


def _document() -> dict[str, Any]:
    text = resources.files("paatvaers.access.policies").joinpath(FAMILY_POLICY_FILE)
    return tomllib.loads(text.read_text(encoding="utf-8"))


def test_the_shipped_rules_cover_every_flow_and_unit_kind_in_plain_words() -> None:
    rules = family_policy()
    assert set(rules.flows) == set(DataFlow) and set(rules.unit_kinds) == set(UnitKind)
    assert rules.young_person_from_age == 15 and rules.access_log_years >= 2
    assert rules.withhold_location_from is WithholdLocationFrom.CUSTODY_HOLDERS_NOT_AT_CHILD_ADDRESS
    # The acronyms are explained where they are first used.
    assert rules.unit_kinds[UnitKind.PPR].name.da == (
        "PPR – Pædagogisk Psykologisk Rådgivning, kommunens psykologer"
    )
    assert rules.unit_kinds[UnitKind.BUP].name.da.startswith("BUP – Børne- og ungdomspsykiatrien")
    # Short sentences: no line a stressed parent must read twice.
    for words in rules.flows.values():
        for sentence in f"{words.what.da} {words.basis.da}".split(". "):
            assert len(sentence.split()) <= 20, sentence


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["citizen"].update(age=1), "unknown key(s): age"),
        (lambda d: d["flows"].pop("meeting"), "no words for: meeting"),
        (lambda d: d["unit_kinds"].update(hospital={}), "unknown: hospital"),
        (lambda d: d["citizen"].update(access_log_years=1), "access_log_years"),
        (lambda d: d["citizen"].update(young_person_from_age=18), "young_person_from_age"),
        (lambda d: d["citizen"].update(withhold_location_from="nobody"), "withhold_location_from"),
        (lambda d: d["flows"]["cases_to_health"].update(what_da=""), "what_da"),
    ],
)
def test_a_broken_rule_file_is_refused_with_the_place(change: Any, message: str) -> None:
    document = _document()
    change(document)
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_family_policy(document, "family.toml")


def _link(age: int, relation: Relation = Relation.CUSTODY_HOLDER) -> ChildLink:
    return ChildLink(CHILD, "Barn", date(2011, 6, 1), age, relation, True, False, False)


def test_from_15_the_young_person_decides_health_consents_and_parents_the_rest() -> None:
    policy = load_policy()
    appointments = policy.of(DataFlow.APPOINTMENTS_TO_MUNICIPALITY)
    cases = policy.of(DataFlow.CASES_TO_HEALTH)
    assert decider_of(appointments, _link(14)) is Decider.CUSTODY_HOLDERS
    assert decider_of(appointments, _link(15)) is Decider.YOUNG_PERSON
    assert decider_of(cases, _link(15)) is Decider.CUSTODY_HOLDERS
    assert decider_of(policy.of(DataFlow.CHILD_DETAILS), _link(15)) is Decider.NOBODY


def test_the_citizen_login_reads_the_cpr_number_from_the_brokers_claim() -> None:
    settings = Settings()
    claims = {"dk:gov:saml:attribute:CprNumberIdentifier": [PARENT.value], "name": "Anna Test"}
    assert citizen_from_claims(claims, settings) == Citizen(PARENT, "Anna Test")
    mapped = settings.model_copy(update={"citizen_oidc_cpr_claim": "cpr"})
    assert citizen_from_claims({"cpr": PARENT.formatted()}, mapped).cpr == PARENT
    for broken in ({}, {"dk:gov:saml:attribute:CprNumberIdentifier": "0000000000"}):
        with pytest.raises(LoginRefused):
            citizen_from_claims(broken, settings)


def test_neither_the_log_id_nor_the_childs_url_key_carries_a_cpr_number() -> None:
    citizen = Citizen(PARENT, "Anna Test")
    assert citizen.log_id == Citizen(PARENT, "Another name").log_id
    assert PARENT.value not in str(citizen.log_id)
    key = child_key(_link(10))
    assert CHILD.value not in key and len(key) == 20
    assert key != child_key(replace(_link(10), cpr=Cpr.parse(PARENT.value)))
