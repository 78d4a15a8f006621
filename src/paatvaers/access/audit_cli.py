"""`paatvaers audit …`: the access log's verification, checkpoints and export."""

from __future__ import annotations

import typer

app = typer.Typer(help="The access log.", no_args_is_help=True)
