"""One way to render a page: the template with the language, the translator, the CSRF token
and the logged-in user (if any) in its context."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from paatvaers.web.auth import csrf_token
from paatvaers.web.i18n import PRODUCT_NAME, Language, english_title, translator

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)


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
            **context,
        },
        status_code=status_code,
    )
    response.headers["Content-Language"] = lang.value
    # Pages about a child are never stored by the browser or any cache on the way.
    response.headers["Cache-Control"] = "no-store"
    return response
