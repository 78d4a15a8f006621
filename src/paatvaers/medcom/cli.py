"""`paatvaers medcom`: MedCom FHIR messages on the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from paatvaers.medcom.errors import MalformedMessage
from paatvaers.medcom.serialisation import from_json, from_xml
from paatvaers.medcom.validation import Severity, ValidationReport, validate_bundle

app = typer.Typer(
    help="MedCom FHIR messages (CareCommunication, Acknowledgement).", no_args_is_help=True
)
console = Console(highlight=False, soft_wrap=True)


@app.callback()
def medcom() -> None:
    """MedCom FHIR messages (CareCommunication, Acknowledgement)."""
    # A callback keeps `validate` a subcommand: `paatvaers medcom validate FILE...`


def read_message(path: Path) -> dict[str, Any]:
    """The JSON form of a message file, FHIR JSON or FHIR XML (by its suffix or first byte)."""
    data = path.read_bytes()
    if path.suffix.lower() == ".xml" or data.lstrip().startswith(b"<"):
        return from_xml(data)
    return from_json(data)


def _print_report(path: Path, report: ValidationReport, verbose: bool) -> None:
    shown = [i for i in report.issues if verbose or i.severity is not Severity.INFORMATION]
    status = "OK" if report.ok else "FAILED"
    console.print(
        escape(f"{path}: {status} ({len(report.errors)} errors, {len(report.warnings)} warnings)")
    )
    for issue in shown:
        console.print(escape(f"  {issue.severity}: {issue.path} [{issue.rule}] {issue.message}"))


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Message Bundles, .json or .xml", exists=True, dir_okay=False),
    ],
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show informational issues")
    ] = False,
) -> None:
    """Validate MedCom messages against the shipped MedCom profiles; exit 1 if any has errors."""
    failed = False
    for path in files:
        try:
            message = read_message(path)
        except MalformedMessage as error:
            console.print(escape(f"{path}: FAILED ({error})"))
            failed = True
            continue
        report = validate_bundle(message)
        _print_report(path, report, verbose)
        failed = failed or not report.ok
    if failed:
        raise typer.Exit(1)


@app.command()
def receive(
    files: Annotated[
        list[Path],
        typer.Argument(help="Message Bundles, .json or .xml", exists=True, dir_okay=False),
    ],
) -> None:
    """Receive messages as the transport inbox does (store, thread, queue the answer) and
    print each acknowledgement; an acknowledgement received is never answered."""
    from paatvaers.correspondence.envelope import JSON, XML  # noqa: PLC0415
    from paatvaers.correspondence.inbox import receive as receive_message  # noqa: PLC0415
    from paatvaers.settings import Settings  # noqa: PLC0415
    from paatvaers.store import db  # noqa: PLC0415

    settings = Settings.from_environment()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL to the platform's database")
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    try:
        for path in files:
            data = path.read_bytes()
            media_type = XML if data.lstrip().startswith(b"<") else JSON
            with db.transaction(db.session_factory(engine)) as session:
                receipt = receive_message(
                    session,
                    data,
                    media_type,
                    str(path),
                    datetime.now(UTC),
                    synthetic=settings.sources_are_synthetic,
                )
            console.print(escape(f"{path}: {receipt.outcome}: {receipt.note}"))
            if receipt.acknowledgement is not None:
                console.print_json(json.dumps(receipt.acknowledgement))
    finally:
        engine.dispose()
