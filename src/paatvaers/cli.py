"""The `paatvaers` command: demo, database and population."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from paatvaers.access import audit_cli
from paatvaers.access import cli as access_cli
from paatvaers.family import cli as family_cli
from paatvaers.ingest.pipeline import Mode, RunSummary
from paatvaers.ingest.service import ingest
from paatvaers.medcom import cli as medcom_cli
from paatvaers.notices import cli as notices_cli
from paatvaers.population.generator import Population, generate
from paatvaers.population.report import PopulationReport, report
from paatvaers.quality import cli as quality_cli
from paatvaers.settings import Settings, SmartIssuer
from paatvaers.sources.base import SourceName
from paatvaers.sources.registry import INGEST_ORDER
from paatvaers.store import db
from paatvaers.store.db import configured_database
from paatvaers.store.polling import run_until_signalled
from paatvaers.store.population_writer import replace_population, write_local_staff_and_run
from paatvaers.store.repositories import StaffRepository

app = typer.Typer(help="På Tværs – Børn & Unge", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
population_app = typer.Typer(help="The synthetic national population.", no_args_is_help=True)
simulators_app = typer.Typer(help="Simulators of the national sources.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(population_app, name="population")
app.add_typer(simulators_app, name="simulators")
app.add_typer(access_cli.app, name="access")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(medcom_cli.app, name="medcom")
app.add_typer(notices_cli.app, name="notices")
app.add_typer(family_cli.app, name="family")
app.add_typer(quality_cli.app, name="quality")

console = Console()
DEMO_CHILDREN = 5000
DEMO_SEED = 1
DEMO_EHR_PORT = 8107  # the simulated EHR that launches the app (SMART App Launch)


def database(settings: Settings) -> AbstractContextManager[str]:
    """The configured database, or an embedded one under the data directory."""
    return configured_database(settings, console.print)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def build_population(children: int, seed: int, as_of: date) -> Population:
    with _progress() as progress:
        task = progress.add_task("Genererer børn", total=children)
        return generate(children, seed, as_of, lambda done: progress.update(task, completed=done))


def store_population(engine: Engine, population: Population, summary: PopulationReport) -> None:
    with _progress() as progress:
        task = progress.add_task("Skriver til databasen", total=len(INGEST_ORDER))
        replace_population(engine, population, summary, lambda _t: progress.advance(task))


def print_report(summary: PopulationReport, seed: int, as_of: date) -> None:
    console.print(f"Seed {seed}, opgjort pr. {as_of.isoformat()}")
    console.print(f"CPR set hash (sha256): {summary.cpr_set_hash}", soft_wrap=True)
    table = Table(title="Børn pr. region")
    table.add_column("Region")
    table.add_column("Børn", justify="right")
    table.add_column("Andel", justify="right")
    for region, count in summary.children_per_region.items():
        table.add_row(region, str(count), f"{count / summary.children:.1%}")
    console.print(table)
    console.print(
        f"Målgruppe (R1): {summary.target_group} børn = {summary.target_group_share:.2%}\n"
        f"Navne- og adressebeskyttelse: {summary.protected} børn = {summary.protected_share:.2%}\n"
        f"Delt forældremyndighed (bor ikke med begge): {summary.split_custody}\n"
        f"Kommunale sager: {summary.cases}  Aftaler i BUP: {summary.appointments}"
        f"  Organisationsenheder: {summary.org_units}"
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (to the embedded server when DATABASE_URL is unset)."""
    settings = Settings.from_environment()
    with database(settings) as url:
        db.upgrade(url)
    console.print("Databasen er opdateret.")


@population_app.command("generate")
def population_generate(
    children: Annotated[int, typer.Option(min=1, help="Number of children.")] = DEMO_CHILDREN,
    seed: Annotated[int, typer.Option(help="Random seed; equal seeds give equal data.")] = 1,
    as_of: Annotated[
        str | None, typer.Option(help="Reference date (YYYY-MM-DD); default today.")
    ] = None,
    store: Annotated[bool, typer.Option(help="Write the population to the database.")] = True,
) -> None:
    """Generate the synthetic national population, print its key numbers, and store it."""
    day = date.fromisoformat(as_of) if as_of else date.today()  # noqa: DTZ011 - local day
    population = build_population(children, seed, day)
    summary = report(population)
    print_report(summary, seed, day)
    if not store:
        return
    settings = Settings.from_environment()
    with database(settings) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        store_population(engine, population, summary)
        engine.dispose()
    console.print(f"Gemt: {children} børn.")


def print_demo_users(engine: Engine, base_url: str) -> None:
    with Session(engine) as session:
        users = StaffRepository(session).demo_users()
    table = Table(title="Demobrugere")
    table.add_column("Rolle")
    table.add_column("Navn")
    table.add_column("Brugernavn", no_wrap=True)  # must stay whole to be typed in
    table.add_column("Enhed")
    for user in users:
        member = user.member
        table.add_row(
            member.function.danish_title, member.full_name, member.username, user.unit.name
        )
    console.print(table)
    console.print(f"\nPå Tværs – Børn & Unge kører på [bold]{base_url}[/bold]  (Ctrl-C stopper)\n")


def _as_of(as_of: str | None) -> date:
    return date.fromisoformat(as_of) if as_of else date.today()  # noqa: DTZ011 - local day


@simulators_app.command("serve")
def simulators_serve(
    children: Annotated[int, typer.Option(min=1, help="Number of children.")] = DEMO_CHILDREN,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEMO_SEED,
    as_of: Annotated[str | None, typer.Option(help="Reference date; default today.")] = None,
    malformed: Annotated[
        bool, typer.Option(help="Serve a few broken records too, as real sources do.")
    ] = True,
) -> None:
    """Serve the five national sources on 127.0.0.1 (ports 8101-8105) until Ctrl-C."""
    from paatvaers.sources.simulation.server import (  # noqa: PLC0415 - serving only
        add_malformed_examples,
        serve_forever,
    )
    from paatvaers.sources.simulation.world import World  # noqa: PLC0415

    population = build_population(children, seed, _as_of(as_of))
    world = World.from_population(population)
    if malformed:
        add_malformed_examples(world)
    console.print("Simulatorerne kører (Ctrl-C stopper):")
    serve_forever(world)


def print_ingest_summaries(summaries: list[RunSummary], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in summaries], indent=2))
        return
    table = Table(title="Indlæsning")
    for column in ("Kilde", "Type", "Læst", "Nye/ændrede", "Uændrede", "Slettet", "Karantæne"):
        table.add_column(column, justify="right" if column != "Kilde" else "left")
    for s in summaries:
        mode = s.mode + (" (genoptaget)" if s.resumed else "")
        table.add_row(
            s.source,
            mode,
            *(str(n) for n in (s.read, s.upserted, s.unchanged, s.deleted, s.quarantined)),
        )
    console.print(table)
    for s in summaries:
        if s.error:
            console.print(f"[red]{s.source} stoppede:[/red] {s.error}")


def run_ingest(
    engine: Engine, settings: Settings, sources: list[SourceName], mode: Mode | None
) -> list[RunSummary]:
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def advance(summary: RunSummary) -> None:
            if summary.source not in tasks:
                tasks[summary.source] = progress.add_task(f"Indlæser {summary.source}", total=None)
            progress.update(tasks[summary.source], completed=summary.read)

        return ingest(engine, settings, sources, mode, progress=advance)


@app.command("serve")
def serve(
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
) -> None:
    """Serve the web app on the configured database (DATABASE_URL), as production does: uvloop
    and httptools, several workers, no per-request access log (the access log is ours)."""
    import uvicorn  # noqa: PLC0415 - only the commands that serve need it

    from paatvaers.web.logging import configure_logging  # noqa: PLC0415

    settings = Settings.from_environment()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL to the database to serve")
    db.upgrade(settings.database_url)
    configure_logging(settings.log_level)
    uvicorn.run(
        "paatvaers.web.asgi:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )


@app.command("worker")
def worker_command(
    once: Annotated[bool, typer.Option(help="Do what is due now, then stop.")] = False,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between idle polls.")] = 1.0,
) -> None:
    """Receive and send MedCom messages (the mailboxes and the outbox) until stopped."""

    from paatvaers.correspondence.worker import worker_for  # noqa: PLC0415
    from paatvaers.web.logging import configure_logging  # noqa: PLC0415

    settings = Settings.from_environment()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL to the platform's database")
    db.upgrade(settings.database_url)
    configure_logging(settings.log_level)
    engine = db.make_engine(settings.database_url)
    try:
        worker = worker_for(settings, engine)
        if once:
            console.print(f"{worker.once()} meddelelser behandlet")
            return
        run_until_signalled(lambda stop: worker.run(stop, interval))
    finally:
        engine.dispose()


@app.command("ingest")
def ingest_command(
    source: Annotated[
        str,
        typer.Argument(
            help="A source (case_index, org_registry, cpr, institutions, appointments) or all."
        ),
    ] = "all",
    full: Annotated[bool, typer.Option(help="A full pass instead of an incremental one.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Read the national sources into the database: incremental from the last checkpoint,
    or full; broken records go to quarantine with the reason, and the run goes on."""
    if source != "all" and source not in {s.value for s in INGEST_ORDER}:
        raise typer.BadParameter(f"unknown source {source!r}", param_hint="SOURCE")
    sources = list(INGEST_ORDER) if source == "all" else [SourceName(source)]
    settings = Settings.from_environment()
    with database(settings) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        try:
            summaries = run_ingest(engine, settings, sources, Mode.FULL if full else None)
        finally:
            engine.dispose()
    print_ingest_summaries(summaries, as_json)
    if any(s.error for s in summaries):
        raise typer.Exit(1)


@app.command()
def demo(
    children: Annotated[int, typer.Option(min=1, help="Number of children.")] = DEMO_CHILDREN,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEMO_SEED,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Start everything on this machine: database, the source simulators, ingestion from
    them (the path a deployment takes), and the web app."""
    import uvicorn  # noqa: PLC0415 - only the serving commands need it

    from paatvaers.correspondence.demo import running_demo_correspondence  # noqa: PLC0415
    from paatvaers.notices.job import running_notice_job  # noqa: PLC0415
    from paatvaers.sources.ehr.simulator import RunningEhr, configure_demo  # noqa: PLC0415
    from paatvaers.sources.simulation.server import (  # noqa: PLC0415
        RunningSimulators,
        add_malformed_examples,
    )
    from paatvaers.sources.simulation.world import World  # noqa: PLC0415
    from paatvaers.web.app import create_app  # noqa: PLC0415
    from paatvaers.web.logging import configure_logging  # noqa: PLC0415

    settings = Settings.from_environment().model_copy(update={"port": port})
    population = build_population(children, seed, date.today())  # noqa: DTZ011 - local day
    summary = report(population)
    print_report(summary, seed, population.as_of)
    world = World.from_population(population)
    add_malformed_examples(world)
    ports = {s: s.default_port for s in SourceName}
    base_url = f"http://{settings.host}:{settings.port}/"
    with (
        database(settings) as url,
        RunningSimulators(world, ports),
        RunningEhr(port=DEMO_EHR_PORT) as ehr,
    ):
        db.upgrade(url)
        engine = db.make_engine(url)
        print_ingest_summaries(run_ingest(engine, settings, list(INGEST_ORDER), None), False)
        write_local_staff_and_run(engine, population, summary)
        configure_demo(ehr, population, base_url)
        print_demo_users(engine, base_url)
        console.print(f"Simuleret EPJ (SMART-launch): {ehr.base_url}/ehr")
        configure_logging(settings.log_level)
        demo_settings = {
            "database_url": url,
            "demo_mode": True,
            "public_url": base_url.rstrip("/"),
            "smart_issuers": [SmartIssuer(iss=ehr.fhir_base, client_id="paatvaers")],
        }
        web = create_app(settings.model_copy(update=demo_settings), engine)
        try:
            with (
                running_demo_correspondence(engine, settings),
                running_notice_job(engine, settings),
            ):
                uvicorn.run(
                    web, host=settings.host, port=settings.port, log_config=None, access_log=False
                )
        finally:
            engine.dispose()
            console.print("Stoppet.")


if __name__ == "__main__":  # pragma: no cover
    app()
