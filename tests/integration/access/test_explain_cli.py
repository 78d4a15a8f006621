"""`paatvaers access explain`: the decision, the rules, the law, and what would permit it."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from paatvaers.cli import app
from paatvaers.store.tables import AccessEventRow
from support.access import AccessWorld, State

runner = CliRunner()


def explain(world: AccessWorld, user: str, state: State, flow: str, *extra: str) -> str:
    child = world.scenario.children[state].value
    result = runner.invoke(
        app,
        [
            "access",
            "explain",
            "--user",
            user,
            "--child",
            child,
            "--flow",
            flow,
            "--as-of",
            "2026-11-26",
            *extra,
        ],
        env={"DATABASE_URL": world.database_url, "PAATVAERS_CONSENT_URL": world.consent_url},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_permit_names_the_consent_and_the_law(access_world: AccessWorld) -> None:
    output = explain(access_world, "socialraadgiver", State.ACTIVE, "appointments_to_municipality")
    assert "Beslutning: TILLADT (permit)" in output
    assert (
        "Regler: "
        + ", ".join(
            f"appointments_to_municipality.{check}"
            for check in ("function", "relationship", "objection", "consent", "target_group")
        )
        in output
    )
    assert "Lovgrundlag: Sundhedsloven § 43, stk. 1, § 17, stk. 3 og § 193 b" in output
    assert "Relation: Barnet bor i kommunen (active)" in output
    assert "Samtykke: " in output


def test_a_denial_says_what_would_permit_it(access_world: AccessWorld) -> None:
    output = explain(access_world, "praktiserende_laege", State.CONSENT_MISSING, "cases_to_health")
    assert "Beslutning: AFVIST (deny)" in output
    assert "Begrundelse: Der er ikke givet samtykke" in output
    assert "Regler: cases_to_health.consent" in output
    assert (
        "Det kræver: Samtykke fra en forældremyndighedsindehaver i Digitalt Samtykke,"
        " skabelon paatvaers.sager-til-sundhed.v1"
    ) in output


def test_no_relationship_gets_the_neutral_answer_and_every_explanation_is_logged(
    access_world: AccessWorld,
) -> None:
    answer = json.loads(
        explain(access_world, "bup_laege", State.NONE, "school_to_health", "--json")
    )
    assert answer["decision"] == "deny"
    assert answer["rules"] == ["school_to_health.relationship"]
    assert answer["reason_en"] == (
        "You have no relationship to the child that gives access to this information"
    )
    with Session(access_world.engine) as session:
        logged = session.scalar(
            select(func.count())
            .select_from(AccessEventRow)
            .where(AccessEventRow.purpose == "explain as of 2026-11-26")
        )
    assert logged == 1


def test_an_unknown_user_is_a_clear_error(access_world: AccessWorld) -> None:
    result = runner.invoke(
        app,
        [
            "access",
            "explain",
            "--user",
            "nobody",
            "--child",
            "0101169915",
            "--flow",
            "correspondence",
        ],
        env={
            "DATABASE_URL": access_world.database_url,
            "PAATVAERS_CONSENT_URL": access_world.consent_url,
        },
    )
    assert result.exit_code == 2
    assert "no user named 'nobody'" in result.output
