"""The citizens' login by OpenID Connect over real HTTP, with the simulated EHR's OpenID
provider standing in for a MitID broker: the CPR number comes from the broker's claim, the
session holds a citizen (never a professional), and a token without a CPR number is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from paatvaers.settings import Settings
from paatvaers.sources.ehr.simulator import EhrClient, EhrSimulator, EhrUser, RunningEhr
from support.access import AccessWorld, State
from support.ehr import (
    APP,
    access_world_in_new_database,
    app_client,
    app_settings,
    session_of,
    via_ehr,
)

CITIZEN_CLIENT = "paatvaers-borger"
SECRET = "citizen-test-secret"
CPR_CLAIM = "dk:gov:saml:attribute:CprNumberIdentifier"


@pytest.fixture(scope="module")
def world(server_url: str, template_name: str) -> Iterator[AccessWorld]:
    with access_world_in_new_database(server_url, template_name) as access_world:
        yield access_world


@pytest.fixture(scope="module")
def broker() -> Iterator[EhrSimulator]:
    with RunningEhr() as ehr:
        ehr.register_client(
            EhrClient(
                client_id=CITIZEN_CLIENT,
                secret=SECRET,
                redirect_uris=(f"{APP}/familie/log-ind/callback",),
                launch_url=f"{APP}/launch",
            )
        )
        yield ehr


def _settings(world: AccessWorld, broker: EhrSimulator) -> Settings:
    return app_settings(
        world,
        broker,
        citizen_oidc_issuer=broker.issuer,
        citizen_oidc_client_id=CITIZEN_CLIENT,
        citizen_oidc_client_secret=SECRET,
    )


def _sign_in(broker: EhrSimulator, user_id: str, claims: dict[str, object]) -> None:
    broker.add_user(EhrUser(id=user_id, name="Borger", claims=claims))
    broker.signed_in = user_id


def test_a_custody_holder_logs_in_with_mitid_through_the_broker(
    world: AccessWorld, broker: EhrSimulator
) -> None:
    holder = world.scenario.holders[State.ACTIVE][0]
    _sign_in(broker, "borger-1", {CPR_CLAIM: holder.value, "name": "Forælder 1 active"})
    with app_client(world, _settings(world, broker)) as client:
        assert 'href="/familie/log-ind?lang=da"' in client.get("/").text
        start = client.get("/familie/log-ind", follow_redirects=False)
        asked = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
        assert asked["client_id"] == CITIZEN_CLIENT and asked["scope"] == "openid"
        assert asked["redirect_uri"] == f"{APP}/familie/log-ind/callback"
        assert asked["code_challenge_method"] == "S256" and asked["state"] and asked["nonce"]

        landed = via_ehr(client, start)

        assert landed.status_code == 303 and landed.headers["location"].startswith("/familie")
        session = session_of(client)
        assert session["login"] == "oidc" and "principal" not in session
        assert session["citizen"] == {"cpr": holder.value, "name": "Forælder 1 active"}
        home = client.get("/familie")
        assert "Barn active" in home.text and "Forælder 1 active" in home.text


def test_a_token_without_a_cpr_number_is_refused(world: AccessWorld, broker: EhrSimulator) -> None:
    _sign_in(broker, "borger-2", {"name": "Uden CPR"})
    with app_client(world, _settings(world, broker)) as client:
        refused = via_ehr(client, client.get("/familie/log-ind", follow_redirects=False))
        assert refused.status_code == 403
        assert "Dit login sagde ikke, hvem du er" in refused.text
        assert "citizen" not in session_of(client)


def test_without_a_citizen_issuer_there_is_no_citizen_login(
    world: AccessWorld, broker: EhrSimulator
) -> None:
    with app_client(world, app_settings(world, broker)) as client:
        assert client.get("/familie/log-ind", follow_redirects=False).status_code == 404
        assert "/familie/log-ind" not in client.get("/").text
