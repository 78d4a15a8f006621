"""Access decisions that explain themselves.

For a user, a child and a data flow the engine answers permit or deny, names the policy rules
that decided, gives the legal reference, and says what would make a denial a permit. It checks,
in this order, and stops at the first that fails:

1. the user's employee function may receive the flow;
2. the user's unit has a relationship to the child (derived from data, see relationships.py);
   for a meeting-bound flow, also that the unit takes part in the convened meeting given,
   while its window is open;
3. no citizen's objection (block) is in force, where the flow honours one;
4. the consent the flow needs is in force (asked live at the consent service);
5. the child is in the target group (R1), where the flow is only for the target group.

Within `one_view()` (one page or API answer about a child) the decisions share one look at
the child: its CPR row, custody holders, involvements, relationship and consent answer are
read once and reused by every flow's decision, so a page shows one consistent state and asks
the consent service once. Outside it every decision reads afresh; either way nothing is kept
beyond the view, so a withdrawal at the consent service counts from the next view on.

The order is what keeps existence hidden. Without a relationship (none, or ended beyond its
tail) nothing about the child is looked at, and the answer is the same word for word whether
the child has cases and appointments or none. The target group, which depends on who else is
involved, is judged only once the citizen's objection and consent have been honoured, and its
denial names no actors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, TypeVar, cast

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from paatvaers.access.consent_rules import judge_consent, objection_in_force
from paatvaers.access.identity import Principal
from paatvaers.access.policy import FlowPolicy, Obligation, Policy
from paatvaers.access.relationships import NO_RELATIONSHIP, Relationship, relationship_to
from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr, age_on
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.involvement import Evidence, Involvement, involved_kinds
from paatvaers.domain.organisations import UnitKind
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.sources.consent.client import ConsentAnswer, ConsentServiceUnavailable
from paatvaers.store.repositories import InvolvementRepository
from paatvaers.store.tables import ChildRow, CustodyHolderRow, InvolvementRow

T = TypeVar("T")

_CUSTODY = (
    select(CustodyHolderRow.holder_cpr, CustodyHolderRow.name)
    .where(CustodyHolderRow.child_cpr == bindparam("cpr"))
    .order_by(CustodyHolderRow.name)
)
# The child's CPR row with what the decisions about it go on to read, in one statement: its
# custody holders as [CPR number, name] by name, and its involvements as [unit, kind, since,
# until, evidence] by since (JSON, NULL for none).
_CHILD_WITH_FACTS = select(
    ChildRow,
    select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(CustodyHolderRow.holder_cpr, CustodyHolderRow.name),
                CustodyHolderRow.name,
            )
        )
    )
    .where(CustodyHolderRow.child_cpr == ChildRow.cpr)
    .scalar_subquery(),
    select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(
                    InvolvementRow.unit_id,
                    InvolvementRow.kind,
                    InvolvementRow.since,
                    InvolvementRow.until,
                    InvolvementRow.evidence,
                ),
                InvolvementRow.since,
            )
        )
    )
    .where(InvolvementRow.child_cpr == ChildRow.cpr)
    .scalar_subquery(),
).where(ChildRow.cpr == bindparam("cpr"))


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


@dataclass(frozen=True, slots=True)
class MeetingWindow:
    """A convened cross-disciplinary meeting, as a meeting-bound flow is decided against it:
    the child, the units that take part, and when sharing is allowed."""

    meeting_id: uuid.UUID
    child_cpr: str
    participant_units: frozenset[uuid.UUID]
    opens: datetime
    closes: datetime


_NOT_AT_MEETING = (
    "Oplysningerne deles kun på et indkaldt tværfagligt møde om barnet, som din enhed deltager"
    " i, og kun mens mødets periode varer",
    "This is shared only at a convened cross-disciplinary meeting about the child that your"
    " unit takes part in, and only while the meeting's period lasts",
)
_AT_MEETING_REMEDY = (
    "At din enhed indkaldes til et tværfagligt møde om barnet",
    "That your unit is invited to a cross-disciplinary meeting about the child",
)


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
        self._look: dict[Hashable, object] | None = None  # what the current view has read

    # -- one look per view ----------------------------------------------------------------------

    @contextmanager
    def one_view(self) -> Iterator[None]:
        """Within the block, what decisions (and the reads that use `remembered`) read about a
        child is read once: one page or answer, one consistent state, one consent answer.
        Nested blocks share the outer one; nothing outlives the outermost."""
        if self._look is not None:
            yield
            return
        self._look = {}
        try:
            yield
        finally:
            self._look = None

    def remembered(self, key: Hashable, read: Callable[[], T]) -> T:
        """`read()`, done once per view for `key` (every time outside a view)."""
        if self._look is None:
            return read()
        if key not in self._look:
            self._look[key] = read()
        return cast(T, self._look[key])

    def child_row(self, cpr: str) -> ChildRow | None:
        """The child's CPR data. Within a view it is read once, together with the custody
        holders and involvements the decisions go on to need, in one statement."""
        if self._look is None:
            return self.session.get(ChildRow, cpr)
        if ("child", cpr) not in self._look:
            self._read_child(cpr)
        return cast(ChildRow | None, self._look[("child", cpr)])

    def custody(self, cpr: str) -> list[tuple[str, str]]:
        """The child's custody holders as (CPR number, name), by name."""

        def read() -> list[tuple[str, str]]:
            rows = self.session.execute(_CUSTODY, {"cpr": cpr})
            return [(holder, name) for holder, name in rows]

        return self.remembered(("custody", cpr), read)

    def involvements(self, child: Cpr) -> list[Involvement]:
        return self.remembered(
            ("involvements", child.value),
            lambda: InvolvementRepository(self.session).for_child(child),
        )

    def _read_child(self, cpr: str) -> None:
        assert self._look is not None  # noqa: S101 - only called within a view
        found = self.session.execute(_CHILD_WITH_FACTS, {"cpr": cpr}).one_or_none()
        row, custody, involvements = found if found is not None else (None, None, None)
        self._look[("child", cpr)] = row
        self._look[("custody", cpr)] = [(holder, name) for holder, name in custody or ()]
        child = Cpr.parse(cpr) if involvements else None
        self._look[("involvements", cpr)] = [
            Involvement(
                child_cpr=cast(Cpr, child),
                unit_id=uuid.UUID(unit_id),
                kind=UnitKind(kind),
                since=date.fromisoformat(since),
                evidence=Evidence(evidence),
                until=date.fromisoformat(until) if until else None,
            )
            for unit_id, kind, since, until, evidence in involvements or ()
        ]

    def consent_answer(self, child: Cpr) -> ConsentAnswer:
        """The consent service's answer about the child; ConsentServiceUnavailable when there
        is none (within a view, the failure is the view's answer too)."""

        def ask() -> ConsentAnswer | ConsentServiceUnavailable:
            try:
                return self.consent.lookup(child)
            except ConsentServiceUnavailable as failure:
                return failure

        answer = self.remembered(("consent", child.value), ask)
        if isinstance(answer, ConsentServiceUnavailable):
            raise answer
        return answer

    # -- deciding -------------------------------------------------------------------------------

    def decide(
        self,
        principal: Principal,
        child: Cpr,
        flow: DataFlow,
        now: datetime,
        meeting: MeetingWindow | None = None,
    ) -> Decision:
        rule = self.policy.of(flow)
        checked: list[str] = []
        relation: Relationship | None = None
        try:
            self._function(principal, rule)
            checked.append("function")
            relation = self._relationship(principal, child, rule, danish_day(now))
            checked.append("relationship")
            if rule.meeting_bound:
                _at_meeting(principal, child, meeting, now)
                checked.append("meeting")
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
        relation = self.remembered(
            ("relationship", principal, child.value, day),
            lambda: relationship_to(
                self.session,
                principal,
                child.value,
                day,
                self.policy.relationships,
                self.child_row,
            ),
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
        row = self.child_row(child.value)
        if row is None:  # a relationship through a case or an appointment, but no CPR data
            raise Denied("child", ("Barnet findes ikke i CPR-data", "The child is not in CPR data"))
        consent_ids: tuple[str, ...] = ()
        if rule.objection_template is not None or rule.consent is not None:
            consent_ids = self._consent(child, row, rule, now, checked)
        day = danish_day(now)
        if rule.target_group_only:
            kinds = involved_kinds(self.involvements(child), day)
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
            answer = self.consent_answer(child)
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
        return frozenset(holder for holder, _name in self.custody(child.value))

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


def _at_meeting(
    principal: Principal, child: Cpr, meeting: MeetingWindow | None, now: datetime
) -> None:
    """A meeting-bound flow: the user's unit takes part in this meeting about this child, and
    its window is open. Judged after the relationship, so it says nothing about the child."""
    if (
        meeting is None
        or meeting.child_cpr != child.value
        or principal.unit.id not in meeting.participant_units
        or not meeting.opens <= now <= meeting.closes
    ):
        raise Denied("meeting", _NOT_AT_MEETING, _AT_MEETING_REMEDY)


def _obligations_now(rule: FlowPolicy, row: ChildRow, day: date) -> frozenset[Obligation]:
    """The flow's obligations that apply to this child today."""
    applying = set(rule.obligations)
    if Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED in applying and not _protected(row, day):
        applying.discard(Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED)
    return frozenset(applying)


def _protected(row: ChildRow, day: date) -> bool:
    since, until = row.address_protected_since, row.address_protected_until
    return since is not None and since <= day and (until is None or day <= until)
