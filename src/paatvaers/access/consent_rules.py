"""Whether the consent a flow needs is in force, judged from the consent service's records.

Only consent from the right person counts: a current custody holder, or the child itself from
the age the policy names (health matters: sundhedsloven § 17, stk. 3). A record from anyone
else, a withdrawn one, or one that has lapsed counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from paatvaers.access.policy import ConsentFrom, ConsentRule
from paatvaers.domain.consent import ConsentKind, ConsentRecord, ConsentState


@dataclass(frozen=True, slots=True)
class ConsentFinding:
    satisfied: bool
    record_ids: tuple[str, ...]  # the records that satisfied it
    reason_da: str
    reason_en: str
    remedy_da: str
    remedy_en: str


def _records(
    records: Iterable[ConsentRecord], kind: ConsentKind, template: str
) -> list[ConsentRecord]:
    return [r for r in records if r.kind is kind and r.template == template]


def objection_in_force(
    records: Sequence[ConsentRecord],
    template: str,
    child_cpr: str,
    custody_holders: frozenset[str],
    now: datetime,
) -> ConsentRecord | None:
    """A citizen's block (frabedelse) by the child or a custody holder that is in force."""
    allowed = custody_holders | {child_cpr}
    return next(
        (
            r
            for r in _records(records, ConsentKind.OBJECTION, template)
            if r.giver_cpr.value in allowed and r.in_force_at(now)
        ),
        None,
    )


def judge_consent(
    rule: ConsentRule,
    records: Sequence[ConsentRecord],
    child_cpr: str,
    child_age: int,
    custody_holders: frozenset[str],
    now: datetime,
) -> ConsentFinding:
    consents = _records(records, ConsentKind.CONSENT, rule.template)
    if rule.child_decides_from_age is not None and child_age >= rule.child_decides_from_age:
        return _judge(consents, frozenset({child_cpr}), 1, now, _child_remedy(rule))
    if not custody_holders:
        return ConsentFinding(
            False,
            (),
            "Der er ingen forældremyndighedsindehaver registreret i CPR, som kan give samtykke",
            "No custody holder who could consent is registered in CPR",
            "At forældremyndigheden er registreret i CPR",
            "That custody is registered in CPR",
        )
    needed = 1 if rule.consent_from is ConsentFrom.CUSTODY_HOLDER else len(custody_holders)
    return _judge(consents, custody_holders, needed, now, _holder_remedy(rule))


def _judge(
    consents: list[ConsentRecord],
    givers: frozenset[str],
    needed: int,
    now: datetime,
    remedy: tuple[str, str],
) -> ConsentFinding:
    from_givers = [r for r in consents if r.giver_cpr.value in givers]
    in_force = [r for r in from_givers if r.in_force_at(now)]
    covered = {r.giver_cpr.value for r in in_force}
    if len(covered) >= needed:
        ids = tuple(str(r.id) for r in in_force)
        return ConsentFinding(True, ids, "Samtykke foreligger", "Consent is in force", "", "")
    states = {r.state_at(now) for r in from_givers}
    if ConsentState.WITHDRAWN in states:
        reason = ("Samtykket er tilbagekaldt", "The consent has been withdrawn")
    elif ConsentState.EXPIRED in states:
        reason = ("Samtykket er udløbet", "The consent has expired")
    else:
        reason = ("Der er ikke givet samtykke", "No consent has been given")
    return ConsentFinding(False, (), *reason, *remedy)


def _child_remedy(rule: ConsentRule) -> tuple[str, str]:
    age = rule.child_decides_from_age
    return (
        f"Samtykke fra den unge selv (fra {age} år) i Digitalt Samtykke, skabelon {rule.template}",
        f"Consent from the young person (aged {age} or more) in Digitalt Samtykke,"
        f" template {rule.template}",
    )


def _holder_remedy(rule: ConsentRule) -> tuple[str, str]:
    if rule.consent_from is ConsentFrom.ALL_CUSTODY_HOLDERS:
        who_da, who_en = "alle forældremyndighedsindehavere", "every custody holder"
    else:
        who_da, who_en = "en forældremyndighedsindehaver", "a custody holder"
    return (
        f"Samtykke fra {who_da} i Digitalt Samtykke, skabelon {rule.template}",
        f"Consent from {who_en} in Digitalt Samtykke, template {rule.template}",
    )
