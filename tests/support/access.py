"""A small, exact world for access tests: one municipality's family department and PPR, one
BUP unit, one GP clinic, one school, one user per employee function, and one child per
relationship state, each related (or not) to all four units at once.

The data go into the database as the national sources would put them there; consents go to
the consent simulator over HTTP, as a custody holder would give them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.domain.appointments import PRACTICE_SETTING_CHILD_PSYCHIATRY
from paatvaers.domain.cases import PartyRole, Sensitivity
from paatvaers.domain.consent import CONSENT_TEMPLATES, ConsentKind
from paatvaers.domain.cpr import Cpr, synthetic_cpr
from paatvaers.domain.identifiers import Cvr
from paatvaers.domain.organisations import (
    DataRestrictions,
    EmployeeFunction,
    OrgUnit,
    UnitKind,
)
from paatvaers.sources.base import SourceName
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from paatvaers.store.db import make_engine
from paatvaers.store.repositories import org_unit_from_row
from paatvaers.store.tables import (
    AppointmentRow,
    CasePartyRow,
    ChildRow,
    CustodyHolderRow,
    EnrollmentRow,
    InvolvementRow,
    MunicipalCaseRow,
    OrgUnitRow,
    StaffUserRow,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
HOME = "0851"  # the municipality of the family department and PPR
ELSEWHERE = "0101"
APPOINTMENTS_TEMPLATE = "paatvaers.aftaler-til-kommune.v1"


class State(StrEnum):
    """The relationship and consent states of the authorisation matrix."""

    NONE = "none"  # no relationship (the child has data elsewhere)
    ACTIVE = "active"  # relationship, consent given
    TAIL = "tail"  # relationship ended, within the tail
    ENDED = "ended"  # relationship ended, beyond the tail
    CONSENT_MISSING = "consent_missing"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PROTECTED = "protected_address"
    BLOCKED = "blocked"  # a custody holder objected to appointment sharing


@dataclass
class Scenario:
    units: dict[UnitKind, OrgUnit] = field(default_factory=dict)
    principals: dict[EmployeeFunction, Principal] = field(default_factory=dict)
    children: dict[State, Cpr] = field(default_factory=dict)
    holders: dict[State, tuple[Cpr, Cpr]] = field(default_factory=dict)
    unrelated_without_data: Cpr | None = None


def _row_defaults() -> dict[str, object]:
    return {"source": "test", "confirmed_at": NOW, "content_hash": None}


_SOR = {UnitKind.BUP: "900000000001", UnitKind.GP: "900000000002"}
_OTHER_BUP_SOR = "900000000003"
_OTHER_GP = uuid.uuid4()


def _units() -> list[OrgUnitRow]:
    cvr = Cvr.from_body("2918942")
    assert cvr is not None
    home = {"municipality_code": HOME, "region": "1081", "cvr": cvr.value}
    return [
        OrgUnitRow(
            id=uuid.uuid4(),
            kind="child_family",
            name="Familieafdelingen",
            **home,
            fk_org_uuid=uuid.uuid4(),
            phone="70000001",
            email="familie@kommune.example",
            **_row_defaults(),
        ),
        OrgUnitRow(
            id=uuid.uuid4(),
            kind="ppr",
            name="PPR",
            **home,
            fk_org_uuid=uuid.uuid4(),
            phone="70000002",
            email="ppr@kommune.example",
            **_row_defaults(),
        ),
        OrgUnitRow(
            id=uuid.uuid4(),
            kind="bup",
            name="BUP Aalborg",
            region="1081",
            sor=_SOR[UnitKind.BUP],
            **_row_defaults(),
        ),
        OrgUnitRow(
            id=uuid.uuid4(),
            kind="gp",
            name="Lægerne i Testby",
            region="1081",
            municipality_code=HOME,
            sor=_SOR[UnitKind.GP],
            **_row_defaults(),
        ),
        OrgUnitRow(
            id=uuid.uuid4(),
            kind="school",
            name="Testby Skole",
            municipality_code=HOME,
            institution_number="900001",
            **_row_defaults(),
        ),
    ]


def _restrictions(function: EmployeeFunction, cvr: Cvr) -> DataRestrictions | None:
    granted = {
        EmployeeFunction.SOCIALRAADGIVER: (("27.*",), Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
        EmployeeFunction.SAGSBEHANDLER: (("27.*",), Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
        EmployeeFunction.PPR_PSYKOLOG: (("17.*", "27.*"), Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
    }.get(function)
    if granted is None:
        return None
    return DataRestrictions(cvr, *granted)


def build_scenario(engine: Engine, consent: ConsentClient) -> Scenario:
    scenario = Scenario()
    with Session(engine) as session, session.begin():
        for row in _units():
            session.add(row)
            scenario.units[UnitKind(row.kind)] = org_unit_from_row(row)
        session.flush()
        _staff(session, scenario)
        for number, state in enumerate(State):
            _child(session, scenario, state, number)
        scenario.unrelated_without_data = synthetic_cpr(date(2016, 3, 3), 4, 1)
        session.add(_child_row(scenario.unrelated_without_data, "Uden Data", ELSEWHERE))
    _consents(scenario, consent)
    return scenario


def _staff(session: Session, scenario: Scenario) -> None:
    for function in EmployeeFunction:
        unit = scenario.units[function.unit_kind]
        user_id = uuid.uuid4()
        restrictions = _restrictions(function, unit.cvr) if unit.cvr else None
        session.add(
            StaffUserRow(
                id=user_id,
                username=function.value,
                full_name=f"Test {function.value}",
                employee_function=function.value,
                unit_id=unit.id,
                kle_scope=list(restrictions.kle_patterns) if restrictions else None,
                max_sensitivity=restrictions.max_sensitivity.value if restrictions else None,
                source="local",
                confirmed_at=NOW,
            )
        )
        scenario.principals[function] = Principal(
            user_id, function.value, function, unit, restrictions
        )


def _child_row(cpr: Cpr, name: str, municipality: str, **extra: object) -> ChildRow:
    values: dict[str, object] = {
        "cpr": cpr.value,
        "cpr_synthetic": True,
        "name": name,
        "birth_date": cpr.birth_date,
        "sex": None,
        "municipality_code": municipality,
        "region": "1081",
        "address_line": "Opdigtet Vej 1",
        "postcode": "9000",
        "city": "Aalborg",
        **_row_defaults(),
    }
    values.update(extra)
    return ChildRow(**values)


def _child(session: Session, scenario: Scenario, state: State, number: int) -> None:
    cpr = synthetic_cpr(date(2016, 5, 1 + number), 4, number % 10)
    holders = (
        synthetic_cpr(date(1985, 1, 1 + number), 0, 2),
        synthetic_cpr(date(1984, 2, 1 + number), 0, 3),
    )
    scenario.children[state] = cpr
    scenario.holders[state] = holders
    units = scenario.units
    related = state not in (State.NONE, State.TAIL, State.ENDED)
    ended_days_ago = {State.TAIL: 10, State.ENDED: 100}.get(state)
    extra: dict[str, object] = {"gp_unit_id": units[UnitKind.GP].id if related else _OTHER_GP}
    if ended_days_ago is not None:
        extra |= {
            "previous_municipality_code": HOME,
            "moved_in_on": TODAY - timedelta(days=ended_days_ago),
            "previous_gp_unit_id": units[UnitKind.GP].id,
            "gp_since": TODAY - timedelta(days=ended_days_ago),
        }
    if state is State.PROTECTED:
        extra["address_protected_since"] = TODAY - timedelta(days=365)
    session.add(_child_row(cpr, f"Barn {state.value}", HOME if related else ELSEWHERE, **extra))
    session.flush()
    for i, holder in enumerate(holders):
        session.add(
            CustodyHolderRow(
                child_cpr=cpr.value,
                holder_cpr=holder.value,
                holder_cpr_synthetic=True,
                name=f"Forælder {i + 1} {state.value}",
                role="mor" if i == 0 else "far",
                lives_with_child=True,
            )
        )
    _appointments(session, cpr, state, ended_days_ago)
    _cases(session, scenario, cpr, open_case=related)
    session.add(
        EnrollmentRow(
            child_cpr=cpr.value,
            child_cpr_synthetic=True,
            institution_unit_id=units[UnitKind.SCHOOL].id,
            institution_number="900001",
            institution_type="1012",  # folkeskole
            main_group="4.B",
            grade="4",
            since=TODAY - timedelta(days=800),
            **_row_defaults(),
        )
    )
    for kind in (UnitKind.BUP, UnitKind.CHILD_FAMILY, UnitKind.PPR, UnitKind.GP):
        session.add(
            InvolvementRow(
                child_cpr=cpr.value,
                child_cpr_synthetic=True,
                unit_id=units[kind].id if related else uuid.uuid4(),
                kind=kind.value,
                since=TODAY - timedelta(days=400),
                until=None,
                evidence="case_index",
            )
        )


def _appointments(session: Session, cpr: Cpr, state: State, ended_days_ago: int | None) -> None:
    if state is State.NONE:  # data, but in another BUP unit
        starts, sor = [TODAY + timedelta(days=7)], _OTHER_BUP_SOR
    elif ended_days_ago is not None:  # the course went quiet 180 days before it ended
        starts, sor = [TODAY - timedelta(days=180 + ended_days_ago)], _SOR[UnitKind.BUP]
    else:
        starts, sor = [TODAY - timedelta(days=30), TODAY + timedelta(days=14)], _SOR[UnitKind.BUP]
    for start in starts:
        session.add(
            AppointmentRow(
                id=uuid.uuid4(),
                document_id=uuid.uuid4(),
                patient_cpr=cpr.value,
                patient_cpr_synthetic=True,
                start=datetime.combine(start, time(9), tzinfo=UTC),
                end=datetime.combine(start, time(10), tzinfo=UTC),
                performer_sor=sor,
                performer_name="BUP Aalborg",
                location_sor=sor,
                location_name="Opdigtet Hospitalsvej 3, ambulatorium B",
                reason="Udredning",
                practice_setting_code=PRACTICE_SETTING_CHILD_PSYCHIATRY,
                facility_type_code=None,
                episode_label=None,
                status="booked" if start > TODAY else "held",
                stage="assessment",
                **_row_defaults(),
            )
        )


def _cases(session: Session, scenario: Scenario, cpr: Cpr, open_case: bool) -> None:
    unit = scenario.units[UnitKind.CHILD_FAMILY]
    assert unit.cvr is not None
    case_id = uuid.uuid4()
    session.add(
        MunicipalCaseRow(
            id=case_id,
            case_number=f"S-{cpr.value}",
            title="Sag om støtte",
            non_public_title="Underretning om barnet",
            kle="27.24.03",
            status="Oplyst" if open_case else "Afsluttet",
            sensitivity=Sensitivity.FORTROLIGE_PERSONOPLYSNINGER.value,
            owner_cvr=unit.cvr.value,
            responsible_unit_id=unit.id,
            primary_handler="Test socialraadgiver",
            source_system="DUBU",
            opened_at=NOW - timedelta(days=200),
            **_row_defaults(),
        )
    )
    session.flush()
    session.add(
        CasePartyRow(
            case_id=case_id, cpr=cpr.value, cpr_synthetic=True, role=PartyRole.PRIMARY.value
        )
    )


def _consents(scenario: Scenario, consent: ConsentClient) -> None:
    for state, cpr in scenario.children.items():
        if state is State.CONSENT_MISSING:
            continue
        holder = scenario.holders[state][0]
        for template in CONSENT_TEMPLATES:
            given = consent.give(ConsentKind.CONSENT, template, cpr, holder)
            if state is State.CONSENT_WITHDRAWN:
                consent.withdraw(given.id, holder)
        if state is State.BLOCKED:
            consent.give(ConsentKind.OBJECTION, APPOINTMENTS_TEMPLATE, cpr, holder)


@dataclass
class AccessWorld:
    engine: Engine
    database_url: str
    scenario: Scenario
    consent: ConsentClient
    consent_url: str
    world: World


@contextmanager
def running_access_world(database_url: str) -> Iterator[AccessWorld]:
    """The scenario in the (empty, migrated) database, with the consent simulator running."""
    world = World(NOW.date())
    engine = make_engine(database_url)
    try:
        with (
            RunningSimulators(world, sources=[SourceName.CONSENT]) as running,
            ConsentClient(running.urls[SourceName.CONSENT]) as consent,
        ):
            url = running.urls[SourceName.CONSENT]
            scenario = build_scenario(engine, consent)
            yield AccessWorld(engine, database_url, scenario, consent, url, world)
    finally:
        engine.dispose()
