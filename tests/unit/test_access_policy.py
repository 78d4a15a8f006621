"""The access policy file: read strictly, refused with the place and the reason when wrong,
and the source of docs/data-flows.md."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from paatvaers.access.flows_doc import render_markdown
from paatvaers.access.policy import ConsentFrom, Obligation, PolicyError, load_policy, parse_policy
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, UnitKind

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "src/paatvaers/access/policies/data_flows.toml"


def shipped() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def test_the_shipped_policy_has_a_rule_for_every_flow() -> None:
    policy = load_policy()
    assert set(policy.flows) == set(DataFlow)
    appointments = policy.of(DataFlow.APPOINTMENTS_TO_MUNICIPALITY)
    assert appointments.recipients == (UnitKind.CHILD_FAMILY, UnitKind.PPR)
    assert appointments.consent is not None
    assert appointments.consent.consent_from is ConsentFrom.CUSTODY_HOLDER
    assert appointments.consent.child_decides_from_age == 15
    school = policy.of(DataFlow.SCHOOL_TO_HEALTH)
    assert school.consent is None  # R11: on a legal basis, the same for BUP and GPs
    assert {UnitKind.BUP, UnitKind.GP} == set(school.recipients)
    assert Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED in school.obligations


def test_a_policy_file_elsewhere_is_read_from_its_path(tmp_path: Path) -> None:
    changed = SHIPPED.read_text(encoding="utf-8").replace(
        'version = "2026-11-26.1"', 'version = "local-1"'
    )
    path = tmp_path / "policy.toml"
    path.write_text(changed, encoding="utf-8")
    assert load_policy(path).version == "local-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["flows"]["cases_to_health"]["functions"].append("laege"),
            "[flows.cases_to_health]: functions: 'laege' is not one of",
        ),
        (lambda d: d["flows"].pop("correspondence"), "no rule for data flow(s): correspondence"),
        (
            lambda d: d["flows"].update(gossip=d["flows"]["correspondence"]),
            "unknown data flow(s): gossip",
        ),
        (
            lambda d: d["flows"]["school_to_health"]["obligations"].append("hide_some"),
            "obligations: 'hide_some' is not one of",
        ),
        (
            lambda d: d["flows"]["cases_to_health"]["consent"].update({"from": "anyone"}),
            "[flows.cases_to_health].consent: from: 'anyone' is not one of",
        ),
        (
            lambda d: d["flows"]["appointments_to_municipality"]["consent"].update(
                child_decides_from_age=18
            ),
            "child_decides_from_age must be an age from 1 to 17",
        ),
        (
            lambda d: d["flows"]["child_details"].update(legal_reference=""),
            "[flows.child_details]: legal_reference must be non-empty text",
        ),
        (
            lambda d: d["flows"]["child_details"].update(review="approved"),
            "review must be 'proposed' or 'confirmed'",
        ),
        (
            lambda d: d["flows"]["child_details"].update(consent_required=True),
            "unknown key(s): consent_required",
        ),
        (
            lambda d: d["relationships"].update(gp_tail_days=-1),
            "gp_tail_days must be a whole number of days",
        ),
        (lambda d: d["relationships"].update(bup_tail_days=100_000), "from 0 to 3650"),
        (
            lambda d: d["relationships"].update(school_tail_days=3),
            "[relationships]: unknown key(s): school_tail_days",
        ),
        (lambda d: d.update(flow={}), "policy.toml: unknown key(s): flow"),
        (
            lambda d: d["flows"]["appointments_to_municipality"].update(
                objection_template="paatvaers.aftaler-til-kommne.v1"
            ),
            "objection_template 'paatvaers.aftaler-til-kommne.v1' is not a known template",
        ),
        (
            lambda d: d["flows"]["cases_to_health"]["consent"].update(template=""),
            "template must be non-empty text",
        ),
        (
            lambda d: d["flows"]["appointments_to_municipality"]["consent"].update(
                child_decides_from_age=True
            ),
            "child_decides_from_age must be an age from 1 to 17",
        ),
        (
            lambda d: d["flows"]["child_details"].update(target_group_only="yes"),
            "target_group_only must be true or false",
        ),
    ],
)
def test_a_wrong_policy_is_refused_with_the_place(change: Any, message: str) -> None:
    document = copy.deepcopy(shipped())
    change(document)
    with pytest.raises(PolicyError) as refused:
        parse_policy(document, "policy.toml")
    assert message in str(refused.value)


def test_a_policy_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[flows\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"broken\.toml: not valid TOML"):
        load_policy(path)


def test_docs_data_flows_is_generated_from_the_policy() -> None:
    """Regenerate with: paatvaers access flows --markdown > docs/data-flows.md"""
    source = "src/paatvaers/access/policies/data_flows.toml"
    generated = render_markdown(load_policy(), source)
    assert (ROOT / "docs/data-flows.md").read_text(encoding="utf-8") == generated


def test_the_data_flow_table_names_every_function_a_flow_reaches() -> None:
    policy = load_policy()
    page = render_markdown(policy, "x")
    for flow in policy.flows.values():
        row = next(line for line in page.splitlines() if f"`{flow.flow.value}`" in line)
        for function in EmployeeFunction:
            assert (f"`{function.value}`" in row) == (function in flow.functions)
