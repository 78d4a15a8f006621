"""The case index adapter against its simulator over loopback HTTP: SF1470
SagDokumentIndeksService v6 `fremsoeg`, SOAP 1.1, validated against KOMBIT's public XSDs."""

from __future__ import annotations

import copy
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta

import httpx2
import pytest
from lxml import etree
from starlette.testclient import TestClient

from paatvaers.domain.cases import Case, CaseParty, CaseStatus, PartyRole, Sensitivity
from paatvaers.population.generator import Population
from paatvaers.sources.base import (
    Page,
    PassOptions,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.case_index import simulator
from paatvaers.sources.case_index.adapter import CaseIndexAdapter, _Position
from paatvaers.sources.case_index.parsing import parse_snapshot
from paatvaers.sources.case_index.protocol import (
    ENDPOINT_PATH,
    GD,
    SAG,
    SD,
    SDI,
    SI,
    SOAP_ACTION,
    SOAP_ENV,
    FremsoegQuery,
    Rolle,
    build_request,
    format_time,
    fremsoeg_schema,
    parse_time,
)
from paatvaers.sources.case_index.render import CaseNames, snapshot
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from support.sources import records_of

Factory = Callable[..., CaseIndexAdapter]

# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def sims(world: World) -> Iterator[RunningSimulators]:
    with RunningSimulators(world, sources=[SourceName.CASE_INDEX]) as running:
        yield running


@pytest.fixture
def adapters() -> Iterator[list[CaseIndexAdapter]]:
    """Adapters made in a test, closed after it."""
    made: list[CaseIndexAdapter] = []
    yield made
    for adapter in made:
        adapter.close()


@pytest.fixture
def adapter_for(
    sims: RunningSimulators, adapters: list[CaseIndexAdapter]
) -> Callable[..., CaseIndexAdapter]:
    def make(
        page_size: int = 500, url: str | None = None, extra_headers: dict[str, str] | None = None
    ) -> CaseIndexAdapter:
        options = PassOptions(page_size=page_size, extra_headers=extra_headers or {})
        adapter = CaseIndexAdapter(url or sims.urls[SourceName.CASE_INDEX], options=options)
        adapters.append(adapter)
        return adapter

    return make


def run_pass(
    adapter: CaseIndexAdapter, since: str | None = None, cursor: str | None = None
) -> list[Page]:
    return list(adapter.pages(since, cursor))


def parsed(adapter: CaseIndexAdapter, pages: Sequence[Page]) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for record in records_of(pages):
        (case,) = adapter.parse(record)
        assert isinstance(case, Case)
        cases[record.key] = case
    return cases


def by_key(cases: Sequence[Case]) -> dict[str, Case]:
    return {str(case.id): case for case in cases}


def post(sims: RunningSimulators, body: bytes, soap_action: str = SOAP_ACTION) -> httpx2.Response:
    return httpx2.post(
        sims.urls[SourceName.CASE_INDEX] + ENDPOINT_PATH,
        content=body,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{soap_action}"'},
    )


def fremsoeg(sims: RunningSimulators, query: FremsoegQuery) -> bytes:
    response = post(sims, build_request(query, uuid.uuid4()))
    assert response.status_code == 200, response.text
    return response.content


def assert_valid(body: bytes) -> etree._Element:
    """The response's header block and FremsoegSagDokumentIndeksOutput validate against the
    v6 XSDs (the SOAP 1.1 envelope itself has no schema among KOMBIT's files)."""
    root = etree.fromstring(body)
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    schema = fremsoeg_schema()
    header = root.find(f"{{{SOAP_ENV}}}Header")[0]
    output = root.find(f"{{{SOAP_ENV}}}Body")[0]
    for element in (header, output):
        valid = schema.validate(etree.ElementTree(copy.deepcopy(element)))
        assert valid, schema.error_log
    return output


def snapshots_in(output: etree._Element) -> list[etree._Element]:
    return output.findall(f"{{{SDI}}}SagFiltreretOejebliksbillede")


def lifecycle(snapshot_element: etree._Element) -> str:
    return str(snapshot_element.findtext(f"{{{SAG}}}Registrering/{{{SD}}}LivscyklusKode"))


# -- passes ------------------------------------------------------------------------------------


def test_a_full_pass_returns_every_case_as_the_population_has_it(
    world: World, source_population: Population, adapter_for: Factory
) -> None:
    adapter = adapter_for()
    pages = run_pass(adapter)

    assert pages[-1].next_cursor is None
    assert all(not page.deleted_keys for page in pages)
    assert all(record.media_type == "application/xml" for record in records_of(pages))
    assert parsed(adapter, pages) == by_key(source_population.cases)
    assert parse_time(pages[-1].high_water_mark) == world.cases.high_water_mark()


def test_a_pass_resumes_at_any_cursor_and_reads_exactly_the_rest(adapter_for: Factory) -> None:
    adapter = adapter_for(page_size=7)
    pages = run_pass(adapter)
    assert len(pages) > 3

    for index, page in enumerate(pages[:-1]):
        resumed = run_pass(adapter, cursor=page.next_cursor)
        expected = [r.key for r in records_of(pages[index + 1 :])]
        assert [r.key for r in records_of(resumed)] == expected
        assert resumed[-1].high_water_mark == pages[-1].high_water_mark


def test_a_case_changed_during_a_pass_is_read_again_not_skipped(
    world: World, source_population: Population, adapter_for: Factory
) -> None:
    adapter = adapter_for(page_size=5)
    pass_ = adapter.pages(None, None)
    first = next(pass_)
    # A case already read moves to the end of the order; plain offsets would now skip one.
    moved = by_key(source_population.cases)[first.records[0].key]
    changed = replace(moved, status=CaseStatus.AFSLUTTET, title="Sag vedrørende barn (lukket)")
    world.cases.put(str(changed.id), changed)
    pages = [first, *pass_]

    keys = [record.key for record in records_of(pages)]
    assert set(keys) == set(by_key(source_population.cases))
    assert keys.count(str(changed.id)) == 2
    assert parsed(adapter, pages)[str(changed.id)] == changed


def test_an_incremental_pass_returns_exactly_the_changes_and_removals(
    world: World, source_population: Population, adapter_for: Factory
) -> None:
    adapter = adapter_for(page_size=2)
    since = run_pass(adapter)[-1].high_water_mark
    first, second, third = source_population.cases[:3]
    changed = replace(first, status=CaseStatus.AFSLUTTET, primary_handler=None)
    added = replace(second, id=uuid.uuid4(), case_number="DUBU-2026-99999")
    world.cases.put(str(changed.id), changed)
    world.cases.put(str(added.id), added)
    world.cases.delete(str(third.id))

    pages = run_pass(adapter, since)

    assert [r.key for r in records_of(pages)] == [str(changed.id), str(added.id)]
    assert [key for page in pages for key in page.deleted_keys] == [str(third.id)]
    assert parsed(adapter, pages) == by_key([changed, added])
    mark = pages[-1].high_water_mark
    assert parse_time(mark) == world.cases.high_water_mark() > parse_time(since)
    again = run_pass(adapter, mark)
    assert records_of(again) == []
    assert [k for page in again for k in page.deleted_keys] == []
    assert again[-1].high_water_mark == mark


def test_as_documented_for_the_real_index_a_removed_case_just_disappears(
    world: World, source_population: Population
) -> None:
    app = simulator.create_app(world, report_deletions=False)
    with TestClient(app, base_url="http://testserver") as client:
        adapter = CaseIndexAdapter("http://testserver", client=client)
        since = run_pass(adapter)[-1].high_water_mark
        removed = source_population.cases[0]
        world.cases.delete(str(removed.id))

        incremental = run_pass(adapter, since)
        full = run_pass(adapter)

    assert records_of(incremental) == []
    assert [k for page in incremental for k in page.deleted_keys] == []
    # Only a full pass shows it: ingestion reconciles by what the full pass no longer has.
    assert str(removed.id) not in {r.key for r in records_of(full)}


# -- the format ------------------------------------------------------------------------------


def test_full_paged_and_incremental_responses_validate_against_the_public_xsds(
    sims: RunningSimulators, world: World, source_population: Population
) -> None:
    # The broken examples break rules the XSDs do not state, so they validate too: nothing
    # is left out of the validation.
    simulator.add_malformed_examples(world)
    full = assert_valid(fremsoeg(sims, FremsoegQuery()))
    assert len(snapshots_in(full)) == len(source_population.cases) + 3

    first_page = snapshots_in(assert_valid(fremsoeg(sims, FremsoegQuery(max_results=10))))
    stamp = first_page[-1].findtext(f"{{{SAG}}}Registrering/{{{GD}}}StsTidspunkt")
    paged = FremsoegQuery(sts_from=parse_time(stamp), first=1, max_results=10)
    assert len(snapshots_in(assert_valid(fremsoeg(sims, paged)))) == 10

    since = world.cases.high_water_mark()
    changed = replace(source_population.cases[0], status=CaseStatus.OPLYST)
    world.cases.put(str(changed.id), changed)
    world.cases.delete(str(source_population.cases[1].id))
    window = FremsoegQuery(sts_from=since + timedelta(microseconds=1))
    incremental = snapshots_in(assert_valid(fremsoeg(sims, window)))
    assert [lifecycle(s) for s in incremental] == ["Importeret", "Slettet"]


def test_the_window_end_and_the_filter_are_honoured(
    sims: RunningSimulators, source_population: Population
) -> None:
    all_cases = snapshots_in(assert_valid(fremsoeg(sims, FremsoegQuery())))
    fifth = parse_time(all_cases[4].findtext(f"{{{SAG}}}Registrering/{{{GD}}}StsTidspunkt"))
    before_fifth = assert_valid(fremsoeg(sims, FremsoegQuery(sts_to=fifth)))
    assert len(snapshots_in(before_fifth)) == 4

    properties_only = assert_valid(fremsoeg(sims, FremsoegQuery(parts=("egenskaber",))))
    assert properties_only.find(f".//{{{SAG}}}Sagsnummer") is not None
    assert properties_only.find(f".//{{{SAG}}}Sagsaktoer") is None
    assert properties_only.find(f".//{{{SAG}}}Fremdrift") is None


def test_every_sensitivity_level_and_both_kinds_of_title_survive_the_round_trip(
    world: World, source_population: Population, adapter_for: Factory
) -> None:
    template = source_population.cases[0]
    put: list[Case] = []
    for level in Sensitivity:
        for hidden in (None, "Anbringelse uden for hjemmet"):
            case = replace(template, id=uuid.uuid4(), sensitivity=level, non_public_title=hidden)
            world.cases.put(str(case.id), case)
            put.append(case)
    adapter = adapter_for()
    pages = run_pass(adapter)

    cases = parsed(adapter, pages)
    assert {key: cases[key] for key in by_key(put)} == by_key(put)
    payloads = {r.key: r.payload for r in records_of(pages)}
    for case in put:
        root = etree.fromstring(payloads[str(case.id)])
        assert root.findtext(f".//{{{SAG}}}Titel") == template.title  # the public title
        hidden = root.findtext(f".//{{{SAG}}}OffentlighedUndtaget/{{{SD}}}TitelAlternativTekst")
        assert hidden == case.non_public_title
        assert root.findtext(f".//{{{SI}}}Foelsomhed") == case.sensitivity.value


def test_a_child_with_address_protection_is_served_like_any_other(
    world: World, source_population: Population, adapter_for: Factory
) -> None:
    protected = [child for child in source_population.children if child.address_protection]
    assert protected, "the population has children with name and address protection"
    child = protected[0]
    case = replace(
        source_population.cases[0],
        id=uuid.uuid4(),
        parties=(
            CaseParty(child.cpr, PartyRole.PRIMARY),
            *(CaseParty(holder.cpr, PartyRole.SECONDARY) for holder in child.custody),
        ),
    )
    world.cases.put(str(case.id), case)
    protected_cprs = {c.cpr.value for c in protected}
    expected = [c for c in source_population.cases if c.primary_party.cpr.value in protected_cprs]
    adapter = adapter_for()
    pages = run_pass(adapter)

    cases = parsed(adapter, pages)
    assert cases[str(case.id)] == case
    assert all(cases[str(c.id)] == c for c in expected)
    payload = next(r.payload for r in records_of(pages) if r.key == str(case.id))
    assert f"urn:oio:cpr-nr:{child.cpr.value}".encode() in payload


# -- broken records ----------------------------------------------------------------------------


def test_each_malformed_example_is_rejected_with_a_reason_and_the_rest_parses(
    world: World, source_population: Population, adapter_for: Factory
) -> None:
    simulator.add_malformed_examples(world)
    adapter = adapter_for(page_size=10)
    reasons: dict[str, str] = {}
    cases: dict[str, Case] = {}
    for record in records_of(run_pass(adapter)):
        try:
            (case,) = adapter.parse(record)
        except RecordRejected as rejected:
            reasons[record.key] = rejected.reason
        else:
            assert isinstance(case, Case)
            cases[record.key] = case

    assert sorted(reasons.values()) == [
        "Ejer CVR 12345678 fails the modulus-11 check",
        "Primær klasse KLE number '27.24.3' is not xx.xx.xx",
        "expected exactly one current Sagsaktør with role Ansvarlig, found 0",
    ]
    assert cases == by_key(source_population.cases)


Mutation = Callable[[etree._Element], None]


def _relation(root: etree._Element, rolle: str) -> etree._Element:
    role = next(
        e
        for e in root.iter(f"{{{SD}}}UUIDIdentifikator")
        if e.text == rolle and e.getparent().tag == f"{{{GD}}}Rolle"
    )
    return role.getparent().getparent()


def _set(path: str, value: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        root.find(path).text = value

    return mutate


def _second_owner(root: etree._Element) -> None:
    owner = _relation(root, Rolle.EJER)
    owner.addnext(copy.deepcopy(owner))


def _responsible_by_urn(root: etree._Element) -> None:
    reference = _relation(root, Rolle.ANSVARLIG).find(f"{{{GD}}}ReferenceID")
    reference[0].tag = f"{{{SD}}}URNIdentifikator"
    reference[0].text = "urn:oio:kmd:sag:administrativenhed:LOSID:012345678"


def _no_master(root: etree._Element) -> None:
    master = _relation(root, Rolle.MASTER)
    master.getparent().remove(master)


def _party_cpr(root: etree._Element) -> None:
    reference = _relation(root, Rolle.PRIMAER_PART).find(f"{{{GD}}}ReferenceID")
    reference[0].text = "urn:oio:cpr-nr:3213000000"  # day 32 of month 13


BROKEN: list[tuple[str, Mutation, str]] = [
    ("unknown Foelsomhed", _set(f".//{{{SI}}}Foelsomhed", "HEMMELIG"), "Foelsomhed 'HEMMELIG'"),
    (
        "unknown status",
        _set(f".//{{{SAG}}}FremdriftStatusKode", "Lukket"),
        "FremdriftStatusKode 'Lukket' is not one of",
    ),
    ("invalid party CPR", _party_cpr, "does not hold a valid CPR number"),
    ("two owners", _second_owner, "exactly one current Sagsaktør with role Ejer, found 2"),
    ("responsible by URN", _responsible_by_urn, "must name an FK Organisation UUID"),
    ("no Master IT-system", _no_master, "IT-system with role Master, found 0"),
    ("title too long", _set(f".//{{{SAG}}}Titel", "x" * 256), "Titel has 256 characters"),
    ("number mismatch", _set(f".//{{{SAG}}}Sagsnummer", "X-1"), "differs from BrugervendtNoegle"),
    (
        "removed",
        _set(f".//{{{SD}}}LivscyklusKode", "Slettet"),
        "LivscyklusKode is Slettet",
    ),
    (
        "time without zone",
        _set(f".//{{{SI}}}OprettetTidspunkt", "2026-01-05T09:00:00"),
        "has no time zone",
    ),
]


def _rendered(case: Case) -> etree._Element:
    names = CaseNames("Aarhus Kommune", "0751", "PPR, Aarhus Kommune")
    text = snapshot(case, case.opened_at, names, declare_namespaces=True)
    return etree.fromstring(text.encode())


@pytest.mark.parametrize(
    ("mutation", "reason"), [(m, r) for _, m, r in BROKEN], ids=[n for n, _, _ in BROKEN]
)
def test_parse_rejects_a_broken_snapshot_with_a_precise_reason(
    source_population: Population, mutation: Mutation, reason: str
) -> None:
    case = source_population.cases[0]
    root = _rendered(case)
    mutation(root)

    with pytest.raises(RecordRejected) as rejected:
        parse_snapshot(etree.tostring(root), str(case.id))

    assert reason in rejected.value.reason


def test_parse_rejects_what_is_not_a_snapshot_of_the_named_case(
    source_population: Population,
) -> None:
    case = source_population.cases[0]
    with pytest.raises(RecordRejected, match="not well-formed XML"):
        parse_snapshot(b"<sdi:SagFiltreretOejebliksbillede", str(case.id))
    payload = etree.tostring(_rendered(case))
    with pytest.raises(RecordRejected, match="but the page named it"):
        parse_snapshot(payload, str(uuid.uuid4()))


def test_parse_reads_the_current_state_and_ignores_history(source_population: Population) -> None:
    """A snapshot may carry ended Virkning periods (usage pattern AM-01): they do not count."""
    case = source_population.cases[0]
    root = _rendered(case)
    progress = root.find(f".//{{{SAG}}}Fremdrift")
    earlier = copy.deepcopy(progress)
    start = case.opened_at - timedelta(days=30)
    earlier.find(f".//{{{SD}}}FraTidspunkt/{{{SD}}}TidsstempelDatoTid").text = format_time(start)
    end = earlier.find(f".//{{{SD}}}TilTidspunkt")
    end[0].tag, end[0].text = f"{{{SD}}}TidsstempelDatoTid", format_time(case.opened_at)
    earlier.find(f"{{{SAG}}}FremdriftStatusKode").text = "Opstaaet"
    progress.addprevious(earlier)
    former_owner = copy.deepcopy(_relation(root, Rolle.EJER))
    former_owner.find(f".//{{{SD}}}TilTidspunkt")[0].tag = f"{{{SD}}}TidsstempelDatoTid"
    former_owner.find(f".//{{{SD}}}TilTidspunkt")[0].text = format_time(case.opened_at)
    _relation(root, Rolle.EJER).addprevious(former_owner)

    assert parse_snapshot(etree.tostring(root), str(case.id)) == case


# -- failures ----------------------------------------------------------------------------------


def test_http_failures_raise_source_unavailable(
    sims: RunningSimulators, adapter_for: Factory
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    url = sims.urls[SourceName.CASE_INDEX]
    cases = [
        (adapter_for(url=f"http://127.0.0.1:{closed_port}"), "unreachable"),
        (adapter_for(url=f"{url}/elsewhere"), "HTTP 404"),
        (
            adapter_for(extra_headers={"SOAPAction": "fjern"}),
            "HTTP 500: the simulator serves only SOAPAction",
        ),
    ]
    for adapter, message in cases:
        with pytest.raises(SourceUnavailable, match=message):
            run_pass(adapter)


FAULTS = [
    ("not XML", b"<soap:Envelope", SOAP_ACTION, "not well-formed XML"),
    (
        "other operation",
        build_request(FremsoegQuery(), uuid.uuid4()),
        "http://kombit.dk/sts/sagdokumentindeks/fjern",
        "SOAPAction",
    ),
    (
        "breaks the schema",
        build_request(FremsoegQuery(), uuid.uuid4()).replace(b">500<", b">many<"),
        SOAP_ACTION,
        "breaks the v6 schema",
    ),
    (
        "look-up by UUID",
        build_request(FremsoegQuery(), uuid.uuid4()).replace(
            b"<sdi:SoegUdtryk>",
            f"<sdi:SagUuid>{uuid.uuid4()}</sdi:SagUuid><sdi:SoegUdtryk>".encode(),
        ),
        SOAP_ACTION,
        "look-up by SagUuid",
    ),
    (
        "descending order",
        build_request(FremsoegQuery(), uuid.uuid4()).replace(b"Stigende", b"Faldende"),
        SOAP_ACTION,
        "ascending",
    ),
]


@pytest.mark.parametrize(
    ("body", "action", "message"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_the_simulator_answers_a_bad_request_with_a_soap_fault(
    sims: RunningSimulators, body: bytes, action: str, message: str
) -> None:
    response = post(sims, body, soap_action=action)

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/xml")
    fault = etree.fromstring(response.content).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert message in fault.findtext("faultstring")


def test_a_page_continues_after_the_results_it_shared_a_registration_time_with() -> None:
    """The real index may register several cases at one instant; the cursor counts those
    already read (the simulator's clock never repeats, so this is checked directly)."""
    t0 = parse_time("2026-11-26T00:00:00.001000+00:00")
    t1 = t0 + timedelta(milliseconds=1)

    start = _Position(None)
    assert start.after([t0, t1, t1]) == _Position(t1, 2)
    assert _Position(t1, 2).after([t1, t1]) == _Position(t1, 4)
    assert _Position(t1, 4).after([t1, t1 + timedelta(seconds=1)]) == _Position(
        t1 + timedelta(seconds=1), 1
    )
    assert _Position.decode(_Position(t1, 4).encode()) == _Position(t1, 4)
    assert _Position.decode(start.encode()) == start
