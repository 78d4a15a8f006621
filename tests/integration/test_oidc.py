"""OpenID Connect login against the simulated EHR's OpenID provider over real HTTP: the
authorization request (PKCE, state, nonce), the ID token's checks, and the configurable
mapping of claims to the user, the employee function, the unit and KOMBIT's data
restrictions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey

from paatvaers.domain.organisations import UnitKind
from paatvaers.settings import ClaimMapping
from paatvaers.sources.ehr.simulator import EhrSimulator, EhrUser, RunningEhr
from support.access import AccessWorld, State
from support.ehr import (
    APP,
    CLIENT_ID,
    access_world_in_new_database,
    app_client,
    app_settings,
    practitioner,
    register_app,
    session_of,
    via_ehr,
)

KOMBIT = ClaimMapping(
    username="preferred_username",
    user_id="bruger_uuid",
    function="rolle",
    function_values={"PPR-psykolog": "ppr_psykolog", "Socialrådgiver": "socialraadgiver"},
    unit="enhed",
    unit_identifier="fk_org",
    kle="kle",
    max_sensitivity="foelsomhed",
    cvr="cvr",
)


@pytest.fixture(scope="module")
def world(server_url: str, template_name: str) -> Iterator[AccessWorld]:
    with access_world_in_new_database(server_url, template_name) as access_world:
        yield access_world


@pytest.fixture(scope="module")
def running_ehr() -> Iterator[EhrSimulator]:
    with RunningEhr() as ehr:
        register_app(ehr)
        yield ehr


@pytest.fixture
def ehr(running_ehr: EhrSimulator) -> Iterator[EhrSimulator]:
    yield running_ehr
    running_ehr.id_token_overrides.clear()
    running_ehr.discovery_overrides.clear()


def _sign_in(ehr: EhrSimulator, user: EhrUser) -> None:
    """The provider's user: the one its authorization endpoint signs in without asking."""
    ehr.add_user(user)
    ehr.signed_in = user.id


def _kombit_user(world: AccessWorld, **claims: Any) -> EhrUser:
    """A municipal user as KOMBIT's context handler would describe her, with no staff row in
    the platform."""
    unit = world.scenario.units[UnitKind.PPR]
    assert unit.cvr is not None and unit.fk_org_uuid is not None
    values: dict[str, Any] = {
        "preferred_username": "ny.psykolog@kommune.example",
        "bruger_uuid": "4a5c3d2e-1f00-4b6a-9c8d-7e6f5a4b3c2d",
        "rolle": "PPR-psykolog",
        "enhed": str(unit.fk_org_uuid),
        "kle": ["17.*", "27.24.*"],
        "foelsomhed": "FORTROLIGE_PERSONOPLYSNINGER",
        "cvr": unit.cvr.value,
        **claims,
    }
    return EhrUser(id=f"kombit-{uuid.uuid4().hex[:8]}", name="Ny Psykolog", claims=values)


def _log_in(client: TestClient) -> Any:
    return via_ehr(client, client.get("/log-ind/oidc", follow_redirects=False))


def test_a_stored_staff_user_logs_in_through_the_provider_without_demo_mode(
    world: AccessWorld, ehr: EhrSimulator
) -> None:
    _sign_in(ehr, practitioner("socialraadgiver"))
    settings = app_settings(world, ehr)
    assert not settings.demo_mode
    with app_client(world, settings) as client:
        start = client.get("/log-ind/oidc", follow_redirects=False)
        asked = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
        assert start.headers["location"].startswith(f"{ehr.base_url}/auth/authorize?")
        assert asked["client_id"] == CLIENT_ID and asked["scope"] == "openid profile"
        assert asked["redirect_uri"] == f"{APP}/log-ind/oidc/callback"
        assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
        assert asked["state"] and asked["nonce"] and "launch" not in asked

        landed = via_ehr(client, start)

        assert landed.status_code == 303 and landed.headers["location"].startswith("/mine")
        session = session_of(client)
        stored = [p for p in world.scenario.principals.values() if p.username == "socialraadgiver"]
        assert session["login"] == "oidc"
        assert session["principal"]["user_id"] == str(stored[0].user_id)
        assert session["principal"]["restrictions"]["kle"] == ["27.*"]
        assert client.get("/mine").status_code == 200
        demo = client.post("/log-ind/demo", data={"username": "bup_laege", "csrf": session["csrf"]})
        assert demo.status_code == 404  # the demo login stays off


def test_claims_map_to_function_unit_and_kombit_data_restrictions(
    world: AccessWorld, ehr: EhrSimulator
) -> None:
    user = _kombit_user(world)
    _sign_in(ehr, user)
    with app_client(world, app_settings(world, ehr, oidc_claims=KOMBIT)) as client:
        landed = _log_in(client)

        assert landed.status_code == 303, landed.text[:500]
        principal = session_of(client)["principal"]
    unit = world.scenario.units[UnitKind.PPR]
    assert unit.cvr is not None
    assert principal == {
        "user_id": user.claims["bruger_uuid"],
        "username": "ny.psykolog@kommune.example",
        "function": "ppr_psykolog",
        "unit_id": str(unit.id),
        "restrictions": {
            "cvr": unit.cvr.value,
            "kle": ["17.*", "27.24.*"],
            "max": "FORTROLIGE_PERSONOPLYSNINGER",
        },
    }


@pytest.mark.parametrize(
    ("kle", "sees_the_case"), [("27.24.* 17.*", True), ("17.*", False)], ids=["27", "17-only"]
)
def test_the_restrictions_from_the_claims_decide_which_cases_show(
    world: AccessWorld, ehr: EhrSimulator, kle: str, sees_the_case: bool
) -> None:
    _sign_in(ehr, _kombit_user(world, kle=kle))
    child = world.scenario.children[State.ACTIVE].value
    with app_client(world, app_settings(world, ehr, oidc_claims=KOMBIT)) as client:
        assert _log_in(client).status_code == 303
        answer = client.post(
            "/api/overview/municipal",
            json={"cpr": child, "purpose": "COC"},
            headers={"X-CSRF-Token": session_of(client)["csrf"]},
        )
    assert answer.status_code == 200, answer.text
    cases = answer.json()["cases"]
    subjects = [c["kle"] for c in cases["data"] or []]
    assert subjects == (["27.24.03"] if sees_the_case else [])


def test_a_gp_known_by_claims_gets_the_unit_of_its_sor_code_and_no_restrictions(
    world: AccessWorld, ehr: EhrSimulator
) -> None:
    gp = world.scenario.units[UnitKind.GP]
    assert gp.sor is not None
    _sign_in(
        ehr,
        EhrUser(
            id="gp-claims",
            name="Læge Claimsen",
            claims={"preferred_username": "claimsen", "rolle": "Læge", "sor": gp.sor.value},
        ),
    )
    mapping = ClaimMapping(
        function="rolle",
        function_values={"Læge": "praktiserende_laege"},
        unit="sor",
        unit_identifier="sor",
        kle="kle",
        max_sensitivity="foelsomhed",
    )
    with app_client(world, app_settings(world, ehr, oidc_claims=mapping)) as client:
        assert _log_in(client).status_code == 303
        principal = session_of(client)["principal"]
    assert principal["function"] == "praktiserende_laege"
    assert principal["unit_id"] == str(gp.id) and principal["restrictions"] is None
    assert uuid.UUID(principal["user_id"]) == uuid.uuid5(
        uuid.UUID("0c5b7f3e-2f1d-4f5e-9a57-6f6964632d75"), f"{ehr.issuer}|gp-claims"
    )


@pytest.mark.parametrize(
    "claims",
    [
        {"rolle": "Borgmester"},  # a function the platform does not know
        {"enhed": str(uuid.uuid4())},  # a unit nobody registered
        {"rolle": "Socialrådgiver"},  # a social worker does not work in PPR
        {"cvr": "29189587"},  # another municipality's CVR number
        {"kle": ["27.24.*", "DROP TABLE"]},  # not a KLE pattern
        {"foelsomhed": "HEMMELIG"},  # not a sensitivity level
        {"bruger_uuid": "not-a-uuid"},
        {"preferred_username": ""},
    ],
    ids=["function", "unit", "unit-kind", "cvr", "kle", "sensitivity", "user-id", "username"],
)
def test_claims_that_name_nothing_known_are_refused(
    world: AccessWorld, ehr: EhrSimulator, claims: dict[str, Any]
) -> None:
    _sign_in(ehr, _kombit_user(world, **claims))
    with app_client(world, app_settings(world, ehr, oidc_claims=KOMBIT)) as client:
        refused = _log_in(client)

        assert refused.status_code == 403
        assert "Ingen adgang" in refused.text
        assert session_of(client).get("principal") is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "http://127.0.0.1:9/another-issuer"},
        {"aud": "another-client"},
        {"aud": "another-client", "azp": CLIENT_ID},
        {"exp": int(time.time()) - 3600},
        {"nonce": "another-nonce"},
    ],
    ids=["issuer", "audience", "audience-with-azp", "expired", "nonce"],
)
def test_an_id_token_from_the_wrong_issuer_or_for_another_audience_is_refused(
    world: AccessWorld, ehr: EhrSimulator, overrides: dict[str, Any]
) -> None:
    _sign_in(ehr, practitioner("socialraadgiver"))
    ehr.id_token_overrides.update(overrides)
    with app_client(world, app_settings(world, ehr)) as client:
        refused = _log_in(client)

        assert refused.status_code == 400
        assert session_of(client).get("principal") is None


def test_an_id_token_signed_by_another_key_is_refused(
    world: AccessWorld, ehr: EhrSimulator
) -> None:
    _sign_in(ehr, practitioner("socialraadgiver"))
    # The forger knows the key id, not the key.
    ehr.forging_key = RSAKey.generate_key(2048, parameters={"kid": ehr.key.kid, "alg": "RS256"})
    try:
        with app_client(world, app_settings(world, ehr)) as client:
            refused = _log_in(client)

            assert refused.status_code == 400
            assert session_of(client).get("principal") is None
    finally:
        ehr.forging_key = None


def test_discovery_naming_another_issuer_is_refused(world: AccessWorld, ehr: EhrSimulator) -> None:
    ehr.discovery_overrides["issuer"] = "http://127.0.0.1:9/not-the-configured-issuer"
    seen = len(ehr.requests)
    with app_client(world, app_settings(world, ehr)) as client:
        refused = client.get("/log-ind/oidc", follow_redirects=False)

    assert refused.status_code == 502
    assert "location" not in refused.headers
    assert [path for _, path, _ in ehr.requests[seen:]] == ["/.well-known/openid-configuration"]


def test_a_callback_needs_this_browsers_state(world: AccessWorld, ehr: EhrSimulator) -> None:
    _sign_in(ehr, practitioner("socialraadgiver"))
    with app_client(world, app_settings(world, ehr)) as client:
        start = client.get("/log-ind/oidc", follow_redirects=False)
        callback = httpx2.get(start.headers["location"], follow_redirects=False)
        answer = {
            k: v[0] for k, v in parse_qs(urlsplit(callback.headers["location"]).query).items()
        }
        with app_client(world, app_settings(world, ehr)) as other_browser:
            assert other_browser.get(callback.headers["location"]).status_code == 400
        without = {k: v for k, v in answer.items() if k != "state"}
        assert client.get(f"/log-ind/oidc/callback?{urlencode(without)}").status_code == 400
        forged = {**answer, "state": "forged"}
        assert client.get(f"/log-ind/oidc/callback?{urlencode(forged)}").status_code == 400
        assert session_of(client).get("principal") is None
        refused = {"error": "access_denied", "state": answer["state"], "iss": answer["iss"]}
        assert client.get(f"/log-ind/oidc/callback?{urlencode(refused)}").status_code == 400


def test_without_an_issuer_there_is_no_oidc_login(world: AccessWorld, ehr: EhrSimulator) -> None:
    settings = app_settings(world, ehr, oidc_issuer=None)
    with app_client(world, settings) as client:
        assert client.get("/log-ind/oidc", follow_redirects=False).status_code == 404
        assert client.get("/log-ind/oidc/callback?code=x&state=y").status_code == 404


def test_redirect_uris_are_built_from_the_public_url(world: AccessWorld, ehr: EhrSimulator) -> None:
    settings = app_settings(world, ehr, public_url="https://paatvaers.example.dk/")
    with app_client(world, settings) as client:
        start = client.get("/log-ind/oidc", follow_redirects=False)
    asked = parse_qs(urlsplit(start.headers["location"]).query)
    assert asked["redirect_uri"] == ["https://paatvaers.example.dk/log-ind/oidc/callback"]
