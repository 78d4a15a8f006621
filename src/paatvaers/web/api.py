"""The JSON API for both overviews: the same reads, decisions and log rows as the pages.

The child's CPR number travels in the request body, never in the URL, so it stays out of
request logs, proxies and browser history. Writes carry the session's CSRF token in the
`X-CSRF-Token` header."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from paatvaers.access.reading import Answer
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.overview.mine import my_children
from paatvaers.overview.overviews import Block, health_overview, municipal_overview
from paatvaers.web.auth import check_csrf, current_principal
from paatvaers.web.child_routes import access_for
from paatvaers.web.deps import SessionDep, in_session
from paatvaers.web.purposes import Purpose

router = APIRouter(prefix="/api", tags=["overviews"])


class OverviewRequest(BaseModel):
    cpr: str = Field(description="The child's CPR number, 10 digits", examples=["0409146919"])
    purpose: Purpose = Field(description="Why the child is looked up (v3-ActReason code)")


class Decided(BaseModel):
    """One block: the access decision and, when permitted, the data."""

    permitted: bool
    rules: list[str]
    reason_da: str
    reason_en: str
    legal_reference: str
    remedies_da: list[str]
    remedies_en: list[str]
    source: str | None = None
    fresh_at: datetime | None = None
    data: Any = None


class HealthOverviewOut(BaseModel):
    child: Decided
    cases: Decided
    contacts: Decided
    school: Decided
    target_group: dict[str, Any] | None


class MunicipalOverviewOut(BaseModel):
    child: Decided
    appointments: Decided
    cases: Decided
    next_appointment: dict[str, Any] | None
    timeline: list[dict[str, Any]]


class BadRequest(Exception):
    pass


@router.post("/overview/health", response_model=HealthOverviewOut)
async def api_health_overview(
    body: OverviewRequest,
    request: Request,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token")] = None,
) -> Response:
    """The health overview (R4) of one child, for BUP and GP staff."""
    check_csrf(request, csrf)
    child, purpose = _cpr(body.cpr), body.purpose.value

    def answer(db: Session) -> HealthOverviewOut:
        principal = current_principal(request, db)
        overview = health_overview(db, access_for(request, db), principal, child, purpose)
        db.commit()
        return HealthOverviewOut(
            child=_block(overview.child),
            cases=_block(overview.cases),
            contacts=_block(overview.contacts),
            school=_block(overview.school),
            target_group=None if overview.target_group is None else _as_dict(overview.target_group),
        )

    return _json(await in_session(request, answer))


@router.post("/overview/municipal", response_model=MunicipalOverviewOut)
async def api_municipal_overview(
    body: OverviewRequest,
    request: Request,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token")] = None,
) -> Response:
    """The municipal overview (R3) of one child, for family department and PPR staff."""
    check_csrf(request, csrf)
    child, purpose = _cpr(body.cpr), body.purpose.value

    def answer(db: Session) -> MunicipalOverviewOut:
        principal = current_principal(request, db)
        overview = municipal_overview(db, access_for(request, db), principal, child, purpose)
        db.commit()
        return MunicipalOverviewOut(
            child=_block(overview.child),
            appointments=_block(overview.appointments),
            cases=_block(overview.cases),
            next_appointment=None
            if overview.next_appointment is None
            else _as_dict(overview.next_appointment),
            timeline=[_as_dict(step) for step in overview.timeline],
        )

    return _json(await in_session(request, answer))


@router.get("/mine")
def api_mine(request: Request, db: SessionDep) -> list[dict[str, Any]]:
    """The children in the target group the user's unit has a relationship to."""
    principal = current_principal(request, db)
    children = my_children(db, access_for(request, db), principal, Purpose.COORDINATION.value)
    db.commit()
    return [_as_dict(child) for child in children]


def _json(out: BaseModel) -> Response:
    """The answer as the response model's JSON. The model was validated when it was built;
    returning it as a Response spares FastAPI validating and encoding it a second time."""
    return Response(out.model_dump_json(), media_type="application/json")


def _cpr(value: str) -> Cpr:
    try:
        return Cpr.parse(value)
    except InvalidCpr as e:
        raise BadRequest(str(e)) from None


def _block(block: Block[Any]) -> Decided:
    decided = _decided(block.answer)
    decided.source = block.source.value
    decided.fresh_at = block.fresh_at
    return decided


def _decided(answer: Answer[Any]) -> Decided:
    d = answer.decision
    return Decided(
        permitted=d.permit,
        rules=list(d.rules),
        reason_da=d.reason_da,
        reason_en=d.reason_en,
        legal_reference=d.legal_reference,
        remedies_da=list(d.remedies_da),
        remedies_en=list(d.remedies_en),
        data=_plain(answer.data),
    )


def _as_dict(value: object) -> dict[str, Any]:
    plain = _plain(value)
    if not isinstance(plain, dict):
        raise TypeError(f"not a record: {type(value).__name__}")
    return plain


def _plain(value: object) -> object:
    """Dataclasses, enums and sets as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(str(_plain(v)) for v in value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
