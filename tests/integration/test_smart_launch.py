"""SMART App Launch 2.x EHR launch against the simulated EHR over real HTTP: the launch
request, PKCE, state, the ID token's issuer and audience, the patient's CPR number, the
principal and the child in context, and a new launch replacing the old context."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import suppress
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.patient import Patient
from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.domain.organisations import UnitKind
from paatvaers.population.generator import Population
from paatvaers.settings import ClaimMapping
from paatvaers.sources.ehr.simulator import (
    CPR_SYSTEM,
    DK_CORE_PATIENT,
    EhrPatient,
    EhrSimulator,
    EhrUser,
    RunningEhr,
    configure_demo,
    s256,
)
from paatvaers.store.tables import AccessEventRow
from paatvaers.web.launch import cpr_of
from paatvaers.web.oidc import LoginRefused
from support.access import AccessWorld, State
from support.ehr import (
    APP,
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_COOKIE,
    access_world_in_new_database,
    app_client,
    app_settings,
    launch,
    patient_for,
    practitioner,
    register_app,
    session_of,
    via_ehr,
)

GP = "praktiserende_laege"
SCOPE = "launch openid fhirUser patient/Patient.r"
VERIFIER = "v" * 43 + "-erifier.of~the_test"


@pytest.fixture(scope="module")
def world(server_url: str, template_name: str) -> Iterator[AccessWorld]:
    with access_world_in_new_database(server_url, template_name) as access_world:
        yield access_world


@pytest.fixture(scope="module")
def running_ehr(world: AccessWorld) -> Iterator[EhrSimulator]:
    with RunningEhr() as ehr:
        ehr.add_patients(patient_for(world, s) for s in (State.ACTIVE, State.BLOCKED))
        ehr.add_patients([EhrPatient(id="uden-cpr", name="Udenlandsk Patient")])
        for username in (GP, "bup_laege", "ukendt_bruger"):
            ehr.add_user(practitioner(username))
        register_app(ehr)
        yield ehr


@pytest.fixture
def ehr(running_ehr: EhrSimulator) -> Iterator[EhrSimulator]:
    yield running_ehr
    running_ehr.id_token_overrides.clear()
    running_ehr.discovery_overrides.clear()


@pytest.fixture
def client(world: AccessWorld, ehr: EhrSimulator) -> Iterator[TestClient]:
    with app_client(world, app_settings(world, ehr)) as test_client:
        yield test_client


def _pid(world: AccessWorld, state: State) -> str:
    return patient_for(world, state).id


def _uid(username: str) -> str:
    return practitioner(username).id


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _authorize(ehr: EhrSimulator, **params: str) -> dict[str, str]:
    """Ask the EHR's authorization endpoint directly, as a client would: its redirect's
    parameters."""
    base = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": f"{APP}/launch/callback",
        "scope": SCOPE,
        "state": "s1",
        "aud": ehr.fhir_base,
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    answer = httpx2.get(
        f"{ehr.base_url}/auth/authorize",
        params={k: v for k, v in {**base, **params}.items() if v},
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return _query(answer.headers["location"])


def _token(ehr: EhrSimulator, code: str, verifier: str = VERIFIER) -> httpx2.Response:
    return httpx2.post(
        f"{ehr.base_url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{APP}/launch/callback",
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
    )


def test_the_ehr_publishes_its_smart_configuration_keys_and_capabilities(
    ehr: EhrSimulator,
) -> None:
    config = httpx2.get(f"{ehr.fhir_base}/.well-known/smart-configuration").json()
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"launch-ehr", "context-ehr-patient", "sso-openid-connect"} <= set(
        config["capabilities"]
    )
    assert config["issuer"] == ehr.issuer
    keys = httpx2.get(config["jwks_uri"]).json()["keys"]
    assert [(k["kty"], k["alg"], "d" in k) for k in keys] == [("RSA", "RS256", False)]
    metadata = httpx2.get(f"{ehr.fhir_base}/metadata")
    assert metadata.headers["content-type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(metadata.json())
    assert statement.rest[0].security.service[0].coding[0].code == "SMART-on-FHIR"


def test_the_patient_is_a_dk_core_patient_that_only_the_launchs_token_reads(
    world: AccessWorld, ehr: EhrSimulator
) -> None:
    active = _pid(world, State.ACTIVE)
    assert httpx2.get(f"{ehr.fhir_base}/Patient/{active}").status_code == 401
    answer = _authorize(ehr, launch=ehr.new_launch(active, _uid(GP)))
    issued = _token(ehr, answer["code"])
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert token["patient"] == active and token["token_type"] == "Bearer"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    read = httpx2.get(f"{ehr.fhir_base}/Patient/{active}", headers=bearer)

    assert read.headers["content-type"].startswith("application/fhir+json")
    patient = Patient.model_validate(read.json())
    assert patient.meta.profile == [DK_CORE_PATIENT]
    assert [(i.system, i.value) for i in patient.identifier] == [
        (CPR_SYSTEM, world.scenario.children[State.ACTIVE].value)
    ]
    other = httpx2.get(f"{ehr.fhir_base}/Patient/{_pid(world, State.BLOCKED)}", headers=bearer)
    assert other.status_code == 403


def test_the_ehr_requires_and_verifies_pkce(world: AccessWorld, ehr: EhrSimulator) -> None:
    active, user = _pid(world, State.ACTIVE), _uid(GP)
    without = _authorize(ehr, launch=ehr.new_launch(active, user), code_challenge="")
    assert without["error"] == "invalid_request" and "code" not in without
    plain = _authorize(ehr, launch=ehr.new_launch(active, user), code_challenge_method="plain")
    assert plain["error"] == "invalid_request"

    code = _authorize(ehr, launch=ehr.new_launch(active, user))["code"]
    wrong = _token(ehr, code, verifier="w" * 43)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert "PKCE" in wrong.json()["error_description"]
    assert _token(ehr, code).status_code == 400  # a code is tried once

    right = _token(ehr, _authorize(ehr, launch=ehr.new_launch(active, user))["code"])
    assert right.status_code == 200


def test_an_ehr_launch_logs_the_gp_in_with_the_child_in_context(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    child = world.scenario.children[State.ACTIVE]
    token = ehr.new_launch(_pid(world, State.ACTIVE), _uid(GP))
    start = client.get(
        "/launch", params={"iss": ehr.fhir_base, "launch": token}, follow_redirects=False
    )

    assert start.headers["location"].startswith(f"{ehr.base_url}/auth/authorize?")
    asked = _query(start.headers["location"])
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["redirect_uri"] == f"{APP}/launch/callback"
    assert asked["scope"] == SCOPE
    assert asked["aud"] == ehr.fhir_base and asked["launch"] == token
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"]

    callback = via_ehr(client, start)

    assert callback.status_code == 303, callback.text[:800]
    context_url = callback.headers["location"]
    assert context_url.startswith("/barn/kontekst/")
    session = session_of(client)
    principal = session["principal"]
    assert principal["username"] == GP and principal["function"] == GP
    assert principal["unit_id"] == str(world.scenario.units[UnitKind.GP].id)
    assert session["login"] == "smart"
    assert session["child"] == {"cpr": child.value, "purpose": "TREAT"}
    raw = str(client.cookies.get(SESSION_COOKIE))
    assert child.value not in raw and child.value not in _readable(raw)  # encrypted
    assert context_url.split("/")[3].split("?")[0] == session["launch"]["id"]
    assert not [key for key in session if key.startswith("_state_")]  # flow state is gone

    overview = client.get(context_url)

    assert overview.status_code == 200
    for shown in ("Barn active", "Sag om støtte", "Testby Skole", "70000001"):
        assert shown in overview.text
    with Session(world.engine) as db:
        purposes = set(
            db.scalars(
                select(AccessEventRow.purpose).where(
                    AccessEventRow.child_cpr == child.value, AccessEventRow.username == GP
                )
            )
        )
    assert purposes == {"TREAT"}


def test_a_new_launch_replaces_the_context_and_the_old_page_shows_no_child(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    first = launch(client, ehr, _pid(world, State.ACTIVE), _uid(GP)).headers["location"]
    assert "Barn active" in client.get(first).text

    second = launch(client, ehr, _pid(world, State.BLOCKED), _uid(GP)).headers["location"]

    assert second != first
    now_shown = client.get(second)
    assert "Barn blocked" in now_shown.text and "Barn active" not in now_shown.text
    old = client.get(first)
    assert old.status_code == 409
    assert "Patienten er skiftet" in old.text
    assert "Barn active" not in old.text and "Barn blocked" not in old.text

    # Choosing a child by hand supersedes the launch too.
    chosen = client.post(
        "/barn/vaelg",
        data={
            "cpr": world.scenario.children[State.ACTIVE].value,
            "purpose": "COC",
            "csrf": session_of(client)["csrf"],
        },
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert client.get(second).status_code == 409
    assert "Barn active" in client.get("/barn").text


def test_a_failed_relaunch_leaves_no_child_in_context(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    first = launch(client, ehr, _pid(world, State.ACTIVE), _uid(GP)).headers["location"]
    used = ehr.new_launch(_pid(world, State.BLOCKED), _uid(GP))
    ehr.launches[used].used = True  # the EHR refuses this launch token

    refused = via_ehr(
        client,
        client.get(
            "/launch", params={"iss": ehr.fhir_base, "launch": used}, follow_redirects=False
        ),
    )

    assert refused.status_code == 400
    assert client.get(first).status_code == 409
    assert client.get("/barn", follow_redirects=False).headers["location"].startswith("/mine")


def test_a_launch_from_an_unregistered_ehr_is_refused_without_asking_it(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    with RunningEhr() as stranger:
        stranger.add_patients([patient_for(world, State.ACTIVE)])
        stranger.add_user(practitioner(GP))
        register_app(stranger)
        token = stranger.new_launch(_pid(world, State.ACTIVE), _uid(GP))

        refused = client.get(
            "/launch", params={"iss": stranger.fhir_base, "launch": token}, follow_redirects=False
        )

        assert refused.status_code == 400
        assert "ikke registreret" in refused.text
        assert stranger.requests == []
    no_launch = client.get("/launch", params={"iss": ehr.fhir_base}, follow_redirects=False)
    assert no_launch.status_code == 400
    assert session_of(client).get("principal") is None


def test_a_callback_needs_this_browsers_state_and_is_used_once(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    token = ehr.new_launch(_pid(world, State.ACTIVE), _uid(GP))
    start = client.get(
        "/launch", params={"iss": ehr.fhir_base, "launch": token}, follow_redirects=False
    )
    at_ehr = httpx2.get(start.headers["location"], follow_redirects=False)
    callback = at_ehr.headers["location"]
    answer = _query(callback)

    with app_client(world, app_settings(world, ehr)) as other_browser:
        stolen = other_browser.get(callback, follow_redirects=False)
        assert stolen.status_code == 400
        assert session_of(other_browser).get("principal") is None
    without_state = {k: v for k, v in answer.items() if k != "state"}
    assert client.get(f"/launch/callback?{urlencode(without_state)}").status_code == 400
    forged = {**answer, "state": "forged"}
    assert client.get(f"/launch/callback?{urlencode(forged)}").status_code == 400
    mixed_up = {**answer, "iss": "http://127.0.0.1:9/elsewhere"}
    assert client.get(f"/launch/callback?{urlencode(mixed_up)}").status_code == 400
    assert session_of(client).get("principal") is None

    assert client.get(callback, follow_redirects=False).status_code == 303
    assert client.get(callback, follow_redirects=False).status_code == 400  # replayed


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "http://127.0.0.1:9/another-issuer"},
        {"aud": "another-client"},
        {"aud": "another-client", "azp": CLIENT_ID},
        {"exp": int(time.time()) - 3600},
        {"nonce": "not-the-apps-nonce"},
    ],
    ids=["issuer", "audience", "audience-with-azp", "expired", "nonce"],
)
def test_an_id_token_the_app_did_not_ask_for_is_refused(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient, overrides: dict[str, object]
) -> None:
    ehr.id_token_overrides.update(overrides)

    refused = launch(client, ehr, _pid(world, State.ACTIVE), _uid(GP))

    assert refused.status_code == 400
    assert "kunne ikke godkendes" in refused.text
    assert session_of(client).get("principal") is None


def test_a_patient_without_a_cpr_number_gives_a_clear_error(
    ehr: EhrSimulator, client: TestClient
) -> None:
    refused = launch(client, ehr, "uden-cpr", _uid(GP))

    assert refused.status_code == 422
    assert "Patienten har intet CPR-nummer" in refused.text
    assert session_of(client).get("child") is None
    assert session_of(client).get("principal") is None


def test_an_ehr_user_the_platform_does_not_know_is_refused(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    refused = launch(client, ehr, _pid(world, State.ACTIVE), _uid("ukendt_bruger"))

    assert refused.status_code == 403
    assert session_of(client).get("principal") is None


def test_a_launch_whose_user_is_not_a_practitioner_is_refused(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    ehr.id_token_overrides["fhirUser"] = f"{ehr.fhir_base}/Patient/{_pid(world, State.ACTIVE)}"

    refused = launch(client, ehr, _pid(world, State.ACTIVE), _uid(GP))

    assert refused.status_code == 403
    assert session_of(client).get("principal") is None


def test_an_ehr_without_pkce_s256_is_not_used(
    world: AccessWorld, ehr: EhrSimulator, client: TestClient
) -> None:
    ehr.discovery_overrides["code_challenge_methods_supported"] = ["plain"]
    token = ehr.new_launch(_pid(world, State.ACTIVE), _uid(GP))

    refused = client.get(
        "/launch", params={"iss": ehr.fhir_base, "launch": token}, follow_redirects=False
    )

    assert refused.status_code == 502
    assert not any(query.get("launch") == token for _, _, query in ehr.requests)


def test_an_ehr_user_known_only_by_claims_is_mapped_to_function_and_unit(
    world: AccessWorld, ehr: EhrSimulator
) -> None:
    ehr.add_user(
        EhrUser(
            id="prac-vikar",
            name="Vikar Lægesen",
            claims={
                "preferred_username": "vikar.laegesen",
                "rolle": "Alment praktiserende læge",
                "sor": "900000000002",
            },
        )
    )
    mapping = ClaimMapping(
        function="rolle",
        function_values={"Alment praktiserende læge": GP},
        unit="sor",
        unit_identifier="sor",
    )
    with app_client(world, app_settings(world, ehr, smart_claims=mapping)) as client:
        landed = launch(client, ehr, _pid(world, State.ACTIVE), "prac-vikar")

        assert landed.status_code == 303
        principal = session_of(client)["principal"]
        assert principal["username"] == "vikar.laegesen" and principal["function"] == GP
        assert principal["unit_id"] == str(world.scenario.units[UnitKind.GP].id)
        assert "Sag om støtte" in client.get(landed.headers["location"]).text


def test_the_demo_ehr_has_the_health_demo_users_and_their_patients(
    test_population: Population,
) -> None:
    ehr = EhrSimulator("http://127.0.0.1:9")
    configure_demo(ehr, test_population, "http://127.0.0.1:8000/")

    demo = {s.username: s for s in test_population.demo_users()}
    assert set(ehr.users) == {"praktiserende-laege", "bup-laege"}
    gp_unit = demo["praktiserende-laege"].unit_id
    bup_sor = next(u.sor for u in test_population.org_units if u.id == demo["bup-laege"].unit_id)
    at_bup = {
        a.patient_cpr.value for a in test_population.appointments if a.performer_sor == bup_sor
    }
    assert 0 < len(ehr.patients) <= 40
    for patient in ehr.patients.values():
        assert patient.cpr is not None
        assert test_population.gp_of.get(patient.cpr) == gp_unit or patient.cpr in at_bup
    client = ehr.clients["paatvaers"]
    assert client.redirect_uris == ("http://127.0.0.1:8000/launch/callback",)
    assert client.launch_url == "http://127.0.0.1:8000/launch"


A_CPR = "0505209996"  # dk-core's example child (Rikke Test Berggren)


@pytest.mark.parametrize(
    ("identifiers", "expected"),
    [
        ([{"system": CPR_SYSTEM, "value": A_CPR}], A_CPR),
        ([{"system": CPR_SYSTEM, "value": "050520-9996"}], A_CPR),
        (
            [
                {"system": CPR_SYSTEM, "value": "0101101234", "use": "old"},
                {"system": "urn:oid:1.2.208.176.1.6.1.1", "value": "0101701AB3"},
                {"system": CPR_SYSTEM, "value": A_CPR},
            ],
            A_CPR,
        ),
        ([], None),
        ([{"system": "https://ehr.example/patientnummer", "value": "123"}], None),
        (
            [{"system": CPR_SYSTEM, "value": A_CPR}, {"system": CPR_SYSTEM, "value": "0101101234"}],
            None,
        ),
        ([{"system": CPR_SYSTEM, "value": "3213209996"}], None),
    ],
    ids=["cpr", "hyphen", "old-and-others-ignored", "none", "local-only", "two", "invalid"],
)
def test_the_cpr_number_is_the_one_current_dk_core_cpr_identifier(
    identifiers: list[dict[str, str]], expected: str | None
) -> None:
    patient = {"resourceType": "Patient", "id": "p", "identifier": identifiers}
    if expected is None:
        with pytest.raises(LoginRefused) as refused:
            cpr_of(patient)
        assert refused.value.problem.status == 422
    else:
        assert cpr_of(patient).value == expected


def _readable(cookie: str) -> str:
    """What a signed-only cookie shows anyone: its parts, base64-decoded where they decode."""
    parts = []
    for part in cookie.split("."):
        with suppress(ValueError):
            parts.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("latin-1"))
    return " ".join(parts)
