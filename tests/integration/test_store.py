"""The store against a real PostgreSQL: migrations, the population writer, repositories."""

from __future__ import annotations

from collections import Counter
from datetime import date

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.children import GpChoice
from paatvaers.domain.cpr import has_synthetic_mark
from paatvaers.domain.organisations import DataRestrictions, EmployeeFunction, Sector, UnitKind
from paatvaers.population.generator import Population, generate
from paatvaers.population.report import report
from paatvaers.store.db import alembic_config, make_engine, upgrade
from paatvaers.store.population_writer import replace_population
from paatvaers.store.repositories import (
    AppointmentRepository,
    CaseRepository,
    ChildRepository,
    InvolvementRepository,
    OrgUnitRepository,
    StaffRepository,
    child_cprs,
)
from paatvaers.store.tables import Base, ChildRow

CPR_COLUMNS = {
    "child": ("cpr", "cpr_synthetic"),
    "custody_holder": ("holder_cpr", "holder_cpr_synthetic"),
    "case_party": ("cpr", "cpr_synthetic"),
    "appointment": ("patient_cpr", "patient_cpr_synthetic"),
}


def test_migrations_create_every_table_the_models_declare(fresh_database_url: str) -> None:
    engine = create_engine(fresh_database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_is_idempotent_and_leaves_no_drift(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)  # already at head: must be a no-op, not an error
    config = alembic_config(fresh_database_url)
    head = ScriptDirectory.from_config(config).get_current_head()
    engine = create_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()
    assert version == head
    command.check(config)  # the models and the migrations describe the same schema


def test_every_stored_cpr_is_flagged_synthetic_and_marked(session: Session) -> None:
    for table, (cpr_column, flag_column) in CPR_COLUMNS.items():
        query = f"SELECT {cpr_column}, {flag_column} FROM {table}"  # noqa: S608 - constants
        rows = session.execute(text(query)).all()
        assert rows, f"{table} holds no rows"
        assert all(flag for _, flag in rows), f"{table}.{flag_column} is not set on every row"
        assert all(has_synthetic_mark(cpr) for cpr, _ in rows), f"{table} has an unmarked CPR"


def test_stored_population_matches_the_generated_one(
    session: Session, test_population: Population
) -> None:
    assert list(child_cprs(session)) == sorted(c.cpr.value for c in test_population.children)
    child = test_population.children[0]
    stored = ChildRepository(session).get(child.cpr)
    assert stored == child
    assert ChildRepository(session).gp_of(child.cpr) == test_population.gp_of[child.cpr.value]


def test_address_move_and_gp_history_read_back_whole(
    session: Session, test_population: Population
) -> None:
    children = ChildRepository(session)
    changed = [c for c in test_population.children if c.previous_gp_sor is not None]
    moved = [c for c in test_population.children if c.moved_in_on is not None]
    flat = [c for c in test_population.children if c.address and "," in c.address.line]
    assert changed and moved and flat
    for child in (changed[0], moved[0], flat[0]):
        assert children.get(child.cpr) == child
    child = changed[0]
    assert children.gp_choice(child.cpr) == GpChoice(
        test_population.gp_of[child.cpr.value], child.gp_since, child.previous_gp_unit_id
    )
    row = session.get(ChildRow, child.cpr.value)
    assert row is not None and child.address is not None
    assert (row.address_line, row.postcode, row.city) == (
        child.address.line,
        child.address.postcode,
        child.address.city,
    )
    assert (row.gp_since, row.previous_gp_unit_id) == (child.gp_since, child.previous_gp_unit_id)


def test_a_child_listed_since_birth_has_no_previous_clinic(
    session: Session, test_population: Population
) -> None:
    child = next(c for c in test_population.children if c.previous_gp_sor is None)
    choice = ChildRepository(session).gp_choice(child.cpr)
    assert choice == GpChoice(test_population.gp_of[child.cpr.value], child.birth_date, None)


def test_restrictions_are_stored_for_municipal_staff_and_read_back(
    session: Session, test_population: Population
) -> None:
    units = {u.id: u for u in test_population.org_units}
    staff = StaffRepository(session)
    for function in EmployeeFunction:
        member = next(s for s in test_population.staff if s.function is function)
        stored = staff.by_username(member.username)
        assert stored is not None and stored.restrictions == member.restrictions
        municipal = units[member.unit_id].kind.sector is Sector.MUNICIPAL
        granted_cases = municipal and function is not EmployeeFunction.DRIFT  # drift: no case
        assert (stored.restrictions is not None) is granted_cases, function
    granted = session.execute(
        text("SELECT count(*) FROM staff_user WHERE kle_scope IS NOT NULL")
    ).scalar_one()
    assert granted == sum(s.restrictions is not None for s in test_population.staff)


def test_the_demo_social_worker_sees_aalborgs_child_and_family_cases(session: Session) -> None:
    users = {u.member.username: u for u in StaffRepository(session).demo_users()}
    social_worker = users["socialraadgiver"]
    assert social_worker.unit.cvr is not None
    assert social_worker.member.restrictions == DataRestrictions(
        social_worker.unit.cvr, ("27.*",), Sensitivity.FOELSOMME_PERSONOPLYSNINGER
    )
    assert users["praktiserende-laege"].member.restrictions is None


def test_repositories_return_domain_objects(session: Session, test_population: Population) -> None:
    with_case = next(c for c in test_population.cases)
    primary = with_case.primary_party
    assert primary is not None
    assert with_case in CaseRepository(session).for_child(primary.cpr)
    with_appointments = test_population.appointments[0].patient_cpr
    expected = sorted(
        (a for a in test_population.appointments if a.patient_cpr == with_appointments),
        key=lambda a: a.start,
    )
    assert AppointmentRepository(session).for_child(with_appointments) == expected
    involvements = InvolvementRepository(session).for_child(with_appointments)
    assert UnitKind.BUP in {i.kind for i in involvements}
    assert len(OrgUnitRepository(session).of_kind(UnitKind.PPR)) == 98


def test_demo_users_cover_the_four_professions(session: Session) -> None:
    users = StaffRepository(session).demo_users()
    assert [u.member.function for u in users] == [
        EmployeeFunction.SOCIALRAADGIVER,
        EmployeeFunction.PPR_PSYKOLOG,
        EmployeeFunction.BUP_LAEGE,
        EmployeeFunction.PRAKTISERENDE_LAEGE,
        EmployeeFunction.DRIFT,
    ]
    assert [u.unit.kind for u in users] == [
        UnitKind.CHILD_FAMILY,
        UnitKind.PPR,
        UnitKind.BUP,
        UnitKind.GP,
        UnitKind.CHILD_FAMILY,
    ]


def test_replacing_a_population_leaves_only_the_new_one(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    first = generate(150, 1, date(2026, 1, 1))
    second = generate(120, 2, date(2026, 1, 1))
    replace_population(engine, first, report(first))
    replace_population(engine, second, report(second))
    with Session(engine) as s:
        cprs = s.scalars(select(ChildRow.cpr)).all()
        runs = s.execute(text("SELECT seed, children FROM population_run")).all()
    engine.dispose()
    assert Counter(cprs) == Counter(c.cpr.value for c in second.children)
    assert runs == [(2, 120)]
