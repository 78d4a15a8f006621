"""`paatvaers audit …`: the access log's sealing, checkpoints, verification and export.

Exit codes: 0 fine; 1 `verify` found the log tampered with; 2 the command could not run
(no database, no access_event table, a bad argument)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from paatvaers.access import audit, audit_fhir
from paatvaers.settings import Settings
from paatvaers.store import db

app = typer.Typer(help="The access log.", no_args_is_help=True)

# A day given on the command line starts at midnight where the platform is used.
LOCAL_TIME_ZONE = "Europe/Copenhagen"
CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoints",
        help="The checkpoint file (default: PAATVAERS_AUDIT_CHECKPOINT_FILE or "
        "<data dir>/audit-checkpoints.jsonl).",
    ),
]


def _say(message: str) -> None:
    """Progress and errors go to stderr, so stdout carries only the result."""
    typer.echo(message, err=True)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    with db.configured_database(settings, _say) as url:
        engine = db.make_engine(url)
        try:
            yield engine
        except SQLAlchemyError as error:
            _say(f"The access log could not be reached: {_first_line(error)}")
            raise typer.Exit(2) from None
        finally:
            engine.dispose()


def _first_line(error: SQLAlchemyError) -> str:
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"


@app.command("seal")
def seal_command() -> None:
    """Give the events written since the last seal their place in the chain."""
    with _engine(Settings.from_environment()) as engine, Session(engine) as session:
        with session.begin():
            sealed = audit.seal(session)
        head = audit.chain_head(session)
    typer.echo(f"Sealed {sealed} events; chain head seq={head.seq} {head.chain_hash}")


@app.command("checkpoint")
def checkpoint_command(checkpoints: CheckpointOption = None) -> None:
    """Seal, then append the chain head to the checkpoint file, outside the database.
    Run it from cron, and ship the file off this host."""
    settings = Settings.from_environment()
    path = checkpoints or audit.checkpoint_file(settings)
    with _engine(settings) as engine:
        point = audit.checkpoint(engine, path)
    typer.echo(f"Checkpoint seq={point.seq} {point.chain_hash} appended to {path}")


@app.command("verify")
def verify_command(checkpoints: CheckpointOption = None) -> None:
    """Recompute the whole chain and compare it with every checkpoint. Prints OK, or each
    problem naming its row, and exits 1 when there is any."""
    settings = Settings.from_environment()
    path = checkpoints or audit.checkpoint_file(settings)
    with _engine(settings) as engine, Session(engine) as session:
        report = audit.verify(session, path)
    for line in report.summary():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    child: Annotated[
        str | None, typer.Option(help="Only this child's events (CPR number, 10 digits).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only events from this day on (YYYY-MM-DD, Danish time).")
    ] = None,
) -> None:
    """Print the events as a FHIR R4 Bundle of AuditEvents (IHE BALP patterns)."""
    if child is not None and not (len(child) == 10 and child.isdigit()):
        raise typer.BadParameter("a CPR number is 10 digits", param_hint="--child")
    start = _day_start(since) if since else None
    with _engine(Settings.from_environment()) as engine, Session(engine) as session:
        result = audit_fhir.export(session, child, start)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _day_start(day: str) -> datetime:
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter("expected YYYY-MM-DD", param_hint="--since") from None
    # Looked up only here: the rest of the CLI works on a host without the tz database.
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=ZoneInfo(LOCAL_TIME_ZONE))
