"""`paatvaers notices`: the notice job, and the e-mail digest (notices and meeting invitations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from paatvaers.notices.digest import send_digests
from paatvaers.notices.job import job_for
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.store import db
from paatvaers.store.polling import run_until_signalled

app = typer.Typer(help="Notifikationer om nye involverede aktører.", no_args_is_help=True)


@app.callback()
def notices() -> None:
    """Notifikationer om nye involverede aktører (docs/notices.md)."""


def _settings() -> Settings:
    settings = Settings.from_environment()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL to the platform's database")
    return settings


@app.command("run")
def run(
    once: Annotated[bool, typer.Option(help="Process what is due now, then stop.")] = False,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between idle polls.")] = 5.0,
) -> None:
    """Turn the involvement changes ingestion found into notices, until stopped. Safe to run
    twice at once: each change is taken by one job only."""
    settings = _settings()
    assert settings.database_url is not None  # noqa: S101 - checked by _settings
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    try:
        with ConsentClient(settings.consent_url) as consent:
            job = job_for(settings, engine, consent)
            if once:
                typer.echo(f"{job.once()} ændringer behandlet")
                return
            run_until_signalled(lambda stop: job.run(stop, interval))
    finally:
        engine.dispose()


@app.command("digest")
def digest() -> None:
    """E-mail each user how many new meeting invitations, and (if they asked for it) new
    notices, wait in the platform: counts and links only, no child data."""
    settings = _settings()
    assert settings.database_url is not None  # noqa: S101 - checked by _settings
    if not settings.smtp_url:
        typer.echo("PAATVAERS_SMTP_URL er ikke sat; ingen e-mails sendt", err=True)
        return
    engine = db.make_engine(settings.database_url)
    try:
        sent = send_digests(db.session_factory(engine), settings, datetime.now(UTC))
    finally:
        engine.dispose()
    typer.echo(f"{sent} e-mails sendt")
