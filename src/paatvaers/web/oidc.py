"""Login through a production identity provider by OpenID Connect (authlib), and the one
place where an ID token's claims become a principal (the SMART launch uses it too).

The flow is the authorization code flow with PKCE (S256), `state` and `nonce`, all kept by
authlib in the session until the callback. At the callback the ID token must be signed by a
key from the provider's JWKS, be issued by the configured issuer (the discovery document
must name that same issuer) and be meant for our client id; RFC 9207's `iss` parameter is
checked when the provider sends it. How claims map to the employee function, the unit and a
municipal user's data restrictions is configured (`Settings.oidc_claims`, docs/login.md).

This login is separate from the demo login, which exists only in demo mode.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client import (  # type: ignore[import-untyped]
    MismatchingStateError,
    OAuthError,
)
from authlib.integrations.starlette_client import (  # type: ignore[import-untyped]
    OAuth,
    StarletteOAuth2App,
)
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from paatvaers.access.identity import Principal, principal_for
from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.identifiers import Cvr, InvalidIdentifier, Sor
from paatvaers.domain.organisations import (
    DataRestrictions,
    EmployeeFunction,
    OrgUnit,
    Sector,
)
from paatvaers.settings import ClaimMapping, Settings
from paatvaers.store.repositories import org_unit_from_row
from paatvaers.store.tables import OrgUnitRow
from paatvaers.web.auth import log_in
from paatvaers.web.deps import LanguageDep
from paatvaers.web.i18n import Language
from paatvaers.web.rendering import page

router = APIRouter()

OIDC_CLIENT = "oidc"
_KLE_PATTERN = re.compile(r"^(\*|[0-9]{2}(\.[0-9]{2}){0,2}(\.\*)?)$")
# Users known only from their claims get a stable id per issuer and subject.
_USER_NAMESPACE = uuid.UUID("0c5b7f3e-2f1d-4f5e-9a57-6f6964632d75")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a login or launch did not go through, in both languages, with its HTTP status."""

    status: int
    title_da: str
    title_en: str
    text_da: str
    text_en: str
    kind: str = "error"  # the alert's look: "error", or "warning" for a superseded page


class LoginRefused(Exception):
    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(detail or problem.title_en)
        self.problem = problem


PROVIDER_UNAVAILABLE = Problem(
    502,
    "Login er ikke muligt lige nu",
    "Login is not possible right now",
    "Identitetsudbyderen kunne ikke nås eller svarede ikke som aftalt. Prøv igen senere.",
    "The identity provider could not be reached or did not answer as agreed. Try again later.",
)
STATE_MISMATCH = Problem(
    400,
    "Login kunne ikke fuldføres",
    "The login could not be completed",
    "Svaret hører ikke til et login, der er startet i denne browser, eller det er brugt før. "
    "Start forfra.",
    "The answer does not belong to a login started in this browser, or it has been used "
    "already. Start again.",
)
PROVIDER_REFUSED = Problem(
    400,
    "Login blev afvist",
    "The login was refused",
    "Identitetsudbyderen afviste login. Start forfra, eller kontakt din it-afdeling.",
    "The identity provider refused the login. Start again, or contact your IT department.",
)
TOKEN_REJECTED = Problem(
    400,
    "Login blev afvist",
    "The login was refused",
    "Identitetsudbyderens svar kunne ikke godkendes (udsteder, modtager eller signatur "
    "passer ikke). Der er ikke logget ind.",
    "The identity provider's answer could not be accepted (issuer, audience or signature "
    "does not match). You have not been logged in.",
)
UNKNOWN_USER = Problem(
    403,
    "Ingen adgang",
    "No access",
    "Din bruger er ikke kendt i På Tværs, eller dit login angiver ikke en funktion og en "
    "enhed, som På Tværs kender. Kontakt din it-afdeling.",
    "Your user is not known to På Tværs, or your login does not name a function and a unit "
    "that På Tværs knows. Contact your IT department.",
)


def register(oauth: OAuth, settings: Settings) -> None:
    """The OpenID Connect client, when an issuer and a client id are configured."""
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return
    oauth.register(
        OIDC_CLIENT,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )


def redirect_uri(request: Request, route: str) -> str:
    """Where the provider sends the browser back: under `public_url` when it is set."""
    public: str | None = request.app.state.settings.public_url
    if public:
        return public.rstrip("/") + str(request.app.url_path_for(route))
    return str(request.url_for(route))


def problem_page(
    request: Request,
    lang: Language,
    problem: Problem,
    link: tuple[str, str, str] | None = None,
    **context: object,
) -> Response:
    """A page that says what went wrong; `link` is (href, Danish label, English label)."""
    english = lang is Language.EN
    return page(
        request,
        "login_problem.html",
        lang,
        status_code=problem.status,
        problem_title=problem.title_en if english else problem.title_da,
        problem_text=problem.text_en if english else problem.text_da,
        problem_kind=problem.kind,
        problem_link=None if link is None else (link[0], link[2] if english else link[1]),
        **context,
    )


@router.get("/log-ind/oidc")
async def oidc_login(request: Request, lang: LanguageDep) -> Response:
    """Send the browser to the identity provider."""
    client = request.app.state.oauth.create_client(OIDC_CLIENT)
    if client is None:
        return Response(status_code=404)
    settings: Settings = request.app.state.settings
    return await start_login(request, lang, client, settings.oidc_issuer, "oidc_callback")


async def start_login(
    request: Request,
    lang: Language,
    client: StarletteOAuth2App,
    issuer: str | None,
    callback_route: str,
) -> Response:
    """Send the browser to `client`'s provider, once its discovery document names `issuer`
    (the professionals' login and the citizens' share this)."""
    try:
        metadata = await client.load_server_metadata()
        # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was asked for.
        if metadata.get("issuer") != issuer:
            raise LoginRefused(PROVIDER_UNAVAILABLE, "discovery names another issuer")
        response: Response = await client.authorize_redirect(
            request, redirect_uri(request, callback_route)
        )
    except (httpx2.HTTPError, ValueError, LoginRefused):
        return problem_page(request, lang, PROVIDER_UNAVAILABLE)
    return response


@router.get("/log-ind/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request, lang: LanguageDep) -> Response:
    client = request.app.state.oauth.create_client(OIDC_CLIENT)
    if client is None:
        return Response(status_code=404)
    settings: Settings = request.app.state.settings
    try:
        token = await finish_authorization(request, client)
        claims: dict[str, Any] = dict(token["userinfo"])
        principal = await run_in_threadpool(
            resolve_principal,
            request.app.state.session_factory,
            claims,
            settings.oidc_claims,
            str(claims["iss"]),
        )
    except LoginRefused as refused:
        return problem_page(request, lang, refused.problem)
    log_in(request, principal, "oidc")
    return RedirectResponse(f"/mine?lang={lang.value}", status_code=303)


async def finish_authorization(request: Request, client: StarletteOAuth2App) -> dict[str, Any]:
    """Check the authorization response, exchange the code (with the PKCE verifier) and
    validate the ID token; the token response with the ID token's claims as `userinfo`."""
    params = request.query_params
    if params.get("error"):
        raise LoginRefused(PROVIDER_REFUSED, f"provider error {params.get('error')}")
    if not params.get("state") or not params.get("code"):
        raise LoginRefused(STATE_MISMATCH, "no state or code")
    try:
        metadata = await client.load_server_metadata()
        issuer = metadata.get("issuer")
        # RFC 9207: a provider that says it sends `iss` must send its own.
        returned = params.get("iss")
        if returned is not None and returned != issuer:
            raise LoginRefused(TOKEN_REJECTED, "authorization response from another issuer")
        if returned is None and metadata.get("authorization_response_iss_parameter_supported"):
            raise LoginRefused(TOKEN_REJECTED, "authorization response without iss")
        token: dict[str, Any] = await client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": client.client_id},
            },
        )
    except MismatchingStateError as exc:
        raise LoginRefused(STATE_MISMATCH, "state not found in the session") from exc
    except OAuthError as exc:
        raise LoginRefused(PROVIDER_REFUSED, f"token endpoint: {exc}") from exc
    except JoseError as exc:
        raise LoginRefused(TOKEN_REJECTED, f"id_token: {exc}") from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise LoginRefused(PROVIDER_UNAVAILABLE, str(exc)) from exc
    if not token.get("userinfo"):
        raise LoginRefused(TOKEN_REJECTED, "no id_token")
    return token


def resolve_principal(
    factory: sessionmaker[Session], claims: Mapping[str, Any], mapping: ClaimMapping, issuer: str
) -> Principal:
    with factory() as db:
        return principal_from_claims(db, claims, mapping, issuer)


def principal_from_claims(
    db: Session, claims: Mapping[str, Any], mapping: ClaimMapping, issuer: str
) -> Principal:
    """The principal an ID token's claims describe, by the configured mapping; LoginRefused
    when a claim is missing or names nothing we know."""
    username = _text(claims, mapping.username)
    if mapping.function is None:
        principal = principal_for(db, username)
        if principal is None:
            raise LoginRefused(UNKNOWN_USER, f"no staff user {username!r}")
        return principal
    raw_function = _text(claims, mapping.function)
    try:
        function = EmployeeFunction(mapping.function_values.get(raw_function, raw_function))
    except ValueError as exc:
        raise LoginRefused(UNKNOWN_USER, f"unknown function {raw_function!r}") from exc
    unit = _unit(db, claims, mapping)
    if unit.kind is not function.unit_kind:
        raise LoginRefused(UNKNOWN_USER, f"a {function.value} does not work in a {unit.kind}")
    return Principal(
        user_id=_user_id(claims, mapping, issuer),
        username=username,
        function=function,
        unit=unit,
        restrictions=_restrictions(claims, mapping, unit),
    )


def _text(claims: Mapping[str, Any], name: str | None) -> str:
    value = claims.get(name) if name else None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise LoginRefused(UNKNOWN_USER, f"claim {name!r} missing")
    return value.strip()


def _unit(db: Session, claims: Mapping[str, Any], mapping: ClaimMapping) -> OrgUnit:
    value = _text(claims, mapping.unit)
    unit: OrgUnit | None = None
    try:
        if mapping.unit_identifier == "sor":
            where = OrgUnitRow.sor == Sor(value).value
        elif mapping.unit_identifier == "fk_org":
            where = OrgUnitRow.fk_org_uuid == uuid.UUID(value)
        else:
            where = OrgUnitRow.id == uuid.UUID(value)
        found = db.scalars(select(OrgUnitRow).where(where)).first()
        unit = org_unit_from_row(found) if found else None
    except ValueError:
        unit = None
    if unit is None:
        raise LoginRefused(UNKNOWN_USER, f"unknown unit {value!r}")
    return unit


def _user_id(claims: Mapping[str, Any], mapping: ClaimMapping, issuer: str) -> uuid.UUID:
    if mapping.user_id:
        try:
            return uuid.UUID(_text(claims, mapping.user_id))
        except ValueError as exc:
            raise LoginRefused(UNKNOWN_USER, "the user id claim is not a UUID") from exc
    return uuid.uuid5(_USER_NAMESPACE, f"{issuer}|{_text(claims, 'sub')}")


def _restrictions(
    claims: Mapping[str, Any], mapping: ClaimMapping, unit: OrgUnit
) -> DataRestrictions | None:
    """KOMBIT's data restrictions, for a municipal user whose login carries them; none means
    no access to case data. The CVR must be the unit's municipality's."""
    if unit.kind.sector is not Sector.MUNICIPAL or not mapping.kle:
        return None
    raw = claims.get(mapping.kle)
    patterns = raw if isinstance(raw, list) else str(raw or "").replace(",", " ").split()
    kle = tuple(str(p).strip() for p in patterns if str(p).strip())
    if not kle:
        return None
    if not all(_KLE_PATTERN.fullmatch(p) for p in kle):
        raise LoginRefused(UNKNOWN_USER, f"data restrictions: KLE patterns {kle}")
    try:
        highest = Sensitivity(_text(claims, mapping.max_sensitivity))
        cvr = Cvr(_text(claims, mapping.cvr)) if mapping.cvr else unit.cvr
    except (ValueError, InvalidIdentifier) as exc:
        raise LoginRefused(UNKNOWN_USER, f"data restrictions: {exc}") from exc
    if cvr is None or (unit.cvr is not None and cvr != unit.cvr):
        raise LoginRefused(UNKNOWN_USER, "the data restrictions name another municipality")
    return DataRestrictions(cvr, kle, highest)
