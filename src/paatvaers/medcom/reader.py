"""A received CareCommunication Bundle read back into a `CareCommunication`.

The reader checks only what it needs to make sense of the message (a profile validator
judges conformance); it accepts the GLN spellings of every dk-core version and the legacy
`[GLN]#[letter id]` reference of a reply to an EDIFACT/OIOXML letter.
"""

from __future__ import annotations

from datetime import datetime

from paatvaers.domain.cpr import CPR_SYSTEM, D_ECPR_SYSTEM, X_ECPR_SYSTEM, Cpr, InvalidCpr
from paatvaers.medcom._fhir import (
    BundleIndex,
    JsonDict,
    extension_object,
    extension_value,
    message_header,
    parse_datetime,
)
from paatvaers.medcom.attachments import decode
from paatvaers.medcom.codes import (
    CS_ROLE_SKS,
    EVENT_CARE_COMMUNICATION,
    EXT_CONTACT,
    EXT_DATETIME,
    EXT_DESTINATION_USE,
    EXT_IDENTIFIER,
    EXT_PRACTITIONER,
    EXT_SENDER,
    Activity,
)
from paatvaers.medcom.errors import AttachmentRejected, MalformedMessage
from paatvaers.medcom.model import (
    Attachment,
    CareCommunication,
    EpisodeOfCare,
    Party,
    Patient,
    Practitioner,
    ProvenanceRecord,
    Segment,
)

# Patient identifier systems in order of preference; a D-eCPR system may carry a suffix.
_PATIENT_SYSTEMS = (CPR_SYSTEM, X_ECPR_SYSTEM, D_ECPR_SYSTEM)


def read_carecommunication(bundle: JsonDict) -> CareCommunication:
    """The domain message in `bundle`; MalformedMessage says what is missing."""
    index = BundleIndex(bundle)
    header = message_header(bundle)
    event = (header.get("eventCoding") or {}).get("code")
    if event != EVENT_CARE_COMMUNICATION:
        raise MalformedMessage(f"not a CareCommunication: event {event!r}")
    message_id = _required(header.get("id"), "MessageHeader.id")
    communication = index.resolve(_first(header.get("focus")), "MessageHeader.focus")
    history = _history(index)
    reader = _PayloadReader(index, history)
    receiver, cc = _destinations(index, header)
    own = [record for record in history if record.message_id == message_id]
    if not own:
        raise MalformedMessage(f"no Provenance targets MessageHeader/{message_id}")
    return CareCommunication(
        message_id=message_id,
        thread_id=_thread_id(communication),
        sent_at=own[-1].occurred_at,
        sender=_sender(
            index, index.party(header.get("sender"), "MessageHeader.sender"), communication
        ),
        receiver=_recipient(index, receiver, communication),
        patient=_patient(index.resolve(communication.get("subject"), "Communication.subject")),
        category=_category(communication),
        segments=tuple(reader.segments(communication)),
        history=history,
        attachments=tuple(reader.attachments(communication)),
        topic=(communication.get("topic") or {}).get("text"),
        priority=communication.get("priority"),
        episode_of_care=_episode_of_care(index, communication),
        cc=cc,
    )


def _destinations(index: BundleIndex, header: JsonDict) -> tuple[Party, tuple[Party, ...]]:
    primary: list[Party] = []
    cc: list[Party] = []
    for destination in header.get("destination", []):
        use = extension_object(destination, EXT_DESTINATION_USE, "valueCoding")
        party = index.party(destination.get("receiver"), "MessageHeader.destination.receiver")
        (cc if use.get("code") == "cc" else primary).append(party)
    if len(primary) != 1:
        raise MalformedMessage(f"expected one primary destination, found {len(primary)}")
    return primary[0], tuple(cc)


def _sender(index: BundleIndex, organisation: Party, communication: JsonDict) -> Party:
    """The sender, narrowed to the person or team of the sender extension if there is one."""
    ref = extension_value(communication, EXT_SENDER, "valueReference")
    return organisation if ref is None else _narrowed(index, organisation, ref)


def _recipient(index: BundleIndex, organisation: Party, communication: JsonDict) -> Party:
    recipients = communication.get("recipient") or []
    return _narrowed(index, organisation, recipients[0]) if recipients else organisation


def _narrowed(index: BundleIndex, organisation: Party, ref: object) -> Party:
    resource = index.resolve(ref, "specific sender/recipient")
    if resource.get("resourceType") == "CareTeam":
        return Party(
            organisation.name,
            organisation.sor,
            organisation.gln,
            care_team=str(resource.get("name", "")),
        )
    person = _practitioner(index, resource, phone=None)
    return Party(organisation.name, organisation.sor, organisation.gln, practitioner=person)


def _practitioner(index: BundleIndex, role: JsonDict, phone: str | None) -> Practitioner:
    """The person a PractitionerRole (or, tolerated, a Practitioner) names."""
    if role.get("resourceType") == "Practitioner":
        person, role_name = role, ""
    else:
        person = index.resolve(role.get("practitioner"), "PractitionerRole.practitioner")
        role_name = _role_name(role)
    name = _first(person.get("name")) or {}
    return Practitioner(tuple(name.get("given", ())), name.get("family", ""), role_name, phone)


def _role_name(role: JsonDict) -> str:
    code = _first(role.get("code")) or {}
    for coding in code.get("coding", []):
        if coding.get("system") == CS_ROLE_SKS and coding.get("code"):
            return str(coding["code"])
    return str(code.get("text", ""))


def _patient(resource: JsonDict) -> Patient:
    identifiers = resource.get("identifier", [])
    for system in _PATIENT_SYSTEMS:
        for identifier in identifiers:
            if _is_system(str(identifier.get("system", "")), system):
                cpr = _cpr(identifier.get("value"))
                name = next(
                    (n for n in resource.get("name", []) if n.get("use") == "official"),
                    _first(resource.get("name")) or {},
                )
                return Patient(cpr, name.get("family", ""), tuple(name.get("given", ())))
    raise MalformedMessage("Patient has no CPR or replacement CPR identifier")


def _is_system(actual: str, wanted: str) -> bool:
    return actual == wanted or (wanted == D_ECPR_SYSTEM and actual.startswith(f"{wanted}."))


def _cpr(value: object) -> Cpr:
    try:
        return Cpr.parse(str(value))
    except InvalidCpr as exc:
        raise MalformedMessage(f"Patient.identifier: {exc}") from exc


def _thread_id(communication: JsonDict) -> str:
    return _required((_first(communication.get("identifier")) or {}).get("value"), "thread id")


def _category(communication: JsonDict) -> str:
    coding = _first((_first(communication.get("category")) or {}).get("coding")) or {}
    return _required(coding.get("code"), "Communication.category")


def _episode_of_care(index: BundleIndex, communication: JsonDict) -> EpisodeOfCare | None:
    if "encounter" not in communication:
        return None
    encounter = index.resolve(communication["encounter"], "Communication.encounter")
    identifier = (_first(encounter.get("episodeOfCare")) or {}).get("identifier") or {}
    return EpisodeOfCare(
        system=_required(identifier.get("system"), "Encounter.episodeOfCare system"),
        value=_required(identifier.get("value"), "Encounter.episodeOfCare value"),
        encounter_status=str(encounter.get("status", "")),
        encounter_class=str((encounter.get("class") or {}).get("code", "")),
    )


def _history(index: BundleIndex) -> tuple[ProvenanceRecord, ...]:
    records = [_provenance(index, resource) for resource in index.of_type("Provenance")]
    return tuple(sorted(records, key=lambda record: record.occurred_at))


def _provenance(index: BundleIndex, resource: JsonDict) -> ProvenanceRecord:
    where = f"Provenance/{resource.get('id')}"
    target = _required((_first(resource.get("target")) or {}).get("reference"), where)
    code = ((_first((resource.get("activity") or {}).get("coding"))) or {}).get("code")
    try:
        activity = Activity(str(code))
    except ValueError as exc:
        raise MalformedMessage(
            f"{where}: activity {code!r} is not used by CareCommunication"
        ) from exc
    payload_ids: list[str] = []
    previous = legacy = None
    for entity in resource.get("entity", []):
        what = entity.get("what") or {}
        value = (what.get("identifier") or {}).get("value")
        if "reference" in what:
            previous = str(what["reference"]).rsplit("/", 1)[-1]
        elif isinstance(value, str) and value.startswith("urn:uuid:"):
            payload_ids.append(value)
        elif entity.get("role") == "revision" and value:
            legacy = value
    agent = _first(resource.get("agent")) or {}
    return ProvenanceRecord(
        id=_required(resource.get("id"), f"{where}.id"),
        message_id=target.rsplit("/", 1)[-1],
        activity=activity,
        occurred_at=parse_datetime(resource.get("occurredDateTime"), f"{where}.occurred"),
        agent=index.party(agent.get("who"), f"{where}.agent"),
        payload_ids=tuple(payload_ids),
        previous_message_id=previous,
        previous_legacy_id=legacy,
    )


class _PayloadReader:
    """Reads payload segments; an author's organisation is the payload identifier's
    assigner, or else the organisation whose Provenance added the payload."""

    def __init__(self, index: BundleIndex, history: tuple[ProvenanceRecord, ...]) -> None:
        self.index = index
        self.added_by = {pid: record.agent for record in history for pid in record.payload_ids}

    def segments(self, communication: JsonDict) -> list[Segment]:
        return [
            self._segment(payload)
            for payload in communication.get("payload", [])
            if "contentString" in payload
        ]

    def attachments(self, communication: JsonDict) -> list[Attachment]:
        return [
            self._attachment(payload)
            for payload in communication.get("payload", [])
            if "contentAttachment" in payload
        ]

    def _segment(self, payload: JsonDict) -> Segment:
        payload_id, author, written_at = self._common(payload)
        return Segment(payload_id, str(payload["contentString"]), author, written_at)

    def _attachment(self, payload: JsonDict) -> Attachment:
        payload_id, author, added_at = self._common(payload)
        content = payload["contentAttachment"]
        created = content.get("creation")
        try:
            data = decode(content["data"]) if "data" in content else None
        except AttachmentRejected as exc:
            raise MalformedMessage(f"attachment {payload_id}: {exc}") from exc
        return Attachment(
            id=payload_id,
            title=str(content.get("title", "")),
            author=author,
            added_at=added_at,
            content_type=content.get("contentType"),
            data=data,
            url=content.get("url"),
            created=parse_datetime(created, f"{payload_id} creation") if created else None,
        )

    def _common(self, payload: JsonDict) -> tuple[str, Party, datetime]:
        identifier = extension_object(payload, EXT_IDENTIFIER, "valueIdentifier")
        payload_id = _required(identifier.get("value"), "payload identifier extension")
        if "assigner" in identifier:
            organisation = self.index.party(identifier["assigner"], f"{payload_id} assigner")
        elif payload_id in self.added_by:
            organisation = self.added_by[payload_id]
        else:
            raise MalformedMessage(f"payload {payload_id}: no assigner and no Provenance")
        written = extension_value(payload, EXT_DATETIME, "valueDateTime")
        return payload_id, self._author(payload, organisation), parse_datetime(written, payload_id)

    def _author(self, payload: JsonDict, organisation: Party) -> Party:
        ref = extension_value(payload, EXT_PRACTITIONER, "valueReference")
        if ref is None:
            return organisation
        contact = extension_object(payload, EXT_CONTACT, "valueContactPoint")
        role = self.index.resolve(ref, "payload practitioner extension")
        person = _practitioner(self.index, role, contact.get("value"))
        return Party(organisation.name, organisation.sor, organisation.gln, practitioner=person)


def _first(items: object) -> JsonDict | None:
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return None


def _required(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"{where}: missing")
    return value
