"""The pages about children: "mine", choosing a child (from the list or by CPR, with a
purpose), and the overview of the child in context. Login and logout are here too.

Every page that shows a child's data commits its transaction (the reads and their log rows)
before it renders: nothing leaves before the log holds it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from paatvaers.access.factory import child_access
from paatvaers.access.identity import Principal, principal_for
from paatvaers.access.reading import ChildAccess
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.organisations import Sector
from paatvaers.overview.mine import my_children
from paatvaers.overview.overviews import (
    HealthOverview,
    MunicipalOverview,
    health_overview,
    municipal_overview,
)
from paatvaers.store.repositories import StaffRepository
from paatvaers.web.auth import (
    check_csrf,
    child_in_context,
    current_principal,
    log_in,
    log_out,
    set_child_in_context,
)
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.purposes import Purpose
from paatvaers.web.quality_routes import follows_up
from paatvaers.web.rendering import page

router = APIRouter()


def access_for(request: Request, db: Session) -> ChildAccess:
    clock: Callable[[], datetime] = request.app.state.clock
    return child_access(db, request.app.state.settings, request.app.state.consent, clock=clock)


def utc_now() -> datetime:
    return datetime.now(UTC)


@router.post("/log-ind/demo")
def demo_login(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    username: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",  # missing: refused by check_csrf (403), not a 422
) -> Response:
    """Log in as a demo persona: only in demo mode, and only as a user marked as demo."""
    if not request.app.state.settings.demo_mode:
        return Response(status_code=404)
    check_csrf(request, csrf)
    principal = principal_for(db, username)
    if principal is None or not _is_demo_user(db, username):
        return Response(status_code=404)
    log_in(request, principal, "demo")
    return RedirectResponse(f"/mine?lang={lang.value}", status_code=303)


def _is_demo_user(db: Session, username: str) -> bool:
    member = StaffRepository(db).by_username(username)
    return member is not None and member.is_demo


@router.post("/log-ud")
def logout(request: Request, lang: LanguageDep, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    log_out(request)
    return RedirectResponse(f"/?lang={lang.value}", status_code=303)


@router.get("/mine")
def mine(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    if follows_up(principal):  # the operations role has no children; it starts at the follow-up
        return RedirectResponse(f"/opfoelgning?lang={lang.value}", status_code=303)
    children = my_children(db, access_for(request, db), principal, Purpose.COORDINATION.value)
    db.commit()
    return page(
        request,
        "mine.html",
        lang,
        principal=principal,
        children=children,
        purposes=list(Purpose),
        error=None,
    )


@router.post("/barn/vaelg")
def choose_child(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    # Empty or missing fields get the page's error summary (or the CSRF refusal), not a 422.
    cpr: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Put a child in context, from the list or a CPR search, with the purpose of looking."""
    check_csrf(request, csrf)
    principal = current_principal(request, db)
    chosen = Purpose.parse(purpose)
    try:
        child = Cpr.parse(cpr.replace("-", "").strip())
    except InvalidCpr:
        child = None
    if child is None or chosen is None:
        error = "error_cpr" if child is None else "error_purpose"
        return page(
            request,
            "mine.html",
            lang,
            status_code=400,
            principal=principal,
            children=[],
            purposes=list(Purpose),
            error=error,
            entered_cpr=cpr,  # shown again in the field, so the user can correct it
            entered_purpose=purpose,
        )
    set_child_in_context(request, child, chosen.value)
    return RedirectResponse(f"/barn?lang={lang.value}", status_code=303)


@router.get("/barn")
def child_overview(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    principal = current_principal(request, db)
    context = child_in_context(request)
    if context is None:
        return RedirectResponse(f"/mine?lang={lang.value}", status_code=303)
    access = access_for(request, db)
    overview: HealthOverview | MunicipalOverview
    if _sector(principal) is Sector.HEALTH:
        overview = health_overview(db, access, principal, context.cpr, context.purpose)
        template = "health_overview.html"
    else:
        overview = municipal_overview(db, access, principal, context.cpr, context.purpose)
        template = "municipal_overview.html"
    db.commit()  # the reads and their log rows, before anything is shown
    return page(
        request,
        template,
        lang,
        principal=principal,
        overview=overview,
        purpose=Purpose(context.purpose),
        now=access.clock(),
    )


def _sector(principal: Principal) -> Sector:
    return principal.unit.kind.sector
