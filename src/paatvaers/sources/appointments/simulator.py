"""Simulator of the appointment overview as an IHE MHD Document Responder (FHIR R4).

    GET /fhir/DocumentReference?status=current,superseded,entered-in-error
        &_sort=_lastUpdated&_count=500[&_lastUpdated=gt<instant>]
        [&_include=DocumentReference:relatesto][&_revinclude=DocumentReference:relatesto]
        [&patient.identifier=urn:oid:1.2.208.176.1.2|<cpr>][&_page=<token>]
        → Bundle (searchset) of DocumentReference, `link` next while more remain
    GET /fhir/Binary/<id>   → the APD-DK document (text/xml), the attachment.url of an entry

Appointments of patients in `world.sharing_blocked` are never served: the real service
filters them before it answers. Documents removed outright simply stop appearing (MHD has no
deletion feed).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paatvaers.domain.appointments import (
    EPISODE_LABEL_MENTAL_DISORDERS,
    FACILITY_PSYCHIATRIC_UNIT,
    PRACTICE_SETTING_CHILD_PSYCHIATRY,
    Appointment,
    AppointmentMarking,
    AppointmentStatus,
)
from paatvaers.domain.cpr import synthetic_cpr
from paatvaers.domain.identifiers import Sor
from paatvaers.domain.organisations import OrgUnit, UnitKind, unit_id_for_sor
from paatvaers.sources.appointments import codes, render
from paatvaers.sources.base import AppointmentWithPerformer
from paatvaers.sources.simulation.world import Entry, Malformed, World

FHIR_JSON = "application/fhir+json"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
DEFAULT_COUNT = 100
MAX_COUNT = 1000


class _BadRequest(Exception):
    pass


@dataclass
class _Index:
    """What a search needs beyond `SourceStore.page`: entries by key (for includes and
    retrieval, Malformed ones too) and which documents replace which. Rebuilt when the world
    has changed."""

    stamp: datetime
    entries: dict[str, Entry[AppointmentWithPerformer]] = field(default_factory=dict)
    replaced_by: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Search:
    statuses: frozenset[str]
    count: int
    since: datetime | None
    after: tuple[datetime, str] | None
    patient: str | None
    include: bool
    revinclude: bool


class _Service:
    def __init__(self, world: World) -> None:
        self.world = world
        self._index: _Index | None = None

    # -- the index -------------------------------------------------------------------------

    def index(self) -> _Index:
        stamp = self.world.clock.now  # every put or delete ticks the clock
        if self._index is not None and self._index.stamp == stamp:
            return self._index
        store = self.world.appointments
        entries, _ = store.page(None, None, len(store))
        index = _Index(stamp)
        for entry in entries:
            index.entries[entry.key] = entry
            value = entry.value
            if isinstance(value, AppointmentWithPerformer) and value.appointment.replaces_id:
                old = str(value.appointment.replaces_id)
                index.replaced_by.setdefault(old, []).append(entry.key)
        self._index = index
        return index

    # -- GET /fhir/DocumentReference -----------------------------------------------------------

    async def search(self, request: Request) -> Response:
        try:
            search = _read_search(request)
        except _BadRequest as exc:
            return _outcome(400, "invalid", str(exc))
        fhir_base = _fhir_base(request)
        entries, position = self.world.appointments.page(search.since, search.after, search.count)
        index = self.index()
        matches = [m for e in entries if (m := self._visible(e, search, fhir_base)) is not None]
        bundle_entries = [_entry(fhir_base, r, "match") for r in matches]
        bundle_entries += [
            _entry(fhir_base, r, "include")
            for r in self._included(entries, search, index, fhir_base)
        ]
        links = [{"relation": "self", "url": str(request.url)}]
        if position is not None:
            token = _token(position)
            links.append(
                {"relation": "next", "url": str(request.url.include_query_params(_page=token))}
            )
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": links,
            "entry": bundle_entries,
        }
        return _json(200, bundle)

    def _resource(self, entry: Entry[AppointmentWithPerformer], fhir_base: str) -> dict[str, Any]:
        if isinstance(entry.value, Malformed):
            resource = _malformed_part(entry.value).get("documentReference")
            if not isinstance(resource, dict):
                return {}
            # Served verbatim, except meta.lastUpdated: the server owns it.
            meta = resource.setdefault("meta", {})
            if isinstance(meta, dict):
                meta["lastUpdated"] = entry.changed_at.isoformat(timespec="milliseconds")
            return resource
        return render.document_reference(entry.value, entry.key, entry.changed_at, fhir_base)

    def _patient_of(self, entry: Entry[AppointmentWithPerformer]) -> str | None:
        if isinstance(entry.value, Malformed):
            resource = _malformed_part(entry.value).get("documentReference")
            subject = resource.get("subject", {}) if isinstance(resource, dict) else {}
            ident = subject.get("identifier", {}) if isinstance(subject, dict) else {}
            value = ident.get("value") if isinstance(ident, dict) else None
            return value if isinstance(value, str) else None
        return entry.value.appointment.patient_cpr.value

    def _visible(
        self, entry: Entry[AppointmentWithPerformer], search: _Search, fhir_base: str
    ) -> dict[str, Any] | None:
        patient = self._patient_of(entry)
        if patient in self.world.sharing_blocked:
            return None
        if search.patient is not None and patient != search.patient:
            return None
        resource = self._resource(entry, fhir_base)
        return resource if resource.get("status") in search.statuses else None

    def _included(
        self,
        matches: list[Entry[AppointmentWithPerformer]],
        search: _Search,
        index: _Index,
        fhir_base: str,
    ) -> list[dict[str, Any]]:
        """_include: the documents the matches replace; _revinclude: those replacing them."""
        keys: list[str] = []
        for entry in matches:
            value = entry.value
            if (
                isinstance(value, Malformed)
                or self._patient_of(entry) in self.world.sharing_blocked
            ):
                continue
            if search.include and value.appointment.replaces_id is not None:
                keys.append(str(value.appointment.replaces_id))
            if search.revinclude:
                keys.extend(index.replaced_by.get(entry.key, ()))
        matched = {e.key for e in matches}
        seen: set[str] = set()
        resources = []
        for key in keys:
            related = index.entries.get(key)
            if related is None or key in matched or key in seen:
                continue  # a resource already matched is not repeated as an include
            seen.add(key)
            if self._patient_of(related) not in self.world.sharing_blocked:
                resources.append(self._resource(related, fhir_base))
        return resources

    # -- GET /fhir/Binary/<key> ------------------------------------------------------------------

    async def retrieve(self, request: Request) -> Response:
        key = request.path_params["key"]
        entry = self.index().entries.get(key)
        if entry is None or self._patient_of(entry) in self.world.sharing_blocked:
            return _outcome(404, "not-found", f"no document {key}")
        if isinstance(entry.value, Malformed):
            document = _malformed_part(entry.value).get("document")
            body = document.encode("utf-8") if isinstance(document, str) else b""
            return Response(body, media_type="text/xml")
        person = self.world.persons.get(entry.value.appointment.patient_cpr.value)
        child, gp = (person.child, person.gp) if person else (None, None)
        document = render.apd_document(entry.value, child, gp)
        return Response(document.encode("utf-8"), media_type="text/xml")


def _read_search(request: Request) -> _Search:
    params = request.query_params
    status = params.get("status")
    if not status:
        raise _BadRequest("IHE MHD ITI-67: the status parameter is required")
    statuses = frozenset(s.strip() for s in status.split(","))
    if not statuses <= set(codes.STATUSES):
        raise _BadRequest(f"unknown status in {status!r}")
    sort = params.get("_sort")
    if sort not in (None, "_lastUpdated"):
        raise _BadRequest(f"_sort={sort} is not supported; use _lastUpdated")
    try:
        count = min(max(int(params.get("_count", DEFAULT_COUNT)), 1), MAX_COUNT)
    except ValueError as exc:
        raise _BadRequest("_count must be a number") from exc
    patient = params.get("patient.identifier")
    return _Search(
        statuses=statuses,
        count=count,
        since=_since(params.get("_lastUpdated")),
        after=_position(params.get("_page")),
        patient=patient.rpartition("|")[2] if patient else None,
        include=codes.RELATES_TO in params.getlist("_include"),
        revinclude=codes.RELATES_TO in params.getlist("_revinclude"),
    )


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    prefix, moment = value[:2], value[2:]
    if prefix not in ("gt", "ge"):
        raise _BadRequest("_lastUpdated supports the prefixes gt and ge")
    try:
        since = datetime.fromisoformat(moment)
    except ValueError as exc:
        raise _BadRequest(f"_lastUpdated: not an instant: {moment!r}") from exc
    if since.tzinfo is None:
        raise _BadRequest("_lastUpdated must carry a time zone")
    return since if prefix == "gt" else since - timedelta(microseconds=1)


def _token(position: tuple[datetime, str]) -> str:
    text = f"{position[0].isoformat()}|{position[1]}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _position(token: str | None) -> tuple[datetime, str] | None:
    if token is None:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, _, key = text.partition("|")
        return datetime.fromisoformat(moment), key
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _BadRequest("_page is not a page token of this server") from exc


def _fhir_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _entry(fhir_base: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{fhir_base}/DocumentReference/{resource.get('id')}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _malformed_part(value: Malformed) -> dict[str, Any]:
    try:
        parts = json.loads(value.payload)
    except ValueError:
        return {}
    return parts if isinstance(parts, dict) else {}


def _json(status: int, body: dict[str, Any]) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(payload, status_code=status, media_type=FHIR_JSON)


def _outcome(status: int, code: str, text: str) -> Response:
    return _json(
        status,
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        },
    )


def create_app(world: World) -> Starlette:
    service = _Service(world)
    return Starlette(
        routes=[
            Route("/fhir/DocumentReference", service.search, methods=["GET"]),
            Route("/fhir/Binary/{key}", service.retrieve, methods=["GET"]),
        ]
    )


# -- broken records -----------------------------------------------------------------------------

MALFORMED_KEYS = (
    "malformed-status-cancelled",
    "malformed-performer-without-sor",
    "malformed-cpr-mismatch",
)


def _example_appointment() -> AppointmentWithPerformer:
    """A made-up, valid appointment that the broken records start from."""
    sor = Sor("900000000999001")
    performer = OrgUnit(
        id=unit_id_for_sor(sor.value),
        kind=UnitKind.BUP,
        name="Børne- og Ungdomspsykiatrien Eksempel",
        sor=sor,
        phone="+45 70 00 00 00",
    )
    start = datetime(2026, 12, 1, 10, 0, tzinfo=COPENHAGEN)
    appointment = Appointment(
        id=uuid.UUID("3f0d9a52-9d6b-4a44-9c55-6d616c666f72"),
        document_id=uuid.UUID("3f0d9a52-9d6b-4a44-9c55-646f63756d65"),
        patient_cpr=synthetic_cpr(date(2014, 5, 17), 4, 2),
        start=start,
        end=start + timedelta(minutes=60),
        performer_sor=sor,
        performer_name=performer.name,
        location_sor=sor,
        location_name="Lokale 1.01",
        reason="Udredningssamtale",
        marking=AppointmentMarking(
            PRACTICE_SETTING_CHILD_PSYCHIATRY,
            FACILITY_PSYCHIATRIC_UNIT,
            EPISODE_LABEL_MENTAL_DISORDERS,
        ),
        status=AppointmentStatus.BOOKED,
    )
    return AppointmentWithPerformer(appointment, performer)


def _broken(key: str, item: AppointmentWithPerformer) -> Malformed:
    resource = render.document_reference(item, key, datetime.now(COPENHAGEN), "")
    del resource["meta"]  # the server sets meta.lastUpdated when it serves the entry
    resource["content"][0]["attachment"]["url"] = f"Binary/{key}"  # relative to the FHIR base
    document = render.apd_document(item, None, None)
    a = item.appointment
    if key == "malformed-status-cancelled":
        document = document.replace('<statusCode code="active"/>', '<statusCode code="cancelled"/>')
    elif key == "malformed-performer-without-sor":
        performer_id = (
            '<performer typeCode="PRF"><assignedEntity classCode="ASSIGNED">\n'
            f'<id extension="{a.performer_sor}" root="{codes.SOR_ROOT}"'
            ' assigningAuthorityName="SOR"/>\n'
        )
        without = '<performer typeCode="PRF"><assignedEntity classCode="ASSIGNED">\n'
        document = document.replace(performer_id, without)
    else:
        other = synthetic_cpr(date(2013, 2, 3), 4, 1)
        resource["subject"]["identifier"]["value"] = other.value
    return Malformed(json.dumps({"documentReference": resource, "document": document}).encode())


def add_malformed_examples(world: World) -> None:
    """Three broken records, each breaking one rule: an appointment with statusCode
    `cancelled` (APD-DK allows only `active`), a performer without a SOR code, and metadata
    naming another patient than the document."""
    base = _example_appointment()
    for key in MALFORMED_KEYS:
        a = base.appointment
        item = replace(
            base,
            appointment=replace(
                a,
                id=uuid.uuid5(a.id, key),
                document_id=uuid.uuid5(a.document_id, key),
            ),
        )
        world.appointments.put(key, _broken(key, item))
