"""A simulated EHR: an OAuth 2 authorization server and OpenID Connect provider, a minimal
FHIR R4 server, and a launcher page, speaking the formats a real EHR's SMART server speaks,
so the app's adapter code is the same against either.

Endpoints (all under the EHR's base URL; the FHIR base is `<base>/fhir`):

* `GET /.well-known/openid-configuration`: OpenID Connect discovery; `GET /jwks`: the RS256
  signing key (generated per process);
* `GET /auth/authorize`: the authorization endpoint. It signs in without asking: the user of
  the launch (an EHR launch), or `signed_in` (a plain OpenID Connect login). It insists on a
  registered client and redirect URI, `state`, PKCE with S256, and for an EHR launch on a
  valid, unused launch token and `aud` naming the FHIR base. The answer carries RFC 9207's
  `iss`;
* `POST /auth/token`: the token endpoint (authorization code grant; client_secret_basic,
  client_secret_post or a public client). It verifies the PKCE verifier, the redirect URI and
  the client, uses a code once, and answers with `patient` and an RS256 ID token carrying
  `fhirUser` as SMART App Launch 2.x describes;
* `GET /fhir/.well-known/smart-configuration`, `GET /fhir/metadata`;
* `GET /fhir/Patient/{id}` (dk-core Patient, the CPR number as an identifier with system
  `urn:oid:1.2.208.176.1.2`), `GET /fhir/Practitioner/{id}`: bearer token required, and a
  patient-level scope reads only the patient in the launch context;
* `GET /ehr?patient=<id>[&user=<id>]`: the launcher, an EHR-like frame with a patient list,
  a patient banner and the app opened in context with a fresh launch token, in an embedded
  frame and as a link to a window of its own. Choosing another patient launches again.

Tests reach into the state (`EhrSimulator`) to add patients, users and clients, and to make
the server misbehave (`id_token_overrides`, `discovery_overrides`, `forging_key`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from paatvaers.domain.cpr import Cpr
from paatvaers.domain.organisations import UnitKind
from paatvaers.population.generator import Population
from paatvaers.sources.simulation.server import _bind

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"  # dk-core: the CPR number
DK_CORE_PATIENT = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-patient"
DK_CORE_PRACTITIONER = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-practitioner"
FHIR_JSON = "application/fhir+json"
CODE_SECONDS = 60
TOKEN_SECONDS = 300
LAUNCH_SECONDS = 300
SUPPORTED_SCOPES = (
    "openid",
    "profile",
    "fhirUser",
    "launch",
    "patient/Patient.r",
    "patient/Patient.rs",
    "user/Practitioner.r",
)
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
_HEALTH_KINDS = (UnitKind.GP, UnitKind.BUP)
_PATIENT_NAMESPACE = uuid.UUID("b6f0b3f4-5f4e-4e0a-8f7e-65687273696d")


@dataclass(frozen=True, slots=True)
class EhrPatient:
    """A patient in the EHR's records; `cpr` None for one known only by the EHR's own number."""

    id: str
    name: str
    cpr: str | None = None
    birth_date: str | None = None  # YYYY-MM-DD
    gender: str | None = None  # FHIR administrative gender

    @classmethod
    def from_cpr(cls, cpr: Cpr, name: str) -> EhrPatient:
        """The EHR's record of a person with a CPR number, under an id of the EHR's own."""
        sex = cpr.sex
        return cls(
            id=str(uuid.uuid5(_PATIENT_NAMESPACE, cpr.value)),
            name=name,
            cpr=cpr.value,
            birth_date=cpr.birth_date.isoformat(),
            gender=sex.value if sex is not None else None,
        )


@dataclass(frozen=True, slots=True)
class EhrUser:
    """A clinician with a login to the EHR; `claims` go into the ID token as they are (e.g.
    `preferred_username`, or function and unit claims)."""

    id: str  # the ID token's `sub` and the Practitioner's id
    name: str
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EhrClient:
    """An app registered with the EHR. `launch_url` is where the launcher opens it."""

    client_id: str
    secret: str | None
    redirect_uris: tuple[str, ...]
    launch_url: str | None = None
    name: str = "På Tværs – Børn & Unge"


@dataclass(slots=True)
class _Launch:
    patient_id: str
    user_id: str
    expires: float
    used: bool = False


@dataclass(slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    nonce: str | None
    user_id: str
    patient_id: str | None
    expires: float
    used: bool = False


@dataclass(frozen=True, slots=True)
class _Token:
    client_id: str
    scopes: tuple[str, ...]
    user_id: str
    patient_id: str | None
    expires: float


class OAuthRefused(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class EhrSimulator:
    """The EHR's state. Everything is in memory and guarded by one lock."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = self.base_url
        self.fhir_base = self.base_url + "/fhir"
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}
        )
        self.lock = threading.RLock()
        self.patients: dict[str, EhrPatient] = {}
        self.users: dict[str, EhrUser] = {}
        self.clients: dict[str, EhrClient] = {}
        self.signed_in: str | None = None  # the user a plain OpenID Connect login gets
        self.launches: dict[str, _Launch] = {}
        self.grants: dict[str, _Grant] = {}
        self.tokens: dict[str, _Token] = {}
        # What reached the EHR: (method, path, query parameters), for tests.
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        # Misbehaviour for tests: claims forced into every ID token, fields forced into the
        # discovery document.
        self.id_token_overrides: dict[str, Any] = {}
        self.discovery_overrides: dict[str, Any] = {}
        self.forging_key: RSAKey | None = None  # signs ID tokens instead of `key`, if set

    def add_patients(self, patients: Iterable[EhrPatient]) -> None:
        with self.lock:
            for patient in patients:
                self.patients[patient.id] = patient

    def add_user(self, user: EhrUser) -> None:
        with self.lock:
            self.users[user.id] = user
            if self.signed_in is None:
                self.signed_in = user.id

    def register_client(self, client: EhrClient) -> None:
        with self.lock:
            self.clients[client.client_id] = client

    def new_launch(self, patient_id: str, user_id: str) -> str:
        """An opaque, single-use launch token for this patient and user."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            if patient_id not in self.patients or user_id not in self.users:
                raise KeyError("unknown patient or user")
            self.launches[token] = _Launch(patient_id, user_id, time.time() + LAUNCH_SECONDS)
        return token

    def launch_url(self, client: EhrClient, launch: str) -> str:
        if client.launch_url is None:
            raise ValueError(f"{client.client_id} has no launch URL")
        return client.launch_url + "?" + urlencode({"iss": self.fhir_base, "launch": launch})

    # -- discovery ---------------------------------------------------------------------

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base_url}/auth/authorize",
            "token_endpoint": f"{self.base_url}/auth/token",
            "jwks_uri": f"{self.base_url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SUPPORTED_SCOPES),
            "claims_supported": ["sub", "name", "fhirUser", "preferred_username"],
            "grant_types_supported": ["authorization_code"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            **self.discovery_overrides,
        }

    def smart_configuration(self) -> dict[str, Any]:
        """SMART App Launch 2.x `.well-known/smart-configuration`."""
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.base_url}/jwks",
            "authorization_endpoint": f"{self.base_url}/auth/authorize",
            "token_endpoint": f"{self.base_url}/auth/token",
            "grant_types_supported": ["authorization_code"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": list(SUPPORTED_SCOPES),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": [
                "launch-ehr",
                "client-public",
                "client-confidential-symmetric",
                "context-ehr-patient",
                "sso-openid-connect",
                "permission-v2",
                "permission-patient",
            ],
            **self.discovery_overrides,
        }

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    # -- authorization -----------------------------------------------------------------

    def authorize(self, params: Mapping[str, str]) -> _Grant:
        """Check an authorization request (client and redirect URI already checked)."""
        if params.get("response_type") != "code":
            raise OAuthRefused("unsupported_response_type", "only response_type=code")
        if not params.get("state"):
            raise OAuthRefused("invalid_request", "state is required")
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):
            raise OAuthRefused("invalid_request", "PKCE with code_challenge_method=S256 required")
        scopes = tuple(params.get("scope", "").split())
        unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
        if unknown:
            raise OAuthRefused("invalid_scope", f"unsupported scopes {unknown}")
        aud = params.get("aud")
        if aud is not None and aud.rstrip("/") != self.fhir_base:
            raise OAuthRefused("invalid_request", "aud does not name this FHIR server")
        with self.lock:
            patient_id: str | None = None
            if "launch" in scopes:
                if aud is None:
                    raise OAuthRefused("invalid_request", "an EHR launch must name aud")
                launch = self.launches.get(params.get("launch", ""))
                if launch is None or launch.used or launch.expires < time.time():
                    raise OAuthRefused("invalid_request", "unknown, used or expired launch")
                launch.used = True
                patient_id, user_id = launch.patient_id, launch.user_id
            elif any(s.startswith("patient/") for s in scopes):
                raise OAuthRefused("invalid_scope", "patient scopes need an EHR launch")
            elif self.signed_in is None:
                raise OAuthRefused("access_denied", "nobody is signed in")
            else:
                user_id = self.signed_in
            grant = _Grant(
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                scopes=scopes,
                code_challenge=challenge,
                nonce=params.get("nonce"),
                user_id=user_id,
                patient_id=patient_id,
                expires=time.time() + CODE_SECONDS,
            )
        return grant

    def issue_code(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.grants[code] = grant
        return code

    def exchange(self, client: EhrClient, form: Mapping[str, str]) -> dict[str, Any]:
        """The token endpoint's answer to an authenticated client."""
        if form.get("grant_type") != "authorization_code":
            raise OAuthRefused("unsupported_grant_type", "only authorization_code")
        with self.lock:
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used or grant.expires < time.time():
                raise OAuthRefused("invalid_grant", "unknown, used or expired code")
            grant.used = True
        if grant.client_id != client.client_id:
            raise OAuthRefused("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthRefused("invalid_grant", "redirect_uri differs from the authorization's")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.fullmatch(verifier) or s256(verifier) != grant.code_challenge:
            raise OAuthRefused("invalid_grant", "PKCE verification failed")
        access_token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[access_token] = _Token(
                client.client_id,
                grant.scopes,
                grant.user_id,
                grant.patient_id,
                time.time() + TOKEN_SECONDS,
            )
        answer: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": " ".join(grant.scopes),
        }
        if grant.patient_id is not None:
            answer["patient"] = grant.patient_id
            answer["need_patient_banner"] = False  # the EHR shows its own banner
        if "openid" in grant.scopes:
            answer["id_token"] = self.id_token(client.client_id, grant)
        return answer

    def id_token(self, client_id: str, grant: _Grant) -> str:
        user = self.users[grant.user_id]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": user.id,
            "aud": client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "auth_time": now,
            "name": user.name,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        if "fhirUser" in grant.scopes:
            claims["fhirUser"] = f"{self.fhir_base}/Practitioner/{user.id}"
        claims.update(user.claims)
        claims.update(self.id_token_overrides)
        key = self.forging_key or self.key
        header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key)

    def authenticate(self, request: Request, form: Mapping[str, str]) -> EhrClient:
        """The client of a token request: HTTP Basic, form secret, or a public client."""
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
            except ValueError as exc:
                raise OAuthRefused("invalid_client", "malformed Basic credentials", 401) from exc
            client_id, _, secret = decoded.partition(":")
        with self.lock:
            client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthRefused("invalid_client", "unknown client", 401)
        if client.secret is not None and not secrets.compare_digest(
            client.secret.encode(), (secret or "").encode()
        ):
            raise OAuthRefused("invalid_client", "wrong client secret", 401)
        return client

    # -- FHIR --------------------------------------------------------------------------

    def bearer(self, request: Request) -> _Token | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        with self.lock:
            token = self.tokens.get(header[7:].strip())
        if token is None or token.expires < time.time():
            return None
        return token

    def patient_resource(self, patient: EhrPatient) -> dict[str, Any]:
        identifiers = (
            [{"system": CPR_SYSTEM, "value": patient.cpr}]
            if patient.cpr
            else [{"system": f"{self.base_url}/patientnummer", "value": patient.id}]
        )
        given, _, family = patient.name.rpartition(" ")
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "id": patient.id,
            "meta": {"profile": [DK_CORE_PATIENT]},
            "identifier": identifiers,
            "name": [{"use": "official", "family": family, "given": given.split() or [family]}],
        }
        if patient.gender:
            resource["gender"] = patient.gender
        if patient.birth_date:
            resource["birthDate"] = patient.birth_date
        return resource

    def practitioner_resource(self, user: EhrUser) -> dict[str, Any]:
        given, _, family = user.name.rpartition(" ")
        return {
            "resourceType": "Practitioner",
            "id": user.id,
            "meta": {"profile": [DK_CORE_PRACTITIONER]},
            "name": [{"use": "official", "family": family, "given": given.split() or [family]}],
        }

    def capability_statement(self) -> dict[str, Any]:
        read = [{"code": "read"}]
        return {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-01-01",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "implementation": {"description": "Simuleret EPJ", "url": self.fhir_base},
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/"
                                        "restful-security-service",
                                        "code": "SMART-on-FHIR",
                                    }
                                ]
                            }
                        ]
                    },
                    "resource": [
                        {"type": "Patient", "interaction": read},
                        {"type": "Practitioner", "interaction": read},
                    ],
                }
            ],
        }


def s256(verifier: str) -> str:
    """RFC 7636's S256 code challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def permits_read(scopes: Iterable[str], resource_type: str) -> tuple[bool, bool]:
    """Whether the scopes let the token read the resource type: (at all, any patient), the
    second False when only patient-level scopes allow it (the launch's patient only)."""
    allowed = any_patient = False
    for scope in scopes:
        compartment, _, rest = scope.partition("/")
        kind, _, permissions = rest.partition(".")
        if compartment not in ("patient", "user", "system") or kind not in (resource_type, "*"):
            continue
        if permissions in ("read", "*") or (permissions and "r" in permissions):
            allowed = True
            any_patient = any_patient or compartment != "patient"
    return allowed, any_patient


def _oauth_error(exc: OAuthRefused) -> Response:
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _outcome(status: int, code: str, text: str, **headers: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers)


def create_app(ehr: EhrSimulator) -> Starlette:
    async def launcher(request: Request) -> Response:
        _record(ehr, request)
        return HTMLResponse(launcher_page(ehr, request.query_params))

    async def home(_request: Request) -> Response:
        return RedirectResponse("/ehr", status_code=302)

    return Starlette(
        routes=[
            Route("/", home),
            *_auth_routes(ehr),
            *_fhir_routes(ehr),
            Route("/ehr", launcher),
        ]
    )


def _record(ehr: EhrSimulator, request: Request) -> None:
    with ehr.lock:
        ehr.requests.append((request.method, request.url.path, dict(request.query_params)))


def _auth_routes(ehr: EhrSimulator) -> list[Route]:
    """Discovery, keys, the authorization and the token endpoint."""

    async def openid_configuration(request: Request) -> Response:
        _record(ehr, request)
        return JSONResponse(ehr.openid_configuration())

    async def smart_configuration(request: Request) -> Response:
        _record(ehr, request)
        return JSONResponse(ehr.smart_configuration())

    async def jwks(request: Request) -> Response:
        _record(ehr, request)
        return JSONResponse(ehr.jwks())

    async def authorize(request: Request) -> Response:
        _record(ehr, request)
        params = dict(request.query_params)
        with ehr.lock:
            client = ehr.clients.get(params.get("client_id", ""))
        redirect = params.get("redirect_uri", "")
        if client is None or redirect not in client.redirect_uris:
            # Never redirect to an address the client has not registered.
            return HTMLResponse(
                "<!DOCTYPE html><html lang='da'><title>Fejl</title><h1>Ukendt klient eller "
                "redirect_uri</h1></html>",
                status_code=400,
            )
        answer: dict[str, str] = {}
        try:
            answer["code"] = ehr.issue_code(ehr.authorize(params))
        except OAuthRefused as refused:
            answer = {"error": refused.error, "error_description": refused.description}
        if params.get("state"):
            answer["state"] = params["state"]
        answer["iss"] = ehr.issuer
        separator = "&" if "?" in redirect else "?"
        return RedirectResponse(redirect + separator + urlencode(answer), status_code=302)

    async def token(request: Request) -> Response:
        _record(ehr, request)
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            client = ehr.authenticate(request, form)
            answer = ehr.exchange(client, form)
        except OAuthRefused as refused:
            return _oauth_error(refused)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return [
        Route("/.well-known/openid-configuration", openid_configuration),
        Route("/jwks", jwks),
        Route("/auth/authorize", authorize),
        Route("/auth/token", token, methods=["POST"]),
        Route("/fhir/.well-known/smart-configuration", smart_configuration),
    ]


def _fhir_routes(ehr: EhrSimulator) -> list[Route]:
    """The FHIR server: its capability statement, and reading a Patient and a Practitioner."""

    async def metadata(request: Request) -> Response:
        _record(ehr, request)
        return JSONResponse(ehr.capability_statement(), media_type=FHIR_JSON)

    def authorised(request: Request, resource_type: str) -> _Token | Response:
        token = ehr.bearer(request)
        if token is None:
            return _outcome(
                401,
                "login",
                "a valid bearer token is required",
                **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        allowed, _ = permits_read(token.scopes, resource_type)
        if not allowed:
            return _outcome(403, "forbidden", f"the token's scopes do not read {resource_type}")
        return token

    async def patient(request: Request) -> Response:
        _record(ehr, request)
        token = authorised(request, "Patient")
        if isinstance(token, Response):
            return token
        patient_id = request.path_params["id"]
        _, any_patient = permits_read(token.scopes, "Patient")
        if not any_patient and patient_id != token.patient_id:
            return _outcome(403, "forbidden", "the token is for another patient")
        with ehr.lock:
            found = ehr.patients.get(patient_id)
        if found is None:
            return _outcome(404, "not-found", f"Patient/{patient_id} is not known")
        return JSONResponse(ehr.patient_resource(found), media_type=FHIR_JSON)

    async def practitioner(request: Request) -> Response:
        _record(ehr, request)
        token = authorised(request, "Practitioner")
        if isinstance(token, Response):
            return token
        with ehr.lock:
            user = ehr.users.get(request.path_params["id"])
        if user is None:
            return _outcome(404, "not-found", "no such Practitioner")
        return JSONResponse(ehr.practitioner_resource(user), media_type=FHIR_JSON)

    return [
        Route("/fhir/metadata", metadata),
        Route("/fhir/Patient/{id}", patient),
        Route("/fhir/Practitioner/{id}", practitioner),
    ]


def _format_cpr(cpr: str | None) -> str:
    return f"{cpr[:6]}-{cpr[6:]}" if cpr else "intet CPR-nummer"


def launcher_page(ehr: EhrSimulator, query: Mapping[str, str]) -> str:
    """The EHR's screen: whom it is signed in as, its patient list, and for the chosen patient
    a banner and the app launched in context (a fresh launch token for each opening)."""
    with ehr.lock:
        users = dict(ehr.users)
        patients = dict(ehr.patients)
        client = next((c for c in ehr.clients.values() if c.launch_url), None)
    user = users.get(query.get("user", "")) or next(iter(users.values()), None)
    chosen = patients.get(query.get("patient", ""))
    esc = html.escape
    rows = []
    for p in patients.values():
        href = "/ehr?" + urlencode({"patient": p.id, "user": user.id if user else ""})
        current = ' aria-current="page"' if chosen and p.id == chosen.id else ""
        rows.append(
            f'<li><a href="{esc(href)}"{current}>{esc(p.name)}</a>'
            f" <small>{esc(_format_cpr(p.cpr))}</small></li>"
        )
    body = "<p>Vælg en patient i listen.</p>"
    if chosen is not None and user is not None and client is not None:
        embedded = ehr.launch_url(client, ehr.new_launch(chosen.id, user.id))
        separate = ehr.launch_url(client, ehr.new_launch(chosen.id, user.id))
        body = (
            f'<section class="banner" aria-label="Patient"><h2>{esc(chosen.name)}</h2>'
            f"<p>CPR {esc(_format_cpr(chosen.cpr))}"
            f"{' · født ' + esc(chosen.birth_date) if chosen.birth_date else ''}</p></section>"
            f'<p><a id="open-window" href="{esc(separate)}" target="paatvaers">'
            f"Åbn {esc(client.name)} i eget vindue</a></p>"
            f'<iframe id="app" name="app-frame" title="{esc(client.name)}" '
            f'src="{esc(embedded)}"></iframe>'
        )
    who = esc(user.name) if user else "ingen bruger"
    return f"""<!DOCTYPE html>
<html lang="da">
<head>
<meta charset="utf-8">
<title>Simuleret EPJ{" – " + esc(chosen.name) if chosen else ""}</title>
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; color: #1a1a1a; }}
header {{ background: #2b3a4a; color: #fff; padding: .5rem 1rem; display: flex;
  justify-content: space-between; }}
.layout {{ display: grid; grid-template-columns: 16rem 1fr; min-height: 90vh; }}
nav {{ background: #eef1f4; padding: 1rem; }}
nav ul {{ list-style: none; padding: 0; }} nav li {{ margin: .4rem 0; }}
nav a[aria-current] {{ font-weight: bold; }}
main {{ padding: 1rem; }}
.banner {{ background: #fff6d6; border-left: 6px solid #c49a00; padding: .5rem 1rem; }}
.banner h2 {{ margin: 0; }}
iframe {{ width: 100%; height: 75vh; border: 1px solid #888; }}
</style>
</head>
<body>
<header><h1 style="font-size:1.1rem;margin:0">Simuleret EPJ (syntetiske data)</h1>
<p style="margin:0">Logget ind: {who}</p></header>
<div class="layout">
<nav aria-label="Patienter"><h2 style="font-size:1rem">Patienter</h2><ul>{"".join(rows)}</ul></nav>
<main>{body}</main>
</div>
</body>
</html>
"""


def configure_demo(
    ehr: EhrSimulator,
    population: Population,
    app_url: str,
    client_id: str = "paatvaers",
    secret: str | None = None,
    patients: int = 40,
) -> None:
    """The EHR of the demo: the health demo users (the GP and the BUP doctor) as its users,
    the children on the GP's list and in the BUP unit's appointments as its patients, and
    the app at `app_url` registered. The app needs `SmartIssuer(iss=ehr.fhir_base, ...)`."""
    health = [s for s in population.demo_users() if s.function.unit_kind in _HEALTH_KINDS]
    units = {s.unit_id for s in health}
    sors = {u.sor.value for u in population.org_units if u.id in units and u.sor is not None}
    seen = {a.patient_cpr.value for a in population.appointments if a.performer_sor.value in sors}
    seen |= {cpr for cpr, gp in population.gp_of.items() if gp in units}
    chosen = sorted((c for c in population.children if c.cpr.value in seen), key=lambda c: c.name)
    ehr.add_patients(EhrPatient.from_cpr(c.cpr, c.name) for c in chosen[:patients])
    for member in health:
        ehr.add_user(
            EhrUser(member.username, member.full_name, {"preferred_username": member.username})
        )
    base = app_url.rstrip("/")
    ehr.register_client(
        EhrClient(client_id, secret, (f"{base}/launch/callback",), f"{base}/launch")
    )


class RunningEhr:
    """The simulated EHR on 127.0.0.1 (port 0 picks a free one), served in a thread. Its
    state is `self.ehr`, to be filled before or while it serves."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.socket = _bind(host, port)
        self.url = f"http://{host}:{self.socket.getsockname()[1]}"
        self.ehr = EhrSimulator(self.url)
        self._server = uvicorn.Server(
            uvicorn.Config(create_app(self.ehr), log_config=None, access_log=False, lifespan="off")
        )
        self._thread = threading.Thread(target=self._run, name="ehr-simulator", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self.socket]))

    def __enter__(self) -> EhrSimulator:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the EHR simulator did not start")
            time.sleep(0.01)
        return self.ehr

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self.socket.close()
