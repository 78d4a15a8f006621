"""Rollout (R15): connected, delivering, correspondence ready and active users per
municipality, region and clinic, against the plan; and the logging of every view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessAction, AccessEvent, event_values, record_all
from paatvaers.access.identity import principal_for
from paatvaers.correspondence import address_book
from paatvaers.domain.geography import MUNICIPALITIES, Region
from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.domain.organisations import OrgUnit, StaffMember, UnitKind
from paatvaers.population.generator import Population, generate
from paatvaers.population.report import report
from paatvaers.quality import metrics, rollout
from paatvaers.quality.access_log import QUALITY_PURPOSE, record_view
from paatvaers.quality.report import build_report
from paatvaers.quality.rollout import PlanError, load_plan, parse_plan
from paatvaers.quality.suppression import SUPPRESSED
from paatvaers.store.db import make_engine
from paatvaers.store.population_writer import replace_population
from paatvaers.store.tables import AccessEventRow

NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Scene:
    engine: Engine
    population: Population
    busy: str  # a municipality with all its municipal staff active
    few: str  # one with three active users
    idle: str  # one whose only use was long ago, or of the quality pages
    stale: str  # one whose cases were last delivered ten days ago
    ready_unit: OrgUnit  # its family department is in the address book
    bup: OrgUnit
    clinic: OrgUnit


def _owner_municipalities(population: Population) -> set[str]:
    by_cvr = {str(u.cvr): u.municipality_code for u in population.org_units if u.cvr}
    return {code for c in population.cases if (code := by_cvr.get(str(c.owner_cvr)))}


def _staff_of(population: Population, code: str) -> list[StaffMember]:
    units = {
        u.id
        for u in population.org_units
        if u.municipality_code == code and u.kind in (UnitKind.CHILD_FAMILY, UnitKind.PPR)
    }
    return [s for s in population.staff if s.unit_id in units]


def _event(member: StaffMember, purpose: str = "overblik") -> AccessEvent:
    return AccessEvent(
        user_id=member.id,
        username=member.username,
        employee_function=member.function.value,
        unit_id=member.unit_id,
        action=AccessAction.SEARCH,
        purpose=purpose,
        decision="permit",
        rules=("test",),
    )


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(1500, 9, date(2026, 11, 26))


@pytest.fixture
def scene(fresh_database_url: str, population: Population) -> Iterator[Scene]:
    engine = make_engine(fresh_database_url)
    replace_population(engine, population, report(population))
    with_cases = sorted(_owner_municipalities(population))
    busy, few, idle, stale = with_cases[:4]
    units = {(u.municipality_code, u.kind): u for u in population.org_units}
    bup = next(u for u in population.org_units if u.kind is UnitKind.BUP)
    clinic = next(u for u in population.org_units if u.kind is UnitKind.GP)
    ready_unit = units[(busy, UnitKind.CHILD_FAMILY)]
    with Session(engine) as session, session.begin():
        address_book.register(
            session, ready_unit.id, Sor("980000000001"), Gln.from_body("579800000001"), "web", NOW
        )
        for unit in (bup, clinic):
            assert unit.sor and unit.gln
            address_book.register(
                session, unit.id, Sor(str(unit.sor)), Gln(str(unit.gln)), "vans", NOW
            )
        recent = NOW - timedelta(days=2)
        events = [event_values(_event(m), recent) for m in _staff_of(population, busy)]
        events += [event_values(_event(m), recent) for m in _staff_of(population, few)[:3]]
        idle_member = _staff_of(population, idle)[0]
        events.append(event_values(_event(idle_member), NOW - timedelta(days=45)))
        events.append(event_values(_event(idle_member, QUALITY_PURPOSE), recent))
        record_all(session, events)
        session.execute(
            text(
                "UPDATE municipal_case SET registered_at = :then WHERE owner_cvr IN"
                " (SELECT cvr FROM org_unit WHERE municipality_code = :code)"
            ),
            {"then": NOW - timedelta(days=10), "code": stale},
        )
    yield Scene(engine, population, busy, few, idle, stale, ready_unit, bup, clinic)
    engine.dispose()


def _rollout(scene: Scene) -> rollout.Rollout:
    with Session(scene.engine) as session:
        return rollout.compute(session, metrics.compute(session, NOW), load_plan())


def test_municipalities(scene: Scene) -> None:
    r = _rollout(scene)
    by_code = {s.key: s for s in r.municipalities}
    assert set(by_code) == {m.code for m in MUNICIPALITIES}
    with_cases = _owner_municipalities(scene.population)
    assert {s.key for s in r.municipalities if s.connected} == with_cases
    assert {s.key for s in r.municipalities if s.delivering} == with_cases - {scene.stale}
    assert {s.key for s in r.municipalities if s.correspondence_ready} == {scene.busy}
    active = {s.key: s.active_users for s in r.municipalities if s.active_users}
    assert active == {scene.busy: len(_staff_of(scene.population, scene.busy)), scene.few: 3}
    assert all(s.units == 2 for s in r.municipalities)  # family department and PPR


def test_regions_and_clinics(scene: Scene) -> None:
    r = _rollout(scene)
    performing = {u.region for u in scene.population.org_units if u.kind is UnitKind.BUP}
    delivered = {
        u.region
        for a in scene.population.appointments
        for u in scene.population.org_units
        if u.sor == a.performer_sor
        and a.patient_cpr.value not in scene.population.appointment_sharing_blocked
    }
    assert {s.key for s in r.regions} == {region.value for region in Region}
    assert {s.key for s in r.regions if s.connected} == performing & delivered
    assert {s.key for s in r.regions if s.correspondence_ready} == {scene.bup.region}
    clinics = {s.key: s for s in r.clinics}
    gp_units = {str(u.id) for u in scene.population.org_units if u.kind is UnitKind.GP}
    assert set(clinics) == gp_units
    with_logins = {str(s.unit_id) for s in scene.population.staff}
    assert {k for k, s in clinics.items() if s.connected} == gp_units & with_logins
    assert {k for k, s in clinics.items() if s.correspondence_ready} == {str(scene.clinic.id)}
    assert all(s.delivering is None for s in r.clinics)


def test_the_plan_and_the_targets(scene: Scene) -> None:
    plan = load_plan()
    assert plan.status == "illustrative"
    assert plan.region_year(Region.NORDJYLLAND.value) == 2027
    assert plan.municipality_year("0101") == 2027  # before its region
    assert plan.municipality_year("0147") == plan.region_year(Region.HOVEDSTADEN.value)
    r = _rollout(scene)
    targets = {(t.level, t.year): t for t in r.targets}
    assert targets[("kommune", 2029)].planned == 98 == targets[("kommune", 2029)].total
    expected_2027 = sum(1 for m in MUNICIPALITIES if plan.municipality_year(m.code) == 2027)
    assert targets[("kommune", 2027)].planned == expected_2027
    assert targets[("region", 2027)].planned == 1
    connected = sum(s.connected for s in r.municipalities)
    assert all(t.connected_now == connected for t in r.targets if t.level == "kommune")
    with pytest.raises(PlanError, match="2027–2029"):
        parse_plan({"regions": {r.value: 2031 for r in Region}})
    with pytest.raises(PlanError, match="five regions"):
        parse_plan({"regions": {"DK-81": 2027}})
    with pytest.raises(PlanError, match="unknown municipality"):
        parse_plan({"regions": {r.value: 2028 for r in Region}, "municipalities": {"9999": 2027}})


def test_the_report_suppresses_small_numbers_of_users(scene: Scene) -> None:
    with Session(scene.engine) as session:
        section = build_report(session, NOW).section("udrulning-kommuner")
    assert section.value(scene.few, "aktive_brugere") == SUPPRESSED
    assert section.value(scene.busy, "aktive_brugere") == len(
        _staff_of(scene.population, scene.busy)
    )
    assert section.value(scene.stale, "leverer") is False
    assert section.value(scene.stale, "tilsluttet") is True


def test_every_view_is_logged_without_a_child(scene: Scene) -> None:
    member = _staff_of(scene.population, scene.idle)[1]
    with Session(scene.engine) as session, session.begin():
        principal = principal_for(session, member.username)
        assert principal is not None
        record_view(session, principal, "sager", permitted=True, request_id="r-1")
        record_view(session, principal, "aftaler", permitted=False)
    with Session(scene.engine) as session:
        rows = session.scalars(
            select(AccessEventRow)
            .where(AccessEventRow.user_id == member.id, AccessEventRow.purpose == QUALITY_PURPOSE)
            .order_by(AccessEventRow.id)
        ).all()
    assert [(r.action, r.decision, r.record_ids, r.child_cpr, r.data_flow) for r in rows] == [
        ("decide", "permit", ["quality:sager"], None, None),
        ("decide", "deny", ["quality:aftaler"], None, None),
    ]
    assert rows[0].request_id == "r-1"
    # Views of the quality pages are not use of the platform.
    assert {s.key: s.active_users for s in _rollout(scene).municipalities}[scene.idle] == 0
