"""CPR: the real adapter against the CPR replica simulator over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import httpx2
import pytest

from paatvaers.domain.children import Address, AddressProtection
from paatvaers.domain.cpr import synthetic_cpr
from paatvaers.domain.identifiers import Sor
from paatvaers.domain.organisations import unit_id_for_sor
from paatvaers.sources.base import (
    PassOptions,
    PersonWithGp,
    RawRecord,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.cpr.adapter import CprAdapter, parse_person
from paatvaers.sources.cpr.simulator import add_malformed_examples, person_record
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import Malformed, World
from support.sources import only, parse_records, records_of

CPR = SourceName.CPR


@pytest.fixture
def sims(world: World) -> Iterator[RunningSimulators]:
    with RunningSimulators(world, sources=[CPR]) as running:
        yield running


@pytest.fixture
def make(sims: RunningSimulators) -> Callable[..., CprAdapter]:
    """Adapters against the simulator."""

    def adapter(page_size: int = 500) -> CprAdapter:
        return CprAdapter(sims.urls[CPR], options=PassOptions(page_size=page_size))

    return adapter


def _parse_all(
    adapter: CprAdapter, records: Sequence[RawRecord]
) -> tuple[set[PersonWithGp], dict[str, str]]:
    entities, rejected = parse_records(adapter, records)
    return only(entities, PersonWithGp), rejected


def test_full_pass_reads_every_child(world: World, make: Callable[..., CprAdapter]) -> None:
    adapter = make()
    pages = list(adapter.pages(None, None))
    assert len(pages) == 1 and pages[0].next_cursor is None
    persons, rejected = _parse_all(adapter, records_of(pages))
    assert rejected == {}
    assert persons == set(world.persons.values())
    assert {r.key for r in records_of(pages)} == {p.child.cpr.value for p in persons}
    assert pages[-1].high_water_mark == world.clock.now.isoformat()


def test_paging_and_resuming_at_a_cursor(world: World, make: Callable[..., CprAdapter]) -> None:
    adapter = make(page_size=50)
    pages = list(adapter.pages(None, None))
    assert [len(p.records) for p in pages] == [50] * 6
    assert all(p.next_cursor for p in pages[:-1]) and pages[-1].next_cursor is None
    resumed = list(adapter.pages(None, pages[1].next_cursor))
    assert [r.key for r in records_of(resumed)] == [r.key for r in records_of(pages[2:])]
    assert {p.high_water_mark for p in pages + resumed} == {pages[0].high_water_mark}


def test_incremental_pass_returns_changes_and_removals(
    world: World, make: Callable[..., CprAdapter]
) -> None:
    adapter = make()
    mark = list(adapter.pages(None, None))[-1].high_water_mark
    persons = sorted(world.persons.values(), key=lambda p: p.child.cpr.value)
    child = persons[0].child
    moved = replace(
        persons[0],
        child=replace(
            child,
            municipality_code="0851" if child.municipality_code != "0851" else "0101",
            moved_in_on=world.as_of - timedelta(days=3),
            previous_municipality_code=child.municipality_code,
        ),
    )
    world.persons.put(child.cpr.value, moved)
    gone = persons[1].child.cpr.value
    world.persons.delete(gone)

    pages = list(adapter.pages(mark, None))
    assert [r.key for r in records_of(pages)] == [child.cpr.value]
    assert [k for p in pages for k in p.deleted_keys] == [gone]
    parsed, _ = _parse_all(adapter, records_of(pages))
    assert parsed == {moved}
    new_mark = pages[-1].high_water_mark
    assert new_mark is not None and mark is not None and new_mark > mark
    quiet = list(adapter.pages(new_mark, None))
    assert records_of(quiet) == [] and [k for p in quiet for k in p.deleted_keys] == []


def test_persons_cpr_calls_gone_are_deletions(
    world: World, make: Callable[..., CprAdapter]
) -> None:
    """A replica keeps dead and emigrated persons with their status; they leave the platform."""
    adapter = make()
    mark = list(adapter.pages(None, None))[-1].high_water_mark
    person = next(iter(world.persons.values()))
    record = person_record(person)
    record["status"] = "80"  # udrejst
    world.persons.put(person.child.cpr.value, Malformed(json.dumps(record).encode()))
    pages = list(adapter.pages(mark, None))
    assert records_of(pages) == []
    assert [k for p in pages for k in p.deleted_keys] == [person.child.cpr.value]


def test_malformed_records_are_rejected_and_the_rest_parses(
    world: World, make: Callable[..., CprAdapter]
) -> None:
    add_malformed_examples(world)
    adapter = make()
    persons, rejected = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    reasons = sorted(rejected.values())
    assert len(reasons) == 5
    assert any("'3102129901' is not a valid CPR number" in r for r in reasons)
    assert any("'0999' is no Danish municipality code" in r for r in reasons)
    assert any("custody holder 'Ukendt Værge' has no personnummer" in r for r in reasons)
    assert any("adresse postnummer '90000' is not four digits" in r for r in reasons)
    assert any("laegevalg ikraftDato is not a date: '2024-02-31'" in r for r in reasons)
    assert persons == set(world.persons.values())


def test_protected_and_moved_children(world: World, make: Callable[..., CprAdapter]) -> None:
    adapter = make()
    persons, _ = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    protected = [p.child for p in persons if p.child.address_protection is not None]
    moved = [p.child for p in persons if p.child.moved_in_on is not None]
    assert protected and moved
    assert all(c.is_protected_on(world.as_of) for c in protected)
    assert all(c.previous_municipality_code not in (None, c.municipality_code) for c in moved)
    assert {p.child.cpr for p in persons if p.child.has_split_custody}


def test_address_and_gp_choice_arrive_whole(world: World, make: Callable[..., CprAdapter]) -> None:
    """The address and the GP choice (since when, and the clinic before) cross HTTP intact,
    for protected children too: authorities see the address, the platform withholds it."""
    adapter = make()
    persons, rejected = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    assert rejected == {}
    served = {p.child.cpr: p.child for p in world.persons.values()}
    for person in persons:
        child, expected = person.child, served[person.child.cpr]
        assert child.address is not None and child.address == expected.address
        assert (child.gp_since, child.previous_gp_sor) == (
            expected.gp_since,
            expected.previous_gp_sor,
        )
    changed = [p for p in persons if p.child.previous_gp_sor is not None]
    assert changed, "the population has children who changed GP"
    for person in changed:
        assert person.gp is not None and person.child.previous_gp_unit_id != person.gp.id
    assert any(p.child.address_protection and p.child.address for p in persons)


def test_a_gp_change_made_at_the_source_reaches_the_adapter(
    world: World, make: Callable[..., CprAdapter]
) -> None:
    adapter = make()
    mark = list(adapter.pages(None, None))[-1].high_water_mark
    person = next(
        p
        for p in world.persons.values()
        if p.child.previous_gp_sor is None and p.child.birth_date < world.as_of - timedelta(days=7)
    )
    assert person.gp is not None and person.gp.sor is not None
    other = next(
        p.gp for p in world.persons.values() if p.gp is not None and p.gp.id != person.gp.id
    )
    changed_on = world.as_of - timedelta(days=2)
    moved_clinic = replace(
        person,
        gp=other,
        child=replace(
            person.child,
            gp_since=changed_on,
            previous_gp_sor=person.gp.sor,
            address=Address("Fiktivvej 3, 1. tv.", "9000", "Aalborg"),
        ),
    )
    world.persons.put(person.child.cpr.value, moved_clinic)
    parsed, _ = _parse_all(adapter, records_of(list(adapter.pages(mark, None))))
    assert parsed == {moved_clinic}
    (child,) = (p.child for p in parsed)
    assert child.previous_gp_unit_id == unit_id_for_sor(person.gp.sor.value) == person.gp.id
    assert child.address == Address("Fiktivvej 3, 1. tv.", "9000", "Aalborg")


def test_lookup_of_one_person(world: World, make: Callable[..., CprAdapter]) -> None:
    adapter = make()
    person = next(iter(world.persons.values()))
    record = adapter.lookup(person.child.cpr.value)
    assert record is not None and adapter.parse(record) == [person]
    assert adapter.lookup(synthetic_cpr(date(1961, 1, 1), 0, 1).value) is None


def _valid(world: World) -> dict[str, Any]:
    person = next(p for p in world.persons.values() if len(p.child.custody) == 2)
    return person_record(person)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r.update(foedselsdato="2000-01-01"), "disagrees with the personnummer"),
        (lambda r: r.update(koen="X"), "koen 'X' disagrees"),
        (lambda r: r.update(status="90"), "død"),
        (
            lambda r: r.update(
                adressebeskyttelse={"startdato": "2026-05-01", "slutdato": "2026-01-01"}
            ),
            "ends",
        ),
        (lambda r: r["bopael"].update(tilflytningsdato="2025-01-01"), "needs both"),
        (lambda r: r["foraeldremyndighed"].append(r["foraeldremyndighed"][0]), "3 custody holders"),
        (
            lambda r: r["foraeldremyndighed"][0].update(foraeldremyndighedsindehaverrolle="tante"),
            "known roles",
        ),
        (
            lambda r: r["foraeldremyndighed"][0]["foraeldremyndighedshaver"].update(
                personnummer="12345"
            ),
            "not a valid CPR",
        ),
        (lambda r: r["laegevalg"].update(sorKode="123"), "SOR code"),
        (lambda r: r["bopael"].update(adresse=None), r"status 01\) but has no adresse"),
        (lambda r: r["bopael"].update(adresse="Fiktivvej 1"), "adresse is not an object"),
        (
            lambda r: r["bopael"]["adresse"].update(standardadresse=" "),
            "standardadresse is missing",
        ),
        (
            lambda r: r["bopael"]["adresse"].update(standardadresse="Fiktivvej " + "9" * 200),
            "standardadresse is longer than 200",
        ),
        (lambda r: r["bopael"]["adresse"].update(postnummer="9O00"), "'9O00' is not four digits"),
        (lambda r: r["bopael"]["adresse"].update(postnummer=9000), "9000 is not four digits"),
        (lambda r: r["bopael"]["adresse"].update(postdistrikt=None), "postdistrikt is missing"),
        (lambda r: r["laegevalg"].pop("ikraftDato"), "laegevalg ikraftDato is missing"),
        (
            lambda r: r["laegevalg"].update(ikraftDato="1999-12-31"),
            "ikraftDato 1999-12-31 is before the birth",
        ),
        (lambda r: r["laegevalg"].update(forrigeSorKode="123"), "forrigeSorKode: SOR code"),
        (lambda r: r["laegevalg"].update(forrigeSorKode=12), "forrigeSorKode is not text"),
        (
            lambda r: r["laegevalg"].update(forrigeSorKode=r["laegevalg"]["sorKode"]),
            "names the current clinic as the previous one",
        ),
        (lambda r: r["navn"].update(fornavne="", efternavn=None), "empty navn"),
    ],
)
def test_person_rules(world: World, change: Callable[[dict[str, Any]], None], reason: str) -> None:
    record = _valid(world)
    change(record)
    with pytest.raises(RecordRejected, match=reason):
        parse_person(record)


def test_a_special_road_code_needs_no_address(world: World) -> None:
    """Status 03 (speciel vejkode): a resident without a fixed address."""
    record = _valid(world)
    record["status"] = "03"
    record["bopael"]["adresse"] = None
    assert parse_person(record).child.address is None


def test_a_previous_clinic_is_optional_and_read_by_its_sor_code(world: World) -> None:
    record = _valid(world)
    record["laegevalg"]["forrigeSorKode"] = None
    assert parse_person(record).child.previous_gp_sor is None
    record["laegevalg"]["forrigeSorKode"] = "900000000000999"
    parsed = parse_person(record).child
    assert parsed.previous_gp_sor == Sor("900000000000999")
    assert parsed.previous_gp_unit_id == unit_id_for_sor("900000000000999")


def test_protection_without_end_and_child_without_gp(world: World) -> None:
    record = _valid(world)
    record["adressebeskyttelse"] = {"startdato": "2026-01-01", "slutdato": None}
    record["laegevalg"] = None
    parsed = parse_person(record)
    assert parsed.gp is None
    assert (parsed.child.gp_since, parsed.child.previous_gp_sor) == (None, None)
    assert parsed.child.address_protection == AddressProtection(date(2026, 1, 1), None)


def test_http_failures_raise_source_unavailable(
    world: World, make: Callable[..., CprAdapter]
) -> None:
    with pytest.raises(SourceUnavailable, match="could not be reached"):
        list(CprAdapter("http://127.0.0.1:1").pages(None, None))
    with pytest.raises(SourceUnavailable, match="HTTP 400"):
        list(make().pages("not a time", None))

    def odd(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"people": []})

    shaped = CprAdapter(
        "http://cpr.example", client=httpx2.Client(transport=httpx2.MockTransport(odd))
    )
    with pytest.raises(SourceUnavailable, match="another shape"):
        list(shaped.pages(None, None))
