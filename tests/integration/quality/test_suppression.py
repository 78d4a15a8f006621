"""No count of 1 to 4 leaves the report layer: not in a section, not in the CSV, not in the
CLI's tables, whatever counts the figures hold."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from paatvaers.quality.cli import _table, app
from paatvaers.quality.report import (
    Column,
    ColumnKind,
    QualityReport,
    Row,
    Section,
    build_report,
    text_of,
    to_csv,
)
from paatvaers.quality.suppression import SUPPRESSED, Share, suppress

SMALL = {"1", "2", "3", "4"}
counts = st.integers(min_value=0, max_value=10_000)
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@st.composite
def sections(draw: st.DrawFn) -> Section:
    """A section of drawn counts and shares, small ones included."""
    columns = (
        Column("a", "Antal A", ColumnKind.COUNT),
        Column("b", "Antal B", ColumnKind.COUNT),
        Column("andel", "Andel", ColumnKind.SHARE),
        Column("tekst", "Tekst"),
    )
    rows = []
    for i in range(draw(st.integers(min_value=1, max_value=12))):
        whole = draw(counts)
        part = draw(st.integers(min_value=0, max_value=whole))
        rows.append(
            Row(
                "kommune",
                f"k{i}",
                f"Kommune {i}",
                {"a": draw(counts), "b": part, "andel": Share(part, whole), "tekst": "x"},
            )
        )
    return Section("test", "Test", "", columns, tuple(rows))


def _report(*parts: Section) -> QualityReport:
    return QualityReport(NOW, parts, (), "illustrative")


def _small_counts_in_csv(text: str) -> list[dict[str, str]]:
    lines = csv.DictReader(io.StringIO(text), delimiter=";")
    return [line for line in lines if line["art"] == "antal" and line["værdi"] in SMALL]


def test_the_rule() -> None:
    assert [suppress(n) for n in range(7)] == [
        0,
        SUPPRESSED,
        SUPPRESSED,
        SUPPRESSED,
        SUPPRESSED,
        5,
        6,
    ]
    assert Share(0, 0).shown() is None
    assert Share(0, 3).shown() == SUPPRESSED  # the base would give the small count away
    assert Share(3, 100).shown() == SUPPRESSED
    assert Share(5, 20).shown() == 25.0
    assert Share(0, 20).shown() == 0.0
    with pytest.raises(ValueError, match="negative"):
        suppress(-1)


@given(sections())
def test_a_section_never_holds_a_count_of_one_to_four(section: Section) -> None:
    for row in section.rows:
        for key in ("a", "b"):
            value = row.values[key]
            assert value in (SUPPRESSED, 0) or (isinstance(value, int) and value >= 5)
        share = row.values["andel"]
        assert share is None or share == SUPPRESSED or isinstance(share, float)


@given(sections())
def test_the_csv_and_the_cli_never_show_a_count_of_one_to_four(section: Section) -> None:
    assert _small_counts_in_csv(to_csv(_report(section))) == []
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(_table(section))
    kinds = {c.key: c.kind for c in section.columns}
    for row in section.rows:
        for key, kind in kinds.items():
            if kind is ColumnKind.COUNT:
                assert text_of(kind, row.get(key)) not in SMALL


def test_a_count_cannot_slip_in_as_something_else() -> None:
    column = (Column("a", "A", ColumnKind.COUNT),)
    with pytest.raises(TypeError):
        Section("s", "S", "", column, (Row("x", "x", "x", {"a": "3"}),))
    with pytest.raises(TypeError):
        Section("s", "S", "", column, (Row("x", "x", "x", {"a": 3.0}),))
    with pytest.raises(ValueError, match="unknown columns"):
        Section("s", "S", "", column, (Row("x", "x", "x", {"b": 3}),))


def test_a_real_report_shows_no_count_of_one_to_four(session: Session) -> None:
    """The shared 400-child population: small counts are everywhere in it."""
    report = build_report(session)
    shown = [
        (section.key, row.key, column.key, row.values.get(column.key))
        for section in report.sections
        for row in section.rows
        for column in section.columns
        if column.kind is ColumnKind.COUNT
    ]
    assert shown
    assert [s for s in shown if s[3] in (1, 2, 3, 4)] == []
    assert any(value == SUPPRESSED for *_, value in shown)
    text = to_csv(report)
    assert _small_counts_in_csv(text) == []
    counted = re.compile(r"\b[1-4] (enheder|poster|SOR-koder)")
    assert [a.text for a in report.alerts if counted.search(a.text)] == []


def test_the_cli_prints_and_writes_the_same_suppressed_figures(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    target = tmp_path / "kvalitet.csv"
    result = CliRunner().invoke(app, ["report", "--csv", str(target)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Sagsleverancer" in result.output
    assert "<5" in result.output
    assert _small_counts_in_csv(target.read_text("utf-8")) == []
    unknown = CliRunner().invoke(app, ["report", "--section", "nope"])
    assert unknown.exit_code == 2
