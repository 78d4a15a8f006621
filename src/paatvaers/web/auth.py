"""Who is logged in: the session, its time-out, CSRF tokens, and the principal of a request.

The session is a signed cookie (Starlette's SessionMiddleware). It holds the principal as the
login established it (user, employee function, unit, data restrictions) so that a login
through an identity provider (OIDC, SMART launch) and the demo login give the same thing; the
child in context and the chosen purpose; and the CSRF token every form and API write carries.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from paatvaers.access.identity import Principal
from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Cvr
from paatvaers.domain.organisations import DataRestrictions, EmployeeFunction, OrgUnit
from paatvaers.store.repositories import OrgUnitRepository

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# The session's last request time is rewritten only when it is this old: the idle time-out
# is kept to the minute, and most responses need not encrypt and set the cookie again.
SEEN_RESOLUTION_SECONDS = 60
# How long a worker process reuses what it read of a logged-in user's unit (its name, kind,
# CVR): a change in FK Organisation counts from the next read after this.
UNIT_CACHE_SECONDS = 60


class NotLoggedIn(Exception):
    """No session, or it has timed out."""


class CsrfRejected(Exception):
    """A write without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class ChildInContext:
    cpr: Cpr
    purpose: str


def log_in(request: Request, principal: Principal, how: str) -> None:
    """Start a fresh session for the principal (a new session id: no fixation)."""
    request.session.clear()
    request.session.update(
        {
            "principal": _principal_to_session(principal),
            "login": how,
            "seen": time.time(),
            CSRF_FIELD: secrets.token_urlsafe(32),
        }
    )


def log_out(request: Request) -> None:
    request.session.clear()


def current_principal(request: Request, db: Session) -> Principal:
    """The logged-in principal; NotLoggedIn when there is none or the session timed out."""
    stored = request.session.get("principal")
    seen = request.session.get("seen")
    idle = request.app.state.settings.session_idle_minutes * 60
    if not stored or not isinstance(seen, (int, float)) or time.time() - seen > idle:
        request.session.clear()
        raise NotLoggedIn
    principal = _principal_from_session(stored, request.app.state.units, db)
    if principal is None:
        request.session.clear()
        raise NotLoggedIn
    now = time.time()
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        request.session["seen"] = now
    return principal


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, presented: str | None) -> None:
    expected = request.session.get(CSRF_FIELD)
    if (
        not isinstance(expected, str)
        or not presented
        or not secrets.compare_digest(expected, presented)
    ):
        raise CsrfRejected


def set_child_in_context(request: Request, child: Cpr, purpose: str) -> None:
    request.session["child"] = {"cpr": child.value, "purpose": purpose}


def child_in_context(request: Request) -> ChildInContext | None:
    stored = request.session.get("child")
    if not isinstance(stored, dict):
        return None
    return ChildInContext(Cpr.parse(stored["cpr"]), str(stored["purpose"]))


def _principal_to_session(principal: Principal) -> dict[str, Any]:
    limits = principal.restrictions
    return {
        "user_id": str(principal.user_id),
        "username": principal.username,
        "function": principal.function.value,
        "unit_id": str(principal.unit.id),
        "restrictions": None
        if limits is None
        else {
            "cvr": limits.cvr.value,
            "kle": list(limits.kle_patterns),
            "max": limits.max_sensitivity.value,
        },
    }


class UnitCache:
    """The units of logged-in users, read at most once a minute per unit and process: every
    request needs its user's unit, and units change seldom."""

    def __init__(self, seconds: float = UNIT_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._units: dict[uuid.UUID, tuple[float, OrgUnit | None]] = {}

    def get(self, unit_id: uuid.UUID, db: Session) -> OrgUnit | None:
        now = time.monotonic()
        cached = self._units.get(unit_id)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        unit = OrgUnitRepository(db).get(unit_id)
        self._units[unit_id] = (now, unit)
        return unit


def _principal_from_session(
    stored: dict[str, Any], units: UnitCache, db: Session
) -> Principal | None:
    unit = units.get(uuid.UUID(stored["unit_id"]), db)
    if unit is None:
        return None
    limits = stored.get("restrictions")
    return Principal(
        user_id=uuid.UUID(stored["user_id"]),
        username=stored["username"],
        function=EmployeeFunction(stored["function"]),
        unit=unit,
        restrictions=None
        if not limits
        else DataRestrictions(Cvr(limits["cvr"]), tuple(limits["kle"]), Sensitivity(limits["max"])),
    )
