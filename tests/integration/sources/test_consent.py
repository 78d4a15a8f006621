"""Consent: the real client against the consent simulator over loopback HTTP, and the
population's consents."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx2
import pytest

from paatvaers.domain.children import Child
from paatvaers.domain.consent import (
    APPOINTMENTS_TEMPLATE,
    CASES_TEMPLATE,
    CONSENT_TEMPLATES,
    CONTACTS_TEMPLATE,
    ConsentKind,
    ConsentRecord,
    ConsentState,
)
from paatvaers.domain.cpr import Cpr
from paatvaers.population.consents import OWN_CONSENT_AGE, consents_for
from paatvaers.population.generator import Population, generate
from paatvaers.sources.base import SourceName
from paatvaers.sources.consent.client import (
    ConsentAnswerInvalid,
    ConsentClient,
    ConsentRequestRefused,
    ConsentServiceUnavailable,
    parse_record,
)
from paatvaers.sources.consent.simulator import record_json
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World

CONSENT = SourceName.CONSENT


@pytest.fixture
def sims(world: World) -> Iterator[RunningSimulators]:
    with RunningSimulators(world, sources=[CONSENT]) as running:
        yield running


@pytest.fixture
def client(sims: RunningSimulators) -> Iterator[ConsentClient]:
    with ConsentClient(sims.urls[CONSENT]) as consent:
        yield consent


def _children(world: World) -> list[Child]:
    return sorted((p.child for p in world.persons.values()), key=lambda c: c.cpr.value)


def _child_without_consents(world: World) -> Child:
    return next(c for c in _children(world) if not world.consents.concerning(c.cpr.value)[0])


def _child_with(world: World, wanted: Callable[[ConsentRecord], bool]) -> Child:
    return next(
        c
        for c in _children(world)
        if any(wanted(r) for r in world.consents.concerning(c.cpr.value)[0])
    )


def test_templates_are_the_platforms_three(client: ConsentClient) -> None:
    assert client.templates() == list(CONSENT_TEMPLATES.values())
    assert set(CONSENT_TEMPLATES) == {APPOINTMENTS_TEMPLATE, CASES_TEMPLATE, CONTACTS_TEMPLATE}


def test_records_for_gives_every_record_in_any_state_with_history(
    world: World, client: ConsentClient
) -> None:
    child = _child_with(world, lambda r: r.withdrawn_at is not None)
    stored, _ = world.consents.concerning(child.cpr.value)
    answer = client.lookup(child.cpr)
    assert answer.records == stored
    assert answer.as_of == world.clock.now
    withdrawn = next(r for r in answer.records if r.withdrawn_at is not None)
    assert [e.state for e in withdrawn.history] == [ConsentState.GIVEN, ConsentState.WITHDRAWN]
    assert withdrawn.state_at(answer.as_of) is ConsentState.WITHDRAWN
    assert client.records_for(_child_without_consents(world).cpr) == []


def test_template_filter(world: World, client: ConsentClient) -> None:
    child = _child_with(world, lambda r: r.template == CASES_TEMPLATE)
    records = client.records_for(child.cpr, CASES_TEMPLATE)
    assert records and {r.template for r in records} == {CASES_TEMPLATE}
    everything = client.records_for(child.cpr)
    assert records == [r for r in everything if r.template == CASES_TEMPLATE]


def test_give_withdraw_round_trip_keeps_history(world: World, client: ConsentClient) -> None:
    child = _child_without_consents(world)
    mother, other = child.custody[0].cpr, child.custody[-1].cpr
    until = world.as_of + timedelta(days=365)
    given = client.give(ConsentKind.CONSENT, CASES_TEMPLATE, child.cpr, mother, until)
    assert (given.kind, given.template, given.subject_cpr, given.giver_cpr) == (
        ConsentKind.CONSENT,
        CASES_TEMPLATE,
        child.cpr,
        mother,
    )
    assert given.valid_until == until and given.withdrawn_at is None
    assert world.consents.get(given.id) == given  # the service holds what it answered
    answer = client.lookup(child.cpr, CASES_TEMPLATE)
    assert answer.records == [given] and given.in_force_at(answer.as_of)

    withdrawn = client.withdraw(given.id, other)
    assert withdrawn.id == given.id and withdrawn.withdrawn_at is not None
    assert [(e.state, e.by_cpr) for e in withdrawn.history] == [
        (ConsentState.GIVEN, mother),
        (ConsentState.WITHDRAWN, other),
    ]
    # The very next call shows the withdrawal: nothing is cached.
    after = client.lookup(child.cpr, CASES_TEMPLATE)
    assert after.records == [withdrawn]
    assert after.records[0].state_at(after.as_of) is ConsentState.WITHDRAWN
    assert not after.records[0].in_force_at(after.as_of)
    with pytest.raises(ConsentRequestRefused) as refused:
        client.withdraw(given.id, mother)
    assert refused.value.status_code == 409 and "tilbagekaldt" in refused.value.reason


def test_withdrawal_at_the_service_is_seen_on_the_next_call(
    world: World, client: ConsentClient
) -> None:
    """The citizen withdraws in the service's own UI, not through the platform."""
    child = _child_with(world, lambda r: r.in_force_at(world.clock.now))
    in_force = next(r for r in client.records_for(child.cpr) if r.in_force_at(world.clock.now))
    world.consents.withdraw(in_force.id, in_force.giver_cpr)
    answer = client.lookup(child.cpr, in_force.template)
    again = next(r for r in answer.records if r.id == in_force.id)
    assert again.state_at(answer.as_of) is ConsentState.WITHDRAWN
    assert again.history[:-1] == in_force.history  # appended, not overwritten


def test_a_consent_runs_out_by_the_world_clock(world: World, client: ConsentClient) -> None:
    child = _child_without_consents(world)
    holder = child.custody[0].cpr
    last_day = world.as_of + timedelta(days=10)
    given = client.give(ConsentKind.CONSENT, CONTACTS_TEMPLATE, child.cpr, holder, last_day)
    world.clock.advance(timedelta(days=10))  # the last day: still in force
    answer = client.lookup(child.cpr)
    assert answer.as_of.date() == last_day
    assert answer.records[0].in_force_at(answer.as_of)
    world.clock.advance(timedelta(days=1))
    answer = client.lookup(child.cpr)
    assert answer.records == [given]
    assert answer.records[0].state_at(answer.as_of) is ConsentState.EXPIRED
    assert not answer.records[0].in_force_at(answer.as_of)


def test_an_objection_has_no_end(world: World, client: ConsentClient) -> None:
    child = _child_without_consents(world)
    objection = client.give(
        ConsentKind.OBJECTION, APPOINTMENTS_TEMPLATE, child.cpr, child.custody[0].cpr
    )
    assert objection.kind is ConsentKind.OBJECTION and objection.valid_until is None
    world.clock.advance(timedelta(days=3650))
    answer = client.lookup(child.cpr, APPOINTMENTS_TEMPLATE)
    assert answer.records[0].in_force_at(answer.as_of)


def test_changes_the_service_refuses(world: World, client: ConsentClient) -> None:
    child = _child_without_consents(world)
    holder = child.custody[0].cpr
    with pytest.raises(ConsentRequestRefused, match="ukendt skabelon") as unknown:
        client.give(ConsentKind.CONSENT, "paatvaers.ukendt.v1", child.cpr, holder)
    assert unknown.value.status_code == 400
    with pytest.raises(ConsentRequestRefused, match="gyldigTil") as past:
        client.give(ConsentKind.CONSENT, CASES_TEMPLATE, child.cpr, holder, date(2020, 1, 1))
    assert past.value.status_code == 400
    with pytest.raises(ConsentRequestRefused) as missing:
        client.withdraw(uuid.uuid4(), holder)
    assert missing.value.status_code == 404
    assert world.consents.concerning(child.cpr.value) == ([], [])  # nothing was stored


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("GET", "/samtykker?omfattetPerson=3102129901", None, 400, "personnummer"),
        ("GET", "/samtykker", None, 400, "omfattetPerson mangler"),
        ("GET", "/samtykker?omfattetPerson={child}&skabelon=x", None, 400, "ukendt skabelon"),
        ("POST", "/samtykker", b"not json", 400, "ikke JSON"),
        ("POST", "/samtykker", b"[1]", 400, "JSON-objekt"),
        ("POST", "/samtykker", {"type": "ja"}, 400, "samtykke eller frabedelse"),
        (
            "POST",
            "/samtykker",
            {
                "type": "samtykke",
                "skabelon": CASES_TEMPLATE,
                "omfattetPerson": "3102129901",
                "afgivetAf": "{child}",
            },
            400,
            "omfattetPerson er ikke et gyldigt personnummer",
        ),
        ("POST", "/samtykker/not-a-uuid/tilbagekald", {"udfoertAf": "{child}"}, 404, "intet"),
        ("GET", f"/samtykker/{uuid.UUID(int=1)}", None, 404, "intet samtykke"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_reason(
    world: World,
    sims: RunningSimulators,
    method: str,
    path: str,
    body: object,
    status: int,
    reason: str,
) -> None:
    child = _children(world)[0].cpr.value
    content = body if isinstance(body, bytes) else json.dumps(body).replace("{child}", child)
    url = sims.urls[CONSENT] + "/samtykke/v1" + path.replace("{child}", child)
    with httpx2.Client() as http:
        response = http.request(method, url, content=content if body is not None else None)
    assert response.status_code == status
    assert reason in response.json()["fejl"]


def test_a_read_refused_is_unavailable_to_the_caller(client: ConsentClient, world: World) -> None:
    """A read never raises ConsentRequestRefused: the engine denies on one error type."""
    with pytest.raises(ConsentServiceUnavailable, match="HTTP 400: ukendt skabelon"):
        client.records_for(_children(world)[0].cpr, "paatvaers.ukendt.v1")


def test_service_down_is_unavailable(world: World, client: ConsentClient) -> None:
    child = _children(world)[0]
    with (
        ConsentClient("http://127.0.0.1:1") as nowhere,
        pytest.raises(ConsentServiceUnavailable, match="could not be reached"),
    ):
        nowhere.records_for(child.cpr)
    world.consents.out_of_service = True
    with pytest.raises(ConsentServiceUnavailable, match="HTTP 503"):
        client.records_for(child.cpr)
    with pytest.raises(ConsentServiceUnavailable, match="HTTP 503"):
        client.give(ConsentKind.CONSENT, CASES_TEMPLATE, child.cpr, child.custody[0].cpr)
    world.consents.out_of_service = False
    assert client.records_for(child.cpr) == world.consents.concerning(child.cpr.value)[0]


def test_a_service_that_does_not_answer_times_out() -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts connections in the kernel, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with (
            ConsentClient(url, timeout=0.2) as consent,
            pytest.raises(ConsentServiceUnavailable, match="Timeout"),
        ):
            consent.records_for(Cpr.parse("0101109996"))
    finally:
        silent.close()


def _broken(record: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> bytes:
    copy = json.loads(json.dumps(record))
    change(copy)
    return json.dumps(copy).encode()


def _set(**fields: object) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.update(fields)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set(status="tilbagekaldt"), "status 'tilbagekaldt' disagrees"),
        (_set(type="maaske"), "unknown type 'maaske'"),
        (_set(id="17"), "no valid id"),
        (_set(afgivet="2026-01-01T10:00:00"), "afgivet .* has no time zone"),
        (_set(afgivetAf="3102129901"), "afgivetAf '3102129901' is no CPR number"),
        (_set(gyldigTil="2001-01-01"), "gyldigTil 2001-01-01 is before afgivet"),
        (_set(historik=[]), "historik is missing or empty"),
        # Later than any generated consent in force was given (the day before, by 21:00).
        (_set(tilbagekaldt="2026-11-25T23:30:00+00:00"), "historik disagrees with tilbagekaldt"),
        (lambda r: r.pop("skabelon"), "skabelon is missing"),
        (lambda r: r["historik"][0].update(udfoertAf="0101109996"), "does not begin with"),
        (lambda r: r["historik"][0].update(haendelse="fornyet"), "'fornyet' is no known state"),
    ],
)
def test_a_broken_record_is_an_error_not_a_guess(
    world: World,
    client: ConsentClient,
    change: Callable[[dict[str, Any]], None],
    reason: str,
) -> None:
    child = _child_with(world, lambda r: r.in_force_at(world.clock.now))
    record = next(r for r in world.consents.concerning(child.cpr.value)[0])
    world.consents.put_malformed(
        child.cpr.value, _broken(record_json(record, world.clock.now), change)
    )
    with pytest.raises(ConsentAnswerInvalid, match=f"consent .*{reason}"):
        client.records_for(child.cpr)


def test_broken_answers_as_a_whole(world: World, client: ConsentClient) -> None:
    without = [c for c in _children(world) if not world.consents.concerning(c.cpr.value)[0]]
    child, other, lone = without[:3]
    world.consents.put_malformed(child.cpr.value, b'{"id": "cut off')
    with pytest.raises(ConsentAnswerInvalid, match="no JSON"):
        client.records_for(child.cpr)
    # Well formed, but about another child: the answer cannot be used for this one.
    about_other = world.consents.give(
        ConsentKind.CONSENT, CASES_TEMPLATE, other.cpr, other.custody[0].cpr, None
    )
    world.consents.put_malformed(
        lone.cpr.value, json.dumps(record_json(about_other, world.clock.now)).encode()
    )
    with pytest.raises(ConsentAnswerInvalid, match="not the child asked about"):
        client.records_for(lone.cpr)
    # Code that denies on an unavailable service denies on a broken answer too.
    assert issubclass(ConsentAnswerInvalid, ConsentServiceUnavailable)


def test_every_generated_record_survives_the_shape(world: World) -> None:
    now = world.clock.now
    records = [r for c in _children(world) for r in world.consents.concerning(c.cpr.value)[0]]
    assert len(records) == len(world.consents) > 0
    for record in records:
        assert parse_record(json.loads(json.dumps(record_json(record, now))), now) == record


# -- the population's consents ------------------------------------------------------------------


@pytest.fixture(scope="module")
def blocking_population() -> Population:
    """Large enough that some custody holders blocked appointment sharing (seed 2 has two)."""
    population = generate(2000, 2, date(2026, 11, 26))
    assert population.appointment_sharing_blocked
    return population


def test_population_consents_are_deterministic(blocking_population: Population) -> None:
    records = consents_for(blocking_population)
    assert records == consents_for(blocking_population)
    other_seed = generate(300, 3, blocking_population.as_of)
    assert {r.id for r in consents_for(other_seed)}.isdisjoint({r.id for r in records})


def test_blocked_children_have_an_objection_and_no_consent_on_appointments(
    blocking_population: Population,
) -> None:
    records = consents_for(blocking_population)
    children = {c.cpr.value: c for c in blocking_population.children}
    on_appointments = [r for r in records if r.template == APPOINTMENTS_TEMPLATE]
    objections = [r for r in records if r.kind is ConsentKind.OBJECTION]
    assert {
        r.subject_cpr.value for r in objections
    } == blocking_population.appointment_sharing_blocked
    for objection in objections:
        holders = {h.cpr for h in children[objection.subject_cpr.value].custody}
        assert objection.template == APPOINTMENTS_TEMPLATE and objection.giver_cpr in holders
        assert objection.valid_until is None and objection.withdrawn_at is None
    blocked_with_consent = {
        r.subject_cpr.value for r in on_appointments if r.kind is ConsentKind.CONSENT
    } & blocking_population.appointment_sharing_blocked
    assert blocked_with_consent == set()


def test_population_consents_look_like_reality(blocking_population: Population) -> None:
    records = consents_for(blocking_population)
    population = blocking_population
    now = datetime.combine(population.as_of, time(0), tzinfo=UTC)
    involved = {i.child_cpr.value for i in population.involvements}
    children = {c.cpr.value: c for c in population.children}
    assert {
        r.subject_cpr.value for r in records
    } <= involved | population.appointment_sharing_blocked
    for template in CONSENT_TEMPLATES:  # most children have each consent, not all
        consented = {
            r.subject_cpr.value
            for r in records
            if r.kind is ConsentKind.CONSENT and r.template == template
        }
        assert 0.5 * len(involved) < len(consented) < 0.95 * len(involved), template
    states = [r.state_at(now) for r in records]
    assert states.count(ConsentState.WITHDRAWN) > 0 and states.count(ConsentState.EXPIRED) > 0
    assert states.count(ConsentState.GIVEN) > 0.8 * len(records)
    for record in records:
        child = children[record.subject_cpr.value]
        if record.giver_cpr == child.cpr:  # the young person's own, in health matters only
            assert record.template == APPOINTMENTS_TEMPLATE
            assert child.age_on(record.given_at.date()) >= OWN_CONSENT_AGE
        else:
            assert record.giver_cpr in {h.cpr for h in child.custody}
        assert child.birth_date <= record.given_at.date() < population.as_of
    assert any(r.giver_cpr == r.subject_cpr for r in records)


def test_world_serves_the_population_consents(source_population: Population, world: World) -> None:
    expected = consents_for(source_population)
    assert len(world.consents) == len(expected)
    assert all(world.consents.get(r.id) == r for r in expected)
