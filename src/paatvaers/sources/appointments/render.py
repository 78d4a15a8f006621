"""The simulator's writing side: an appointment of the world as the document sharing service
holds it, an APD-DK 2.0.1 document and its XDS metadata as an IHE MHD DocumentReference.

The document follows MedCom's APD-DK 2.0.1 examples (DK-APD_Example_1_5_apd_region.xml) element
by element; text is written with plain string templates because the simulator must serve
millions of documents quickly.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from paatvaers.domain.appointments import Appointment, AppointmentStatus
from paatvaers.domain.children import Child
from paatvaers.domain.cpr import Sex
from paatvaers.domain.organisations import OrgUnit
from paatvaers.sources.appointments import codes
from paatvaers.sources.base import AppointmentWithPerformer

# The registry gives every document entry its own id (entryUUID); ours is derived from the
# world's key so that the simulator needs no table of them.
ENTRY_NAMESPACE = uuid.UUID("8f3f3a52-4b8e-5b7e-a0d1-61706464656e")
# Documents are shared some time before the appointment.
SHARED_BEFORE = timedelta(days=14)

STATUS_OF = {
    AppointmentStatus.BOOKED: codes.CURRENT,
    AppointmentStatus.HELD: codes.CURRENT,
    # A cancelled appointment's document is deprecated; a moved one's is deprecated and
    # replaced. IHE MHD shows a deprecated entry as `superseded`.
    AppointmentStatus.CANCELLED: codes.SUPERSEDED,
    AppointmentStatus.MOVED: codes.SUPERSEDED,
}


def entry_id(key: str) -> str:
    return str(uuid.uuid5(ENTRY_NAMESPACE, f"xds-entry:{key}"))


def _x(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _ts(moment: datetime) -> str:
    """HL7 TS as APD-DK writes it: 20201207111500+0100."""
    return moment.strftime("%Y%m%d%H%M%S%z")


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _coding(system: str, code: str, display: str | None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


# -- XDS metadata (IHE MHD DocumentReference) ---------------------------------------------------


def document_reference(
    item: AppointmentWithPerformer, key: str, changed_at: datetime, fhir_base: str
) -> dict[str, Any]:
    a = item.appointment
    created = a.start - SHARED_BEFORE
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": entry_id(key),
        "meta": {"lastUpdated": changed_at.isoformat(timespec="milliseconds")},
        "masterIdentifier": {"system": codes.RFC3986, "value": f"urn:uuid:{a.document_id}"},
        "identifier": [
            {"use": "official", "system": codes.RFC3986, "value": f"urn:uuid:{entry_id(key)}"}
        ],
        "status": STATUS_OF[a.status],
        "type": _coding(codes.LOINC, codes.TYPE_CODE, codes.TYPE_DISPLAY),
        "category": [_coding(codes.CLASS_CODE_SYSTEM, codes.CLASS_CODE, codes.CLASS_DISPLAY)],
        "subject": {
            "identifier": {"system": a.patient_cpr.identifier_system, "value": a.patient_cpr.value}
        },
        "date": _instant(created),
        "author": [
            {
                "identifier": {
                    "system": f"urn:oid:{codes.SOR_ROOT}",
                    "value": a.performer_sor.value,
                },
                "display": a.performer_name,
            }
        ],
        "securityLabel": [_coding(codes.CONFIDENTIALITY, "N", "normal")],
        "content": [
            {
                "attachment": {
                    "contentType": "text/xml",
                    "language": "da",
                    "url": f"{fhir_base}/Binary/{key}",
                    "title": f"Aftale for {a.patient_cpr.value}",
                    "creation": _instant(created),
                },
                "format": {
                    "system": codes.FORMAT_CODE_SYSTEM,
                    "code": codes.FORMAT_CODE,
                    "display": codes.FORMAT_DISPLAY,
                },
            }
        ],
        "context": _context(a),
    }
    if a.replaces_id is not None:
        resource["relatesTo"] = [
            {
                "code": codes.REPLACES,
                "target": {"reference": f"DocumentReference/{entry_id(str(a.replaces_id))}"},
            }
        ]
    return resource


def _context(a: Appointment) -> dict[str, Any]:
    period = {"start": _instant(a.start)}
    if a.end is not None:
        period["end"] = _instant(a.end)
    context: dict[str, Any] = {"period": period}
    marking = a.marking
    if marking.episode_label:
        label = marking.episode_label
        context["event"] = [_coding(codes.SKS, label, codes.EPISODE_LABEL_DISPLAY.get(label))]
    if marking.facility_type_code:
        code = marking.facility_type_code
        context["facilityType"] = _coding(codes.SNOMED, code, codes.FACILITY_TYPE_DISPLAY.get(code))
    if marking.practice_setting_code:
        code = marking.practice_setting_code
        context["practiceSetting"] = _coding(
            codes.SNOMED, code, codes.PRACTICE_SETTING_DISPLAY.get(code)
        )
    return context


# -- the APD-DK document ---------------------------------------------------------------------------


def apd_document(item: AppointmentWithPerformer, child: Child | None, gp: OrgUnit | None) -> str:
    a, performer = item.appointment, item.performer
    created = _ts(a.start - SHARED_BEFORE)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3" classCode="DOCCLIN" moodCode="EVN">\n'
        '<realmCode code="DK"/>\n'
        '<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
        f'<templateId root="{codes.APD_TEMPLATE}" extension="{codes.APD_TEMPLATE_VERSION}"/>\n'
        f'<id root="{codes.MEDCOM_ROOT}" extension="{a.document_id}"'
        ' assigningAuthorityName="MedCom"/>\n'
        f'<code code="{codes.APD_DOCUMENT_CODE}" codeSystem="{codes.LOINC_OID}"'
        ' codeSystemName="LOINC"'
        ' displayName="Dato og tidspunkt for møde mellem patient og sundhedsperson"/>\n'
        f"<title>Aftale for {a.patient_cpr.value}</title>\n"
        f'<effectiveTime value="{created}"/>\n'
        '<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>\n'
        '<languageCode code="da-DK"/>\n'
        f"{_record_target(a, child, gp)}"
        f"{_author(performer, a, created)}"
        f"{_requester(a, gp, created)}"
        f"{_custodian(performer, a)}"
        f"{_service_events(a)}"
        "<component><structuredBody><component>\n"
        '<section classCode="DOCSECT" moodCode="EVN">\n'
        f'<templateId root="{codes.SECTION_TEMPLATE}" extension="{codes.APD_TEMPLATE_VERSION}"/>\n'
        f'<code code="18776-5" codeSystem="{codes.LOINC_OID}" codeSystemName="LOINC"/>\n'
        "<title>Aftale</title>\n"
        f"{_narrative(a, performer)}"
        f"<entry>\n{_encounter(a, performer)}</entry>\n"
        "</section>\n"
        "</component></structuredBody></component>\n"
        "</ClinicalDocument>\n"
    )


def _record_target(a: Appointment, child: Child | None, gp: OrgUnit | None) -> str:
    cpr = a.patient_cpr
    root = cpr.identifier_system.removeprefix("urn:oid:")
    if child is not None:
        given, _, family = child.name.rpartition(" ")
        name = f"<name><given>{_x(given)}</given><family>{_x(family)}</family></name>"
    else:
        name = '<name nullFlavor="NI"/>'
    sex = {Sex.FEMALE: "F", Sex.MALE: "M"}.get(cpr.sex) if cpr.sex else None
    gender = (
        f'<administrativeGenderCode code="{sex}" codeSystem="2.16.840.1.113883.5.1"/>'
        if sex
        else '<administrativeGenderCode nullFlavor="UNK"/>'
    )
    return (
        '<recordTarget typeCode="RCT" contextControlCode="OP">\n<patientRole classCode="PAT">\n'
        f'<id extension="{cpr.value}" root="{root}" assigningAuthorityName="CPR"/>\n'
        '<patient classCode="PSN" determinerCode="INSTANCE">\n'
        f"{name}\n{gender}\n"
        f'<birthTime value="{cpr.birth_date:%Y%m%d}000000+0000"/>\n'
        "</patient>\n"
        f"{_provider(gp)}"
        "</patientRole>\n</recordTarget>\n"
    )


def _provider(gp: OrgUnit | None) -> str:
    if gp is None or gp.sor is None:
        return (
            '<providerOrganization><name nullFlavor="NI"/><telecom nullFlavor="NI"/>'
            '<addr nullFlavor="NI"/></providerOrganization>\n'
        )
    return (
        f'<providerOrganization><id extension="{gp.sor}" root="{codes.SOR_ROOT}"'
        f' assigningAuthorityName="SOR"/><name>{_x(gp.name)}</name></providerOrganization>\n'
    )


def _sor_id(sor: object) -> str:
    return f'<id extension="{sor}" root="{codes.SOR_ROOT}" assigningAuthorityName="SOR"/>'


def _tel(phone: str | None) -> str:
    # RFC 3966 allows '-' as a visual separator, not spaces.
    return f'<telecom value="tel:{_x(phone.replace(" ", "-"))}" use="WP"/>' if phone else ""


def _author(performer: OrgUnit, a: Appointment, created: str) -> str:
    return (
        '<author typeCode="AUT" contextControlCode="OP">\n'
        f'<time value="{created}"/>\n<assignedAuthor classCode="ASSIGNED">\n'
        f"{_sor_id(a.performer_sor)}\n"
        f"{_tel(performer.phone)}\n"
        '<representedOrganization classCode="ORG" determinerCode="INSTANCE">'
        f"<name>{_x(a.performer_name)}</name></representedOrganization>\n"
        "</assignedAuthor>\n</author>\n"
    )


def _requester(a: Appointment, gp: OrgUnit | None, created: str) -> str:
    """APD-DK's optional second author: the organisation that requested the appointment."""
    if a.requester_sor is None:
        return ""
    named = gp is not None and gp.sor == a.requester_sor
    organisation = (
        '<representedOrganization classCode="ORG" determinerCode="INSTANCE">'
        f"<name>{_x(gp.name)}</name></representedOrganization>\n"
        if named and gp is not None
        else ""
    )
    return (
        '<author typeCode="AUT" contextControlCode="OP">\n'
        f'<time value="{created}"/>\n<assignedAuthor classCode="ASSIGNED">\n'
        f"{_sor_id(a.requester_sor)}\n"
        f'<code code="{codes.REFERRED_BY}" codeSystem="{codes.PARTICIPATION_TYPE}"'
        ' codeSystemName="ParticipationType (HL7) Code System"'
        ' displayName="ParticipationReferredBy"/>\n'
        f"{organisation}"
        "</assignedAuthor>\n</author>\n"
    )


def _custodian(performer: OrgUnit, a: Appointment) -> str:
    return (
        '<custodian typeCode="CST"><assignedCustodian classCode="ASSIGNED">\n'
        '<representedCustodianOrganization classCode="ORG" determinerCode="INSTANCE">\n'
        f"{_sor_id(a.performer_sor)}\n"
        f"<name>{_x(performer.name)}</name>\n"
        "</representedCustodianOrganization>\n</assignedCustodian></custodian>\n"
    )


def _interval(a: Appointment) -> str:
    high = f'<high value="{_ts(a.end)}"/>' if a.end is not None else '<high nullFlavor="NI"/>'
    return f'<effectiveTime><low value="{_ts(a.start)}"/>{high}</effectiveTime>'


def _service_events(a: Appointment) -> str:
    events = (
        '<documentationOf typeCode="DOC"><serviceEvent classCode="MPROT" moodCode="EVN">\n'
        f'<templateId root="{codes.APPOINTMENT_TIME_TEMPLATE}"/>\n{_interval(a)}\n'
        "</serviceEvent></documentationOf>\n"
        '<documentationOf typeCode="DOC"><serviceEvent classCode="MPROT" moodCode="EVN">\n'
        f'<templateId root="{codes.PROFILE_VERSION_TEMPLATE}"/>\n'
        f'<id root="{codes.PROFILE_VERSION_ROOT}" extension="{codes.APD_PROFILE_VERSION}"'
        ' assigningAuthorityName="MedCom"/>\n'
        "</serviceEvent></documentationOf>\n"
    )
    label = a.marking.episode_label
    if label:
        # The course marker (forløbsmarkør): one LPR3 episode per child and site.
        episode = uuid.uuid5(ENTRY_NAMESPACE, f"episode:{a.patient_cpr.value}:{a.performer_sor}")
        display = codes.EPISODE_LABEL_DISPLAY.get(label, label)
        events += (
            '<documentationOf typeCode="DOC"><serviceEvent classCode="MPROT" moodCode="EVN">\n'
            f'<templateId root="{codes.EPISODE_LABEL_TEMPLATE}"/>\n'
            f'<id extension="{episode}" root="{codes.LPR3_EPISODE_OID}"/>\n'
            f'<code code="{_x(label)}" codeSystem="{codes.SKS_OID}" codeSystemName="SKS"'
            f' displayName="{_x(display)}"/>\n'
            "</serviceEvent></documentationOf>\n"
        )
    return events


def _narrative(a: Appointment, performer: OrgUnit) -> str:
    when = (
        f"{a.start:%Y-%m-%d %H:%M} - {a.end:%Y-%m-%d %H:%M}"
        if a.end
        else f"{a.start:%Y-%m-%d %H:%M} - "
    )
    phone = f", Tlf. {performer.phone}" if performer.phone else ""
    return (
        '<text><paragraph>Aftale:</paragraph><table width="100%"><tbody>\n'
        "<tr><th>Aftale dato</th><th>Vedrørende</th><th>Udførende organisation</th>"
        "<th>Mødested</th></tr>\n"
        f"<tr><td>{when}</td><td>{_x(a.reason)}</td><td>{_x(a.performer_name)}{_x(phone)}</td>"
        f"<td>{_x(a.location_name or '')}</td></tr>\n"
        "</tbody></table></text>\n"
    )


def _encounter(a: Appointment, performer: OrgUnit) -> str:
    return (
        '<encounter moodCode="APT" classCode="ENC">\n'
        f'<templateId root="{codes.ENCOUNTER_TEMPLATE}"'
        f' extension="{codes.APD_TEMPLATE_VERSION}"/>\n'
        f'<id root="{codes.MEDCOM_ROOT}" extension="{a.id}" assigningAuthorityName="MedCom"/>\n'
        f'<code code="{codes.REGIONAL_APPOINTMENT}" codeSystem="{codes.MEDCOM_MESSAGE_CODES}"'
        ' codeSystemName="MedCom Message Codes"/>\n'
        '<statusCode code="active"/>\n'
        f"{_interval(a)}\n"
        '<performer typeCode="PRF"><assignedEntity classCode="ASSIGNED">\n'
        f"{_sor_id(a.performer_sor)}\n"
        f"<representedOrganization><name>{_x(a.performer_name)}</name>{_tel(performer.phone)}"
        "</representedOrganization>\n"
        "</assignedEntity></performer>\n"
        f"{_location(a)}"
        '<entryRelationship typeCode="RSON"><observation classCode="OBS" moodCode="EVN">'
        f'<code code="NI" displayName="{_x(a.reason)}"/></observation></entryRelationship>\n'
        "</encounter>\n"
    )


def _location(a: Appointment) -> str:
    if a.location_sor is None and a.location_name is None:
        return ""
    ident = f"{_sor_id(a.location_sor)}\n" if a.location_sor else ""
    name = (
        f"<playingEntity><name>{_x(a.location_name)}</name></playingEntity>\n"
        if a.location_name
        else ""
    )
    return (
        '<participant typeCode="LOC"><participantRole classCode="SDLOC">\n'
        f'<templateId root="{codes.LOCATION_TEMPLATE}" extension="{codes.APD_TEMPLATE_VERSION}"/>\n'
        f'{ident}<addr nullFlavor="NI"/>\n{name}'
        "</participantRole></participant>\n"
    )
