"""FastAPI dependencies, as `Annotated` aliases for route signatures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from paatvaers.web.i18n import Language


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed (and so rolled back if uncommitted) afterwards."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


T = TypeVar("T")


async def in_session(request: Request, work: Callable[[Session], T]) -> T:
    """`work(session)` with a session of its own, closed afterwards, in one trip to the
    thread pool. A plain `def` route with `SessionDep` makes three trips (the dependency's
    start and end, the route); under load each trip is a thread switch and a wait for the
    GIL, which cost the API more than its own Python did."""
    factory: sessionmaker[Session] = request.app.state.session_factory

    def run() -> T:
        with factory() as session:
            return work(session)

    return await run_in_threadpool(run)


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
