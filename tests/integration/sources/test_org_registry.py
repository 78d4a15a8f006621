"""FK Organisation: the real adapter against the GraphQL simulator over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx2
import pytest

from paatvaers.domain.organisations import EmployeeFunction, OrgUnit, StaffMember, UnitKind
from paatvaers.population.generator import Population
from paatvaers.sources.base import (
    PassOptions,
    RawRecord,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.org_registry import vocabulary as v
from paatvaers.sources.org_registry.adapter import (
    OrgRegistryAdapter,
    parse_unit,
    parse_user,
    simulated_municipality_cvrs,
)
from paatvaers.sources.org_registry.simulator import (
    ENDPOINT,
    add_malformed_examples,
    unit_record,
    user_record,
)
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from support.sources import only, parse_records, records_of

ORG = SourceName.ORG_REGISTRY
HEADERS = {"x-TransaktionsId": "6f1c1f4e-3f5e-4c38-8a44-4a43f2b9d1a1", "x-TransaktionsTid": "t"}


@pytest.fixture
def sims(world: World) -> Iterator[RunningSimulators]:
    with RunningSimulators(world, sources=[ORG]) as running:
        yield running


@pytest.fixture
def make(sims: RunningSimulators) -> Callable[..., OrgRegistryAdapter]:
    """Adapters against the simulator."""

    def adapter(
        cvrs: Sequence[str] | None = None, options: PassOptions | None = None
    ) -> OrgRegistryAdapter:
        return OrgRegistryAdapter(sims.urls[ORG], cvrs=cvrs, options=options)

    return adapter


def _parse_all(
    adapter: OrgRegistryAdapter, records: Sequence[RawRecord]
) -> tuple[set[OrgUnit], set[StaffMember], dict[str, str]]:
    entities, rejected = parse_records(adapter, records)
    units = {e for e in entities if isinstance(e, OrgUnit)}
    rest = [e for e in entities if not isinstance(e, OrgUnit)]
    return units, only(rest, StaffMember), rejected


def _world_users(world: World) -> set[StaffMember]:
    # FK Organisation knows nothing of demo logins or of what a login grants (KOMBIT's access
    # control does): every user it reads is a plain one without data restrictions.
    return {replace(member, is_demo=False, restrictions=None) for member in world.users.values()}


def test_full_pass_reads_every_unit_and_user(
    world: World, make: Callable[..., OrgRegistryAdapter]
) -> None:
    adapter = make()
    pages = list(adapter.pages(None, None))
    assert pages[-1].next_cursor is None
    assert all(page.next_cursor for page in pages[:-1])
    units, users, rejected = _parse_all(adapter, records_of(pages))
    assert rejected == {}
    assert units == set(world.org_units.values())
    assert users == _world_users(world)
    keys = {record.key for record in records_of(pages)}
    assert {str(u.id) for u in units} | {str(u.id) for u in users} == keys
    assert {u.kind for u in units} == {UnitKind.CHILD_FAMILY, UnitKind.PPR}
    assert pages[-1].high_water_mark is not None


def test_default_municipalities_are_the_populations(source_population: Population) -> None:
    municipal = {u.cvr.value for u in source_population.org_units if u.cvr is not None}
    assert set(simulated_municipality_cvrs()) == municipal


def test_paging_and_resuming_at_a_cursor(
    world: World, make: Callable[..., OrgRegistryAdapter]
) -> None:
    adapter = make(cvrs=simulated_municipality_cvrs()[:3], options=PassOptions(page_size=1))
    pages = list(adapter.pages(None, None))
    assert len(pages) == 6  # two units in each of three municipalities, one per page
    unit_keys = {str(u.id) for u in world.org_units.values()}
    assert all(sum(r.key in unit_keys for r in page.records) == 1 for page in pages)
    cursor = pages[2].next_cursor
    assert cursor is not None
    resumed = list(adapter.pages(None, cursor))
    assert [r.key for r in records_of(resumed)] == [r.key for r in records_of(pages[3:])]
    assert resumed[-1].high_water_mark == pages[-1].high_water_mark


def test_incremental_pass_rereads_and_reports_deactivations(
    world: World, make: Callable[..., OrgRegistryAdapter]
) -> None:
    adapter = make()
    mark = list(adapter.pages(None, None))[-1].high_water_mark
    units = sorted(world.org_units.values(), key=lambda u: str(u.id))
    changed = replace(units[0], phone="+45 11 22 33 44", name="Børn og Unge, ny afdeling")
    world.org_units.put(str(changed.id), changed)
    gone_unit = units[1]
    world.org_units.delete(str(gone_unit.id))
    gone_user = next(s for s in world.users.values() if s.unit_id == units[2].id)
    world.users.delete(str(gone_user.id))

    pages = list(adapter.pages(mark, None))
    deleted = [key for page in pages for key in page.deleted_keys]
    assert sorted(deleted) == sorted([str(gone_unit.id), str(gone_user.id)])
    parsed_units, parsed_users, rejected = _parse_all(adapter, records_of(pages))
    assert rejected == {}
    # No change-since argument in the schema: every active object comes again, the changed
    # one as it is now; the deactivated ones do not.
    assert changed in parsed_units
    assert parsed_units == set(world.org_units.values())
    assert replace(gone_user, is_demo=False, restrictions=None) not in parsed_users
    new_mark = pages[-1].high_water_mark
    assert new_mark is not None and mark is not None and new_mark > mark

    again = list(adapter.pages(new_mark, None))
    assert [key for page in again for key in page.deleted_keys] == []


def test_malformed_records_are_rejected_and_the_rest_parses(
    world: World, make: Callable[..., OrgRegistryAdapter]
) -> None:
    add_malformed_examples(world)
    adapter = make()
    units, users, rejected = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    reasons = sorted(rejected.values())
    assert len(reasons) == 3
    assert any("modulus-11" in r for r in reasons)
    assert any("both child/family and PPR" in r for r in reasons)
    assert any("no 'Arbejder i' membership" in r for r in reasons)
    assert units == set(world.org_units.values())
    assert users == _world_users(world)


def test_unit_without_phone(world: World, make: Callable[..., OrgRegistryAdapter]) -> None:
    unit = next(iter(world.org_units.values()))
    world.org_units.put(str(unit.id), replace(unit, phone=None))
    adapter = make(cvrs=[unit.cvr.value] if unit.cvr else [])
    units, _, rejected = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    assert rejected == {}
    assert replace(unit, phone=None) in units


def test_mobile_phone_is_used_when_no_landline(world: World) -> None:
    unit = next(iter(world.org_units.values()))
    node = unit_record(unit, "AKTIV", world.clock.now)
    for address in node["adresser"]:
        if address["klassifikation"]["rolle"] == str(v.UNIT_LANDLINE):
            address["klassifikation"]["rolle"] = str(v.UNIT_MOBILE)
    assert parse_unit(node).phone == unit.phone


def test_user_whose_title_is_no_platform_function_is_not_read(world: World) -> None:
    member = next(iter(world.users.values()))
    node = user_record(member, "AKTIV", world.clock.now)
    node["harMedlemskab"][0]["medlemskabRolleTitel"] = "Sekretær"
    assert parse_user(node) is None
    node["harMedlemskab"][0]["medlemskabRolleTitel"] = EmployeeFunction.PPR_PSYKOLOG.danish_title
    parsed = parse_user(node)
    assert parsed is not None and parsed.function is EmployeeFunction.PPR_PSYKOLOG


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda n: n["tilhoerer"]["myndighed"].update(myndighedskode="999"), "no Danish"),
        (lambda n: n["tilstand"].update(status="INAKTIV"), "only AKTIV"),
        (lambda n: n.update(opgaver=[]), "kind is unknown"),
        (lambda n: n.update(uuid="not-a-uuid"), "not a UUID"),
    ],
)
def test_unit_rules(world: World, change: Callable[[dict[str, Any]], None], reason: str) -> None:
    node = unit_record(next(iter(world.org_units.values())), "AKTIV", world.clock.now)
    change(node)
    with pytest.raises(RecordRejected, match=reason):
        parse_unit(node)


def test_user_in_two_units_is_rejected(world: World) -> None:
    member = next(iter(world.users.values()))
    node = user_record(member, "AKTIV", world.clock.now)
    node["harMedlemskab"].append(node["harMedlemskab"][0])
    with pytest.raises(RecordRejected, match="works in 2 units"):
        parse_user(node)


def test_any_valid_query_against_the_real_schema(world: World, sims: RunningSimulators) -> None:
    unit = next(iter(world.org_units.values()))
    member = next(s for s in world.users.values() if s.unit_id == unit.id)
    assert unit.cvr is not None
    query = """
    query($cvr: CVR!, $navn: String) {
      organisation(cvr: $cvr) {
        organisationsnavn myndighed { myndighedskode }
        organisationEnhed { enhedsnavn underliggendeEnheder { uuid } }
      }
      brugerListe(cvr: $cvr, status: AKTIV, brugerFilter: {brugernavn: $navn}) {
        edges { node { uuid harMedlemskab { medlemAf { enhedsnavn } } } }
      }
    }"""
    variables = {"cvr": unit.cvr.value, "navn": member.username}
    with httpx2.Client() as client:
        answer = client.post(
            sims.urls[ORG] + ENDPOINT,
            json={"query": query, "variables": variables},
            headers=HEADERS,
        ).json()
        invalid = client.post(
            sims.urls[ORG] + ENDPOINT, json={"query": "{ organisation { nope } }"}, headers=HEADERS
        )
        headless = client.post(sims.urls[ORG] + ENDPOINT, json={"query": "{ __typename }"})
    assert "errors" not in answer
    organisation = answer["data"]["organisation"]
    assert organisation["myndighed"]["myndighedskode"] == str(int(unit.municipality_code or "0"))
    assert str(unit.id) in {
        u["uuid"] for u in organisation["organisationEnhed"]["underliggendeEnheder"]
    }
    [edge] = answer["data"]["brugerListe"]["edges"]
    assert edge["node"]["harMedlemskab"][0]["medlemAf"]["enhedsnavn"] == unit.name
    assert invalid.status_code == 400 and invalid.json()["errors"]
    assert headless.status_code == 400


def test_adapter_sends_transaction_headers_and_tokens(
    world: World, sims: RunningSimulators
) -> None:
    seen: list[httpx2.Request] = []
    client = httpx2.Client(event_hooks={"request": [seen.append]})
    cvrs = simulated_municipality_cvrs()[:2]
    adapter = OrgRegistryAdapter(
        sims.urls[ORG],
        client=client,
        cvrs=cvrs,
        token=lambda cvr: f"token-for-{cvr}",
        options=PassOptions(extra_headers={"x-Extra": "1"}),
    )
    list(adapter.pages(None, None))
    client.close()
    assert [r.headers["authorization"] for r in seen] == [f"Bearer token-for-{c}" for c in cvrs]
    assert all(r.headers["x-extra"] == "1" and r.headers["x-transaktionstid"] for r in seen)
    assert len({r.headers["x-transaktionsid"] for r in seen}) == len(seen)
    assert json.loads(seen[0].content)["variables"]["cvr"] == cvrs[0]


def test_http_failures_raise_source_unavailable() -> None:
    def failing(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(503, text="maintenance")

    down = OrgRegistryAdapter("http://127.0.0.1:1", cvrs=["29010102"])
    with pytest.raises(SourceUnavailable, match="could not be reached"):
        list(down.pages(None, None))
    erring = OrgRegistryAdapter(
        "http://fk.example", client=httpx2.Client(transport=httpx2.MockTransport(failing))
    )
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        list(erring.pages(None, None))


def test_graphql_errors_raise_source_unavailable() -> None:
    def errors(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"data": None, "errors": [{"message": "Not allowed"}]})

    adapter = OrgRegistryAdapter(
        "http://fk.example", client=httpx2.Client(transport=httpx2.MockTransport(errors))
    )
    with pytest.raises(SourceUnavailable, match="Not allowed"):
        list(adapter.pages(None, None))
