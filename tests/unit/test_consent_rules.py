"""Whose consent counts: current custody holders, or the child itself from the policy's age;
withdrawn and lapsed records count for nothing; an objection blocks."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from paatvaers.access.consent_rules import judge_consent, objection_in_force
from paatvaers.access.policy import ConsentFrom, ConsentRule
from paatvaers.domain.consent import ConsentKind, ConsentRecord
from paatvaers.domain.cpr import Cpr, synthetic_cpr

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
CHILD = synthetic_cpr(date(2012, 4, 4), 4, 1)
MOTHER = synthetic_cpr(date(1980, 1, 1), 0, 2)
FATHER = synthetic_cpr(date(1979, 2, 2), 0, 3)
STRANGER = synthetic_cpr(date(1970, 3, 3), 0, 5)
HOLDERS = frozenset({MOTHER.value, FATHER.value})
TEMPLATE = "paatvaers.sager-til-sundhed.v1"
ONE = ConsentRule(TEMPLATE, ConsentFrom.CUSTODY_HOLDER)
BOTH = ConsentRule(TEMPLATE, ConsentFrom.ALL_CUSTODY_HOLDERS)
FROM_15 = ConsentRule(TEMPLATE, ConsentFrom.CUSTODY_HOLDER, child_decides_from_age=15)


def consent(
    giver: Cpr,
    *,
    kind: ConsentKind = ConsentKind.CONSENT,
    template: str = TEMPLATE,
    withdrawn: bool = False,
    valid_until: date | None = None,
) -> ConsentRecord:
    given = NOW - timedelta(days=10)
    return ConsentRecord(
        id=uuid.uuid4(),
        kind=kind,
        template=template,
        subject_cpr=CHILD,
        giver_cpr=giver,
        given_at=given,
        valid_until=valid_until,
        withdrawn_at=NOW - timedelta(days=1) if withdrawn else None,
    )


def judge(rule: ConsentRule, records: list[ConsentRecord], age: int = 10) -> bool:
    return judge_consent(rule, records, CHILD.value, age, HOLDERS, NOW).satisfied


def test_one_custody_holder_suffices_where_the_policy_says_so() -> None:
    assert judge(ONE, [consent(MOTHER)])
    assert not judge(BOTH, [consent(MOTHER)])
    assert judge(BOTH, [consent(MOTHER), consent(FATHER)])


def test_consent_from_someone_without_custody_does_not_count() -> None:
    assert not judge(ONE, [consent(STRANGER)])


def test_withdrawn_expired_or_other_template_consent_does_not_count() -> None:
    assert not judge(ONE, [consent(MOTHER, withdrawn=True)])
    assert not judge(ONE, [consent(MOTHER, valid_until=NOW.date() - timedelta(days=1))])
    assert judge(ONE, [consent(MOTHER, valid_until=NOW.date())])
    assert not judge(ONE, [consent(MOTHER, template="paatvaers.kontakter-til-sundhed.v1")])


def test_the_finding_says_why_and_what_would_help() -> None:
    withdrawn = judge_consent(ONE, [consent(MOTHER, withdrawn=True)], CHILD.value, 10, HOLDERS, NOW)
    assert withdrawn.reason_en == "The consent has been withdrawn"
    assert (
        withdrawn.remedy_en
        == f"Consent from a custody holder in Digitalt Samtykke, template {TEMPLATE}"
    )
    missing = judge_consent(BOTH, [], CHILD.value, 10, HOLDERS, NOW)
    assert missing.reason_da == "Der er ikke givet samtykke"
    assert "every custody holder" in missing.remedy_en


def test_from_15_the_child_decides_and_a_parent_no_longer_can() -> None:
    assert judge(FROM_15, [consent(MOTHER)], age=14)
    assert not judge(FROM_15, [consent(MOTHER)], age=15)
    assert judge(FROM_15, [consent(CHILD)], age=15)
    assert not judge(ONE, [consent(CHILD)], age=15)  # social matters: custody holders decide


def test_a_child_without_custody_holders_cannot_be_consented_for() -> None:
    for rule in (ONE, BOTH):
        finding = judge_consent(rule, [consent(MOTHER)], CHILD.value, 10, frozenset(), NOW)
        assert not finding.satisfied
        assert finding.reason_en == "No custody holder who could consent is registered in CPR"
    assert judge_consent(FROM_15, [consent(CHILD)], CHILD.value, 15, frozenset(), NOW).satisfied


def test_an_objection_by_a_holder_or_the_child_is_in_force_until_withdrawn() -> None:
    objection = consent(FATHER, kind=ConsentKind.OBJECTION)
    assert objection_in_force([objection], TEMPLATE, CHILD.value, HOLDERS, NOW) is objection
    by_child = consent(CHILD, kind=ConsentKind.OBJECTION)
    assert objection_in_force([by_child], TEMPLATE, CHILD.value, HOLDERS, NOW) is by_child
    withdrawn = consent(FATHER, kind=ConsentKind.OBJECTION, withdrawn=True)
    assert objection_in_force([withdrawn], TEMPLATE, CHILD.value, HOLDERS, NOW) is None
    stranger = consent(STRANGER, kind=ConsentKind.OBJECTION)
    assert objection_in_force([stranger], TEMPLATE, CHILD.value, HOLDERS, NOW) is None
