"""SMART App Launch 2.x, EHR launch: an EPJ or a GP system opens the overview of the patient
it has in context (docs/login.md has the sequence).

1. `GET /launch?iss=<FHIR base>&launch=<opaque>`: only a registered EHR (`smart_issuers`)
   may launch; its `.well-known/smart-configuration` is read and the browser is sent to its
   authorization endpoint with `launch`, `aud=iss`, the configured scope, `state`, a nonce and
   PKCE (S256).
2. `GET /launch/callback`: the state must be this browser's; the code is exchanged (with the
   PKCE verifier); the ID token is validated like an OpenID Connect login's and names the
   user (a practitioner: `fhirUser`); the token response names the patient. The patient is
   read from the EHR's FHIR server and the CPR number taken from its dk-core identifier. The
   user is logged in (a fresh session), the child put in context with the purpose
   "treatment" for health staff, and the browser sent to the overview of this launch.
3. `GET /barn/kontekst/<id>`: the overview, but only while this launch is the one in context.
   A new launch (the EHR switched patient) or a child chosen by hand supersedes it, and the
   old address then shows no child at all: a page left open for an earlier patient can never,
   on reload, show that patient again, nor silently show another under the old address. The
   previous context is dropped as soon as a launch starts, so a relaunch that fails leaves no
   child in context either.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

import httpx2
from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.organisations import Sector
from paatvaers.settings import Settings, SmartIssuer
from paatvaers.web.auth import (
    child_in_context,
    current_principal,
    log_in,
    set_child_in_context,
)
from paatvaers.web.child_routes import child_overview
from paatvaers.web.deps import LanguageDep, SessionDep
from paatvaers.web.oidc import (
    STATE_MISMATCH,
    LoginRefused,
    Problem,
    finish_authorization,
    problem_page,
    redirect_uri,
    resolve_principal,
)
from paatvaers.web.purposes import Purpose

router = APIRouter()

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"  # dk-core's CPR identifier
LAUNCH_KEY = "launch"  # the session's current launch: {"id": ..., "cpr": ...}
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_USER_TYPES = ("Practitioner", "PractitionerRole")

UNKNOWN_EHR = Problem(
    400,
    "Åbningen fra journalsystemet blev afvist",
    "The launch from the record system was refused",
    "Journalsystemet, der forsøgte at åbne På Tværs, er ikke registreret hos På Tværs, eller "
    "åbningen manglede oplysninger. Kontakt din it-afdeling.",
    "The record system that tried to open På Tværs is not registered with På Tværs, or the "
    "launch lacked information. Contact your IT department.",
)
EHR_UNAVAILABLE = Problem(
    502,
    "Journalsystemet svarer ikke som aftalt",
    "The record system does not answer as agreed",
    "På Tværs kunne ikke hente journalsystemets oplysninger om login og patient. Prøv igen "
    "fra journalsystemet.",
    "På Tværs could not fetch the record system's login and patient information. Try again "
    "from the record system.",
)
NO_PATIENT = Problem(
    400,
    "Ingen patient i kontekst",
    "No patient in context",
    "Journalsystemet sendte ingen patient med. Vælg patienten i journalsystemet og åbn På "
    "Tværs igen.",
    "The record system sent no patient. Choose the patient in the record system and open "
    "På Tværs again.",
)
NO_CPR = Problem(
    422,
    "Patienten har intet CPR-nummer",
    "The patient has no CPR number",
    "Patienten i journalsystemet har intet gyldigt CPR-nummer (eller flere forskellige), så "
    "På Tværs kan ikke finde barnet. Der vises ingen oplysninger.",
    "The patient in the record system has no valid CPR number (or several different ones), "
    "so På Tværs cannot find the child. Nothing is shown.",
)
NOT_A_PRACTITIONER = Problem(
    403,
    "Ingen adgang",
    "No access",
    "Journalsystemets login er ikke en fagperson. På Tværs er kun for fagpersoner.",
    "The record system's login is not a professional. På Tværs is for professionals only.",
)
SUPERSEDED = Problem(
    409,
    "Patienten er skiftet",
    "The patient has changed",
    "Denne side hørte til en patient, der ikke længere er i kontekst: journalsystemet har "
    "skiftet patient, eller du har valgt et andet barn. Siden viser derfor intet.",
    "This page belonged to a patient who is no longer in context: the record system has "
    "switched patient, or you have chosen another child. The page therefore shows nothing.",
    kind="warning",
)


def _client_name(index: int) -> str:
    return f"smart_{index}"


def register(oauth: OAuth, settings: Settings) -> None:
    """One OAuth client per registered EHR, configured from its SMART configuration."""
    for index, issuer in enumerate(settings.smart_issuers):
        oauth.register(
            _client_name(index),
            client_id=issuer.client_id,
            client_secret=issuer.client_secret,
            server_metadata_url=_base(issuer.iss) + "/.well-known/smart-configuration",
            client_kwargs={"scope": issuer.scope, "code_challenge_method": "S256"},
        )


def _base(iss: str) -> str:
    return iss.rstrip("/")


def _registered(settings: Settings, iss: str) -> int | None:
    for index, issuer in enumerate(settings.smart_issuers):
        if _base(issuer.iss) == _base(iss):
            return index
    return None


def _check_smart_configuration(metadata: dict[str, Any], issuer: SmartIssuer) -> None:
    """What SMART App Launch 2.x requires of the EHR for this flow."""
    if "S256" not in metadata.get("code_challenge_methods_supported", []):
        raise LoginRefused(EHR_UNAVAILABLE, "the EHR does not support PKCE S256")
    if "launch-ehr" not in metadata.get("capabilities", []):
        raise LoginRefused(EHR_UNAVAILABLE, "the EHR does not offer the EHR launch")
    if not metadata.get("authorization_endpoint") or not metadata.get("token_endpoint"):
        raise LoginRefused(EHR_UNAVAILABLE, "the SMART configuration lacks endpoints")
    if "openid" in issuer.scope.split() and not (
        metadata.get("issuer") and metadata.get("jwks_uri")
    ):
        raise LoginRefused(EHR_UNAVAILABLE, "the SMART configuration lacks issuer or jwks_uri")


@router.get("/launch")
async def ehr_launch(
    request: Request,
    lang: LanguageDep,
    iss: str | None = Query(default=None),
    launch: str | None = Query(default=None),
) -> Response:
    """The EHR opens the app: a registered issuer only, and nothing is fetched from any
    other address."""
    settings: Settings = request.app.state.settings
    index = _registered(settings, iss) if iss else None
    if index is None or not launch:
        return problem_page(request, lang, UNKNOWN_EHR)
    issuer = settings.smart_issuers[index]
    client = request.app.state.oauth.create_client(_client_name(index))
    # The EHR has announced a new context: from now on nothing of the previous one is shown,
    # whether or not this launch completes. (auth.py keeps the child under "child".)
    request.session.pop(LAUNCH_KEY, None)
    request.session.pop("child", None)
    try:
        _check_smart_configuration(await client.load_server_metadata(), issuer)
        response: Response = await client.authorize_redirect(
            request, redirect_uri(request, "launch_callback"), aud=issuer.iss, launch=launch
        )
    except LoginRefused as refused:
        return problem_page(request, lang, refused.problem)
    except (httpx2.HTTPError, ValueError):
        return problem_page(request, lang, EHR_UNAVAILABLE)
    return response


def _pending(request: Request, state: str | None) -> int | None:
    """Which registered EHR this browser started the launch with `state` at."""
    if not state:
        return None
    for index in range(len(request.app.state.settings.smart_issuers)):
        if f"_state_{_client_name(index)}_{state}" in request.session:
            return index
    return None


@router.get("/launch/callback", name="launch_callback")
async def ehr_launch_callback(request: Request, lang: LanguageDep) -> Response:
    settings: Settings = request.app.state.settings
    index = _pending(request, request.query_params.get("state"))
    if index is None:
        return problem_page(request, lang, STATE_MISMATCH)
    issuer = settings.smart_issuers[index]
    client = request.app.state.oauth.create_client(_client_name(index))
    try:
        token = await finish_authorization(request, client)
        claims: dict[str, Any] = dict(token["userinfo"])
        _check_fhir_user(claims)
        patient_id = token.get("patient")
        if not isinstance(patient_id, str) or not _FHIR_ID.fullmatch(patient_id):
            raise LoginRefused(NO_PATIENT, "no patient in the token response")
        cpr = await patient_cpr(issuer.iss, patient_id, token)
        principal = await run_in_threadpool(
            resolve_principal,
            request.app.state.session_factory,
            claims,
            issuer.claims,
            str(claims["iss"]),
        )
    except LoginRefused as refused:
        return problem_page(request, lang, refused.problem)
    health = principal.unit.kind.sector is Sector.HEALTH
    purpose = Purpose.TREATMENT if health else Purpose.COORDINATION
    log_in(request, principal, "smart")
    set_child_in_context(request, cpr, purpose.value)
    context = secrets.token_urlsafe(16)
    request.session[LAUNCH_KEY] = {"id": context, "cpr": cpr.value}
    return RedirectResponse(f"/barn/kontekst/{context}?lang={lang.value}", status_code=303)


def _check_fhir_user(claims: dict[str, Any]) -> None:
    """A launch is for professionals: `fhirUser`, when sent, must name a Practitioner."""
    fhir_user = claims.get("fhirUser")
    if fhir_user is None:
        return
    parts = str(fhir_user).rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] not in _USER_TYPES:
        raise LoginRefused(NOT_A_PRACTITIONER, f"fhirUser {fhir_user!r}")


async def patient_cpr(iss: str, patient_id: str, token: dict[str, Any]) -> Cpr:
    """Read the patient in context from the EHR's FHIR server with the launch's access token;
    its CPR number from the dk-core identifier."""
    if str(token.get("token_type", "")).lower() != "bearer" or not token.get("access_token"):
        raise LoginRefused(EHR_UNAVAILABLE, "no bearer token")
    url = f"{_base(iss)}/Patient/{quote(patient_id, safe='')}"
    headers = {
        "Authorization": f"Bearer {token['access_token']}",
        "Accept": "application/fhir+json",
    }
    try:
        async with httpx2.AsyncClient(timeout=10) as http:
            answer = await http.get(url, headers=headers)
        answer.raise_for_status()
        resource = answer.json()
    except (httpx2.HTTPError, ValueError) as exc:
        raise LoginRefused(EHR_UNAVAILABLE, f"Patient read: {exc}") from exc
    if (
        not isinstance(resource, dict)
        or resource.get("resourceType") != "Patient"
        or resource.get("id") != patient_id
    ):
        raise LoginRefused(EHR_UNAVAILABLE, "the answer is not the Patient asked for")
    return cpr_of(resource)


def cpr_of(patient: dict[str, Any]) -> Cpr:
    """The CPR number of a dk-core Patient: its one current identifier with the CPR system."""
    values = {
        str(identifier.get("value", "")).strip()
        for identifier in patient.get("identifier") or []
        if isinstance(identifier, dict)
        and identifier.get("system") == CPR_SYSTEM
        and identifier.get("use") != "old"
    }
    values.discard("")
    if len(values) != 1:
        raise LoginRefused(NO_CPR, f"{len(values)} CPR identifiers")
    try:
        return Cpr.parse(values.pop())
    except InvalidCpr as exc:
        raise LoginRefused(NO_CPR, "the CPR identifier is not a CPR number") from exc


@router.get("/barn/kontekst/{context_id}")
def launched_overview(
    request: Request, db: SessionDep, lang: LanguageDep, context_id: str
) -> Response:
    """The overview of the launch's child, while the launch is the one in context."""
    principal = current_principal(request, db)
    launched = request.session.get(LAUNCH_KEY)
    child = child_in_context(request)
    if (
        isinstance(launched, dict)
        and launched.get("id") == context_id
        and child is not None
        and child.cpr.value == launched.get("cpr")
    ):
        return child_overview(request, db, lang)
    link = (
        (
            f"/barn?lang={lang.value}",
            "Vis barnet, der er i kontekst nu",
            "Show the child in context now",
        )
        if child is not None
        else (f"/mine?lang={lang.value}", "Til Mine børn", "To My children")
    )
    return problem_page(request, lang, SUPERSEDED, link=link, principal=principal)
