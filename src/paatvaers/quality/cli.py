"""`paatvaers quality report`: the figures of the quality follow-up as tables, the same report
the dashboard shows (counts of 1–4 suppressed), optionally as CSV and as today's snapshot.

Exit codes: 0 the report was made; 2 it could not be (no database, a bad plan file)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from paatvaers.quality.report import (
    ColumnKind,
    QualityReport,
    Section,
    build_report,
    gather,
    report_from,
    take_snapshot,
    text_of,
    write_csv,
)
from paatvaers.quality.rollout import PlanError, load_plan
from paatvaers.settings import Settings
from paatvaers.store import db

app = typer.Typer(
    help="Opfølgning på datakvalitet, korrespondance og udrulning.", no_args_is_help=True
)

_INDENT = {"region": 1, "kommune": 2, "kildesystem": 3}


@app.callback()
def quality() -> None:
    """Opfølgning på datakvalitet (R12), korrespondance (R13) og udrulning (R15)."""


def _say(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    with db.configured_database(settings, _say) as url:
        engine = db.make_engine(url)
        try:
            yield engine
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            _say(
                f"Databasen kunne ikke læses: {str(cause).splitlines()[0] if str(cause) else cause}"
            )
            raise typer.Exit(2) from None
        finally:
            engine.dispose()


@app.command("report")
def report_command(
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Skriv rapporten som CSV til denne fil.")
    ] = None,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="Gem dagens øjebliksbillede (erstatter dagens).")
    ] = False,
    sections: Annotated[
        list[str] | None,
        typer.Option("--section", help="Vis kun dette afsnit (kan gentages), fx sager, aftaler."),
    ] = None,
    plan_path: Annotated[
        Path | None, typer.Option("--plan", help="Udrulningsplanen (TOML); ellers den medfølgende.")
    ] = None,
) -> None:
    """Print the quality figures; with --csv also write them, with --snapshot store today's."""
    try:
        plan = load_plan(plan_path)
    except (PlanError, OSError) as error:
        _say(str(error))
        raise typer.Exit(2) from None
    with _engine(Settings.from_environment()) as engine, Session(engine) as session:
        if snapshot:
            with session.begin():
                inputs = gather(session, plan=plan)
                day, stored = take_snapshot(session, inputs)
            report = report_from(inputs)
            _say(f"Øjebliksbillede for {day.isoformat()} gemt ({stored} tal).")
        else:
            report = build_report(session, plan=plan)
    _print(report, sections)
    if csv_path is not None:
        write_csv(report, csv_path)
        _say(f"CSV skrevet til {csv_path}")


def _print(report: QualityReport, wanted: list[str] | None) -> None:
    console = Console()
    keys = {s.key for s in report.sections}
    unknown = sorted(set(wanted or ()) - keys)
    if unknown:
        _say(f"Ukendte afsnit: {', '.join(unknown)}; kendte: {', '.join(sorted(keys))}")
        raise typer.Exit(2)
    console.print(
        f"[bold]Kvalitetsopfølgning[/bold] {text_of(ColumnKind.TIME, report.generated_at)}"
        " — tal under 5 vises som <5"
    )
    for section in report.sections:
        if wanted and section.key not in wanted:
            continue
        if section.key == "alarmer" and not section.rows:
            console.print("[green]Ingen alarmer.[/green]")
            continue
        console.print(_table(section))


def _table(section: Section) -> Table:
    table = Table(title=f"{section.title} [{section.key}]", caption=section.description)
    table.add_column("Navn", no_wrap=False)
    for column in section.columns:
        numeric = column.kind in (ColumnKind.COUNT, ColumnKind.SHARE, ColumnKind.HOURS)
        table.add_column(column.title, justify="right" if numeric else "left")
    for row in section.rows:
        name = "  " * _INDENT.get(row.level, 0) + row.name
        table.add_row(
            name,
            *(text_of(c.kind, row.get(c.key)) for c in section.columns),
        )
    return table
