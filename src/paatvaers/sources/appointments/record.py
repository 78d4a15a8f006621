"""One raw record of the appointment overview, and its strict reading.

A record is what the adapter fetched for one DocumentReference (IHE MHD), as a JSON object:

    {"documentReference": {...},           the XDS metadata, as the search returned it
     "document": "<ClinicalDocument …>",   the APD-DK document behind content.attachment.url
     "replaces": {"documentReference": {...}, "document": "…"},   the document this one
                                           replaces (relatesTo), when the search included it
     "replacedBy": [{...}, ...],           DocumentReferences that replace this one
     "retrieveError": "…"}                 why the document could not be retrieved (then
                                           "document" is null)

so quarantine keeps everything a person needs to see why a record was refused.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from paatvaers.domain.appointments import (
    Appointment,
    AppointmentMarking,
    AppointmentStatus,
)
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.organisations import OrgUnit, UnitKind, unit_id_for_sor
from paatvaers.sources.appointments import codes
from paatvaers.sources.appointments.apd import (
    ApdAppointment,
    encounter_id,
    only_encounter,
    parse_xml,
    read_apd,
    read_patient,
)
from paatvaers.sources.base import AppointmentWithPerformer, RecordRejected

JsonObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the platform reads from a DocumentReference."""

    entry_id: str
    status: str
    patient: Cpr
    patient_system: str
    master_identifier: str
    marking: AppointmentMarking
    replaces: str | None  # the DocumentReference id this one replaces
    last_updated: datetime | None = None  # meta.lastUpdated: when the registry last changed it


def read_record(payload: bytes, today: date) -> AppointmentWithPerformer:
    """The appointment and its performer in one record; raises RecordRejected."""
    record = _json_object(payload)
    meta = read_metadata(_object(record.get("documentReference"), "documentReference"))
    document = record.get("document")
    if not isinstance(document, str):
        error = record.get("retrieveError") or "no document in the record"
        raise RecordRejected(f"the APD-DK document could not be retrieved: {error}")
    apd = read_apd(document)
    _check_consistency(meta, apd)
    replaces_id = _replaced_appointment(record.get("replaces"), meta)
    status = _status(meta, apd, record.get("replacedBy"), today)
    return AppointmentWithPerformer(_appointment(meta, apd, status, replaces_id), _performer(apd))


def _json_object(payload: bytes) -> JsonObject:
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordRejected(f"the record is not JSON: {exc}") from exc
    return _object(value, "the record")


def _object(value: object, what: str) -> JsonObject:
    if not isinstance(value, Mapping):
        raise RecordRejected(f"{what} must be a JSON object")
    return value


# -- the DocumentReference ----------------------------------------------------------------------


def read_metadata(resource: JsonObject) -> Metadata:
    if resource.get("resourceType") != "DocumentReference":
        raise RecordRejected(
            f"expected a DocumentReference, found resourceType {resource.get('resourceType')!r}"
        )
    entry_id = resource.get("id")
    if not isinstance(entry_id, str) or not entry_id:
        raise RecordRejected("the DocumentReference has no id")
    status = resource.get("status")
    if status not in codes.STATUSES:
        raise RecordRejected(f"DocumentReference.status {status!r} is not one of {codes.STATUSES}")
    _require_coding(resource.get("type"), codes.LOINC, codes.TYPE_CODE, "type (typeCode)")
    _require_format(resource.get("content"))
    patient, system = _subject(resource.get("subject"))
    master = resource.get("masterIdentifier")
    master_value = master.get("value") if isinstance(master, Mapping) else None
    if not isinstance(master_value, str) or not master_value:
        raise RecordRejected("the DocumentReference has no masterIdentifier (the document id)")
    return Metadata(
        entry_id=entry_id,
        status=status,
        patient=patient,
        patient_system=system,
        master_identifier=master_value,
        marking=_marking(resource.get("context")),
        replaces=_replaces(resource.get("relatesTo")),
        last_updated=_last_updated(resource.get("meta")),
    )


def _last_updated(meta: object) -> datetime | None:
    """meta.lastUpdated, an instant with a time zone; None when the server gave none."""
    stamp = meta.get("lastUpdated") if isinstance(meta, Mapping) else None
    if stamp is None:
        return None
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        raise RecordRejected(f"meta.lastUpdated is not an instant: {stamp!r}") from None
    if moment.tzinfo is None:
        raise RecordRejected(f"meta.lastUpdated has no time zone: {stamp!r}")
    return moment


def _codings(concept: object) -> list[JsonObject]:
    if not isinstance(concept, Mapping):
        return []
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return []
    return [c for c in codings if isinstance(c, Mapping)]


def _code_in(concept: object, system: str) -> str | None:
    """The code of the concept's coding from `system` (or an alias of it), if any."""
    systems = codes.SYSTEM_ALIASES.get(system, frozenset({system}))
    for coding in _codings(concept):
        code = coding.get("code")
        if coding.get("system") in systems and isinstance(code, str) and code:
            return code
    return None


def _require_coding(concept: object, system: str, code: str, what: str) -> None:
    if _code_in(concept, system) != code:
        found = [(c.get("system"), c.get("code")) for c in _codings(concept)]
        raise RecordRejected(f"DocumentReference.{what} must be {system}|{code}, found {found}")


def _require_format(content: object) -> None:
    if not isinstance(content, list) or not content or not isinstance(content[0], Mapping):
        raise RecordRejected("the DocumentReference has no content")
    fmt = content[0].get("format")
    systems = codes.SYSTEM_ALIASES[codes.FORMAT_CODE_SYSTEM]
    if not (
        isinstance(fmt, Mapping)
        and fmt.get("system") in systems
        and fmt.get("code") == codes.FORMAT_CODE
    ):
        found = (fmt.get("system"), fmt.get("code")) if isinstance(fmt, Mapping) else None
        raise RecordRejected(
            f"content.format (formatCode) must be {codes.FORMAT_CODE}, found {found}"
        )


def _subject(subject: object) -> tuple[Cpr, str]:
    ident = subject.get("identifier") if isinstance(subject, Mapping) else None
    if not isinstance(ident, Mapping):
        raise RecordRejected("DocumentReference.subject has no patient identifier")
    system, value = ident.get("system"), ident.get("value")
    if system not in codes.CPR_ROOTS.values():
        raise RecordRejected(f"DocumentReference.subject identifier system {system!r} is not CPR")
    try:
        cpr = Cpr.parse(str(value))
    except InvalidCpr as exc:
        raise RecordRejected(f"DocumentReference.subject: {exc}") from exc
    return cpr, str(system)


def _marking(context: object) -> AppointmentMarking:
    """The codes by which child and adolescent psychiatry is recognised. Any of them may be
    missing: regions that do not mark their appointments are measured (R12), not refused."""
    if context is None:
        return AppointmentMarking(None, None, None)
    if not isinstance(context, Mapping):
        raise RecordRejected("DocumentReference.context must be an object")
    events = context.get("event")
    episode = None
    if isinstance(events, list):
        episode = next((c for e in events if (c := _code_in(e, codes.SKS))), None)
    return AppointmentMarking(
        practice_setting_code=_code_in(context.get("practiceSetting"), codes.SNOMED),
        facility_type_code=_code_in(context.get("facilityType"), codes.SNOMED),
        episode_label=episode,
    )


def _replaces(relations: object) -> str | None:
    if relations is None:
        return None
    if not isinstance(relations, list):
        raise RecordRejected("DocumentReference.relatesTo must be a list")
    targets = []
    for relation in relations:
        if not isinstance(relation, Mapping) or relation.get("code") != codes.REPLACES:
            continue
        target = relation.get("target")
        reference = target.get("reference") if isinstance(target, Mapping) else None
        if not isinstance(reference, str) or "DocumentReference/" not in reference:
            raise RecordRejected(f"relatesTo 'replaces' has no DocumentReference target: {target}")
        targets.append(reference.rsplit("DocumentReference/", 1)[1].split("/")[0])
    if len(targets) > 1:
        raise RecordRejected(f"the document replaces {len(targets)} documents; one at most")
    return targets[0] if targets else None


# -- metadata and document together ---------------------------------------------------------------


def _check_consistency(meta: Metadata, apd: ApdAppointment) -> None:
    if (meta.patient, meta.patient_system) != (apd.patient, apd.patient_system):
        raise RecordRejected(
            f"the metadata's patient ({meta.patient.formatted()}) is not the document's "
            f"recordTarget ({apd.patient.formatted()})"
        )
    doc_root, doc_ext = apd.document_id_text
    names = {f"urn:uuid:{doc_ext}".lower(), f"{doc_root}^{doc_ext}".lower()}
    if meta.master_identifier.lower() not in names:
        raise RecordRejected(
            f"masterIdentifier {meta.master_identifier!r} does not name the document "
            f"(ClinicalDocument/id {doc_root} {doc_ext})"
        )


def _replaced_appointment(replaced: object, meta: Metadata) -> uuid.UUID | None:
    """The appointment id of the document this one replaces. The relation is between
    documents; the appointment id is read from the replaced document itself. When the
    service did not include it (removed since), the link is unknown."""
    if meta.replaces is None or replaced is None:
        return None
    part = _object(replaced, "replaces")
    old_meta = _object(part.get("documentReference"), "replaces.documentReference")
    if old_meta.get("id") != meta.replaces:
        raise RecordRejected(
            f"the included replaced document is {old_meta.get('id')!r}, not {meta.replaces!r}"
        )
    document = part.get("document")
    if not isinstance(document, str):
        raise RecordRejected(f"the replaced document {meta.replaces} could not be retrieved")
    root = parse_xml(document)
    old_patient, _ = read_patient(root)
    if old_patient != meta.patient:
        raise RecordRejected(f"the document replaces {meta.replaces}, of another patient")
    return encounter_id(only_encounter(root))


def _status(
    meta: Metadata, apd: ApdAppointment, replaced_by: object, today: date
) -> AppointmentStatus:
    """APD-DK itself only says `active`; the rest is what happened to the document."""
    if meta.status == codes.CURRENT:
        return AppointmentStatus.HELD if apd.start.date() < today else AppointmentStatus.BOOKED
    if meta.status == codes.SUPERSEDED and _is_replaced(replaced_by, meta.entry_id):
        return AppointmentStatus.MOVED
    return AppointmentStatus.CANCELLED


def _is_replaced(replaced_by: object, entry_id: str) -> bool:
    if not isinstance(replaced_by, Sequence) or isinstance(replaced_by, str):
        return False
    return any(
        isinstance(resource, Mapping)
        and _replaces(resource.get("relatesTo")) == entry_id
        and resource.get("status") != codes.ENTERED_IN_ERROR
        for resource in replaced_by
    )


def _appointment(
    meta: Metadata, apd: ApdAppointment, status: AppointmentStatus, replaces_id: uuid.UUID | None
) -> Appointment:
    return Appointment(
        id=apd.encounter_id,
        document_id=apd.document_id,
        patient_cpr=apd.patient,
        start=apd.start,
        end=apd.end,
        performer_sor=apd.performer_sor,
        performer_name=apd.performer_name,
        location_sor=apd.location_sor,
        location_name=apd.location_name,
        reason=apd.reason,
        marking=meta.marking,
        status=status,
        stage=None,  # APD-DK has no place for the course stage
        replaces_id=replaces_id,
        requester_sor=apd.requester_sor,
        registered_at=meta.last_updated,
    )


def _performer(apd: ApdAppointment) -> OrgUnit:
    """The performing unit as the document names it. Its kind is BUP: the overview serves the
    platform child and adolescent psychiatry; appointments not marked so are filtered before
    anyone sees them (see docs/sources/appointments.md)."""
    return OrgUnit(
        id=unit_id_for_sor(apd.performer_sor.value),
        kind=UnitKind.BUP,
        name=apd.performer_name,
        sor=apd.performer_sor,
        phone=apd.performer_phone,
    )
