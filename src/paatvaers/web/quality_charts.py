"""The geometry of the follow-up's charts, drawn as SVG by `templates/quality_charts.html`.

Charts are computed here (scales, ticks, bar lengths, line paths) and rendered on the server,
so they need no JavaScript and no charting library. They plot only values as shown: a count
of 1–4 arrives here as "<5" and is drawn as no bar or no point, with its "<5" label.

Ticks on a count axis are multiples of 5 (0, 5, 10, 25, …), never 1–4: a scale is a count too.
Every label carries the kind of what it shows (`count`, `share`, `hours`, `time`), the same
`data-kind` the tables use, so tests can find every count a page shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from paatvaers.quality.report import ColumnKind, Shown


class Scale(StrEnum):
    """What a chart's axis measures: decides its ticks and how values are written."""

    COUNT = "count"
    SHARE = "share"  # per cent
    HOURS = "hours"


SCALE_OF = {ColumnKind.COUNT: Scale.COUNT, ColumnKind.SHARE: Scale.SHARE}
# Tick steps a scale may use: a count axis never steps by less than 5.
_STEPS = {
    Scale.COUNT: (5, 10, 20, 25, 50),
    Scale.SHARE: (1, 2, 5, 10, 20, 25),
    Scale.HOURS: (1, 2, 5, 10, 12, 24, 48),
}
MAX_TICKS = 6
MAX_BARS = 30  # beyond this a bar chart is too tall to read; the table holds the figures

Format = Callable[[Scale, float], str]


@dataclass(frozen=True, slots=True)
class Tick:
    position: float  # x for a bar chart, y for a line chart
    label: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: str  # as shown: a number, "<5", or "–"
    y: float
    length: float  # 0 when there is nothing to draw


# The layout of a bar chart (SVG user units): row labels, then bars, then their values.
BAR_CHART_WIDTH = 720
BAR_LABEL_WIDTH = 210
BAR_PLOT_WIDTH = 400
BAR_HEIGHT = 18
BAR_PITCH = 26
BAR_TOP = 8


@dataclass(frozen=True, slots=True)
class BarChart:
    id: str
    title: str
    scale: Scale
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    limit: Tick | None  # a threshold, drawn as a labelled line
    suppressed: bool  # some bar is "<5"
    width: int = BAR_CHART_WIDTH
    plot_left: int = BAR_LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def plot_bottom(self) -> float:
        return BAR_TOP + len(self.bars) * BAR_PITCH

    @property
    def height(self) -> float:
        return self.plot_bottom + 30


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    day: str  # "26.11.2026", for the table beside the chart
    value: str  # as shown


# The layout of a line chart: value ticks on the left, days below.
LINE_CHART_WIDTH = 720
LINE_CHART_HEIGHT = 260
LINE_LEFT = 64
LINE_RIGHT = LINE_CHART_WIDTH - 24
LINE_TOP = 16
LINE_BOTTOM = LINE_CHART_HEIGHT - 40


@dataclass(frozen=True, slots=True)
class LineChart:
    id: str
    title: str
    scale: Scale
    points: tuple[Point, ...]  # every day, also those without a drawable value
    drawn: tuple[Point, ...]  # the days with a value the line goes through
    path: str  # SVG path data: segments break where a value is "<5" or missing
    ticks: tuple[Tick, ...]
    days: tuple[Tick, ...]  # labels on the time axis
    suppressed: bool
    width: int = LINE_CHART_WIDTH
    height: int = LINE_CHART_HEIGHT
    left: int = LINE_LEFT
    plot_right: int = LINE_RIGHT
    top: int = LINE_TOP
    plot_bottom: int = LINE_BOTTOM


def _number(value: Shown) -> float | None:
    """A value that can be drawn: a number, not a suppressed count, a flag or an empty cell."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def nice_ticks(largest: float, scale: Scale) -> tuple[float, ...]:
    """Ticks from 0 past `largest` in a step the scale allows, at most MAX_TICKS of them."""
    largest = max(largest, 1.0)
    steps = _STEPS[scale]
    step = next((s for s in steps if largest / s <= MAX_TICKS - 1), None)
    if step is None:  # beyond the listed steps: a power of ten times 1, 2 or 5 (≥ 100)
        magnitude = 10 ** math.floor(math.log10(largest / (MAX_TICKS - 1)))
        step = next(m * magnitude for m in (1, 2, 5, 10) if largest / (m * magnitude) <= 5)
        step = max(step, steps[-1])
    top = math.ceil(largest / step) * step
    return tuple(float(step * i) for i in range(int(top // step) + 1))


def bar_chart(
    chart_id: str,
    title: str,
    scale: Scale,
    rows: Sequence[tuple[str, Shown]],
    written: Callable[[Shown], str],
    tick_label: Format,
    limit: float | None = None,
) -> BarChart | None:
    """Horizontal bars, one per (label, value) row; None when there is nothing to compare."""
    if not 2 <= len(rows) <= MAX_BARS or all(_number(v) is None for _, v in rows):
        return None
    numbers = [n for _, v in rows if (n := _number(v)) is not None]
    ticks = nice_ticks(max([*numbers, limit or 0.0]), scale)
    per_unit = BAR_PLOT_WIDTH / ticks[-1]
    bars = tuple(
        Bar(
            label=label,
            value=written(value),
            y=BAR_TOP + i * BAR_PITCH + (BAR_PITCH - BAR_HEIGHT) / 2,
            length=(_number(value) or 0.0) * per_unit,
        )
        for i, (label, value) in enumerate(rows)
    )
    return BarChart(
        chart_id,
        title,
        scale,
        bars,
        tuple(Tick(BAR_LABEL_WIDTH + t * per_unit, tick_label(scale, t)) for t in ticks),
        None
        if limit is None
        else Tick(BAR_LABEL_WIDTH + limit * per_unit, tick_label(Scale.SHARE, limit)),
        suppressed=any(isinstance(v, str) for _, v in rows),
    )


def line_chart(
    chart_id: str,
    title: str,
    scale: Scale,
    series: Sequence[tuple[date, Shown]],
    written: Callable[[Shown], str],
    tick_label: Format,
    day_label: Callable[[date, str], str],
) -> LineChart | None:
    """A line over the days of `series` (oldest first); None without a day to show."""
    if not series:
        return None
    numbers = [n for _, v in series if (n := _number(v)) is not None]
    ticks = nice_ticks(max(numbers, default=0.0), scale)
    first, last = series[0][0], series[-1][0]
    span = max((last - first).days, 1)
    width = LINE_RIGHT - LINE_LEFT
    height = LINE_BOTTOM - LINE_TOP

    def x(day: date) -> float:
        if first == last:
            return LINE_LEFT + width / 2
        return LINE_LEFT + width * (day - first).days / span

    def y(value: float) -> float:
        return LINE_BOTTOM - height * value / ticks[-1]

    points = tuple(
        Point(x(day), y(_number(value) or 0.0), day_label(day, "%d.%m.%Y"), written(value))
        for day, value in series
    )
    drawn = tuple(p for p, (_, v) in zip(points, series, strict=True) if _number(v) is not None)
    return LineChart(
        chart_id,
        title,
        scale,
        points,
        drawn,
        _path(points, [_number(v) is not None for _, v in series]),
        tuple(Tick(y(t), tick_label(scale, t)) for t in ticks),
        tuple(Tick(x(day), day_label(day, "%d.%m.")) for day in _labelled_days(series)),
        suppressed=any(isinstance(v, str) for _, v in series),
    )


def _path(points: Sequence[Point], drawable: Sequence[bool]) -> str:
    """Line segments through consecutive drawable points; a gap where a value is not shown."""
    parts: list[str] = []
    pen_down = False
    for point, ok in zip(points, drawable, strict=True):
        if ok:
            parts.append(f"{'L' if pen_down else 'M'}{point.x:.1f},{point.y:.1f}")
        pen_down = ok
    return " ".join(parts)


def _labelled_days(series: Sequence[tuple[date, Shown]]) -> list[date]:
    """At most MAX_TICKS days to name on the axis, first and last among them."""
    days = [day for day, _ in series]
    if len(days) <= MAX_TICKS:
        return days
    step = (len(days) - 1) / (MAX_TICKS - 1)
    return [days[round(i * step)] for i in range(MAX_TICKS)]
