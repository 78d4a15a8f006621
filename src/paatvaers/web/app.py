"""The application factory. Nothing is built at import time: the caller owns the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from paatvaers import __version__
from paatvaers.access.audit import seal_periodically
from paatvaers.settings import Settings
from paatvaers.store.db import session_factory
from paatvaers.web.i18n import PRODUCT_NAME
from paatvaers.web.logging import RequestLogMiddleware
from paatvaers.web.pages import router

STATIC_DIR = Path(__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Seal the access log every few seconds while the app serves."""
    sealer = asyncio.create_task(seal_periodically(app.state.session_factory))
    try:
        yield
    finally:
        sealer.cancel()
        with suppress(asyncio.CancelledError):
            await sealer


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    # The interactive API docs load their assets from a CDN, which this product must not use.
    app = FastAPI(
        title=PRODUCT_NAME, version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.add_middleware(RequestLogMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    return app
