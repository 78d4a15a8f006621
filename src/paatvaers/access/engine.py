"""Access decisions that explain themselves.

For a user, a child and a data flow the engine answers permit or deny, names the policy rules
that decided, gives the legal reference, and says what would make a denial a permit. It checks,
in this order, and stops at the first that fails:

1. the user's employee function may receive the flow;
2. the user's unit has a relationship to the child (derived from data, see relationships.py);
3. the child is in the target group (R1), where the flow is only for the target group;
4. no citizen's objection (block) is in force;
5. the consent the flow needs is in force (asked live at the consent service).

The order is what keeps existence hidden: without a relationship nothing about the child is
looked at, so the answer is the same whether the child has cases and appointments or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.consent_rules import judge_consent, objection_in_force
from paatvaers.access.identity import Principal
from paatvaers.access.policy import FlowPolicy, Obligation, Policy
from paatvaers.access.relationships import Relationship, relationship_to
from paatvaers.domain.consent import ConsentRecord
from paatvaers.domain.cpr import Cpr, age_on
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.involvement import Involvement, involved_kinds
from paatvaers.domain.organisations import UnitKind
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.sources.consent.client import ConsentServiceUnavailable
from paatvaers.store.repositories import InvolvementRepository
from paatvaers.store.tables import ChildRow, CustodyHolderRow


class ConsentLookup(Protocol):
    """The consent service as the engine needs it: every record about a child, asked live."""

    def records_for(self, child_cpr: Cpr, template: str | None = None) -> list[ConsentRecord]: ...


@dataclass(frozen=True, slots=True)
class Decision:
    flow: DataFlow
    permit: bool
    rules: tuple[str, ...]  # the policy rules that decided, e.g. "cases_to_health.consent"
    reason_da: str
    reason_en: str
    legal_reference: str
    policy_version: str
    remedies_da: tuple[str, ...] = ()  # what would make it permitted
    remedies_en: tuple[str, ...] = ()
    obligations: frozenset[Obligation] = field(default_factory=frozenset)  # to apply now
    relationship: Relationship | None = None
    consent_record_ids: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        return "permit" if self.permit else "deny"


_RELATIONSHIP_REMEDY = {
    UnitKind.CHILD_FAMILY: (
        "At barnet bor i kommunen, eller at kommunen har en åben sag om barnet",
        "That the child lives in the municipality, or the municipality has an open case",
    ),
    UnitKind.PPR: (
        "At barnet bor i kommunen, eller at kommunen har en åben sag om barnet",
        "That the child lives in the municipality, or the municipality has an open case",
    ),
    UnitKind.BUP: (
        "At barnet er i et forløb i din enhed (en booket eller nylig aftale)",
        "That the child is in a course in your unit (a booked or recent appointment)",
    ),
    UnitKind.GP: (
        "At barnet er på klinikkens patientliste",
        "That the child is on the clinic's patient list",
    ),
}


class DecisionEngine:
    """Decides from the policy, the stored data and the consent service. It does not log;
    the reading functions (reading.py) log every decision before any data leave."""

    def __init__(
        self,
        session: Session,
        policy: Policy,
        consent: ConsentLookup,
        target_group: TargetGroupRule,
    ) -> None:
        self.session = session
        self.policy = policy
        self.consent = consent
        self.target_group = target_group

    def decide(self, principal: Principal, child: Cpr, flow: DataFlow, now: datetime) -> Decision:
        rule = self.policy.of(flow)
        if principal.function not in rule.functions:
            return self._function_denied(principal, rule)
        day = now.date()
        relation = relationship_to(
            self.session, principal, child.value, day, self.policy.relationships
        )
        if not relation.grants_access:
            return self._relationship_denied(principal, rule, relation)
        return self._within_relationship(child, rule, relation, now)

    # -- the checks that need a relationship --------------------------------------------------

    def _within_relationship(
        self, child: Cpr, rule: FlowPolicy, relation: Relationship, now: datetime
    ) -> Decision:
        row = self.session.get(ChildRow, child.value)
        if row is None:  # a relationship without CPR data: a case or appointment only
            return self._deny(
                rule,
                "child",
                ("Barnet findes ikke i CPR-data", "The child is not in the CPR data"),
                relation=relation,
            )
        day = now.date()
        if rule.target_group_only:
            verdict = self.target_group.evaluate(row.birth_date, self._involved(child, day), day)
            if not verdict.included:
                return self._deny(
                    rule,
                    "target_group",
                    (
                        "Barnet er ikke i målgruppen (mindst tre aktører, heraf BUP)",
                        f"The child is not in the target group: {verdict.explanation}",
                    ),
                    relation=relation,
                )
        if rule.objection_template is None and rule.consent is None:
            return self._permit(rule, "legal_basis", row, day, relation, ())
        try:
            records = self.consent.records_for(child)
        except ConsentServiceUnavailable:
            return self._deny(
                rule,
                "consent_service",
                (
                    "Samtykketjenesten svarer ikke; der vises intet, før den svarer",
                    "The consent service does not answer; nothing is shown until it does",
                ),
                ("At samtykketjenesten svarer igen", "That the consent service answers again"),
                relation,
            )
        holders = self._custody_holders(child)
        return self._judge_consent(rule, child, row, holders, records, relation, now)

    def _judge_consent(
        self,
        rule: FlowPolicy,
        child: Cpr,
        row: ChildRow,
        holders: frozenset[str],
        records: Sequence[ConsentRecord],
        relation: Relationship,
        now: datetime,
    ) -> Decision:
        if rule.objection_template is not None:
            block = objection_in_force(records, rule.objection_template, child.value, holders, now)
            if block is not None:
                return self._deny(
                    rule,
                    "objection",
                    (
                        "Borgeren har frabedt sig denne deling",
                        "The citizen has objected to this sharing",
                    ),
                    ("At frabedelsen tilbagekaldes", "That the objection is withdrawn"),
                    relation,
                )
        if rule.consent is None:
            return self._permit(rule, "legal_basis", row, now.date(), relation, ())
        age = age_on(row.birth_date, now.date())
        finding = judge_consent(rule.consent, records, child.value, age, holders, now)
        if not finding.satisfied:
            return self._deny(
                rule,
                "consent",
                (finding.reason_da, finding.reason_en),
                (finding.remedy_da, finding.remedy_en),
                relation,
            )
        return self._permit(rule, "consent", row, now.date(), relation, finding.record_ids)

    # -- data the checks need -----------------------------------------------------------------

    def _involved(self, child: Cpr, day: date) -> frozenset[UnitKind]:
        involvements: list[Involvement] = InvolvementRepository(self.session).for_child(child)
        return involved_kinds(involvements, day)

    def _custody_holders(self, child: Cpr) -> frozenset[str]:
        return frozenset(
            self.session.scalars(
                select(CustodyHolderRow.holder_cpr).where(CustodyHolderRow.child_cpr == child.value)
            )
        )

    # -- decisions ------------------------------------------------------------------------------

    def _permit(
        self,
        rule: FlowPolicy,
        decided_by: str,
        row: ChildRow,
        day: date,
        relation: Relationship,
        consent_ids: tuple[str, ...],
    ) -> Decision:
        reason = (
            ("Tilladt: samtykke foreligger", "Permitted: consent is in force")
            if decided_by == "consent"
            else (f"Tilladt: {rule.legal_basis_da}", f"Permitted: {rule.legal_basis_en}")
        )
        return Decision(
            flow=rule.flow,
            permit=True,
            rules=(
                f"{rule.flow}.function",
                f"{rule.flow}.relationship",
                f"{rule.flow}.{decided_by}",
            ),
            reason_da=reason[0],
            reason_en=reason[1],
            legal_reference=rule.legal_reference,
            policy_version=self.policy.version,
            obligations=_obligations_now(rule, row, day),
            relationship=relation,
            consent_record_ids=consent_ids,
        )

    def _deny(
        self,
        rule: FlowPolicy,
        decided_by: str,
        reason: tuple[str, str],
        remedy: tuple[str, str] | None = None,
        relation: Relationship | None = None,
    ) -> Decision:
        return Decision(
            flow=rule.flow,
            permit=False,
            rules=(f"{rule.flow}.{decided_by}",),
            reason_da=reason[0],
            reason_en=reason[1],
            legal_reference=rule.legal_reference,
            policy_version=self.policy.version,
            remedies_da=(remedy[0],) if remedy else (),
            remedies_en=(remedy[1],) if remedy else (),
            relationship=relation,
        )

    def _function_denied(self, principal: Principal, rule: FlowPolicy) -> Decision:
        allowed_da = ", ".join(f.danish_title for f in rule.functions)
        allowed_en = ", ".join(f.value for f in rule.functions)
        return self._deny(
            rule,
            "function",
            (
                f"Din funktion ({principal.function.danish_title}) modtager ikke: {rule.name_da}",
                f"Your function ({principal.function.value}) does not receive: {rule.name_en}",
            ),
            (f"En af funktionerne: {allowed_da}", f"One of the functions: {allowed_en}"),
        )

    def _relationship_denied(
        self, principal: Principal, rule: FlowPolicy, relation: Relationship
    ) -> Decision:
        remedy = _RELATIONSHIP_REMEDY.get(principal.unit.kind)
        if relation.ended_on is None:
            # The neutral answer: the same for every child the unit has nothing to do with.
            reason = (
                "Du har ingen relation til barnet, der giver adgang til oplysningerne",
                "You have no relationship to the child that gives access to this information",
            )
        else:
            reason = (
                f"Relationen er ophørt ({relation.basis_da.lower()}) {relation.ended_on:%d.%m.%Y}",
                f"The relationship ended ({relation.basis_en.lower()}) on {relation.ended_on}",
            )
        return self._deny(rule, "relationship", reason, remedy, relation)


def _obligations_now(rule: FlowPolicy, row: ChildRow, day: date) -> frozenset[Obligation]:
    """The flow's obligations that apply to this child today."""
    applying = set(rule.obligations)
    if Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED in applying and not _protected(row, day):
        applying.discard(Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED)
    return frozenset(applying)


def _protected(row: ChildRow, day: date) -> bool:
    since, until = row.address_protected_since, row.address_protected_until
    return since is not None and since <= day and (until is None or day <= until)
