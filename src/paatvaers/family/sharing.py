"""What is shared with whom, and consent in the family's hands.

Generated from the access policy (each data flow: its recipients, its legal basis, its consent
rule) and the child's consent state, asked live at the consent service. Whether a flow is
shared is judged by the same functions the access engine uses (`consent_rules`), so this page
and the professionals' next decision cannot disagree.

Who decides a consent follows the flow's consent rule: from `child_decides_from_age` the young
person decides themself and a parent's consent no longer counts (sundhedsloven § 17, stk. 3);
otherwise a current custody holder decides. A withdrawal withdraws every consent on the flow's
template that counts, whoever of the custody holders gave it: the sharing rests on "a custody
holder's consent", and a custody holder who says no must be able to stop it (the consent
service records who withdrew). The other custody holder can give it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.consent_rules import judge_consent, objection_in_force
from paatvaers.access.policy import FlowPolicy, Policy
from paatvaers.domain.consent import ConsentKind, ConsentRecord
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.family.citizen import ChildLink, Citizen, Relation
from paatvaers.family.policy import FamilyPolicy, FlowWords, KindWords
from paatvaers.sources.consent.client import (
    ConsentAnswer,
    ConsentClient,
    ConsentServiceUnavailable,
)
from paatvaers.store.tables import CustodyHolderRow


class ShareState(StrEnum):
    BY_LAW = "by_law"  # no consent needed: the law allows it
    CONSENTED = "consented"
    NOT_CONSENTED = "not_consented"
    OBJECTED = "objected"  # a custody holder or the young person blocked it
    UNKNOWN = "unknown"  # the consent service does not answer now


class Decider(StrEnum):
    NOBODY = "nobody"  # by law: no consent to give
    CUSTODY_HOLDERS = "custody_holders"
    YOUNG_PERSON = "young_person"


class Change(StrEnum):
    GIVE = "give"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class FlowSharing:
    flow: DataFlow
    words: FlowWords
    recipients: tuple[KindWords, ...]
    legal_reference: str
    state: ShareState
    decider: Decider
    template: str | None
    may_change: bool  # this citizen may give or withdraw it now

    @property
    def change(self) -> Change | None:
        """What this citizen can do: withdraw a consent in force, or give a missing one."""
        if not self.may_change:
            return None
        if self.state is ShareState.CONSENTED:
            return Change.WITHDRAW
        if self.state is ShareState.NOT_CONSENTED:
            return Change.GIVE
        return None


def custody_holders(session: Session, child: Cpr) -> frozenset[str]:
    rows = session.scalars(
        select(CustodyHolderRow.holder_cpr).where(CustodyHolderRow.child_cpr == child.value)
    )
    return frozenset(rows)


def sharing(
    session: Session,
    citizen: Citizen,
    child: ChildLink,
    policy: Policy,
    words: FamilyPolicy,
    consent: ConsentClient,
    now: datetime,
) -> list[FlowSharing]:
    """Every data flow, in the policy's order, with its state for this child now."""
    holders = custody_holders(session, child.cpr)
    try:
        answer: ConsentAnswer | None = consent.lookup(child.cpr)
    except ConsentServiceUnavailable:
        answer = None
    return [
        _flow(policy.of(flow), citizen, child, words, answer, holders, now) for flow in DataFlow
    ]


def _flow(
    rule: FlowPolicy,
    citizen: Citizen,
    child: ChildLink,
    words: FamilyPolicy,
    answer: ConsentAnswer | None,
    holders: frozenset[str],
    now: datetime,
) -> FlowSharing:
    decider = decider_of(rule, child)
    state = _state(rule, child, answer, holders, now)
    may_change = state in (ShareState.CONSENTED, ShareState.NOT_CONSENTED) and (
        (decider is Decider.YOUNG_PERSON and child.relation is Relation.SELF)
        or (decider is Decider.CUSTODY_HOLDERS and citizen.cpr.value in holders)
    )
    return FlowSharing(
        flow=rule.flow,
        words=words.flows[rule.flow],
        recipients=tuple(words.unit_kinds[kind] for kind in rule.recipients),
        legal_reference=rule.legal_reference,
        state=state,
        decider=decider,
        template=rule.consent.template if rule.consent else None,
        may_change=may_change,
    )


def decider_of(rule: FlowPolicy, child: ChildLink) -> Decider:
    if rule.consent is None:
        return Decider.NOBODY
    age = rule.consent.child_decides_from_age
    if age is not None and child.age >= age:
        return Decider.YOUNG_PERSON
    return Decider.CUSTODY_HOLDERS


def _state(
    rule: FlowPolicy,
    child: ChildLink,
    answer: ConsentAnswer | None,
    holders: frozenset[str],
    now: datetime,
) -> ShareState:
    if rule.consent is None and rule.objection_template is None:
        return ShareState.BY_LAW
    if answer is None:
        return ShareState.UNKNOWN
    moment = max(now, answer.as_of)  # as the engine judges it
    if rule.objection_template is not None and objection_in_force(
        answer.records, rule.objection_template, child.cpr.value, holders, moment
    ):
        return ShareState.OBJECTED
    if rule.consent is None:
        return ShareState.BY_LAW
    finding = judge_consent(
        rule.consent, answer.records, child.cpr.value, child.age, holders, moment
    )
    return ShareState.CONSENTED if finding.satisfied else ShareState.NOT_CONSENTED


class ChangeRefused(Exception):
    """The citizen may not make this change now (or there is nothing to change)."""


def apply_change(
    session: Session,
    citizen: Citizen,
    child: ChildLink,
    rule: FlowPolicy,
    change: Change,
    consent: ConsentClient,
    now: datetime,
) -> list[ConsentRecord]:
    """Give or withdraw the consent on the flow's template, after checking again that this
    citizen decides it; the records the consent service changed or made."""
    holders = custody_holders(session, child.cpr)
    decider = decider_of(rule, child)
    allowed = (decider is Decider.YOUNG_PERSON and child.relation is Relation.SELF) or (
        decider is Decider.CUSTODY_HOLDERS and citizen.cpr.value in holders
    )
    if rule.consent is None or not allowed:
        raise ChangeRefused(rule.flow.value)
    template = rule.consent.template
    if change is Change.GIVE:
        return [consent.give(ConsentKind.CONSENT, template, child.cpr, citizen.cpr)]
    givers = {child.cpr.value} if decider is Decider.YOUNG_PERSON else holders
    answer = consent.lookup(child.cpr, template)
    moment = max(now, answer.as_of)
    counting = _in_force(answer.records, givers, moment)
    if not counting:
        raise ChangeRefused(rule.flow.value)
    return [consent.withdraw(record.id, citizen.cpr) for record in counting]


def _in_force(
    records: Sequence[ConsentRecord], givers: set[str] | frozenset[str], moment: datetime
) -> list[ConsentRecord]:
    return [
        r
        for r in records
        if r.kind is ConsentKind.CONSENT and r.giver_cpr.value in givers and r.in_force_at(moment)
    ]
