"""The `paatvaers` command: demo, database and population."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from paatvaers.population.generator import Population, generate
from paatvaers.population.report import PopulationReport, report
from paatvaers.settings import Settings
from paatvaers.sources.base import SourceName
from paatvaers.store import db
from paatvaers.store.embedded import embedded_postgres
from paatvaers.store.population_writer import replace_population
from paatvaers.store.repositories import PopulationRunRepository, StaffRepository

app = typer.Typer(help="På Tværs – Børn & Unge", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
population_app = typer.Typer(help="The synthetic national population.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(population_app, name="population")

console = Console()
DEMO_CHILDREN = 5000
DEMO_SEED = 1


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database, or an embedded one under the data directory."""
    if settings.database_url:
        yield settings.database_url
        return
    console.print(f"Starter indlejret PostgreSQL i {settings.data_dir / 'pgdata'} …")
    with embedded_postgres(settings.data_dir / "pgdata") as url:
        yield url


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
        task = progress.add_task("Skriver til databasen", total=len(SourceName))
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


def ensure_demo_population(engine: Engine, children: int, seed: int, day: date) -> None:
    with Session(engine) as session:
        latest = PopulationRunRepository(session).latest()
    if latest and (latest.seed, latest.children, latest.as_of) == (seed, children, day):
        console.print(f"Befolkningen er allerede genereret ({children} børn, seed {seed}).")
        return
    population = build_population(children, seed, day)
    summary = report(population)
    store_population(engine, population, summary)
    print_report(summary, seed, day)


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


@app.command()
def demo(
    children: Annotated[int, typer.Option(min=1, help="Number of children.")] = DEMO_CHILDREN,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEMO_SEED,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Start everything on this machine: database, synthetic data and the web app."""
    import uvicorn  # noqa: PLC0415 - only the serving commands need it

    from paatvaers.web.app import create_app  # noqa: PLC0415
    from paatvaers.web.logging import configure_logging  # noqa: PLC0415

    settings = Settings.from_environment().model_copy(update={"port": port})
    with database(settings) as url:
        db.upgrade(url)
        engine = db.make_engine(url)
        ensure_demo_population(engine, children, seed, date.today())  # noqa: DTZ011
        base_url = f"http://{settings.host}:{settings.port}/"
        print_demo_users(engine, base_url)
        configure_logging(settings.log_level)
        web = create_app(settings.model_copy(update={"database_url": url}), engine)
        try:
            uvicorn.run(
                web, host=settings.host, port=settings.port, log_config=None, access_log=False
            )
        finally:
            engine.dispose()
            console.print("Stoppet.")


if __name__ == "__main__":  # pragma: no cover
    app()
