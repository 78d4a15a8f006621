"""The family's pages (/familie, issue #9): the citizen login, the child's team, what is shared
with whom, consent in the family's hands, who has looked, and upcoming meetings.

A citizen's session holds the citizen (`citizen`: CPR number and name), never a professional
principal, so no professional page opens for a citizen and no family page for a professional.
Which children the citizen sees is decided on every request (`family.citizen.children_for`);
a child is addressed by an opaque key, never by its CPR number in a URL. Each page logs the
family's own view before it renders, and every form carries the CSRF token.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from authlib.integrations.starlette_client import (  # type: ignore[import-untyped]
    StarletteOAuth2App,
)
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from paatvaers.access.factory import current_policy
from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.family import demo
from paatvaers.family.citizen import ChildLink, Citizen, children_for, log_family_view
from paatvaers.family.looked import LookFilter, who_has_looked
from paatvaers.family.meetings import upcoming_meetings
from paatvaers.family.notices import subscribe, subscription, unsubscribe, valid_email
from paatvaers.family.policy import FamilyPolicy, family_policy
from paatvaers.family.sharing import ChangeRefused, FlowSharing, apply_change, sharing
from paatvaers.family.team import team
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentRequestRefused, ConsentServiceUnavailable
from paatvaers.web.auth import CSRF_FIELD, NotLoggedIn, check_csrf
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.i18n import Language
from paatvaers.web.oidc import (
    LoginRefused,
    Problem,
    finish_authorization,
    problem_page,
    start_login,
)
from paatvaers.web.purposes import Purpose
from paatvaers.web.rendering import page, templates

router = APIRouter()

HOME = "/familie"
CITIZEN_CLIENT = "citizen_oidc"
FLASH = "family_flash"
_CHILD_KEYS = uuid.UUID("9a4c0e52-8f1b-5d3a-a6c7-66616d696c79")

NO_CPR = Problem(
    403,
    "Login kunne ikke bruges",
    "The login could not be used",
    "Dit login sagde ikke, hvem du er (dit CPR-nummer). Prøv igen, eller kontakt kommunen.",
    "Your login did not say who you are (your CPR number). Try again, or contact the municipality.",
)


# -- the citizen's session ----------------------------------------------------------------------


def log_in_citizen(request: Request, citizen: Citizen, how: str) -> None:
    """A fresh session for the citizen (a new session, no fixation; no professional in it)."""
    request.session.clear()
    request.session.update(
        {
            "citizen": {"cpr": citizen.cpr.value, "name": citizen.name},
            "login": how,
            "seen": time.time(),
            CSRF_FIELD: secrets.token_urlsafe(32),
        }
    )


def current_citizen(request: Request) -> Citizen:
    """The logged-in citizen; NotLoggedIn (to the landing page) for none or a timed-out one."""
    stored = request.session.get("citizen")
    seen = request.session.get("seen")
    idle = request.app.state.settings.session_idle_minutes * 60
    if (
        not isinstance(stored, dict)
        or not isinstance(seen, (int, float))
        or time.time() - seen > idle
    ):
        request.session.clear()
        raise NotLoggedIn
    request.session["seen"] = time.time()
    return Citizen(Cpr.parse(stored["cpr"]), str(stored["name"]))


def child_key(child: ChildLink) -> str:
    """How a URL names a child: opaque, stable, not the CPR number."""
    return uuid.uuid5(_CHILD_KEYS, child.cpr.value).hex[:20]


def _now(request: Request) -> datetime:
    moment: datetime = request.app.state.clock()
    return moment


def _children(request: Request, db: Session, citizen: Citizen) -> list[ChildLink]:
    return children_for(db, citizen, danish_day(_now(request)), family_policy())


def _child(request: Request, db: Session, citizen: Citizen, key: str) -> ChildLink | None:
    return next((c for c in _children(request, db, citizen) if child_key(c) == key), None)


def _page(
    request: Request,
    name: str,
    lang: Language,
    citizen: Citizen,
    status_code: int = 200,
    **context: object,
) -> Response:
    return page(
        request,
        name,
        lang,
        status_code=status_code,
        citizen=citizen,
        words=family_policy(),
        child_key=child_key,
        purpose_text=purpose_text,
        **context,
    )


def purpose_text(code: str, lang: str) -> str:
    """A professional's recorded purpose, in words; an unknown code as it is."""
    purpose = Purpose.parse(code)
    if purpose is None:
        return code
    return purpose.english if lang == "en" else purpose.danish


def _not_found(request: Request, lang: Language, citizen: Citizen) -> Response:
    """The same answer for a child that does not exist and one the citizen may not see."""
    return _page(request, "family_children.html", lang, citizen, children=[], status_code=404)


# -- login --------------------------------------------------------------------------------------


def demo_personas(request: Request) -> list[demo.Persona]:
    """The landing page's citizen personas (demo mode only)."""
    if not request.app.state.settings.demo_mode:
        return []
    with request.app.state.session_factory() as db:
        return demo.personas(db, danish_day(_now(request)))


templates.env.globals["family_personas"] = demo_personas
templates.env.globals["citizen_login"] = lambda request: _configured(request.app.state.settings)


@router.post(HOME + "/log-ind/demo")
def demo_login(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    persona: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Log in as a demo persona: only in demo mode, and only as one of the personas."""
    if not request.app.state.settings.demo_mode:
        return Response(status_code=404)
    check_csrf(request, csrf)
    chosen = demo.persona(db, danish_day(_now(request)), persona)
    if chosen is None:
        return Response(status_code=404)
    log_in_citizen(request, chosen.citizen, "demo")
    return RedirectResponse(f"{HOME}?lang={lang.value}", status_code=303)


@router.post(HOME + "/log-ud")
def logout(request: Request, lang: LanguageDep, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse(f"/?lang={lang.value}", status_code=303)


def _configured(settings: Settings) -> bool:
    return bool(settings.citizen_oidc_issuer and settings.citizen_oidc_client_id)


def _citizen_client(request: Request) -> StarletteOAuth2App | None:
    """The citizens' OpenID Connect client (a MitID broker), registered on first use."""
    settings: Settings = request.app.state.settings
    if not _configured(settings):
        return None
    oauth = request.app.state.oauth
    client = oauth.create_client(CITIZEN_CLIENT)
    if client is None:
        oauth.register(
            CITIZEN_CLIENT,
            client_id=settings.citizen_oidc_client_id,
            client_secret=settings.citizen_oidc_client_secret,
            server_metadata_url=str(settings.citizen_oidc_issuer).rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": settings.citizen_oidc_scopes,
                "code_challenge_method": "S256",
            },
        )
        client = oauth.create_client(CITIZEN_CLIENT)
    return client


@router.get(HOME + "/log-ind")
async def citizen_login(request: Request, lang: LanguageDep) -> Response:
    """Send the browser to the citizens' identity provider (MitID through a broker)."""
    client = _citizen_client(request)
    if client is None:
        return Response(status_code=404)
    settings: Settings = request.app.state.settings
    return await start_login(
        request, lang, client, settings.citizen_oidc_issuer, "citizen_oidc_callback"
    )


@router.get(HOME + "/log-ind/callback", name="citizen_oidc_callback")
async def citizen_callback(request: Request, lang: LanguageDep) -> Response:
    client = _citizen_client(request)
    if client is None:
        return Response(status_code=404)
    try:
        token = await finish_authorization(request, client)
        citizen = citizen_from_claims(dict(token["userinfo"]), request.app.state.settings)
    except LoginRefused as refused:
        return problem_page(request, lang, refused.problem)
    log_in_citizen(request, citizen, "oidc")
    return RedirectResponse(f"{HOME}?lang={lang.value}", status_code=303)


def citizen_from_claims(claims: Mapping[str, Any], settings: Settings) -> Citizen:
    """The citizen an ID token describes: the CPR number from the configured claim (MitID
    brokers: `dk:gov:saml:attribute:CprNumberIdentifier`), the name if given."""
    raw = claims.get(settings.citizen_oidc_cpr_claim)
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    try:
        cpr = Cpr.parse(str(raw).replace("-", "").strip()) if isinstance(raw, str) else None
    except InvalidCpr:
        cpr = None
    if cpr is None:
        raise LoginRefused(NO_CPR, "no CPR number claim")
    name = claims.get(settings.citizen_oidc_name_claim)
    return Citizen(cpr, name.strip() if isinstance(name, str) and name.strip() else "")


# -- the pages ----------------------------------------------------------------------------------


@router.get(HOME)
def family_home(request: Request, db: SessionDep, lang: LanguageDep) -> Response:
    citizen = current_citizen(request)
    return _page(
        request, "family_children.html", lang, citizen, children=_children(request, db, citizen)
    )


@router.get(HOME + "/{key}")
def child_page(request: Request, db: SessionDep, lang: LanguageDep, key: str) -> Response:
    citizen = current_citizen(request)
    child = _child(request, db, citizen, key)
    if child is None:
        return _not_found(request, lang, citizen)
    now = _now(request)
    policy = family_policy()
    members = team(db, child, danish_day(now), policy)
    meetings = upcoming_meetings(db, child, now)
    ids = tuple(f"unit:{m.unit_id}" for m in members) + tuple(f"meeting:{m.id}" for m in meetings)
    _log(request, db, citizen, child, "team", policy, ids)
    return _page(
        request, "family_child.html", lang, citizen, child=child, team=members, meetings=meetings
    )


@router.get(HOME + "/{key}/deling")
def sharing_page(request: Request, db: SessionDep, lang: LanguageDep, key: str) -> Response:
    citizen = current_citizen(request)
    child = _child(request, db, citizen, key)
    if child is None:
        return _not_found(request, lang, citizen)
    policy = family_policy()
    flows = sharing(
        db,
        citizen,
        child,
        current_policy(request.app.state.settings),
        policy,
        request.app.state.consent,
        _now(request),
    )
    _log(request, db, citizen, child, "sharing", policy)
    return _page(
        request,
        "family_sharing.html",
        lang,
        citizen,
        child=child,
        flows=flows,
        flash=request.session.pop(FLASH, None),
    )


@router.get(HOME + "/{key}/samtykke/{flow}")
def confirm_page(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    flow: str,
    handling: Annotated[str, Query()] = "",
) -> Response:
    """The confirm step: what giving or withdrawing will do, before it is done."""
    citizen = current_citizen(request)
    child = _child(request, db, citizen, key)
    found = _flow_sharing(request, db, citizen, child, flow)
    if child is None or found is None or found.change is None or found.change.value != handling:
        return _not_found(request, lang, citizen)
    return _page(request, "family_consent.html", lang, citizen, child=child, flow=found)


@router.post(HOME + "/{key}/samtykke/{flow}")
def change_consent(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    flow: str,
    handling: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    citizen = current_citizen(request)
    child = _child(request, db, citizen, key)
    found = _flow_sharing(request, db, citizen, child, flow)
    if child is None or found is None or found.change is None or found.change.value != handling:
        return _not_found(request, lang, citizen)
    rule = current_policy(request.app.state.settings).of(found.flow)
    try:
        apply_change(
            db, citizen, child, rule, found.change, request.app.state.consent, _now(request)
        )
        request.session[FLASH] = f"family_done_{found.change.value}"
    except (ChangeRefused, ConsentRequestRefused, ConsentServiceUnavailable):
        request.session[FLASH] = "family_change_failed"
    return RedirectResponse(f"{HOME}/{key}/deling?lang={lang.value}", status_code=303)


def _flow_sharing(
    request: Request, db: Session, citizen: Citizen, child: ChildLink | None, flow: str
) -> FlowSharing | None:
    if child is None or flow not in {f.value for f in DataFlow}:
        return None
    flows = sharing(
        db,
        citizen,
        child,
        current_policy(request.app.state.settings),
        family_policy(),
        request.app.state.consent,
        _now(request),
    )
    return next((f for f in flows if f.flow.value == flow), None)


@router.get(HOME + "/{key}/log")
def looked_page(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    organisation: Annotated[str, Query()] = "",
    data: Annotated[str, Query()] = "",
    fra: Annotated[str, Query()] = "",
    til: Annotated[str, Query()] = "",
    side: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    citizen = current_citizen(request)
    child = _child(request, db, citizen, key)
    if child is None:
        return _not_found(request, lang, citizen)
    chosen = LookFilter(
        unit_id=_uuid(organisation),
        flow=DataFlow(data) if data in {f.value for f in DataFlow} else None,
        from_day=_day(fra),
        to_day=_day(til),
        page=side,
    )
    policy = family_policy()
    looks = who_has_looked(db, child, chosen, _now(request), policy)
    subscribed = subscription(db, citizen)
    email = subscribed.email if subscribed else None
    _log(request, db, citizen, child, "access-log", policy)
    return _page(
        request,
        "family_looked.html",
        lang,
        citizen,
        child=child,
        looks=looks,
        chosen=chosen,
        flows=list(DataFlow),
        query={"organisation": organisation, "data": data, "fra": fra, "til": til},
        email=email,
        flash=request.session.pop(FLASH, None),
    )


@router.post(HOME + "/{key}/besked")
def change_notice(
    request: Request,
    db: SessionDep,
    lang: LanguageDep,
    key: str,
    email: Annotated[str, Form()] = "",
    handling: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Opt in to (or out of) the e-mail when a new place looks at the citizen's children."""
    check_csrf(request, csrf)
    citizen = current_citizen(request)
    if _child(request, db, citizen, key) is None:
        return _not_found(request, lang, citizen)
    synthetic: bool = request.app.state.settings.sources_are_synthetic
    if handling == "off":
        unsubscribe(db, citizen)
        request.session[FLASH] = "family_email_off"
    elif valid_email(email.strip()):
        subscribe(db, citizen, email.strip(), _now(request), synthetic)
        request.session[FLASH] = "family_email_on"
    else:
        request.session[FLASH] = "family_email_invalid"
    db.commit()
    return RedirectResponse(f"{HOME}/{key}/log?lang={lang.value}", status_code=303)


def _log(
    request: Request,
    db: Session,
    citizen: Citizen,
    child: ChildLink,
    what: str,
    policy: FamilyPolicy,
    ids: tuple[str, ...] = (),
) -> None:
    """The family's own view, logged and committed before the page renders."""
    synthetic: bool = request.app.state.settings.sources_are_synthetic
    log_family_view(db, citizen, child, what, policy, ids, synthetic)
    db.commit()


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
