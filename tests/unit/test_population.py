"""The synthetic population: deterministic, realistic in shape, and synthetic throughout."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from paatvaers.domain.appointments import AppointmentStatus, CourseStage
from paatvaers.domain.cases import CaseStatus
from paatvaers.domain.cpr import Cpr, CprKind, has_synthetic_mark
from paatvaers.domain.geography import MUNICIPALITIES, Region, municipality
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.population.generator import Population, PopulationError, generate
from paatvaers.population.names import SURNAMES
from paatvaers.population.report import report

AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(20_000, 11, AS_OF)


def test_same_seed_gives_the_same_population() -> None:
    assert generate(1500, 5, AS_OF) == generate(1500, 5, AS_OF)


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


def test_demo_users_one_per_profession(population: Population) -> None:
    assert sorted(u.function for u in population.demo_users()) == sorted(
        [
            EmployeeFunction.SOCIALRAADGIVER,
            EmployeeFunction.PPR_PSYKOLOG,
            EmployeeFunction.BUP_LAEGE,
            EmployeeFunction.PRAKTISERENDE_LAEGE,
        ]
    )


def test_names_are_plainly_fictional(population: Population) -> None:
    assert all(c.name.split()[-1] in SURNAMES for c in population.children)


def test_an_empty_population_is_refused() -> None:
    with pytest.raises(PopulationError):
        generate(0, 1, AS_OF)
