"""The landing page and the health check."""

from __future__ import annotations

from pathlib import Path

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from paatvaers.store.repositories import StaffRepository
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.i18n import PRODUCT_NAME, Language, english_title, translator

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
router = APIRouter()
log: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger("paatvaers.web")


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, session: SessionDep, lang: LanguageDep) -> HTMLResponse:
    context = {
        "lang": lang.value,
        "other_lang": Language.EN if lang is Language.DA else Language.DA,
        "t": translator(lang),
        "product_name": PRODUCT_NAME,
        "english_title": english_title,
        "users": StaffRepository(session).demo_users(),
    }
    response = templates.TemplateResponse(request, "index.html", context)
    response.headers["Content-Language"] = lang.value
    return response


@router.get("/healthz")
def healthz(session: SessionDep) -> JSONResponse:
    """Liveness plus a database round trip; failures give a short reason, never a trace."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("healthcheck_failed", database=reason, error=str(exc).splitlines()[0])
        return JSONResponse({"status": "error", "database": reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
