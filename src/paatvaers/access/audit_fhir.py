"""The access log as FHIR R4 AuditEvents, shaped after IHE Basic Audit Log Patterns (BALP).

* `read` -> PatientRead: type rest, subtype read, action R.
* `search` -> PatientQuery: type rest, subtype search, action E, with a query entity.
* `decide` -> the Consent Authorized Decision pattern (AuthZ-Consent): type Security Alert,
  action E.

Outcome 0 for a permit, 4 for a deny. The user is agent[user] (requestor; `who` is the user's
UUID, `role` the employee function, `purposeOfUse` the purpose as v3-ActReason and the data
flow; `policy` the ids of the rules that decided); the child is entity[patient], identified
by CPR number under the CPR OID (as the Danish MinLog2 registration does); the consents a
decision rested on are entity[consent]; the records shown are entity[data]. The bundle is
validated against the FHIR models before it is returned, so an export that would not be
valid FHIR fails instead of leaving.

Where it departs from BALP (also in docs/access-log.md): the log keeps no network addresses,
so the client and server agents' `network` is absent, and the client agent is left out; a
search keeps no raw request, so its query entity carries the data flow instead.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from paatvaers.access.audit import TABLE
from paatvaers.domain.organisations import EmployeeFunction, Sector

JsonObject = dict[str, Any]

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
URI_SYSTEM = "urn:ietf:rfc:3986"  # the identifier is itself a URI (here urn:uuid:…)
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
SECURITY_ROLE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
AUTHZ_SUBTYPE = "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType"
BALP_ENTITY_TYPE = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
# Our own code systems: named, stable, and clearly not HL7's.
FUNCTION_SYSTEM = "urn:paatvaers:employee-function"
DATA_FLOW_SYSTEM = "urn:paatvaers:data-flow"
RULE_PREFIX = "urn:paatvaers:access-rule:"
CONSENT_SYSTEM = "urn:paatvaers:consent"
# How the access layer marks the consent records a decision rested on among its record ids.
CONSENT_PREFIX = "consent:"
RECORD_SYSTEM = "urn:paatvaers:record"
PLATFORM_ID = "urn:paatvaers:platform"
PLATFORM_NAME = "På Tværs – Børn & Unge"
# An event keeps its fullUrl from one export to the next.
ENTRY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, PLATFORM_ID + ":access-event")

OUTCOME = {"permit": "0", "deny": "4"}  # success / minor failure (the request was refused)
# A purpose given as a v3-ActReason code is kept; any other purpose is mapped by sector:
# health staff treat (TREAT), municipal staff coordinate the child's care (COC).
ACT_REASONS = {
    "TREAT": "treatment",
    "COC": "coordination of care",
    "ETREAT": "Emergency Treatment",
    "PATRQT": "patient requested",
    "FAMRQT": "family requested",
    "PWATRNY": "power of attorney",
    "CAREMGT": "care management",
    "HOPERAT": "healthcare operations",
    "HSYSADMIN": "health system administration",
    "HTEST": "test health data",
}


def _coding(system: str, code: str, display: str | None = None) -> JsonObject:
    coding: JsonObject = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> JsonObject:
    return {"coding": [_coding(system, code, display)]}


def _uuid_reference(value: object, display: str | None = None) -> JsonObject:
    reference: JsonObject = {"identifier": {"system": URI_SYSTEM, "value": f"urn:uuid:{value}"}}
    if display:
        reference["display"] = display
    return reference


def _platform() -> JsonObject:
    return {"identifier": {"system": URI_SYSTEM, "value": PLATFORM_ID}, "display": PLATFORM_NAME}


def _function(code: str) -> EmployeeFunction | None:
    try:
        return EmployeeFunction(code)
    except ValueError:
        return None


def purpose_of_use(purpose: str, employee_function: str) -> JsonObject:
    """The purpose as a v3-ActReason concept; the recorded text kept beside the code."""
    code = purpose.strip().upper()
    if code not in ACT_REASONS:
        function = _function(employee_function)
        health = function is not None and function.unit_kind.sector is Sector.HEALTH
        code = "TREAT" if health else "COC"
    concept = _concept(ACT_REASON, code, ACT_REASONS[code])
    concept["text"] = purpose
    return concept


def _user_agent(row: Mapping[Any, Any]) -> JsonObject:
    function = _function(row["employee_function"])
    role = _concept(
        FUNCTION_SYSTEM,
        row["employee_function"],
        function.danish_title if function else None,
    )
    purposes = [purpose_of_use(row["purpose"], row["employee_function"])]
    if row["data_flow"]:
        purposes.append(_concept(DATA_FLOW_SYSTEM, row["data_flow"]))
    agent: JsonObject = {
        "type": _concept(PARTICIPATION, "IRCP", "information recipient"),
        "role": [role],
        "who": _uuid_reference(row["user_id"]),
        "name": row["username"],
        "requestor": True,
        "purposeOfUse": purposes,
    }
    if row["rules"]:
        agent["policy"] = [RULE_PREFIX + rule for rule in row["rules"]]
    return agent


def _organisation_agent(row: Mapping[Any, Any]) -> JsonObject:
    """The user's unit. BALP's decision pattern types it as a healthcare provider; a
    municipal unit is typed as the agent it is."""
    function = _function(row["employee_function"])
    health = function is not None and function.unit_kind.sector is Sector.HEALTH
    kind = _concept(ROLE_CLASS, "PROV", "healthcare provider") if health else None
    return {
        "type": kind or _concept(ROLE_CLASS, "AGNT", "agent"),
        "who": _uuid_reference(row["unit_id"]),
        "requestor": False,
    }


def _platform_agent(action: str) -> JsonObject:
    """The platform: the server answering a read or a search, the authoriser of a decision.
    (DICOM's roles follow the request: a read's server is the source of the data, a
    search's server the destination of the query.)"""
    if action == "decide":
        kind = _concept(SECURITY_ROLE, "authserver", "authorization server")
    elif action == "search":
        kind = _concept(DCM, "110152", "Destination Role ID")
    else:
        kind = _concept(DCM, "110153", "Source Role ID")
    return {"type": kind, "who": _platform(), "requestor": False}


def _patient_entity(cpr: str) -> JsonObject:
    return {
        "what": {"type": "Patient", "identifier": {"system": CPR_SYSTEM, "value": cpr}},
        "type": _coding(ENTITY_TYPE, "1", "Person"),
        "role": _coding(OBJECT_ROLE, "1", "Patient"),
    }


def _data_entity(record_id: str, data_flow: str | None) -> JsonObject:
    entity: JsonObject = {
        "what": {"identifier": {"system": RECORD_SYSTEM, "value": record_id}},
        "type": _coding(ENTITY_TYPE, "2", "System Object"),
        "role": _coding(OBJECT_ROLE, "4", "Domain Resource"),
    }
    if data_flow:
        entity["description"] = data_flow
    return entity


def _consent_entity(consent_id: str) -> JsonObject:
    return {
        "what": {"type": "Consent", "identifier": {"system": CONSENT_SYSTEM, "value": consent_id}},
        "type": _coding(RESOURCE_TYPES, "Consent", "Consent"),
    }


def _query_entity(data_flow: str | None) -> JsonObject:
    query = f"data_flow={data_flow or ''}"
    return {
        "type": _coding(ENTITY_TYPE, "2", "System Object"),
        "role": _coding(OBJECT_ROLE, "24", "Query"),
        "description": query,
        "query": base64.b64encode(query.encode("utf-8")).decode("ascii"),
    }


def _transaction_entity(request_id: str) -> JsonObject:
    return {
        "what": {"identifier": {"value": request_id}},
        "type": _coding(BALP_ENTITY_TYPE, "XrequestId"),
    }


def _event_kind(action: str) -> JsonObject:
    """type, subtype and action of the BALP pattern for our action."""
    if action == "decide":
        return {
            "type": _coding(DCM, "110113", "Security Alert"),
            "subtype": [_coding(AUTHZ_SUBTYPE, "AuthZ-Consent")],
            "action": "E",
        }
    if action == "search":
        return {
            "type": _coding(EVENT_TYPE, "rest", "Restful Operation"),
            "subtype": [_coding(RESTFUL, "search", "search")],
            "action": "E",
        }
    return {
        "type": _coding(EVENT_TYPE, "rest", "Restful Operation"),
        "subtype": [_coding(RESTFUL, "read", "read")],
        "action": "R",
    }


def _entities(row: Mapping[Any, Any]) -> list[JsonObject]:
    entities: list[JsonObject] = []
    if row["child_cpr"]:
        entities.append(_patient_entity(row["child_cpr"]))
    if row["action"] == "search":
        entities.append(_query_entity(row["data_flow"]))
    # The consents a decision rested on are recorded with every action; the data shown only
    # with a permitted read or search (BALP: no data entity on a deny).
    shown = row["decision"] == "permit" and row["action"] != "decide"
    for record_id in map(str, row["record_ids"]):
        if record_id.startswith(CONSENT_PREFIX):
            entities.append(_consent_entity(record_id.removeprefix(CONSENT_PREFIX)))
        elif shown:
            entities.append(_data_entity(record_id, row["data_flow"]))
    if row["request_id"]:
        entities.append(_transaction_entity(row["request_id"]))
    return entities


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def audit_event(row: Mapping[Any, Any]) -> JsonObject:
    """One access_event row (its columns by name) as an AuditEvent resource."""
    event: JsonObject = {"resourceType": "AuditEvent", "id": f"access-event-{row['id']}"}
    if row["child_cpr_synthetic"]:
        # The person is synthetic: label the event as test data, as BALP's examples do.
        event["meta"] = {"security": [_coding(ACT_REASON, "HTEST", "test health data")]}
    event |= _event_kind(row["action"])
    event["recorded"] = _instant(row["recorded_at"])
    event["outcome"] = OUTCOME[row["decision"]]
    explanation = " — ".join(p for p in (row["reason"], row["legal_reference"]) if p)
    if explanation:
        event["outcomeDesc"] = explanation
    event["agent"] = [
        _user_agent(row),
        _organisation_agent(row),
        _platform_agent(row["action"]),
    ]
    event["source"] = {
        "observer": _platform(),
        "type": [_coding(SOURCE_TYPE, "4", "Application Server")],
    }
    entities = _entities(row)
    if entities:
        event["entity"] = entities
    return event


def bundle(rows: Iterable[Mapping[Any, Any]], now: datetime | None = None) -> JsonObject:
    """A collection Bundle of the rows' AuditEvents, checked against the FHIR models."""
    entries = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid5(ENTRY_NAMESPACE, str(row['id']))}",
            "resource": audit_event(row),
        }
        for row in rows
    ]
    result: JsonObject = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": _instant(now or datetime.now(UTC)),
        "entry": entries,
    }
    Bundle.model_validate(result)  # raises pydantic.ValidationError on anything not FHIR
    return result


def export(
    session: Session, child_cpr: str | None = None, since: datetime | None = None
) -> JsonObject:
    """The log's events (one child's, or since a time, or all) as a Bundle, oldest first."""
    query = select(TABLE).order_by(TABLE.c.recorded_at, TABLE.c.id)
    if child_cpr is not None:
        query = query.where(TABLE.c.child_cpr == child_cpr)
    if since is not None:
        query = query.where(TABLE.c.recorded_at >= since)
    return bundle(row._mapping for row in session.execute(query))
