"""The simulated EHR beside the app, for the OpenID Connect and SMART launch tests.

The app runs in a TestClient; every call it makes to the EHR (discovery, keys, token, FHIR)
goes over real HTTP to the simulator on a loopback port. The browser's hops to the EHR's
authorization endpoint are made with a real HTTP client too, and the EHR's answer is
carried back to the app, as a browser would.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from paatvaers.settings import ClaimMapping, Settings, SmartIssuer
from paatvaers.sources.ehr.simulator import EhrClient, EhrPatient, EhrSimulator, EhrUser
from paatvaers.web import create_app
from paatvaers.web.sessions import CookieCipher
from support.access import NOW, AccessWorld, State, running_access_world

CLIENT_ID = "paatvaers"
CLIENT_SECRET = "test-secret-not-for-production"
SESSION_SECRET = "ehr-tests-only"
APP = "http://testserver"  # where the TestClient's app is, for the EHR's registration
SESSION_COOKIE = "paatvaers_session"


@contextmanager
def access_world_in_new_database(server_url: str, template_name: str) -> Iterator[AccessWorld]:
    """The exact access scenario in a database of its own (migrated from the template), for
    a whole test module; dropped afterwards."""
    name = f"paatvaers_ehr_{uuid.uuid4().hex[:10]}"
    admin_url = make_url(server_url).set(drivername="postgresql")
    admin = admin_url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_name}")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        with running_access_world(url) as world:
            yield world
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def patient_for(world: AccessWorld, state: State) -> EhrPatient:
    """The EHR's record of the scenario's child in this state, under the name the
    population register gives it."""
    return EhrPatient.from_cpr(world.scenario.children[state], f"Barn {state.value}")


def practitioner(username: str) -> EhrUser:
    """An EHR user whose login names the staff user `username` (`preferred_username`)."""
    return EhrUser(
        id=f"prac-{username.replace('_', '-')}",
        name=f"Test {username}",
        claims={"preferred_username": username},
    )


def register_app(ehr: EhrSimulator, base: str = APP, secret: str | None = CLIENT_SECRET) -> None:
    ehr.register_client(
        EhrClient(
            client_id=CLIENT_ID,
            secret=secret,
            redirect_uris=(f"{base}/launch/callback", f"{base}/log-ind/oidc/callback"),
            launch_url=f"{base}/launch",
        )
    )


def app_settings(
    world: AccessWorld,
    ehr: EhrSimulator,
    smart_claims: ClaimMapping | None = None,
    **extra: Any,
) -> Settings:
    """The app's settings: the scenario's database and consent service, the EHR registered
    as a SMART issuer and as the OpenID Connect provider."""
    values: dict[str, Any] = {
        "database_url": world.database_url,
        "consent_url": world.consent_url,
        "session_secret": SESSION_SECRET,
        "smart_issuers": [
            SmartIssuer(
                iss=ehr.fhir_base,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                claims=smart_claims or ClaimMapping(),
            )
        ],
        "oidc_issuer": ehr.issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
    }
    values.update(extra)
    return Settings(**values)


@contextmanager
def app_client(world: AccessWorld, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, world.engine, clock=lambda: NOW)) as client:
        yield client


def via_ehr(client: TestClient, response: Any) -> Any:
    """Follow the app's redirect to the EHR over real HTTP, and the EHR's redirect back into
    the app: the answer of the app's callback (not followed further)."""
    assert response.status_code == 302, response.text[:500]
    at_ehr = httpx2.get(response.headers["location"], follow_redirects=False)
    assert at_ehr.status_code == 302, at_ehr.text[:500]
    back = at_ehr.headers["location"]
    assert back.startswith(APP + "/"), back
    return client.get(back, follow_redirects=False)


def launch(client: TestClient, ehr: EhrSimulator, patient_id: str, user_id: str) -> Any:
    """The EHR launches the app for a patient: the answer of the app's callback."""
    token = ehr.new_launch(patient_id, user_id)
    start = client.get(
        "/launch", params={"iss": ehr.fhir_base, "launch": token}, follow_redirects=False
    )
    return via_ehr(client, start)


def session_of(client: TestClient) -> dict[str, Any]:
    """The app's session as its encrypted cookie holds it (empty without one)."""
    cookie = client.cookies.get(SESSION_COOKIE)
    if not cookie:
        return {}
    data = CookieCipher(SESSION_SECRET).unsign(cookie.encode())
    session: dict[str, Any] = json.loads(base64.b64decode(data))
    return session
