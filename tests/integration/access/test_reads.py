"""Reads of a child's data: consent asked live, the log written first (or nothing returned),
existence hidden without a relationship, and the obligations applied to what is shown."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessLogUnavailable
from paatvaers.access.factory import child_access
from paatvaers.access.reading import WITHHELD, ChildAccess
from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.consent import ConsentKind
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction as F
from paatvaers.domain.organisations import OrgUnit, UnitKind
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.store.tables import (
    AccessEventRow,
    AppointmentRow,
    CasePartyRow,
    MunicipalCaseRow,
)
from support.access import NOW, AccessWorld, State

TEMPLATE = "paatvaers.aftaler-til-kommune.v1"


def _access(session: Session, world: AccessWorld, settings: Settings) -> ChildAccess:
    return child_access(session, settings, world.consent, clock=lambda: NOW)


def test_a_withdrawal_at_the_consent_service_denies_the_very_next_read(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child, holder = (
        scenario.children[State.CONSENT_MISSING],
        scenario.holders[State.CONSENT_MISSING],
    )
    principal = scenario.principals[F.SOCIALRAADGIVER]
    given = access_world.consent.give(ConsentKind.CONSENT, TEMPLATE, child, holder[1])
    with Session(access_world.engine) as session, session.begin():
        access = _access(session, access_world, settings)
        before = access.appointments(principal, child, "overview")
        # The custody holder withdraws in the consent service's own interface, not ours.
        with ConsentClient(access_world.consent_url) as citizen:
            citizen.withdraw(given.id, holder[1])
        after = access.appointments(principal, child, "overview")
    assert before.permitted and before.data
    assert f"consent:{given.id}" in _logged_record_ids(access_world, before.decision.rules)
    assert not after.permitted and after.data is None
    assert after.decision.rules == ("appointments_to_municipality.consent",)
    assert after.decision.reason_en == "The consent has been withdrawn"


def test_a_withdrawal_counts_when_the_services_clock_runs_ahead_of_ours(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child, holder = (
        scenario.children[State.CONSENT_MISSING],
        scenario.holders[State.CONSENT_MISSING],
    )
    given = access_world.consent.give(ConsentKind.CONSENT, TEMPLATE, child, holder[0])
    clock = access_world.world.clock
    clock.advance(NOW + timedelta(seconds=5) - clock.now)  # the service is 5 s ahead of us
    access_world.consent.withdraw(given.id, holder[0])
    with Session(access_world.engine) as session, session.begin():
        access = _access(session, access_world, settings)
        answer = access.appointments(scenario.principals[F.SOCIALRAADGIVER], child, "x")
    assert not answer.permitted
    assert answer.decision.reason_en == "The consent has been withdrawn"


def _logged_record_ids(world: AccessWorld, rules: tuple[str, ...]) -> list[str]:
    with Session(world.engine) as session:
        rows = session.scalars(select(AccessEventRow).where(AccessEventRow.action == "read"))
        return [rid for row in rows if tuple(row.rules) == rules for rid in row.record_ids]


def test_the_young_person_decides_from_15(access_world: AccessWorld, settings: Settings) -> None:
    """From 15 the child's own consent is needed for health data, and a parent's no longer
    suffices (sundhedsloven § 17, stk. 3)."""
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]  # a custody holder consented; the child is 10
    principal = scenario.principals[F.PPR_PSYKOLOG]
    fifteen_later = NOW.replace(year=NOW.year + 5)
    with Session(access_world.engine) as session, session.begin():
        access = child_access(session, settings, access_world.consent, clock=lambda: fifteen_later)
        denied = access.decide(principal, child, DataFlow.APPOINTMENTS_TO_MUNICIPALITY, "test")
        access_world.consent.give(ConsentKind.CONSENT, TEMPLATE, child, child)
        permitted = access.decide(principal, child, DataFlow.APPOINTMENTS_TO_MUNICIPALITY, "test")
    assert not denied.permit
    assert denied.remedies_en[0].startswith("Consent from the young person (aged 15 or more)")
    assert permitted.permit


def test_a_failing_access_log_returns_no_data(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]
    with access_world.engine.begin() as connection:  # the log can no longer take rows
        connection.execute(
            text("ALTER TABLE access_event ADD CONSTRAINT no_more CHECK (false) NOT VALID")
        )
    returned: list[object] = []
    readers = (
        (F.SOCIALRAADGIVER, ChildAccess.appointments),
        (F.PRAKTISERENDE_LAEGE, ChildAccess.cases_for_health),
        (F.BUP_LAEGE, ChildAccess.school),
        (F.BUP_LAEGE, ChildAccess.child_details),
    )
    for function, read in readers:
        with Session(access_world.engine) as session, session.begin():
            access = _access(session, access_world, settings)
            with pytest.raises(AccessLogUnavailable, match="access log"):
                returned.append(read(access, scenario.principals[function], child, "overview"))
            session.rollback()
    assert returned == []  # not one answer, so not one byte of the child's data


def test_without_a_relationship_the_answer_does_not_depend_on_the_data(
    access_world: AccessWorld, settings: Settings
) -> None:
    """A child with cases and appointments elsewhere, a child whose relationship ended long
    ago, a child with no data at all, and a CPR number nobody has: the same decision, word for
    word."""
    scenario = access_world.scenario
    without_data = scenario.unrelated_without_data
    assert without_data is not None
    children = (
        scenario.children[State.NONE],
        scenario.children[State.ENDED],
        without_data,
        Cpr.parse("0101169915"),
    )
    with Session(access_world.engine) as session, session.begin():
        access = _access(session, access_world, settings)
        for function in F:
            for flow in DataFlow:
                principal = scenario.principals[function]
                answers = {access.decide(principal, child, flow, "search") for child in children}
                assert len(answers) == 1, (function, flow, answers)
                assert not next(iter(answers)).permit


def test_a_case_the_user_may_not_see_neither_grants_access_nor_shows(
    access_world: AccessWorld, settings: Settings
) -> None:
    """The child lives elsewhere; the municipality has an open case about it. Only a user
    whose data restrictions cover that case gets a relationship from it."""
    scenario = access_world.scenario
    child, nobody = scenario.children[State.NONE], scenario.unrelated_without_data
    assert nobody is not None
    unit = scenario.units[UnitKind.CHILD_FAMILY]
    with Session(access_world.engine) as session, session.begin():
        case_id = _open_case(session, child, unit, "17.13.03", Sensitivity.VIP_SAGER)
        access = _access(session, access_world, settings)
        flow = DataFlow.CHILD_DETAILS

        def same_as_nobody(function: F) -> bool:
            principal = scenario.principals[function]
            return access.decide(principal, child, flow, "x") == access.decide(
                principal, nobody, flow, "x"
            )

        # 17.* is outside the social workers' KLE; VIP is above the PPR psychologist's level.
        hidden = [same_as_nobody(f) for f in (F.SOCIALRAADGIVER, F.SAGSBEHANDLER, F.PPR_PSYKOLOG)]
        session.execute(
            MunicipalCaseRow.__table__.update()
            .where(MunicipalCaseRow.id == case_id)
            .values(sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER.value)
        )
        ppr = access.decide(scenario.principals[F.PPR_PSYKOLOG], child, flow, "x")
        caseworker = access.decide(scenario.principals[F.SAGSBEHANDLER], child, flow, "x")
        session.rollback()
    assert hidden == [True, True, True]
    assert ppr.permit and ppr.relationship is not None
    assert ppr.relationship.basis_en == "The municipality has an open case about the child"
    assert not caseworker.permit


def _open_case(
    session: Session, child: Cpr, unit: OrgUnit, kle: str, sensitivity: Sensitivity
) -> uuid.UUID:
    assert unit.cvr is not None
    case_id = uuid.uuid4()
    session.add(
        MunicipalCaseRow(
            id=case_id,
            case_number=f"PPR-{child.value}",
            title="Sag",
            kle=kle,
            status="Oplyst",
            sensitivity=sensitivity.value,
            owner_cvr=unit.cvr.value,
            responsible_unit_id=unit.id,
            source_system="JOSA",
            opened_at=NOW - timedelta(days=5),
            source="test",
            confirmed_at=NOW,
        )
    )
    session.flush()
    session.add(
        CasePartyRow(case_id=case_id, cpr=child.value, cpr_synthetic=True, role="Primær part")
    )
    session.flush()
    return case_id


def test_health_sees_public_titles_and_no_cases_above_its_ceiling(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]
    with Session(access_world.engine) as session, session.begin():
        access = _access(session, access_world, settings)
        health = access.cases_for_health(scenario.principals[F.PRAKTISERENDE_LAEGE], child, "x")
        municipal = access.cases_in_municipality(scenario.principals[F.SOCIALRAADGIVER], child, "x")
        session.execute(
            MunicipalCaseRow.__table__.update().values(sensitivity=Sensitivity.VIP_SAGER.value)
        )
        vip = access.cases_for_health(scenario.principals[F.PRAKTISERENDE_LAEGE], child, "x")
        session.rollback()
    assert health.data is not None and [c.title for c in health.data] == ["Sag om støtte"]
    assert municipal.data is not None
    assert [c.title for c in municipal.data] == ["Underretning om barnet"]
    assert vip.permitted and vip.data == []


def test_municipal_staff_see_only_cases_their_restrictions_cover(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]
    with Session(access_world.engine) as session, session.begin():
        session.execute(
            MunicipalCaseRow.__table__.update().values(
                sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER.value
            )
        )
        access = _access(session, access_world, settings)
        social_worker = access.cases_in_municipality(
            scenario.principals[F.SOCIALRAADGIVER], child, "x"
        )
        caseworker = access.cases_in_municipality(scenario.principals[F.SAGSBEHANDLER], child, "x")
        session.rollback()
    assert social_worker.data is not None and len(social_worker.data) == 1
    # The caseworker's login grants KLE 27.* only up to FORTROLIGE: the case is not shown,
    # and nothing says that it exists.
    assert caseworker.permitted and caseworker.data == []


def test_a_protected_address_hides_every_clue_to_where_the_child_lives(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.PROTECTED]
    with Session(access_world.engine) as session, session.begin():
        access = _access(session, access_world, settings)
        details = access.child_details(scenario.principals[F.BUP_LAEGE], child, "x").data
        school = access.school(scenario.principals[F.PRAKTISERENDE_LAEGE], child, "x").data
        visits = access.appointments(scenario.principals[F.PPR_PSYKOLOG], child, "x").data
        unprotected = access.child_details(
            scenario.principals[F.BUP_LAEGE], scenario.children[State.ACTIVE], "x"
        ).data
    assert details is not None and school is not None and visits
    assert (details.address, details.municipality_code, details.gp_name) == (WITHHELD,) * 3
    assert details.name == "Barn protected_address" and details.age == 10
    assert school.institution is WITHHELD and school.grade == "4"
    assert all(v.location is WITHHELD and v.unit_name is WITHHELD for v in visits)
    assert unprotected is not None
    assert unprotected.address == "Opdigtet Vej 1, 9000 Aalborg"
    assert unprotected.gp_name == "Lægerne i Testby"


def test_unmarked_appointments_never_reach_the_municipality(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]
    with Session(access_world.engine) as session, session.begin():
        first = session.scalars(
            select(AppointmentRow).where(AppointmentRow.patient_cpr == child.value)
        ).first()
        assert first is not None
        first.practice_setting_code = None  # the region did not mark it as child psychiatry
        unmarked = first.id
        session.flush()
        access = _access(session, access_world, settings)
        answer = access.appointments(scenario.principals[F.SOCIALRAADGIVER], child, "x")
        session.rollback()
    assert answer.data is not None
    assert [a.id for a in answer.data] != [] and unmarked not in {a.id for a in answer.data}


def test_every_read_and_denial_is_logged_with_who_what_and_why(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]
    doctor, secretary = scenario.principals[F.BUP_LAEGE], scenario.principals[F.BUP_SEKRETAER]
    with Session(access_world.engine) as session, session.begin():
        access = _access(session, access_world, settings)
        read = access.school(doctor, child, "overview")
        denied = access.school(secretary, child, "overview")
    with Session(access_world.engine) as session:
        rows = session.scalars(select(AccessEventRow).order_by(AccessEventRow.id)).all()
    assert read.permitted and not denied.permitted
    assert [(r.username, r.action, r.decision, r.data_flow) for r in rows] == [
        ("bup_laege", "read", "permit", "school_to_health"),
        ("bup_sekretaer", "decide", "deny", "school_to_health"),
    ]
    logged_read, logged_denial = rows
    assert logged_read.record_ids == [f"enrollment:{child.value}"]
    assert logged_read.child_cpr == child.value and logged_read.child_cpr_synthetic
    assert logged_read.unit_id == doctor.unit.id and logged_read.purpose == "overview"
    assert (
        logged_read.legal_reference == "Unilogin-bekendtgørelsen § 5, jf. sundhedsloven §§ 5 og 6"
    )
    assert logged_denial.rules == ["school_to_health.function"]
    assert logged_denial.record_ids == []


def test_access_stops_when_the_tail_runs_out(access_world: AccessWorld, settings: Settings) -> None:
    """The tail child's relationships ended 10 days ago; the policy's tail is 30 days."""
    scenario = access_world.scenario
    child = scenario.children[State.TAIL]
    results = {}
    for days_later in (19, 20, 21):
        moment = NOW + timedelta(days=days_later)
        with Session(access_world.engine) as session, session.begin():
            access = child_access(session, settings, access_world.consent, clock=lambda m=moment: m)
            results[days_later] = {
                function: access.decide(
                    scenario.principals[function], child, DataFlow.CHILD_DETAILS, "x"
                ).permit
                for function in (F.SOCIALRAADGIVER, F.PRAKTISERENDE_LAEGE, F.BUP_LAEGE)
            }
    assert all(results[19].values()) and all(results[20].values())
    assert not any(results[21].values())
