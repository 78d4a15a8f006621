"""A `CareCommunication` as a FHIR Bundle (JSON dict) shaped like MedCom's published examples.

Entry order follows the examples: MessageHeader, Patient, Communication, Encounter, then each
PractitionerRole with its Practitioner, CareTeams, Organizations (receiver, sender, others)
and the Provenances, oldest first. Resource ids are new UUIDs in every bundle, except the
Provenances', which a thread keeps unchanged from message to message as the examples do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from paatvaers.medcom._fhir import (
    JsonDict,
    entry,
    fhir_datetime,
    meta,
    narrative,
    new_id,
    organization,
    reference,
)
from paatvaers.medcom.attachments import encode
from paatvaers.medcom.codes import (
    CC_DEFINITION,
    CC_FULL_URL_BASE,
    CS_ACTIVITY,
    CS_CATEGORY,
    CS_DESTINATION_USE,
    CS_EVENT,
    CS_ROLE_SKS,
    EVENT_CARE_COMMUNICATION,
    EXT_CONTACT,
    EXT_DATETIME,
    EXT_DESTINATION_USE,
    EXT_IDENTIFIER,
    EXT_PRACTITIONER,
    EXT_SENDER,
    PROFILE_CARE_TEAM,
    PROFILE_CC_COMMUNICATION,
    PROFILE_CC_HEADER,
    PROFILE_CC_MESSAGE,
    PROFILE_CC_PROVENANCE,
    PROFILE_ENCOUNTER,
    PROFILE_PATIENT,
    PROFILE_PRACTITIONER,
    PROFILE_PRACTITIONER_ROLE,
    SKS_ROLES,
    SOR_ENDPOINT_PREFIX,
)
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

V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def to_bundle(
    message: CareCommunication,
    *,
    bundle_id: str | None = None,
    assembled_at: datetime | None = None,
) -> JsonDict:
    """The message as a Bundle. A resend is a new bundle of the same message: pass nothing
    and it gets a new Bundle.id; its timestamp defaults to the message's send time."""
    return _BundleWriter(message).bundle(bundle_id or new_id(), assembled_at or message.sent_at)


def sor_endpoint(party: Party) -> str:
    return f"{SOR_ENDPOINT_PREFIX}{party.sor}"


class _BundleWriter:
    """Builds one bundle, giving every organisation, person and team one entry."""

    def __init__(self, message: CareCommunication) -> None:
        self.message = message
        self.header_id = message.message_id
        self.patient_id = new_id()
        self.communication_id = new_id()
        self.encounter_id = new_id()
        self._orgs: dict[str, JsonDict] = {}  # by SOR code
        self._people: dict[tuple[str, ...], list[JsonDict]] = {}  # role and practitioner
        self._teams: dict[tuple[str, str], JsonDict] = {}

    def bundle(self, bundle_id: str, assembled_at: datetime) -> JsonDict:
        self.org_ref(self.message.receiver)
        self.org_ref(self.message.sender)
        communication = self.communication()
        provenances = [self.provenance(record) for record in self.message.history]
        resources = [
            self.header(),
            self.patient(self.message.patient),
            communication,
            *self.encounter(self.message.episode_of_care),
            *(resource for pair in self._people.values() for resource in pair),
            *self._teams.values(),
            *self._orgs.values(),
            *provenances,
        ]
        return {
            "resourceType": "Bundle",
            "id": bundle_id,
            "meta": meta(PROFILE_CC_MESSAGE),
            "type": "message",
            "timestamp": fhir_datetime(assembled_at),
            "entry": [entry(CC_FULL_URL_BASE, resource) for resource in resources],
        }

    # References, registering each organisation, person and team once.

    def org_ref(self, party: Party) -> JsonDict:
        known = self._orgs.get(party.sor.value)
        if known is None:
            known = self._orgs[party.sor.value] = organization(party.organisation, new_id())
        elif party.name and "name" not in known:
            known["name"] = party.name
        return reference("Organization", known["id"])

    def role_ref(self, party: Party, person: Practitioner) -> JsonDict:
        key = (party.sor.value, person.family, person.role, *person.given)
        if key not in self._people:
            practitioner: JsonDict = {
                "resourceType": "Practitioner",
                "id": new_id(),
                "meta": meta(PROFILE_PRACTITIONER),
                "text": narrative("Practitioner", person.full_name),
                "name": [_human_name(person.family, person.given)],
            }
            code = (
                {"coding": [{"system": CS_ROLE_SKS, "code": person.role}]}
                if person.role in SKS_ROLES
                else {"text": person.role}
            )
            role = {
                "resourceType": "PractitionerRole",
                "id": new_id(),
                "meta": meta(PROFILE_PRACTITIONER_ROLE),
                "text": narrative("PractitionerRole", f"{person.full_name}, {person.role}"),
                "practitioner": reference("Practitioner", practitioner["id"]),
                "organization": self.org_ref(party),
                "code": [code],
            }
            self._people[key] = [role, practitioner]
        return reference("PractitionerRole", self._people[key][0]["id"])

    def specific_ref(self, party: Party) -> JsonDict:
        """A person (PractitionerRole) or care team within an organisation."""
        if party.practitioner is not None:
            return self.role_ref(party, party.practitioner)
        name = party.care_team or ""
        key = (party.sor.value, name)
        if key not in self._teams:
            self._teams[key] = {
                "resourceType": "CareTeam",
                "id": new_id(),
                "meta": meta(PROFILE_CARE_TEAM),
                "text": narrative("CareTeam", name),
                "name": name,
                "managingOrganization": [self.org_ref(party)],
            }
        return reference("CareTeam", self._teams[key]["id"])

    # Resources.

    def header(self) -> JsonDict:
        sender, receiver = self.message.sender, self.message.receiver
        return {
            "resourceType": "MessageHeader",
            "id": self.header_id,
            "meta": meta(PROFILE_CC_HEADER),
            "text": narrative(
                "Korrespondancemeddelelse",
                f"Fra {sender.name or sender.sor} (SOR {sender.sor})",
                f"Til {receiver.name or receiver.sor} (SOR {receiver.sor})",
            ),
            "eventCoding": {"system": CS_EVENT, "code": EVENT_CARE_COMMUNICATION},
            "destination": [
                {
                    "extension": [
                        {
                            "url": EXT_DESTINATION_USE,
                            "valueCoding": {"system": CS_DESTINATION_USE, "code": "primary"},
                        }
                    ],
                    "endpoint": sor_endpoint(receiver),
                    "receiver": self.org_ref(receiver),
                }
            ],
            "sender": self.org_ref(sender),
            "source": {"endpoint": sor_endpoint(sender)},
            "focus": [reference("Communication", self.communication_id)],
            "definition": CC_DEFINITION,
        }

    def patient(self, patient: Patient) -> JsonDict:
        identifier = {"system": patient.cpr.identifier_system, "value": patient.cpr.value}
        if patient.cpr.is_replacement:
            identifier = {"use": "temp", **identifier}  # as the IG's eCPR example
        name = " ".join((*patient.given, patient.family))
        return {
            "resourceType": "Patient",
            "id": self.patient_id,
            "meta": meta(PROFILE_PATIENT),
            "text": narrative("Patient", f"{name}, {patient.cpr.kind.value} {patient.cpr}"),
            "identifier": [identifier],
            "name": [{"use": "official", **_human_name(patient.family, patient.given)}],
        }

    def encounter(self, episode: EpisodeOfCare | None) -> list[JsonDict]:
        if episode is None:
            return []
        return [
            {
                "resourceType": "Encounter",
                "id": self.encounter_id,
                "meta": meta(PROFILE_ENCOUNTER),
                "text": narrative("Encounter", f"Forløb {episode.value}"),
                "status": episode.encounter_status,
                "class": {"system": V3_ACT_CODE, "code": episode.encounter_class},
                "subject": reference("Patient", self.patient_id),
                "episodeOfCare": [
                    {"identifier": {"system": episode.system, "value": episode.value}}
                ],
            }
        ]

    def communication(self) -> JsonDict:
        message = self.message
        items = _payload_order(message)
        resource: JsonDict = {
            "resourceType": "Communication",
            "id": self.communication_id,
            "meta": meta(PROFILE_CC_COMMUNICATION),
            "text": self.communication_narrative(items),
        }
        if message.sender.is_specific:
            sender_ref = self.specific_ref(message.sender)
            resource["extension"] = [{"url": EXT_SENDER, "valueReference": sender_ref}]
        resource |= {
            "identifier": [{"value": message.thread_id}],
            "status": "unknown",
            "category": [{"coding": [{"system": CS_CATEGORY, "code": message.category}]}],
        }
        if message.priority:
            resource["priority"] = message.priority
        resource["subject"] = reference("Patient", self.patient_id)
        if message.topic:
            resource["topic"] = {"text": message.topic}
        if message.episode_of_care:
            resource["encounter"] = reference("Encounter", self.encounter_id)
        if message.receiver.is_specific:
            resource["recipient"] = [self.specific_ref(message.receiver)]
        resource["payload"] = [self.payload(item) for item in items]
        return resource

    def communication_narrative(self, items: list[Segment | Attachment]) -> JsonDict:
        message = self.message
        lines = [f"Kategori: {message.category}", f"Emne: {message.topic or ''}"]
        for item in items:
            who = item.author.practitioner.full_name if item.author.practitioner else ""
            stamp = fhir_datetime(item.written_at if isinstance(item, Segment) else item.added_at)
            what = item.text if isinstance(item, Segment) else f"Bilag: {item.title}"
            lines.append(f"{stamp} {who}: {what}")
        return narrative("Korrespondance", *lines)

    def payload(self, item: Segment | Attachment) -> JsonDict:
        moment = item.written_at if isinstance(item, Segment) else item.added_at
        extensions: list[JsonDict] = [
            {"url": EXT_DATETIME, "valueDateTime": fhir_datetime(moment)},
            {
                "url": EXT_IDENTIFIER,
                "valueIdentifier": {"value": item.id, "assigner": self.org_ref(item.author)},
            },
        ]
        person = item.author.practitioner
        if person is not None:
            role = self.role_ref(item.author, person)
            extensions.append({"url": EXT_PRACTITIONER, "valueReference": role})
            if person.phone:
                contact = {"system": "phone", "value": person.phone}
                extensions.append({"url": EXT_CONTACT, "valueContactPoint": contact})
        if isinstance(item, Segment):
            return {"extension": extensions, "contentString": item.text}
        return {"extension": extensions, "contentAttachment": _attachment(item)}

    def provenance(self, record: ProvenanceRecord) -> JsonDict:
        entities: list[JsonDict] = [
            {"role": "source", "what": {"identifier": {"value": payload_id}}}
            for payload_id in record.payload_ids
        ]
        if record.previous_message_id:
            previous = reference("MessageHeader", record.previous_message_id)
            entities.append({"role": "revision", "what": previous})
        elif record.previous_legacy_id:
            legacy = {"identifier": {"value": record.previous_legacy_id}}
            entities.append({"role": "revision", "what": legacy})
        occurred = fhir_datetime(record.occurred_at)
        return {
            "resourceType": "Provenance",
            "id": record.id,
            "meta": meta(PROFILE_CC_PROVENANCE),
            "text": narrative("Provenance", f"{record.activity.value} {occurred}"),
            "target": [reference("MessageHeader", record.message_id)],
            "occurredDateTime": occurred,
            "recorded": occurred,
            "activity": {"coding": [{"system": CS_ACTIVITY, "code": record.activity.value}]},
            "agent": [{"who": self.org_ref(record.agent)}],
            "entity": entities,
        }


def _human_name(family: str, given: Iterable[str]) -> JsonDict:
    name: JsonDict = {"family": family} if family else {}  # FHIR has no empty strings
    if given := list(given):
        name["given"] = given
    return name


def _attachment(attachment: Attachment) -> JsonDict:
    """FHIR Attachment, elements in the order of the FHIR specification."""
    content: JsonDict = {}
    if attachment.content_type:
        content["contentType"] = attachment.content_type
    if attachment.data is not None:
        content["data"] = encode(attachment.data)
    if attachment.url:
        content["url"] = attachment.url
    content["title"] = attachment.title
    if attachment.created:
        content["creation"] = fhir_datetime(attachment.created)
    return content


def _payload_order(message: CareCommunication) -> list[Segment | Attachment]:
    """Segments and attachments by time; at the same moment a text precedes the attachments
    sent with it, as in MedCom's examples (receivers order by these times anyway)."""
    items: list[Segment | Attachment] = [*message.segments, *message.attachments]
    return sorted(
        items,
        key=lambda item: (
            item.written_at if isinstance(item, Segment) else item.added_at,
            isinstance(item, Attachment),
        ),
    )
