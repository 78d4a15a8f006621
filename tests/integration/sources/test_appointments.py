"""The appointment overview (Aftaleoversigten): APD-DK 2.0.1 documents read through IHE MHD,
with the real adapter against the simulator on loopback HTTP.

MedCom's APD-DK example documents are read from the shared test vectors at test time; they
carry MedCom's published test CPR numbers, which must not be copied into this repository.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lxml import etree

from paatvaers.domain.appointments import (
    EPISODE_LABEL_MENTAL_DISORDERS,
    FACILITY_PSYCHIATRIC_UNIT,
    PRACTICE_SETTING_CHILD_PSYCHIATRY,
    PRACTICE_SETTING_PSYCHIATRY,
    Appointment,
    AppointmentMarking,
    AppointmentStatus,
)
from paatvaers.domain.organisations import OrgUnit, UnitKind, unit_id_for_sor
from paatvaers.population.generator import Population
from paatvaers.sources.appointments import codes, render
from paatvaers.sources.appointments.adapter import AppointmentsAdapter
from paatvaers.sources.appointments.apd import document_uuid
from paatvaers.sources.appointments.simulator import MALFORMED_KEYS, add_malformed_examples
from paatvaers.sources.base import (
    AppointmentWithPerformer,
    Page,
    PassOptions,
    RawRecord,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World

VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
APD_EXAMPLES = VECTORS / "plsp-dds-testdata" / "xmlfiler"
HL7 = "{urn:hl7-org:v3}"
UNMARKED = AppointmentMarking(None, None, None)
CHILD_PSYCHIATRY = AppointmentMarking(
    PRACTICE_SETTING_CHILD_PSYCHIATRY, FACILITY_PSYCHIATRIC_UNIT, EPISODE_LABEL_MENTAL_DISORDERS
)


# -- helpers ------------------------------------------------------------------------------------


@contextmanager
def serving(world: World, page_size: int = 500) -> Iterator[AppointmentsAdapter]:
    with RunningSimulators(world, sources=[SourceName.APPOINTMENTS]) as sims:
        adapter = AppointmentsAdapter(
            sims.urls[SourceName.APPOINTMENTS],
            options=PassOptions(page_size=page_size),
            today=world.as_of,
        )
        try:
            yield adapter
        finally:
            adapter.close()


def parsed(adapter: AppointmentsAdapter, pages: list[Page]) -> dict[uuid.UUID, Any]:
    """Every record of the pages parsed, by appointment id."""
    found: dict[uuid.UUID, AppointmentWithPerformer] = {}
    for page in pages:
        for record in page.records:
            (entity,) = adapter.parse(record)
            assert isinstance(entity, AppointmentWithPerformer)
            assert entity.appointment.id not in found
            found[entity.appointment.id] = entity
    return found


def as_served(a: Appointment, today: date) -> Appointment:
    """An appointment as the overview can tell it: APD-DK says only `active`, so held versus
    booked follows the time (the generator may call a future appointment held), and the course
    stage is not in APD-DK at all."""
    status = a.status
    if status in (AppointmentStatus.HELD, AppointmentStatus.BOOKED):
        held = a.start.date() < today
        status = AppointmentStatus.HELD if held else AppointmentStatus.BOOKED
    return replace(a, status=status, stage=None)


def performer_as_named(unit: OrgUnit) -> OrgUnit:
    """What an APD-DK document says of the performing unit."""
    return OrgUnit(id=unit.id, kind=UnitKind.BUP, name=unit.name, sor=unit.sor, phone=unit.phone)


def expected(world: World) -> dict[uuid.UUID, AppointmentWithPerformer]:
    return {
        item.appointment.id: AppointmentWithPerformer(
            as_served(item.appointment, world.as_of), performer_as_named(item.performer)
        )
        for item in world.appointments.values()
        if item.appointment.patient_cpr.value not in world.sharing_blocked
    }


def booked(world: World, n: int) -> list[AppointmentWithPerformer]:
    items = sorted(
        (
            i
            for i in world.appointments.values()
            if i.appointment.status is AppointmentStatus.BOOKED and not i.appointment.replaces_id
        ),
        key=lambda i: str(i.appointment.id),
    )
    assert len(items) >= n
    return items[:n]


def put(world: World, item: AppointmentWithPerformer) -> None:
    world.appointments.put(str(item.appointment.id), item)


def record_of(adapter: AppointmentsAdapter, a: Appointment) -> RawRecord:
    entry = render.entry_id(str(a.id))
    for page in adapter.pages(None, None):
        for record in page.records:
            if record.key == entry:
                return record
    raise AssertionError(f"no record for {a.id}")


# -- MedCom's APD-DK examples -------------------------------------------------------------------


def medcom_examples() -> list[Path]:
    files = sorted(APD_EXAMPLES.glob("*.xml"))
    if not files:
        pytest.fail(
            f"MedCom's APD-DK examples are missing: expected XML files in {APD_EXAMPLES} "
            "(the shared test vectors, see /work/shared/vectors/SOURCES.txt)"
        )
    return files


def wrap(
    document: str,
    *,
    status: str = codes.CURRENT,
    marking: AppointmentMarking = UNMARKED,
    relates_to: str | None = None,
    entry: str = "e0000000-0000-4000-8000-000000000001",
) -> dict[str, Any]:
    """A DocumentReference for a document, as an MHD search would return it."""
    root = etree.fromstring(document.encode("utf-8"))
    doc_id = root.find(f"{HL7}id")
    ext, doc_root = doc_id.get("extension"), doc_id.get("root")
    try:
        master = f"urn:uuid:{uuid.UUID(ext)}"
    except ValueError:
        master = f"{doc_root}^{ext}"
    patient = root.find(f"{HL7}recordTarget/{HL7}patientRole/{HL7}id")
    context: dict[str, Any] = {}
    if marking.practice_setting_code:
        context["practiceSetting"] = coding(codes.SNOMED, marking.practice_setting_code)
    if marking.facility_type_code:
        context["facilityType"] = coding(codes.SNOMED, marking.facility_type_code)
    if marking.episode_label:
        context["event"] = [coding(codes.SKS, marking.episode_label)]
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": entry,
        "masterIdentifier": {"system": codes.RFC3986, "value": master},
        "status": status,
        "type": coding(codes.LOINC, codes.TYPE_CODE),
        "category": [coding(codes.CLASS_CODE_SYSTEM, codes.CLASS_CODE)],
        "subject": {
            "identifier": {
                "system": f"urn:oid:{patient.get('root')}",
                "value": patient.get("extension"),
            }
        },
        "content": [
            {
                "attachment": {"contentType": "text/xml", "url": f"Binary/{entry}"},
                "format": {"system": codes.FORMAT_CODE_SYSTEM, "code": codes.FORMAT_CODE},
            }
        ],
        "context": context,
    }
    if relates_to:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{relates_to}"}}
        ]
    return resource


def coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def raw(parts: dict[str, Any]) -> RawRecord:
    key = parts["documentReference"]["id"]
    return RawRecord(key, json.dumps(parts).encode(), "application/json")


def test_every_medcom_example_parses_into_an_appointment() -> None:
    adapter = AppointmentsAdapter(today=date(2026, 11, 26))
    for path in medcom_examples():
        document = path.read_text(encoding="utf-8")
        root = etree.fromstring(document.encode("utf-8"))
        regional = root.find(f".//{HL7}encounter/{HL7}code").get("code") == "RegionalAppointment"
        marking = AppointmentMarking(None, None, "ALAL21") if regional else UNMARKED
        (entity,) = adapter.parse(
            raw({"documentReference": wrap(document, marking=marking), "document": document})
        )
        assert isinstance(entity, AppointmentWithPerformer), path.name
        a = entity.appointment
        encounter = root.find(f".//{HL7}encounter")
        assert str(a.id) == encounter.find(f"{HL7}id").get("extension"), path.name
        doc_id = root.find(f"{HL7}id")
        assert a.document_id == document_uuid(doc_id.get("root"), doc_id.get("extension"))
        patient = root.find(f"{HL7}recordTarget/{HL7}patientRole/{HL7}id").get("extension")
        assert a.patient_cpr.value == patient, path.name
        assert a.status is AppointmentStatus.HELD  # all of them lie before 2026
        assert a.marking == marking
        assert a.start.tzinfo is not None
        assert entity.performer.sor == a.performer_sor
        assert entity.performer.id == unit_id_for_sor(a.performer_sor.value)
        assert a.reason


def test_medcom_examples_read_field_by_field() -> None:
    adapter = AppointmentsAdapter(today=date(2020, 12, 1))
    by_name = {p.name: p for p in medcom_examples()}

    def read(name: str) -> AppointmentWithPerformer:
        document = by_name[name].read_text(encoding="utf-8")
        (entity,) = adapter.parse(raw({"documentReference": wrap(document), "document": document}))
        assert isinstance(entity, AppointmentWithPerformer)
        return entity

    region = read("DK-APD_Example_1_5_apd_region.xml")
    a = region.appointment
    assert a.id == uuid.UUID("0b3cfb2f-f76f-4a42-8098-2455ac7ece83")
    assert a.document_id == uuid.UUID("c50d18d1-c1e6-4c22-9f1c-575bbc5ce3c2")
    assert a.start.isoformat() == "2020-12-07T11:15:00+01:00"
    assert a.end is not None and a.end.isoformat() == "2020-12-07T12:30:00+01:00"
    assert (a.performer_sor.value, a.performer_name) == ("325441000016006", "Regionshospitalet")
    assert (str(a.location_sor), a.location_name) == ("325441000016006", "opgang 4, 3 sal rum 101")
    assert a.reason == "lægekonsultation med ambulant patient"
    assert a.status is AppointmentStatus.BOOKED  # 7 December 2020 is after "today"
    assert region.performer.phone == "66113322"
    assert region.performer.kind is UnitKind.BUP
    assert str(a.requester_sor) == "393421000016009"  # the second author, REFB

    minimum = read("DK-APD_Example_1_1_apd_minimum.xml").appointment
    assert minimum.end is None  # high nullFlavor NI
    assert minimum.location_sor is None
    assert minimum.location_name == "Borgers Hjemmeadresse"  # participant SBJ / SDLOC
    assert minimum.reason == "Visitationsbesøg"
    assert minimum.requester_sor is None  # author nullFlavor NI

    all_day = read("DK-APD_Example_1_7_apd_region_all_day.xml").appointment
    assert all_day.end is None
    assert all_day.reason.startswith("røntgenundersøgelse")
    assert all_day.requester_sor is None  # the requester is named by ydernummer, not SOR

    days = read("DK-APD_Example_1_12_apd_region_days.xml").appointment
    assert days.end is not None and days.end.utcoffset() == timedelta(hours=2)  # summer time


# -- the service --------------------------------------------------------------------------------


def test_full_pass_equals_the_world(world: World, source_population: Population) -> None:
    assert source_population.appointments
    with serving(world, page_size=500) as adapter:
        pages = list(adapter.pages(None, None))
    assert pages[-1].next_cursor is None
    assert all(not p.deleted_keys for p in pages)
    found = parsed(adapter, pages)
    want = expected(world)
    assert found.keys() == want.keys()
    for appointment_id, item in want.items():
        assert found[appointment_id] == item
    statuses = {i.appointment.status for i in found.values()}
    assert {AppointmentStatus.HELD, AppointmentStatus.BOOKED} <= statuses
    assert pages[-1].high_water_mark == world.appointments.high_water_mark().isoformat(
        timespec="milliseconds"
    )


def test_a_blocked_childs_appointments_are_not_served(world: World) -> None:
    child = booked(world, 1)[0].appointment.patient_cpr.value
    theirs = [i for i in world.appointments.values() if i.appointment.patient_cpr.value == child]
    world.sharing_blocked.add(child)
    with serving(world) as adapter:
        found = parsed(adapter, list(adapter.pages(None, None)))
        binary = f"{adapter.fhir_base}/Binary/{theirs[0].appointment.id}"
        assert httpx2.get(binary).status_code == 404
    assert theirs
    assert not [a for a in found.values() if a.appointment.patient_cpr.value == child]
    assert found.keys() == expected(world).keys()


def test_unmarked_and_inconsistently_marked_appointments_keep_their_marking(world: World) -> None:
    """Filtering to child psychiatry happens where appointments are shown, not here: the
    marking is stored so that data quality per region can be measured (R12)."""
    first, second = booked(world, 2)
    adult = AppointmentMarking(PRACTICE_SETTING_PSYCHIATRY, FACILITY_PSYCHIATRIC_UNIT, None)
    put(world, replace(first, appointment=replace(first.appointment, marking=adult)))
    put(world, replace(second, appointment=replace(second.appointment, marking=UNMARKED)))
    with serving(world) as adapter:
        found = parsed(adapter, list(adapter.pages(None, None)))
    assert found[first.appointment.id].appointment.marking == adult
    assert found[second.appointment.id].appointment.marking == UNMARKED
    assert not found[first.appointment.id].appointment.marking.is_child_psychiatry
    assert not found[second.appointment.id].appointment.marking.is_marked


def test_cancelled_and_moved_appointments(world: World) -> None:
    cancelled, moved = booked(world, 2)
    with serving(world) as adapter:
        mark = list(adapter.pages(None, None))[-1].high_water_mark
        put(
            world,
            replace(
                cancelled,
                appointment=replace(cancelled.appointment, status=AppointmentStatus.CANCELLED),
            ),
        )
        old = moved.appointment
        put(world, replace(moved, appointment=replace(old, status=AppointmentStatus.MOVED)))
        new = replace(
            old,
            id=uuid.uuid4(),
            document_id=uuid.uuid4(),
            start=old.start + timedelta(days=2),
            end=old.end + timedelta(days=2) if old.end else None,
            replaces_id=old.id,
        )
        put(world, AppointmentWithPerformer(new, moved.performer))
        pages = list(adapter.pages(mark, None))
        found = parsed(adapter, pages)
        old_record = record_of(adapter, old)
    assert found.keys() == {cancelled.appointment.id, old.id, new.id}
    assert found[cancelled.appointment.id].appointment.status is AppointmentStatus.CANCELLED
    assert found[old.id].appointment.status is AppointmentStatus.MOVED
    assert found[new.id].appointment == as_served(new, world.as_of)
    assert found[new.id].appointment.replaces_id == old.id
    # How the service shows it: the old entry deprecated (superseded) and replaced.
    payload = json.loads(old_record.payload)
    assert payload["documentReference"]["status"] == codes.SUPERSEDED
    (replacer,) = payload["replacedBy"]
    assert replacer["relatesTo"][0]["target"]["reference"] == f"DocumentReference/{old_record.key}"


def moved_pair(item: AppointmentWithPerformer) -> tuple[Appointment, Appointment]:
    old = replace(item.appointment, status=AppointmentStatus.MOVED)
    new = replace(
        item.appointment,
        id=uuid.uuid4(),
        document_id=uuid.uuid4(),
        start=old.start + timedelta(days=3),
        end=old.end + timedelta(days=3) if old.end else None,
        replaces_id=old.id,
    )
    return old, new


def test_a_move_is_resolved_when_only_one_side_changed(world: World) -> None:
    """The other document of a move comes with the search (_include / _revinclude)."""
    first, second = booked(world, 2)
    old1, new1 = moved_pair(first)
    old2, new2 = moved_pair(second)
    with serving(world) as adapter:
        put(world, AppointmentWithPerformer(old1, first.performer))
        put(world, AppointmentWithPerformer(new2, second.performer))
        mark = list(adapter.pages(None, None))[-1].high_water_mark
        put(world, AppointmentWithPerformer(new1, first.performer))  # old1 unchanged since
        put(world, AppointmentWithPerformer(old2, second.performer))  # new2 unchanged since
        found = parsed(adapter, list(adapter.pages(mark, None)))
    assert found.keys() == {new1.id, old2.id}
    assert found[new1.id].appointment.replaces_id == old1.id  # read from the included old one
    assert found[old2.id].appointment.status is AppointmentStatus.MOVED  # by the replacing one


def test_a_move_whose_old_document_is_gone_keeps_the_new_appointment(world: World) -> None:
    item = booked(world, 1)[0]
    old, new = moved_pair(item)
    put(world, AppointmentWithPerformer(new, item.performer))
    world.appointments.delete(str(old.id))
    with serving(world) as adapter:
        found = parsed(adapter, list(adapter.pages(None, None)))
    assert found[new.id].appointment.replaces_id is None
    assert old.id not in found


def test_paging_and_resuming_at_a_cursor(world: World) -> None:
    with serving(world, page_size=7) as adapter:
        pages = list(adapter.pages(None, None))
        assert len(pages) >= 4
        resumed = list(adapter.pages(None, pages[1].next_cursor))
    keys = [[r.key for r in p.records] for p in pages]
    assert [[r.key for r in p.records] for p in resumed] == keys[2:]
    assert resumed[-1].next_cursor is None
    assert resumed[-1].high_water_mark == pages[-1].high_water_mark
    flat = [k for page in keys for k in page]
    assert len(flat) == len(set(flat)) == len(expected(world))
    assert parsed(adapter, pages) == expected(world)  # moves resolved across page boundaries


def test_incremental_pass_returns_exactly_the_changes(world: World) -> None:
    changed, gone = booked(world, 2)
    with serving(world, page_size=5) as adapter:
        mark = list(adapter.pages(None, None))[-1].high_water_mark
        quiet = list(adapter.pages(mark, None))
        assert [len(p.records) for p in quiet] == [0]
        assert quiet[-1].high_water_mark == mark

        put(
            world,
            replace(changed, appointment=replace(changed.appointment, reason="Forældresamtale")),
        )
        fresh = replace(changed.appointment, id=uuid.uuid4(), document_id=uuid.uuid4())
        put(world, AppointmentWithPerformer(fresh, changed.performer))
        world.appointments.delete(str(gone.appointment.id))
        pages = list(adapter.pages(mark, None))
        found = parsed(adapter, pages)
        after = parsed(adapter, list(adapter.pages(None, None)))
    assert found.keys() == {changed.appointment.id, fresh.id}
    assert found[changed.appointment.id].appointment.reason == "Forældresamtale"
    # MHD reports no deletions: a removed document stops appearing, and full passes reconcile.
    assert all(not p.deleted_keys for p in pages)
    assert gone.appointment.id not in after
    assert pages[-1].high_water_mark is not None and pages[-1].high_water_mark > mark


def test_malformed_records_are_rejected_and_the_rest_parses(world: World) -> None:
    add_malformed_examples(world)
    with serving(world, page_size=10) as adapter:
        pages = list(adapter.pages(None, None))
    rejected: dict[str, str] = {}
    good = 0
    for record in (r for p in pages for r in p.records):
        try:
            adapter.parse(record)
            good += 1
        except RecordRejected as exc:
            rejected[record.key] = exc.reason
    assert good == len(expected(world))
    reasons = {key: rejected[render.entry_id(key)] for key in MALFORMED_KEYS}
    assert reasons == {
        "malformed-status-cancelled": (
            "APD-DK allows only statusCode 'active' on the appointment, found 'cancelled'"
        ),
        "malformed-performer-without-sor": "the performer has no SOR id (root 1.2.208.176.1.1)",
        "malformed-cpr-mismatch": (
            "the metadata's patient (030213-4991) is not the document's recordTarget (170514-4992)"
        ),
    }


# -- strictness of a single record --------------------------------------------------------------


def good_record(world: World) -> tuple[dict[str, Any], str]:
    item = booked(world, 1)[0]
    person = world.persons.get(item.appointment.patient_cpr.value)
    document = render.apd_document(item, person.child if person else None, None)
    resource = render.document_reference(item, str(item.appointment.id), world.clock.now, "x")
    return resource, document


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('root="1.2.208.184.14.1"', 'root="1.2.208.184.14.2"', "not an APD-DK document"),
        ('code="39289-4"', 'code="11488-4"', "code must be LOINC 39289-4"),
        ('moodCode="APT"', 'moodCode="EVN"', "moodCode APT"),
        ('<statusCode code="active"/>', '<statusCode code="completed"/>', "only statusCode"),
        ('00+0100"/><high', '00"/><high', "must be a time with a time zone"),
        ('extension="apd-v2.0.1"', 'extension="apd-v1.0"', "profile version"),
        ("<entry>", '<entry><encounter moodCode="APT"/></entry><entry>', "exactly one appointment"),
        ('<code code="NI" displayName=', '<code code="NI" originalText=', "has no reason"),
        ("<ClinicalDocument", "<Clinical", "not well-formed XML"),
    ],
)
def test_a_broken_document_is_rejected(world: World, old: str, new: str, reason: str) -> None:
    resource, document = good_record(world)
    assert old in document
    broken = document.replace(old, new, 1)
    adapter = AppointmentsAdapter(today=world.as_of)
    with pytest.raises(RecordRejected, match=reason):
        adapter.parse(raw({"documentReference": resource, "document": broken}))


def test_end_before_start_is_rejected(world: World) -> None:
    resource, document = good_record(world)
    item = booked(world, 1)[0].appointment
    assert item.end is not None
    end = item.end.strftime("%Y%m%d%H%M%S%z")
    early = (item.start - timedelta(hours=1)).strftime("%Y%m%d%H%M%S%z")
    broken = document.replace(f'<high value="{end}"/>', f'<high value="{early}"/>')
    with pytest.raises(RecordRejected, match=r"ends .* before it starts"):
        AppointmentsAdapter(today=world.as_of).parse(
            raw({"documentReference": resource, "document": broken})
        )


def test_broken_metadata_is_rejected(world: World) -> None:
    adapter = AppointmentsAdapter(today=world.as_of)
    resource, document = good_record(world)

    def parse(**changes: Any) -> None:
        adapter.parse(raw({"documentReference": {**resource, **changes}, "document": document}))

    with pytest.raises(RecordRejected, match="formatCode"):
        parse(content=[{"attachment": {"url": "x"}, "format": coding("x", "y")}])
    with pytest.raises(RecordRejected, match="typeCode"):
        parse(type=coding(codes.LOINC, "11488-4"))
    with pytest.raises(RecordRejected, match="masterIdentifier"):
        parse(masterIdentifier={"system": codes.RFC3986, "value": f"urn:uuid:{uuid.uuid4()}"})
    with pytest.raises(RecordRejected, match="status"):
        parse(status="preliminary")
    with pytest.raises(RecordRejected, match="could not be retrieved: HTTP 404"):
        adapter.parse(
            raw(
                {
                    "documentReference": resource,
                    "document": None,
                    "retrieveError": "HTTP 404 from x",
                }
            )
        )


def test_entered_in_error_and_superseded_without_replacement_are_cancelled(world: World) -> None:
    adapter = AppointmentsAdapter(today=world.as_of)
    resource, document = good_record(world)
    for status in (codes.ENTERED_IN_ERROR, codes.SUPERSEDED):
        (entity,) = adapter.parse(
            raw({"documentReference": {**resource, "status": status}, "document": document})
        )
        assert isinstance(entity, AppointmentWithPerformer)
        assert entity.appointment.status is AppointmentStatus.CANCELLED


def test_held_or_booked_follows_today(world: World) -> None:
    resource, document = good_record(world)
    start = booked(world, 1)[0].appointment.start.date()
    for today, status in (
        (start, AppointmentStatus.BOOKED),
        (start + timedelta(days=1), AppointmentStatus.HELD),
    ):
        (entity,) = AppointmentsAdapter(today=today).parse(
            raw({"documentReference": resource, "document": document})
        )
        assert isinstance(entity, AppointmentWithPerformer)
        assert entity.appointment.status is status


# -- failures of the service --------------------------------------------------------------------


def test_an_unreachable_service_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = AppointmentsAdapter(f"http://127.0.0.1:{port}")
    with pytest.raises(SourceUnavailable, match="search failed"):
        next(adapter.pages(None, None))


def test_http_errors_make_the_source_unavailable(world: World) -> None:
    def search_fails(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(503, text="Service Unavailable")

    client = httpx2.Client(transport=httpx2.MockTransport(search_fails))
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        next(AppointmentsAdapter("http://mhd.example", client=client).pages(None, None))

    resource, _ = good_record(world)
    resource["content"][0]["attachment"]["url"] = "Binary/1"
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": resource}]}

    def retrieve_fails(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/DocumentReference"):
            return httpx2.Response(200, json=bundle)
        return httpx2.Response(500, text="boom")

    client = httpx2.Client(transport=httpx2.MockTransport(retrieve_fails))
    with pytest.raises(SourceUnavailable, match="Binary/1 answered HTTP 500"):
        next(AppointmentsAdapter("http://mhd.example", client=client).pages(None, None))


def test_the_simulator_follows_mhd_search_rules(world: World) -> None:
    with serving(world) as adapter:
        url = f"{adapter.fhir_base}/DocumentReference"
        assert httpx2.get(url).status_code == 400  # status is required (ITI-67)
        answer = httpx2.get(url, params={"status": "current", "_count": "3"}).json()
    assert answer["resourceType"] == "Bundle" and answer["type"] == "searchset"
    assert len(answer["entry"]) == 3
    assert {e["resource"]["status"] for e in answer["entry"]} == {"current"}
    assert [link["relation"] for link in answer["link"]] == ["self", "next"]
