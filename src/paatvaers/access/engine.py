"""Access decisions that explain themselves.

For a user, a child and a data flow the engine answers permit or deny, names the policy rules
that decided, gives the legal reference, and says what would make a denial a permit. It checks,
in this order, and stops at the first that fails:

1. the user's employee function may receive the flow;
2. the user's unit has a relationship to the child (derived from data, see relationships.py);
3. no citizen's objection (block) is in force, where the flow honours one;
4. the consent the flow needs is in force (asked live at the consent service);
5. the child is in the target group (R1), where the flow is only for the target group.

The order is what keeps existence hidden. Without a relationship (none, or ended beyond its
tail) nothing about the child is looked at, and the answer is the same word for word whether
the child has cases and appointments or none. The target group, which depends on who else is
involved, is judged only once the citizen's objection and consent have been honoured, and its
denial names no actors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.consent_rules import judge_consent, objection_in_force
from paatvaers.access.identity import Principal
from paatvaers.access.policy import FlowPolicy, Obligation, Policy
from paatvaers.access.relationships import NO_RELATIONSHIP, Relationship, relationship_to
from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr, age_on
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.involvement import involved_kinds
from paatvaers.domain.organisations import UnitKind
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.sources.consent.client import ConsentAnswer, ConsentServiceUnavailable
from paatvaers.store.repositories import InvolvementRepository
from paatvaers.store.tables import ChildRow, CustodyHolderRow


class ConsentLookup(Protocol):
    """The consent service as the engine needs it: every record about a child, asked live,
    with the service's own time of the answer."""

    def lookup(self, child_cpr: Cpr, template: str | None = None) -> ConsentAnswer: ...


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
    max_case_sensitivity: Sensitivity | None = None
    relationship: Relationship | None = None
    consent_record_ids: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        return "permit" if self.permit else "deny"


class Denied(Exception):
    """Raised inside a decision by the check that fails; `decide` turns it into a Decision."""

    def __init__(
        self, check: str, reason: tuple[str, str], remedy: tuple[str, str] | None = None
    ) -> None:
        super().__init__(check)
        self.check, self.reason, self.remedy = check, reason, remedy


_MUNICIPAL_REMEDY = (
    "At barnet bor i kommunen, eller at kommunen har en åben sag om barnet, som dine"
    " dataafgrænsninger dækker",
    "That the child lives in the municipality, or the municipality has an open case about the"
    " child that your data restrictions cover",
)
_RELATIONSHIP_REMEDY = {
    UnitKind.CHILD_FAMILY: _MUNICIPAL_REMEDY,
    UnitKind.PPR: _MUNICIPAL_REMEDY,
    UnitKind.BUP: (
        "At barnet er i et forløb i din enhed (en booket eller nylig aftale)",
        "That the child is in a course in your unit (a booked or recent appointment)",
    ),
    UnitKind.GP: (
        "At barnet er på klinikkens patientliste",
        "That the child is on the clinic's patient list",
    ),
}
# The one answer for every child the unit has nothing (or no longer anything) to do with.
_NO_RELATIONSHIP = (
    "Du har ingen relation til barnet, der giver adgang til oplysningerne",
    "You have no relationship to the child that gives access to this information",
)
_NOT_IN_TARGET_GROUP = (
    "Barnet er ikke omfattet af platformens målgruppe",
    "The child is not within the platform's target group",
)


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
        checked: list[str] = []
        relation: Relationship | None = None
        try:
            self._function(principal, rule)
            checked.append("function")
            relation = self._relationship(principal, child, rule, danish_day(now))
            checked.append("relationship")
            return self._within_relationship(child, rule, relation, now, checked)
        except Denied as denied:
            return self._deny(rule, denied, relation)

    # -- the checks, each raising Denied --------------------------------------------------------

    def _function(self, principal: Principal, rule: FlowPolicy) -> None:
        if principal.function in rule.functions:
            return
        allowed_da = ", ".join(f.danish_title for f in rule.functions)
        allowed_en = ", ".join(f.value for f in rule.functions)
        raise Denied(
            "function",
            (
                f"Din funktion ({principal.function.danish_title}) modtager ikke: {rule.name_da}",
                f"Your function ({principal.function.value}) does not receive: {rule.name_en}",
            ),
            (f"En af funktionerne: {allowed_da}", f"One of the functions: {allowed_en}"),
        )

    def _relationship(
        self, principal: Principal, child: Cpr, rule: FlowPolicy, day: date
    ) -> Relationship:
        relation = relationship_to(
            self.session, principal, child.value, day, self.policy.relationships
        )
        if not relation.grants_access:
            raise Denied(
                "relationship", _NO_RELATIONSHIP, _RELATIONSHIP_REMEDY.get(principal.unit.kind)
            )
        return relation

    def _within_relationship(
        self,
        child: Cpr,
        rule: FlowPolicy,
        relation: Relationship,
        now: datetime,
        checked: list[str],
    ) -> Decision:
        row = self.session.get(ChildRow, child.value)
        if row is None:  # a relationship through a case or an appointment, but no CPR data
            raise Denied("child", ("Barnet findes ikke i CPR-data", "The child is not in CPR data"))
        consent_ids: tuple[str, ...] = ()
        if rule.objection_template is not None or rule.consent is not None:
            consent_ids = self._consent(child, row, rule, now, checked)
        day = danish_day(now)
        if rule.target_group_only:
            kinds = involved_kinds(InvolvementRepository(self.session).for_child(child), day)
            if not self.target_group.evaluate(row.birth_date, kinds, day).included:
                raise Denied("target_group", _NOT_IN_TARGET_GROUP)
            checked.append("target_group")
        if rule.consent is None:
            checked.append("legal_basis")
        return self._permit(rule, checked, row, day, relation, consent_ids)

    def _consent(
        self, child: Cpr, row: ChildRow, rule: FlowPolicy, now: datetime, checked: list[str]
    ) -> tuple[str, ...]:
        """The objection and consent checks; the ids of the consents relied on."""
        try:
            answer = self.consent.lookup(child)
        except ConsentServiceUnavailable:
            raise Denied(
                "consent_service",
                (
                    "Samtykketjenesten svarer ikke; der vises intet, før den svarer",
                    "The consent service does not answer; nothing is shown until it does",
                ),
                ("At samtykketjenesten svarer igen", "That the consent service answers again"),
            ) from None
        # Judged at the later of our clock and the service's, so a withdrawal the service has
        # recorded counts even when its clock runs ahead of ours.
        moment = max(now, answer.as_of)
        holders = self._custody_holders(child)
        if rule.objection_template is not None:
            if objection_in_force(
                answer.records, rule.objection_template, child.value, holders, moment
            ):
                raise Denied(
                    "objection",
                    (
                        "Borgeren har frabedt sig denne deling",
                        "The citizen has objected to this sharing",
                    ),
                    ("At frabedelsen tilbagekaldes", "That the objection is withdrawn"),
                )
            checked.append("objection")
        if rule.consent is None:
            return ()
        age = age_on(row.birth_date, danish_day(moment))
        finding = judge_consent(rule.consent, answer.records, child.value, age, holders, moment)
        if not finding.satisfied:
            raise Denied(
                "consent",
                (finding.reason_da, finding.reason_en),
                (finding.remedy_da, finding.remedy_en),
            )
        checked.append("consent")
        return finding.record_ids

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
        checked: list[str],
        row: ChildRow,
        day: date,
        relation: Relationship,
        consent_ids: tuple[str, ...],
    ) -> Decision:
        reason = (
            ("Tilladt: samtykke foreligger", "Permitted: consent is in force")
            if "consent" in checked
            else (f"Tilladt: {rule.legal_basis_da}", f"Permitted: {rule.legal_basis_en}")
        )
        return Decision(
            flow=rule.flow,
            permit=True,
            rules=tuple(f"{rule.flow}.{check}" for check in checked),
            reason_da=reason[0],
            reason_en=reason[1],
            legal_reference=rule.legal_reference,
            policy_version=self.policy.version,
            obligations=_obligations_now(rule, row, day),
            max_case_sensitivity=rule.max_case_sensitivity,
            relationship=relation,
            consent_record_ids=consent_ids,
        )

    def _deny(self, rule: FlowPolicy, denied: Denied, relation: Relationship | None) -> Decision:
        remedy = denied.remedy
        return Decision(
            flow=rule.flow,
            permit=False,
            rules=(f"{rule.flow}.{denied.check}",),
            reason_da=denied.reason[0],
            reason_en=denied.reason[1],
            legal_reference=rule.legal_reference,
            policy_version=self.policy.version,
            remedies_da=(remedy[0],) if remedy else (),
            remedies_en=(remedy[1],) if remedy else (),
            # A relationship that grants nothing is not described: ended or never there, the
            # answer is the same.
            relationship=relation if relation is not None else NO_RELATIONSHIP,
        )


def _obligations_now(rule: FlowPolicy, row: ChildRow, day: date) -> frozenset[Obligation]:
    """The flow's obligations that apply to this child today."""
    applying = set(rule.obligations)
    if Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED in applying and not _protected(row, day):
        applying.discard(Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED)
    return frozenset(applying)


def _protected(row: ChildRow, day: date) -> bool:
    since, until = row.address_protected_since, row.address_protected_until
    return since is not None and since <= day and (until is None or day <= until)
