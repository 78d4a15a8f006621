"""`paatvaers family`: the family's e-mail notice job (docs/family.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from paatvaers.family.notices import send_family_notices
from paatvaers.settings import Settings
from paatvaers.store import db

app = typer.Typer(help="Familiens sider.", no_args_is_help=True)


@app.callback()
def family() -> None:
    """Familiens sider (docs/family.md)."""


@app.command("notify")
def notify() -> None:
    """E-mail each citizen who asked for it when a place new to their child has looked: a
    notice and a link only, no child data. Run it now and then (e.g. hourly)."""
    settings = Settings.from_environment()
    if not settings.database_url:
        raise typer.BadParameter("set DATABASE_URL to the platform's database")
    if not settings.smtp_url:
        typer.echo("PAATVAERS_SMTP_URL er ikke sat; ingen e-mails sendt", err=True)
        return
    engine = db.make_engine(settings.database_url)
    try:
        sent = send_family_notices(db.session_factory(engine), settings, datetime.now(UTC))
    finally:
        engine.dispose()
    typer.echo(f"{sent} e-mails sendt")
