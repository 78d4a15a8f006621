"""The follow-up's chart geometry and report cache, without a database: a count axis never
has a tick of 1–4, a suppressed value is drawn as nothing, and the report is built once for
as long as it is fresh."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import cast

from hypothesis import given
from hypothesis import strategies as st

from paatvaers.quality.report import QualityReport, Shown
from paatvaers.web.quality_charts import (
    BAR_PLOT_WIDTH,
    MAX_BARS,
    MAX_TICKS,
    Scale,
    bar_chart,
    line_chart,
    nice_ticks,
)
from paatvaers.web.quality_routes import ReportCache


def _text(value: Shown) -> str:
    return "–" if value is None else str(value)


def _tick(scale: Scale, value: float) -> str:
    return f"{value:g}"


@given(st.floats(min_value=0, max_value=10_000_000, allow_nan=False), st.sampled_from(Scale))
def test_ticks_start_at_zero_cover_the_largest_value_and_are_few(
    largest: float, scale: Scale
) -> None:
    ticks = nice_ticks(largest, scale)
    assert ticks[0] == 0 and ticks[-1] >= largest
    assert 2 <= len(ticks) <= MAX_TICKS
    steps = {round(b - a, 6) for a, b in pairwise(ticks)}
    assert len(steps) == 1  # evenly spaced


@given(st.integers(min_value=0, max_value=10_000_000))
def test_a_count_axis_never_has_a_tick_between_1_and_4(largest: int) -> None:
    ticks = nice_ticks(float(largest), Scale.COUNT)
    assert not any(0 < t < 5 for t in ticks)
    assert all(t % 5 == 0 for t in ticks)


def test_a_suppressed_bar_is_drawn_as_nothing_with_its_label() -> None:
    chart = bar_chart(
        "c", "Sager", Scale.COUNT, [("A", 35), ("B", "<5"), ("C", 0), ("D", None)], _text, _tick
    )
    assert chart is not None
    assert [(b.label, b.value) for b in chart.bars] == [
        ("A", "35"),
        ("B", "<5"),
        ("C", "0"),
        ("D", "–"),
    ]
    assert chart.bars[0].length == BAR_PLOT_WIDTH * 35 / 40  # ticks 0, 10, … 40
    assert [b.length for b in chart.bars[1:]] == [0, 0, 0]
    assert chart.suppressed


def test_a_bar_chart_needs_two_to_max_bars_with_something_to_draw() -> None:
    assert bar_chart("c", "t", Scale.COUNT, [("A", 7)], _text, _tick) is None
    assert bar_chart("c", "t", Scale.COUNT, [("A", "<5"), ("B", None)], _text, _tick) is None
    many = [(str(i), 10) for i in range(MAX_BARS + 1)]
    assert bar_chart("c", "t", Scale.COUNT, many, _text, _tick) is None


def test_a_limit_is_drawn_where_its_share_is() -> None:
    chart = bar_chart("c", "t", Scale.SHARE, [("A", 30.0), ("B", 2.5)], _text, _tick, limit=10)
    assert chart is not None and chart.limit is not None
    assert chart.limit.label == "10"
    assert chart.limit.position == chart.ticks[1].position  # ticks 0, 10, 20, 30


def test_a_line_breaks_where_a_day_is_suppressed() -> None:
    days = [date(2026, 11, d) for d in (20, 21, 22, 23)]
    chart = line_chart(
        "l",
        "Sager",
        Scale.COUNT,
        list(zip(days, [10, "<5", 20, 25], strict=True)),
        _text,
        _tick,
        lambda day, pattern: day.strftime(pattern),
    )
    assert chart is not None
    assert chart.path.count("M") == 2 and chart.path.count("L") == 1  # 10 | gap | 20 → 25
    assert [p.value for p in chart.points] == ["10", "<5", "20", "25"]
    assert len(chart.drawn) == 3 and chart.suppressed
    assert [d.label for d in chart.days] == ["20.11.", "21.11.", "22.11.", "23.11."]
    assert line_chart("l", "t", Scale.COUNT, [], _text, _tick, lambda d, p: "") is None


def test_the_report_is_built_once_while_it_is_fresh() -> None:
    now = [0.0]
    cache = ReportCache(timedelta(minutes=5), clock=lambda: now[0])
    built: list[int] = []

    def build() -> QualityReport:
        built.append(1)
        return cast(QualityReport, datetime(2026, 11, 26, tzinfo=UTC))

    first = cache.get(build)
    now[0] = 299.0
    assert cache.get(build) is first and len(built) == 1
    now[0] = 301.0
    cache.get(build)
    assert len(built) == 2
