"""The only way to read a child's data: decide, read, apply the obligations, log, return.

Every function here writes an access-log row in the caller's transaction *before* it returns
anything; if the row cannot be written (`AccessLogUnavailable`), the data read are dropped and
the exception propagates, so a caller can only ever return data whose reading is logged. Within
`one_view()` (the reads of one page or answer) the rows are made as each read happens and
written together when the view ends, before the view hands anything back: the same guarantee
for what leaves the view. The caller commits the transaction (log rows and reads together)
before the data leave the process.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessAction, AccessEvent, event_values, record, record_all
from paatvaers.access.engine import Decision, DecisionEngine, MeetingWindow
from paatvaers.access.identity import Principal
from paatvaers.access.policy import Obligation
from paatvaers.domain.appointments import AppointmentStatus, CourseStage
from paatvaers.domain.cases import Case, CaseStatus
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr, age_on
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import UnitKind
from paatvaers.store.repositories import AppointmentRepository, CaseRepository
from paatvaers.store.tables import (
    ChildRow,
    EnrollmentRow,
    OrgUnitRow,
    StaffUserRow,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Withheld:
    """Shown instead of a value the user may not see. Neutral on purpose: it does not say
    why (a reason such as a protected address would itself be a disclosure)."""

    notice_da: str = "Oplysningen kan ikke vises"
    notice_en: str = "This information cannot be shown"


WITHHELD = Withheld()


@dataclass(frozen=True, slots=True)
class Answer(Generic[T]):
    decision: Decision
    data: T | None  # None when denied

    @property
    def permitted(self) -> bool:
        return self.decision.permit


@dataclass(frozen=True, slots=True)
class ChildDetails:
    cpr: str
    name: str
    birth_date: date
    age: int
    municipality_code: str | Withheld
    address: str | Withheld | None
    custody_holders: tuple[str, ...]  # names
    gp_name: str | Withheld | None


@dataclass(frozen=True, slots=True)
class AppointmentView:
    id: uuid.UUID
    start: datetime
    end: datetime | None
    unit_name: str | Withheld
    location: str | Withheld | None
    status: AppointmentStatus
    stage: CourseStage | None


@dataclass(frozen=True, slots=True)
class CaseView:
    id: uuid.UUID
    title: str
    kle: str
    status: CaseStatus
    responsible_unit: str
    unit_kind: UnitKind
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class ContactView:
    case_id: uuid.UUID
    unit_name: str
    unit_phone: str | None
    unit_email: str | None
    caseworker: str | None
    caseworker_phone: str | None
    caseworker_email: str | None


@dataclass(frozen=True, slots=True)
class SchoolView:
    institution: str | Withheld
    institution_type: str
    grade: str
    main_group: str | None


Fetch = Callable[[Decision], tuple[T, list[str]]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChildAccess:
    """Reads of one kind of data about one child, each decided by policy and logged."""

    def __init__(
        self,
        session: Session,
        engine: DecisionEngine,
        clock: Callable[[], datetime] = utc_now,
        synthetic: bool = True,
    ) -> None:
        self.session = session
        self.engine = engine
        self.clock = clock
        self.synthetic = synthetic  # whether the CPR numbers are synthetic (the log's flag)
        self._unwritten: list[dict[str, Any]] | None = None  # the view's log rows, in order

    @contextmanager
    def one_view(self) -> Iterator[None]:
        """The reads of one page or API answer. Each is decided and logged on its own, but
        what they read about a child (its CPR row, custody, cases, consent answer) is read
        once for the view (DecisionEngine.one_view), and their log rows, made as each read
        happens, are written together when the view ends, before it hands anything back. If
        they cannot be written, AccessLogUnavailable leaves the view, and nothing else does;
        if the view fails, nothing is written (the transaction is rolled back anyway)."""
        if self._unwritten is not None:
            with self.engine.one_view():
                yield
            return
        self._unwritten = []
        try:
            with self.engine.one_view():
                yield
            record_all(self.session, self._unwritten)
        finally:
            self._unwritten = None

    def decide(
        self,
        principal: Principal,
        child: Cpr,
        flow: DataFlow,
        purpose: str,
        meeting: MeetingWindow | None = None,
    ) -> Decision:
        """A decision without a read (an explanation, a check before offering an action);
        `meeting` is the convened meeting a meeting-bound flow is decided against."""
        decision = self.engine.decide(principal, child, flow, self.clock(), meeting)
        self._log(principal, child, decision, AccessAction.DECIDE, purpose, ())
        return decision

    def child_details(
        self, principal: Principal, child: Cpr, purpose: str
    ) -> Answer[ChildDetails | None]:
        fetch = self._details(child, principal)
        return self._read(principal, child, DataFlow.CHILD_DETAILS, purpose, fetch)

    def appointments(
        self, principal: Principal, child: Cpr, purpose: str
    ) -> Answer[list[AppointmentView]]:
        flow = DataFlow.APPOINTMENTS_TO_MUNICIPALITY
        return self._read(principal, child, flow, purpose, self._appointments(child))

    def cases_for_health(
        self, principal: Principal, child: Cpr, purpose: str
    ) -> Answer[list[CaseView]]:
        flow = DataFlow.CASES_TO_HEALTH
        return self._read(principal, child, flow, purpose, self._cases(child, principal))

    def cases_in_municipality(
        self, principal: Principal, child: Cpr, purpose: str
    ) -> Answer[list[CaseView]]:
        flow = DataFlow.CASES_IN_MUNICIPALITY
        return self._read(principal, child, flow, purpose, self._cases(child, principal))

    def contacts(self, principal: Principal, child: Cpr, purpose: str) -> Answer[list[ContactView]]:
        flow = DataFlow.CONTACTS_TO_HEALTH
        return self._read(principal, child, flow, purpose, self._contacts(child, principal))

    def school(self, principal: Principal, child: Cpr, purpose: str) -> Answer[SchoolView | None]:
        return self._read(principal, child, DataFlow.SCHOOL_TO_HEALTH, purpose, self._school(child))

    # -- the one path every read takes -------------------------------------------------------

    def _read(
        self, principal: Principal, child: Cpr, flow: DataFlow, purpose: str, fetch: Fetch[T]
    ) -> Answer[T]:
        decision = self.engine.decide(principal, child, flow, self.clock())
        if not decision.permit:
            self._log(principal, child, decision, AccessAction.DECIDE, purpose, ())
            return Answer(decision, None)
        data, record_ids = fetch(decision)
        self._log(principal, child, decision, AccessAction.READ, purpose, record_ids)
        return Answer(decision, data)

    def _log(
        self,
        principal: Principal,
        child: Cpr,
        decision: Decision,
        action: AccessAction,
        purpose: str,
        record_ids: list[str] | tuple[str, ...],
    ) -> None:
        event = AccessEvent(
            user_id=principal.user_id,
            username=principal.username,
            employee_function=principal.function.value,
            unit_id=principal.unit.id,
            action=action,
            purpose=purpose,
            decision=decision.outcome,
            rules=decision.rules,
            child_cpr=child.value,
            child_cpr_synthetic=self.synthetic,
            data_flow=decision.flow.value,
            legal_reference=decision.legal_reference,
            record_ids=tuple(record_ids)
            + tuple(f"consent:{i}" for i in decision.consent_record_ids),
            reason=decision.reason_da,
        )
        if self._unwritten is None:
            record(self.session, event)
        else:  # as `record` would have written it now
            self._unwritten.append(event_values(event, datetime.now(UTC)))

    # -- fetchers: what each flow reads, with its obligations applied ------------------------

    def _details(self, child: Cpr, principal: Principal) -> Fetch[ChildDetails | None]:
        def fetch(decision: Decision) -> tuple[ChildDetails | None, list[str]]:
            row = self.engine.child_row(child.value)
            if row is None:
                return None, []
            holders = [name for _cpr, name in self.engine.custody(child.value)]
            gp = self._gp_name(row.gp_unit_id, principal)
            # Each of these tells where the child lives; a protected address hides them all.
            hide = _withhold_location(decision)
            address = _address(row)
            details = ChildDetails(
                cpr=row.cpr,
                name=row.name,
                birth_date=row.birth_date,
                age=age_on(row.birth_date, danish_day(self.clock())),
                municipality_code=WITHHELD if hide else row.municipality_code,
                address=WITHHELD if hide and address else address,
                custody_holders=tuple(holders),
                gp_name=WITHHELD if hide and gp else gp,
            )
            return details, [f"child:{row.cpr}"]

        return fetch

    def _appointments(self, child: Cpr) -> Fetch[list[AppointmentView]]:
        def fetch(decision: Decision) -> tuple[list[AppointmentView], list[str]]:
            withhold = _withhold_location(decision)
            views = [
                AppointmentView(
                    id=a.id,
                    start=a.start,
                    end=a.end,
                    unit_name=WITHHELD if withhold else a.performer_name,
                    location=WITHHELD if withhold and a.location_name else a.location_name,
                    status=a.status,
                    stage=a.stage,
                )
                # R3: only appointments the region marked as child & adolescent psychiatry.
                for a in AppointmentRepository(self.session).for_child(child)
                if a.marking.is_child_psychiatry
            ]
            return views, [f"appointment:{v.id}" for v in views]

        return fetch

    def _shown_cases(
        self, child: Cpr, principal: Principal, decision: Decision
    ) -> list[tuple[Case, OrgUnitRow]]:
        """Open cases about the child in a family department or PPR, with the responsible
        unit, as far as the decision allows."""
        limits = principal.restrictions
        restricted = Obligation.WITHIN_DATA_RESTRICTIONS in decision.obligations
        ceiling = decision.max_case_sensitivity
        shown = []
        for case in self.engine.remembered(
            ("cases", child.value), lambda: CaseRepository(self.session).for_child(child)
        ):
            primary = case.primary_party
            if case.status is CaseStatus.AFSLUTTET or primary is None or primary.cpr != child:
                continue
            if ceiling is not None and not case.sensitivity.within(ceiling):
                continue
            if restricted and (
                limits is None
                or not limits.covers(case.owner_cvr.value, case.kle.value, case.sensitivity)
            ):
                continue
            unit = self._unit(case.responsible_unit_id)
            if unit is not None and unit.kind in (UnitKind.CHILD_FAMILY, UnitKind.PPR):
                shown.append((case, unit))
        return shown

    def _gp_name(self, unit_id: uuid.UUID | None, principal: Principal) -> str | None:
        if unit_id is None:
            return None
        if unit_id == principal.unit.id:  # the user's own clinic, read for this request
            return principal.unit.name
        unit = self._unit(unit_id)
        return unit.name if unit else None

    def _unit(self, unit_id: uuid.UUID) -> OrgUnitRow | None:
        return self.engine.remembered(
            ("unit", unit_id), lambda: self.session.get(OrgUnitRow, unit_id)
        )

    def _cases(self, child: Cpr, principal: Principal) -> Fetch[list[CaseView]]:
        def fetch(decision: Decision) -> tuple[list[CaseView], list[str]]:
            public_only = Obligation.PUBLIC_TITLE_ONLY in decision.obligations
            views = [
                CaseView(
                    id=case.id,
                    title=case.title if public_only else (case.non_public_title or case.title),
                    kle=case.kle.value,
                    status=case.status,
                    responsible_unit=unit.name,
                    unit_kind=UnitKind(unit.kind),
                    opened_at=case.opened_at,
                )
                for case, unit in self._shown_cases(child, principal, decision)
            ]
            return views, [f"case:{v.id}" for v in views]

        return fetch

    def _contacts(self, child: Cpr, principal: Principal) -> Fetch[list[ContactView]]:
        def fetch(decision: Decision) -> tuple[list[ContactView], list[str]]:
            views = []
            for case, unit in self._shown_cases(child, principal, decision):
                worker = self._caseworker(unit.id, case.primary_handler)
                views.append(
                    ContactView(
                        case_id=case.id,
                        unit_name=unit.name,
                        unit_phone=unit.phone,
                        unit_email=unit.email,
                        caseworker=case.primary_handler,
                        caseworker_phone=worker.phone if worker else None,
                        caseworker_email=worker.email if worker else None,
                    )
                )
            return views, [f"case:{v.case_id}" for v in views]

        return fetch

    def _caseworker(self, unit_id: uuid.UUID, name: str | None) -> StaffUserRow | None:
        if name is None:
            return None
        return self.session.scalar(
            select(StaffUserRow)
            .where(StaffUserRow.unit_id == unit_id, StaffUserRow.full_name == name)
            .limit(1)
        )

    def _school(self, child: Cpr) -> Fetch[SchoolView | None]:
        def fetch(decision: Decision) -> tuple[SchoolView | None, list[str]]:
            enrollment = self.session.get(EnrollmentRow, child.value)
            if enrollment is None:
                return None, []
            unit = self.session.get(OrgUnitRow, enrollment.institution_unit_id)
            name = unit.name if unit else enrollment.institution_number
            view = SchoolView(
                institution=WITHHELD if _withhold_location(decision) else name,
                institution_type=enrollment.institution_type,
                grade=enrollment.grade,
                main_group=enrollment.main_group,
            )
            return view, [f"enrollment:{enrollment.child_cpr}"]

        return fetch


def _withhold_location(decision: Decision) -> bool:
    return Obligation.WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED in decision.obligations


def _address(row: ChildRow) -> str | None:
    if not row.address_line:
        return None
    return f"{row.address_line}, {row.postcode or ''} {row.city or ''}".strip(", ")
