"""The landing page and the health check."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.responses import Response

from paatvaers.store.repositories import StaffRepository
from paatvaers.web.deps import LanguageDep, SessionDep, in_session
from paatvaers.web.rendering import page

router = APIRouter()
log: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger("paatvaers.web")


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, session: SessionDep, lang: LanguageDep) -> Response:
    return page(request, "index.html", lang, users=StaffRepository(session).demo_users())


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """Liveness plus a database round trip; failures give a short reason, never a trace."""
    return await in_session(request, _database_health)


def _database_health(session: Session) -> JSONResponse:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("healthcheck_failed", database=reason, error=str(exc).splitlines()[0])
        return JSONResponse({"status": "error", "database": reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
