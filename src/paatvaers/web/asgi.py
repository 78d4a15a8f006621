"""The app as an ASGI factory, for `paatvaers serve` and any process manager: every worker
builds its own engine from the environment's settings (`DATABASE_URL`, `PAATVAERS_*`)."""

from __future__ import annotations

from fastapi import FastAPI

from paatvaers.settings import Settings
from paatvaers.store.db import make_engine
from paatvaers.web.app import create_app
from paatvaers.web.logging import configure_logging


def app_from_environment() -> FastAPI:
    settings = Settings.from_environment()
    configure_logging(settings.log_level)  # each worker process logs JSON, like the parent
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL must name the database the app serves")
    return create_app(settings, make_engine(settings.database_url))
