"""The application factory. Nothing is built at import time: the caller owns the engine."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from pathlib import Path

from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.responses import Response

from paatvaers import __version__
from paatvaers.access.audit import AccessLogUnavailable, seal_periodically
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.store.db import session_factory
from paatvaers.web import (
    api,
    child_routes,
    correspondence_routes,
    family_routes,
    launch,
    medcom_inbox,
    meeting_routes,
    notice_routes,
    oidc,
    quality_routes,
)
from paatvaers.web.auth import CsrfRejected, NotLoggedIn, UnitCache
from paatvaers.web.child_routes import utc_now
from paatvaers.web.i18n import PRODUCT_NAME
from paatvaers.web.logging import RequestLogMiddleware
from paatvaers.web.pages import router
from paatvaers.web.sessions import EncryptedSessionMiddleware

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
        app.state.consent.close()


def create_app(
    settings: Settings, engine: Engine, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    """The web app. `clock` is what "now" means for access decisions (tests fix it)."""
    # The interactive API docs load their assets from a CDN, which this product must not use;
    # the OpenAPI document itself is at /openapi.json.
    app = FastAPI(
        title=PRODUCT_NAME, version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.consent = ConsentClient(settings.consent_url)
    app.state.clock = clock
    app.state.units = UnitCache()
    app.state.quality_reports = quality_routes.ReportCache()
    # OpenID Connect login and the SMART launch (authlib keeps their flow state in the session).
    app.state.oauth = OAuth()
    oidc.register(app.state.oauth, settings)
    launch.register(app.state.oauth, settings)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(
        EncryptedSessionMiddleware,
        secret_key=settings.session_secret or secrets.token_urlsafe(32),
        session_cookie="paatvaers_session",
        max_age=None,  # a browser session; the idle time-out is enforced server-side
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    app.include_router(child_routes.router)
    app.include_router(correspondence_routes.router)
    app.include_router(meeting_routes.router)
    app.include_router(quality_routes.router)
    app.include_router(api.router)
    app.include_router(oidc.router)
    app.include_router(launch.router)
    app.include_router(medcom_inbox.router)
    app.include_router(notice_routes.router)
    app.include_router(family_routes.router)
    add_error_handlers(app)
    return app


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    def not_logged_in(request: Request, _: NotLoggedIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "not logged in"}, status_code=401)
        return RedirectResponse("/", status_code=303)

    @app.exception_handler(CsrfRejected)
    def csrf_rejected(request: Request, _: CsrfRejected) -> Response:
        return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)

    @app.exception_handler(api.BadRequest)
    def bad_request(request: Request, exc: api.BadRequest) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(AccessLogUnavailable)
    def log_unavailable(request: Request, _: AccessLogUnavailable) -> Response:
        # Fail closed: nothing about the child, only that the service cannot answer now.
        return JSONResponse(
            {"detail": "Adgangsloggen kan ikke skrives; der vises ingen oplysninger."},
            status_code=503,
        )
