"""The synthetic population: deterministic, realistic in shape, and synthetic throughout."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from paatvaers.domain.appointments import AppointmentStatus, CourseStage
from paatvaers.domain.cases import CaseStatus, Sensitivity
from paatvaers.domain.cpr import Cpr, CprKind, has_synthetic_mark
from paatvaers.domain.geography import MUNICIPALITIES, Region, municipality
from paatvaers.domain.organisations import EmployeeFunction, Sector, UnitKind
from paatvaers.population.generator import Population, PopulationError, generate
from paatvaers.population.names import POSTAL_AREAS, STREETS, SURNAMES
from paatvaers.population.report import report

AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(20_000, 11, AS_OF)


def test_same_seed_gives_the_same_population() -> None:
    assert generate(1500, 5, AS_OF) == generate(1500, 5, AS_OF)


def test_the_cpr_numbers_of_a_seed_stay_what_they_were() -> None:
    """Values added to the generator later come from their own stream: the CPR numbers (and
    everything else drawn before) of a seed must not change. A deliberate change updates this
    hash, and the docs that quote one."""
    summary = report(generate(400, 1, AS_OF))
    assert summary.cpr_set_hash == (
        "ecc6fec658464d28ec27e13d53af65edf841dc079bdbe9ecd3f92df92b1dca50"
    )


def test_another_seed_gives_another_population() -> None:
    first, second = report(generate(500, 1, AS_OF)), report(generate(500, 2, AS_OF))
    assert first.cpr_set_hash != second.cpr_set_hash


def test_every_cpr_is_valid_unique_and_marked_synthetic(population: Population) -> None:
    people = [c.cpr for c in population.children] + [
        h.cpr for c in population.children for h in c.custody
    ]
    assert len({p.value for p in people}) == len(people)
    for cpr in people:
        assert Cpr.parse(cpr.value).kind is CprKind.CPR
        assert has_synthetic_mark(cpr.value)


def test_children_are_0_to_17_on_the_day(population: Population) -> None:
    ages = Counter(c.age_on(AS_OF) for c in population.children)
    assert set(ages) == set(range(18))


def test_children_spread_over_all_98_municipalities_by_size(population: Population) -> None:
    per_code = Counter(c.municipality_code for c in population.children)
    assert set(per_code) == {m.code for m in MUNICIPALITIES}
    assert per_code["0101"] > per_code["0851"] > per_code["0825"]  # København > Aalborg > Læsø
    regions = Counter(municipality(c.municipality_code).region for c in population.children)
    assert regions.most_common(1)[0][0] is Region.HOVEDSTADEN
    assert min(regions.values()) > 0.07 * len(population.children)


def test_shares_are_realistic(population: Population) -> None:
    summary = report(population)
    assert 0.005 <= summary.protected_share <= 0.015
    assert 0.01 <= summary.target_group_share <= 0.05  # a few percent, as in BUP
    assert 0.15 <= summary.split_custody / summary.children <= 0.30


def test_cases_and_appointments_cover_every_state(population: Population) -> None:
    assert {c.status for c in population.cases} == set(CaseStatus)
    assert {a.status for a in population.appointments} == set(AppointmentStatus)
    assert {a.stage for a in population.appointments} == set(CourseStage)
    moved = {a.id for a in population.appointments if a.status is AppointmentStatus.MOVED}
    replacements = {a.replaces_id for a in population.appointments if a.replaces_id}
    assert moved == replacements
    kle_groups = {c.kle.main_group for c in population.cases}
    assert {"27", "17"} <= kle_groups


def test_bup_appointments_are_marked_in_most_but_not_all_cases(population: Population) -> None:
    marked = [a.marking.is_child_psychiatry for a in population.appointments]
    assert 0.85 < sum(marked) / len(marked) < 1.0


def test_every_child_has_a_gp_and_school_age_children_a_school(population: Population) -> None:
    units = {u.id: u for u in population.org_units}
    assert all(
        units[population.gp_of[c.cpr.value]].kind is UnitKind.GP for c in population.children
    )
    enrolled = {e.child_cpr.value: e for e in population.enrollments}
    for child in population.children:
        age = child.age_on(AS_OF)
        if 6 <= age <= 16:
            assert not enrolled[child.cpr.value].is_daycare


def test_every_child_has_an_invented_street_in_a_post_town_of_its_municipality(
    population: Population,
) -> None:
    for child in population.children:
        address = child.address
        assert address is not None
        assert any(address.line.startswith(f"{street} ") for street in STREETS)
        assert (address.postcode, address.city) in POSTAL_AREAS[child.municipality_code]
        assert len(address.line) <= 34  # CPR's standard address is 34 characters wide
    lines = Counter(c.address.line for c in population.children if c.address)
    assert len(lines) > 0.5 * len(population.children)  # not one address for everyone


def test_every_municipality_has_a_post_town() -> None:
    assert set(POSTAL_AREAS) == {m.code for m in MUNICIPALITIES}
    for areas in POSTAL_AREAS.values():
        assert areas and all(len(code) == 4 and code.isdigit() for code, _ in areas)


def test_gp_history_some_changed_lately_some_long_ago(population: Population) -> None:
    clinics = {u.sor: u for u in population.org_units if u.kind is UnitKind.GP}
    changed = [c for c in population.children if c.previous_gp_sor is not None]
    for child in population.children:
        assert child.gp_since is not None and child.birth_date <= child.gp_since <= AS_OF
        if child.previous_gp_sor is None:
            assert child.gp_since == child.birth_date  # listed since birth
            continue
        previous = clinics[child.previous_gp_sor]
        assert previous.id != population.gp_of[child.cpr.value]
        if child.moved_in_on is not None:
            assert previous.municipality_code == child.previous_municipality_code
    assert 0.08 <= len(changed) / len(population.children) <= 0.20
    days_ago = [(AS_OF - c.gp_since).days for c in changed if c.gp_since]
    within_a_month = sum(d < 30 for d in days_ago)
    assert 0.005 <= within_a_month / len(population.children) <= 0.03
    assert sum(d > 365 for d in days_ago) > within_a_month  # most changes are older


def test_every_employee_function_has_staff_in_its_kind_of_unit(population: Population) -> None:
    units = {u.id: u for u in population.org_units}
    assert {s.function for s in population.staff} == set(EmployeeFunction)
    assert all(units[s.unit_id].kind is s.function.unit_kind for s in population.staff)


def test_municipal_logins_are_restricted_to_their_municipality_and_subjects(
    population: Population,
) -> None:
    units = {u.id: u for u in population.org_units}
    expected = {
        EmployeeFunction.SOCIALRAADGIVER: (("27.*",), Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
        EmployeeFunction.SAGSBEHANDLER: (("27.*",), Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
        EmployeeFunction.PPR_PSYKOLOG: (
            ("17.*", "27.*"),
            Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
        ),
    }
    for member in population.staff:
        unit = units[member.unit_id]
        grant = member.restrictions
        # The operations function works from a municipal unit but is granted no case.
        if unit.kind.sector is not Sector.MUNICIPAL or member.function is EmployeeFunction.DRIFT:
            assert grant is None, member
            continue
        assert grant is not None and grant.cvr == unit.cvr
        assert (grant.kle_patterns, grant.max_sensitivity) == expected[member.function]


def test_the_restrictions_cover_the_cases_of_the_unit_but_no_vip_case(
    population: Population,
) -> None:
    """The social worker sees the department's cases and the PPR psychologist PPR's, except
    VIP cases, which no one is granted."""
    reader = {
        UnitKind.CHILD_FAMILY: EmployeeFunction.SOCIALRAADGIVER,
        UnitKind.PPR: EmployeeFunction.PPR_PSYKOLOG,
    }
    units = {u.id: u for u in population.org_units}
    grants = {
        (s.unit_id, s.function): s.restrictions
        for s in population.staff
        if s.restrictions is not None
    }
    for case in population.cases:
        grant = grants[(case.responsible_unit_id, reader[units[case.responsible_unit_id].kind])]
        visible = grant.covers(case.owner_cvr.value, case.kle.value, case.sensitivity)
        assert visible is (case.sensitivity is not Sensitivity.VIP_SAGER), case


def test_demo_users_one_per_profession(population: Population) -> None:
    assert sorted(u.function for u in population.demo_users()) == sorted(
        [
            EmployeeFunction.SOCIALRAADGIVER,
            EmployeeFunction.PPR_PSYKOLOG,
            EmployeeFunction.BUP_LAEGE,
            EmployeeFunction.PRAKTISERENDE_LAEGE,
            EmployeeFunction.DRIFT,
        ]
    )
    assert sorted(u.username for u in population.demo_users()) == [
        "bup-laege",
        "drift",
        "praktiserende-laege",
        "psykolog",
        "socialraadgiver",
    ]


def test_names_are_plainly_fictional(population: Population) -> None:
    assert all(c.name.split()[-1] in SURNAMES for c in population.children)


def test_an_empty_population_is_refused() -> None:
    with pytest.raises(PopulationError):
        generate(0, 1, AS_OF)
