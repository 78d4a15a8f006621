"""One way to render a page: the template with the language, the translator, the CSRF token
and the logged-in user (if any) in its context."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from paatvaers.domain.geography import is_municipality_code, municipality
from paatvaers.web.auth import csrf_token
from paatvaers.web.i18n import PRODUCT_NAME, Language, english_title, translator

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def danish_time(value: date | datetime, pattern: str = "%d.%m.%Y %H:%M") -> str:
    """A date or moment as a clock in Denmark shows it: stored moments are UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(COPENHAGEN)
    return value.strftime(pattern)


def municipality_name(code: str) -> str:
    """ "Aalborg (0851)" for a municipality code; an unknown code as it is."""
    return f"{municipality(code).name} ({code})" if is_municipality_code(code) else code


templates.env.filters["local"] = danish_time
templates.env.filters["municipality"] = municipality_name


def page(
    request: Request, name: str, lang: Language, status_code: int = 200, **context: object
) -> Response:
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang.value,
            "other_lang": Language.EN if lang is Language.DA else Language.DA,
            "t": translator(lang),
            "product_name": PRODUCT_NAME,
            "english_title": english_title,
            "csrf": csrf_token(request),
            "demo_mode": request.app.state.settings.demo_mode,
            "oidc_login": request.app.state.settings.oidc_issuer is not None,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Content-Language"] = lang.value
    # Pages about a child are never stored by the browser or any cache on the way.
    response.headers["Cache-Control"] = "no-store"
    return response
