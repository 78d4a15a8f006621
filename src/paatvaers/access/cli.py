"""`paatvaers access …`: access decisions and the data-flow table."""

from __future__ import annotations

import typer

app = typer.Typer(help="Access decisions.", no_args_is_help=True)
