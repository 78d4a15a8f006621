"""The URIs, profiles and codes MedCom's messages use, each in one place.

Values come from the published artefacts in `shared/vectors/medcomfhir-website/ig/`:
CareCommunication 5.0.2, Acknowledgement 2.0.3, Messaging 4.0.2, Core 3.0.1 and
Terminology 2.0.1 (the versions CareCommunication 5.0.2 depends on).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

_IG: Final = "http://medcomfhir.dk/ig"
_CS: Final = f"{_IG}/terminology/CodeSystem"

# Profiles (meta.profile of every resource we write).
PROFILE_CC_MESSAGE: Final = (
    f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-message"
)
PROFILE_CC_HEADER: Final = (
    f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader"
)
PROFILE_CC_COMMUNICATION: Final = (
    f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-communication"
)
PROFILE_CC_PROVENANCE: Final = (
    f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-provenance"
)
PROFILE_ACK_MESSAGE: Final = (
    f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement"
)
PROFILE_ACK_HEADER: Final = (
    f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader"
)
PROFILE_ACK_OUTCOME: Final = (
    f"{_IG}/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome"
)
PROFILE_MESSAGING_PROVENANCE: Final = (
    f"{_IG}/messaging/StructureDefinition/medcom-messaging-provenance"
)
PROFILE_ORGANIZATION: Final = f"{_IG}/messaging/StructureDefinition/medcom-messaging-organization"
PROFILE_PATIENT: Final = f"{_IG}/core/StructureDefinition/medcom-core-patient"
PROFILE_PRACTITIONER: Final = f"{_IG}/core/StructureDefinition/medcom-core-practitioner"
PROFILE_PRACTITIONER_ROLE: Final = f"{_IG}/core/StructureDefinition/medcom-core-practitionerrole"
PROFILE_CARE_TEAM: Final = f"{_IG}/core/StructureDefinition/medcom-core-careteam"
PROFILE_ENCOUNTER: Final = f"{_IG}/core/StructureDefinition/medcom-core-encounter"

# The CareCommunication header's `definition` must match `…MessageDefinition|5.<minor>`.
CC_DEFINITION: Final = (
    f"{_IG}/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0"
)

# Bundle.entry.fullUrl base, as in every published example and MedCom's Touchstone tests;
# references inside the bundle are relative (`Type/id`) and resolve against it.
CC_FULL_URL_BASE: Final = "https://medcomfhir.dk/ig/carecommunication"
ACK_FULL_URL_BASE: Final = "https://medcomfhir.dk/ig/acknowledgement"

# Extensions.
EXT_DESTINATION_USE: Final = (
    f"{_IG}/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
)
EXT_DATETIME: Final = f"{_IG}/core/StructureDefinition/medcom-core-datetime-extension"
EXT_IDENTIFIER: Final = f"{_IG}/core/StructureDefinition/medcom-core-identifier-extension"
EXT_PRACTITIONER: Final = f"{_IG}/core/StructureDefinition/medcom-core-practitioner-extension"
EXT_CONTACT: Final = f"{_IG}/core/StructureDefinition/medcom-core-contact-extension"
EXT_SENDER: Final = f"{_IG}/core/StructureDefinition/medcom-core-sender-extension"

# Code systems.
CS_EVENT: Final = f"{_CS}/medcom-messaging-eventCodes"
CS_DESTINATION_USE: Final = f"{_CS}/medcom-messaging-destinationUse"
CS_ACTIVITY: Final = f"{_CS}/medcom-messaging-activityCodes"
CS_CATEGORY: Final = f"{_CS}/medcom-careCommunication-categoryCodes"
CS_ROLE_SKS: Final = f"{_CS}/medcom-core-PractitionerRolesSKSadministrativ"
CS_ACK_ERRORS: Final = f"{_CS}/medcom-acknowledgement-error-codes"
CS_OPERATION_OUTCOME: Final = "http://terminology.hl7.org/CodeSystem/operation-outcome"
CS_REQUEST_PRIORITY: Final = "http://hl7.org/fhir/request-priority"

EVENT_CARE_COMMUNICATION: Final = "care-communication-message"
EVENT_ACKNOWLEDGEMENT: Final = "acknowledgement-message"

# The SOR browser URL MedCom's examples use as `endpoint` for a unit.
SOR_ENDPOINT_PREFIX: Final = "https://sor2.sum.dsdn.dk/#id="


class Activity(StrEnum):
    """Provenance.activity of a CareCommunication (ValueSet
    medcom-careCommunication-messagingActivities: only these three)."""

    NEW = "new-message"
    REPLY = "reply-message"
    FORWARD = "forward-message"


ACTIVITY_ACKNOWLEDGEMENT: Final = "acknowledgement"


class AckOutcome(StrEnum):
    """MessageHeader.response.code of an acknowledgement (FHIR response-code)."""

    OK = "ok"
    TRANSIENT_ERROR = "transient-error"  # the sender may resend (new Bundle.id)
    FATAL_ERROR = "fatal-error"  # resending the same message will fail again


# CodeSystem medcom-careCommunication-categoryCodes 1.9.0, the whole required ValueSet.
CATEGORIES: Final = frozenset(
    {
        "alcohol-and-drug-treatment",
        "assistive-devices",
        "carecoordination",
        "decease",
        "discharge",
        "examination-results",
        "healthcare",
        "home-care-assessment",
        "medicine",
        "nursing",
        "outpatient",
        "psychiatry-social-disability",
        "regarding-referral",
        "telemedicine",
        "training",
        "acute-ambulant",
        "extended-care-responsibility",
        "other",
    }
)
# No category names child psychiatry or PPR; this is the nearest for the platform's mission.
DEFAULT_CATEGORY: Final = "psychiatry-social-disability"
# Invariant medcom-careCommunication-5: priority only with this category.
PRIORITY_CATEGORY: Final = "regarding-referral"
# Invariant medcom-careCommunication-6: this category needs a topic.
TOPIC_REQUIRED_CATEGORY: Final = "other"
# ValueSet medcom-careCommunication-requestPriority 1.8.1.
PRIORITIES: Final = frozenset({"routine", "asap"})

# CodeSystem medcom-core-PractitionerRolesSKSadministrativ (Terminology 2.0.1). A role that is
# not one of these codes goes in PractitionerRole.code.text instead (code xor text).
SKS_ROLES: Final = frozenset(
    {
        "speciallaege", "speciallaegeipraksis", "cheflaege", "overlaege", "afdelingslaege",
        "sygehuslaege", "sygeplejerske", "sundhedsplejerske", "socialogsundhedsassistent",
        "socialogsundhedsmedhjaelper", "socialogsundhedsmehjaelper", "sygehjaelper", "plejer",
        "plejehjemsassistent", "tandlaege", "klinisktandtekniker", "tandplejer", "farmaceut",
        "apoteker", "psykolog", "pyskolog", "jordemoder", "fysioterapeut", "ergoterapeut",
        "bioanalytiker", "radiograf", "diaetist", "diaetistassistent", "audilogiassistent",
        "neurofysiologassistent", "kiropraktor", "zoneterapeut", "psykoterapeut",
        "audiologopaed", "laegesekretaer", "ledendelaegesekretaer", "sygeplejesekretaer",
        "sygeplejesekretear", "fodterapeut", "socialraadgiver", "ledendesocialraadgiver",
        "laerer", "paedagog", "beskaeftigelsesvejleder", "bandagist", "skomager", "optiker",
    }
)  # fmt: skip

# ValueSet medcom-acknowledgement-issue-details 1.8.1: MedCom's own codes, then FHIR's.
ACK_MEDCOM_ISSUE_CODES: Final = frozenset(
    {
        "MSG_Receiver_Identifier_UNKNOWN",
        "MSG_Receiver_Identifier_MISSING",
        "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
        "MSG_VALUESET_VALUE_UNKNOWN",
        "MSG_CodeSystem_VALUE_UNKNOWN",
        "MSG_Element_To_Long",
        "MSG_Datatype_Wrong",
        "MSG_Mailbox_Out_Of_Operation",
        "MSG_Damaged_durin_transport",
    }
)
ACK_FHIR_ISSUE_CODES: Final = frozenset(
    {
        "MSG_ID_INVALID", "MSG_ID_TOO_LONG", "MSG_BAD_FORMAT", "MSG_BAD_SYNTAX",
        "MSG_DATE_FORMAT", "MSG_DUPLICATE_ID", "MSG_INVALID_ID", "MSG_JSON_OBJECT",
        "MSG_LOCAL_FAIL", "MSG_NO_MATCH", "MSG_NO_EXIST", "MSG_NO_SUMMARY", "MSG_PARAM_INVALID",
        "MSG_PARAM_NO_REPEAT", "MSG_PARAM_UNKNOWN", "MSG_RESOURCE_ID_MISMATCH",
        "MSG_RESOURCE_ID_FAIL", "MSG_RESOURCE_ID_MISSING", "MSG_RESOURCE_NOT_ALLOWED",
        "MSG_RESOURCE_REQUIRED", "MSG_RESOURCE_TYPE_MISMATCH", "MSG_TRANSACTION_DUPLICATE_ID",
        "MSG_TRANSACTION_MISSING_ID", "MSG_UNKNOWN_TYPE", "MSG_VERSION_AWARE",
        "MSG_VERSION_AWARE_CONFLICT", "MSG_VERSION_AWARE_URL", "MSG_WRONG_NS",
    }
)  # fmt: skip


def issue_code_system(code: str) -> str:
    """The code system an acknowledgement issue code belongs to; ValueError if neither."""
    if code in ACK_MEDCOM_ISSUE_CODES:
        return CS_ACK_ERRORS
    if code in ACK_FHIR_ISSUE_CODES:
        return CS_OPERATION_OUTCOME
    raise ValueError(f"not in ValueSet medcom-acknowledgement-issue-details: {code!r}")
