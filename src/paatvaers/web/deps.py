"""FastAPI dependencies, as `Annotated` aliases for route signatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.web.i18n import Language


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed (and so rolled back if uncommitted) afterwards."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


def get_language(request: Request, lang: Annotated[str | None, Query()] = None) -> Language:
    """The language asked for in the URL, else the one chosen before in this session."""
    if lang is None and "lang" in request.scope.get("session", {}):
        return Language.parse(request.session.get("lang"))
    chosen = Language.parse(lang)
    if "session" in request.scope:
        request.session["lang"] = chosen.value
    return chosen


SessionDep = Annotated[Session, Depends(get_session)]
LanguageDep = Annotated[Language, Depends(get_language)]
