"""Tests for the target group rule (R1) in `paatvaers.domain.target_group`."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paatvaers.domain.cpr import age_on
from paatvaers.domain.organisations import UnitKind
from paatvaers.domain.target_group import (
    DEFAULT_BANDS,
    FOUR_PROFESSIONS,
    AgeBand,
    Reason,
    TargetGroupRule,
)

BUP, PPR, CF, GP = UnitKind.BUP, UnitKind.PPR, UnitKind.CHILD_FAMILY, UnitKind.GP
SCHOOL, DAYCARE = UnitKind.SCHOOL, UnitKind.DAYCARE

RULE = TargetGroupRule()
TODAY = date(2026, 6, 15)


def test_aged_17_years_and_364_days_is_included() -> None:
    born = date(2008, 6, 15)
    day = date(2026, 6, 14)  # the day before the 18th birthday
    verdict = RULE.evaluate(born, [BUP, PPR, CF], day)
    assert verdict.included
    assert verdict.reason is Reason.INCLUDED
    assert verdict.age == 17
    assert verdict.band is not None
    assert verdict.band.label == "6–17"
    assert verdict.counted == {BUP, PPR, CF}
    assert verdict.not_counted == frozenset()


def test_on_the_18th_birthday_the_child_is_too_old() -> None:
    born = date(2008, 6, 15)
    verdict = RULE.evaluate(born, [BUP, PPR, CF], date(2026, 6, 15))
    assert not verdict.included
    assert verdict.reason is Reason.TOO_OLD
    assert verdict.age == 18
    assert verdict.band is None
    assert verdict.counted == frozenset()
    assert verdict.not_counted == {BUP, PPR, CF}
    assert "18" in verdict.explanation
    assert "0–17" in verdict.explanation


def test_leap_day_child_turns_18_on_1_march() -> None:
    born = date(2008, 2, 29)
    on_28_feb = RULE.evaluate(born, [BUP, PPR, CF], date(2026, 2, 28))
    on_1_mar = RULE.evaluate(born, [BUP, PPR, CF], date(2026, 3, 1))
    assert (on_28_feb.age, on_28_feb.reason) == (17, Reason.INCLUDED)
    assert (on_1_mar.age, on_1_mar.reason) == (18, Reason.TOO_OLD)


def test_three_actors_without_bup() -> None:
    verdict = RULE.evaluate(date(2014, 1, 1), [PPR, CF, GP], TODAY)
    assert not verdict.included
    assert verdict.reason is Reason.NO_BUP
    assert "bup" in verdict.explanation
    assert "not involved" in verdict.explanation
    assert verdict.counted == {PPR, CF, GP}


def test_a_newborn_is_included() -> None:
    verdict = RULE.evaluate(TODAY, [BUP, GP, CF], TODAY)
    assert verdict.included
    assert verdict.reason is Reason.INCLUDED
    assert verdict.age == 0
    assert verdict.band is not None
    assert verdict.band.label == "0–5"


def test_born_after_the_day() -> None:
    verdict = RULE.evaluate(TODAY + timedelta(days=1), [BUP, GP, CF], TODAY)
    assert not verdict.included
    assert verdict.reason is Reason.NOT_BORN
    assert "not born" in verdict.explanation
    assert verdict.band is None


def test_daycare_does_not_count_before_school_age() -> None:
    born = date(2022, 3, 1)  # aged 4
    verdict = RULE.evaluate(born, [BUP, GP, DAYCARE], TODAY)
    assert not verdict.included
    assert verdict.reason is Reason.TOO_FEW_ACTORS
    assert verdict.counted == {BUP, GP}
    assert DAYCARE in verdict.not_counted
    assert "2 of the actor kinds" in verdict.explanation
    assert "0–5" in verdict.explanation
    assert "at least 3" in verdict.explanation


def test_school_does_not_count_before_school_age() -> None:
    born = date(2022, 3, 1)
    verdict = RULE.evaluate(born, [BUP, GP, SCHOOL, DAYCARE], TODAY)
    assert verdict.reason is Reason.TOO_FEW_ACTORS
    assert verdict.not_counted == {SCHOOL, DAYCARE}


def test_school_counts_at_school_age() -> None:
    born = date(2014, 9, 1)  # aged 11
    verdict = RULE.evaluate(born, [BUP, GP, SCHOOL], TODAY)
    assert verdict.included
    assert verdict.counted == {BUP, GP, SCHOOL}


def test_the_band_changes_on_the_6th_birthday() -> None:
    born = date(2015, 3, 10)
    on_5 = RULE.evaluate(born, [BUP, GP, SCHOOL], date(2021, 3, 9))
    on_6 = RULE.evaluate(born, [BUP, GP, SCHOOL], date(2021, 3, 10))
    assert (on_5.age, on_5.reason) == (5, Reason.TOO_FEW_ACTORS)
    assert (on_6.age, on_6.reason) == (6, Reason.INCLUDED)


def test_duplicate_kinds_count_once() -> None:
    verdict = RULE.evaluate(date(2014, 1, 1), [BUP, BUP, GP, GP], TODAY)
    assert verdict.reason is Reason.TOO_FEW_ACTORS


def test_included_explanation() -> None:
    verdict = RULE.evaluate(date(2014, 1, 1), [BUP, GP, PPR], TODAY)
    assert "aged 12" in verdict.explanation
    assert "3 actors" in verdict.explanation
    assert "bup among them" in verdict.explanation


def test_default_bands() -> None:
    assert DEFAULT_BANDS[0].counted_kinds == FOUR_PROFESSIONS
    assert DEFAULT_BANDS[1].counted_kinds == frozenset(UnitKind)
    assert [RULE.band_for(a) is DEFAULT_BANDS[0] for a in range(6)] == [True] * 6
    assert [RULE.band_for(a) is DEFAULT_BANDS[1] for a in range(6, 18)] == [True] * 12
    assert RULE.band_for(18) is None
    assert RULE.band_for(-1) is None


def test_custom_rule() -> None:
    rule = TargetGroupRule(
        bands=(
            AgeBand(0, 11, frozenset({BUP, GP})),
            AgeBand(12, 17, frozenset(UnitKind)),
        ),
        min_actors=2,
    )
    young = date(2020, 1, 1)  # aged 6
    assert rule.evaluate(young, [BUP, GP], TODAY).reason is Reason.INCLUDED
    verdict = rule.evaluate(young, [BUP, SCHOOL, PPR], TODAY)
    assert verdict.reason is Reason.TOO_FEW_ACTORS
    assert verdict.not_counted == {SCHOOL, PPR}
    assert "0–11" in verdict.explanation
    assert "at least 2" in verdict.explanation
    older = date(2012, 1, 1)  # aged 14
    assert rule.evaluate(older, [BUP, SCHOOL], TODAY).reason is Reason.INCLUDED


def test_custom_required_kind() -> None:
    rule = TargetGroupRule(required_kind=GP)
    verdict = rule.evaluate(date(2014, 1, 1), [BUP, PPR, CF], TODAY)
    assert verdict.reason is Reason.NO_BUP
    assert "gp is not involved" in verdict.explanation
    assert rule.evaluate(date(2014, 1, 1), [GP, PPR, CF], TODAY).included


@pytest.mark.parametrize(
    "bands",
    [
        (),
        (AgeBand(0, 5, FOUR_PROFESSIONS),),  # 6-17 missing
        (AgeBand(0, 5, FOUR_PROFESSIONS), AgeBand(7, 17, FOUR_PROFESSIONS)),  # 6 missing
        (AgeBand(0, 6, FOUR_PROFESSIONS), AgeBand(6, 17, FOUR_PROFESSIONS)),  # 6 twice
        (AgeBand(0, 5, FOUR_PROFESSIONS), AgeBand(6, 18, FOUR_PROFESSIONS)),  # 18 included
        (AgeBand(1, 5, FOUR_PROFESSIONS), AgeBand(6, 17, FOUR_PROFESSIONS)),  # 0 missing
        (AgeBand(-1, 5, FOUR_PROFESSIONS), AgeBand(6, 17, FOUR_PROFESSIONS)),  # -1 included
        (AgeBand(0, 17, FOUR_PROFESSIONS), AgeBand(0, 17, FOUR_PROFESSIONS)),  # all twice
    ],
)
def test_bands_must_cover_0_to_17_exactly_once(bands: tuple[AgeBand, ...]) -> None:
    with pytest.raises(ValueError, match="exactly once"):
        TargetGroupRule(bands=bands)


def test_a_single_band_covering_0_to_17_is_fine() -> None:
    rule = TargetGroupRule(bands=(AgeBand(0, 17, FOUR_PROFESSIONS),))
    assert rule.evaluate(date(2014, 1, 1), [BUP, GP, SCHOOL], TODAY).reason is (
        Reason.TOO_FEW_ACTORS
    )


@given(
    born=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    day=st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 12, 31)),
    kinds=st.lists(st.sampled_from(list(UnitKind)), max_size=8),
)
def test_verdict_matches_the_rule(born: date, day: date, kinds: list[UnitKind]) -> None:
    verdict = RULE.evaluate(born, kinds, day)
    involved = frozenset(kinds)
    assert verdict.counted | verdict.not_counted == involved
    assert not verdict.counted & verdict.not_counted
    assert verdict.included is (verdict.reason is Reason.INCLUDED)
    assert verdict.explanation
    if born > day:
        assert verdict.reason is Reason.NOT_BORN
        return
    age = age_on(born, day)
    assert verdict.age == age
    if age >= 18:
        assert verdict.reason is Reason.TOO_OLD
        return
    counting = FOUR_PROFESSIONS if age <= 5 else frozenset(UnitKind)
    assert verdict.counted == involved & counting
    if BUP not in involved:
        assert verdict.reason is Reason.NO_BUP
    elif len(involved & counting) < 3:
        assert verdict.reason is Reason.TOO_FEW_ACTORS
    else:
        assert verdict.reason is Reason.INCLUDED
