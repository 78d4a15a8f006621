"""Identifiers and codes of APD-DK 2.0.1 and of its XDS metadata, shared by the adapter (which
checks them) and the simulator (which writes them).

Sources: MedCom's APD-DK 2.0.1 example documents (KvalitetsIT/plsp-dds-testdata), MedCom XDS
metadata 1.0.1 (medcomfhir-website ig/xdsmetadata) and the APD DocumentReference profile
(medcomdk/dk-medcom-xds-documents); IHE MHD for the FHIR side.
"""

from __future__ import annotations

import uuid

from paatvaers.domain.cpr import CPR_SYSTEM, D_ECPR_SYSTEM, X_ECPR_SYSTEM
from paatvaers.domain.identifiers import SOR_SYSTEM

HL7_NS = "urn:hl7-org:v3"

# -- CDA (OIDs written without the urn:oid: prefix, as CDA does) -----------------------------
MEDCOM_ROOT = "1.2.208.184"  # ClinicalDocument/id and encounter/id root
SOR_ROOT = SOR_SYSTEM.removeprefix("urn:oid:")
CPR_ROOTS = {
    s.removeprefix("urn:oid:"): s for s in (CPR_SYSTEM, X_ECPR_SYSTEM, D_ECPR_SYSTEM)
}  # recordTarget id roots → the FHIR identifier system of the same number
LOINC_OID = "2.16.840.1.113883.6.1"
SKS_OID = "1.2.208.176.2.4"
LPR3_EPISODE_OID = "1.2.208.176.7.1.10.83"
MEDCOM_MESSAGE_CODES = "1.2.208.184.100.1"
PARTICIPATION_TYPE = "2.16.840.1.113883.5.90"
REFERRED_BY = "REFB"  # the author who requested the appointment
PROFILE_VERSION_ROOT = "1.2.208.184.100.3"  # the examples also use 1.2.208.184.100.10

APD_TEMPLATE = "1.2.208.184.14.1"
APD_TEMPLATE_VERSION = "2019-09-10"
APD_DOCUMENT_CODE = "39289-4"  # LOINC: date and time of a meeting with a health professional
APD_PROFILE_VERSION = "apd-v2.0.1"
SECTION_TEMPLATE = "1.2.208.184.14.11.1"
ENCOUNTER_TEMPLATE = "1.2.208.184.14.11.2"
LOCATION_TEMPLATE = "1.2.208.184.14.11.3"
APPOINTMENT_TIME_TEMPLATE = "1.2.208.184.10.1.11"
PROFILE_VERSION_TEMPLATE = "1.2.208.184.10.1.10"
EPISODE_LABEL_TEMPLATE = "1.2.208.184.10.1.12"
REGIONAL_APPOINTMENT = "RegionalAppointment"

# -- XDS metadata as FHIR codings ------------------------------------------------------------
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
SKS = f"urn:oid:{SKS_OID}"
CLASS_CODE_SYSTEM = "urn:oid:1.2.208.184.100.9"
FORMAT_CODE_SYSTEM = "urn:oid:1.2.208.184.100.10"
CONFIDENTIALITY = "urn:oid:2.16.840.1.113883.5.25"
RFC3986 = "urn:ietf:rfc:3986"

# The published XDS metadata value sets write the code systems as OIDs, MedCom's FHIR
# examples as FHIR URIs; both name the same code system, so both are accepted.
SYSTEM_ALIASES = {
    LOINC: frozenset({LOINC, f"urn:oid:{LOINC_OID}"}),
    SNOMED: frozenset({SNOMED, "urn:oid:2.16.840.1.113883.6.96"}),
    SKS: frozenset({SKS}),
    FORMAT_CODE_SYSTEM: frozenset(
        {
            FORMAT_CODE_SYSTEM,
            "http://medcomfhir.dk/ig/xdsmetadata/CodeSystem/MedCom-ihe-formatcode-CS",
        }
    ),
}

TYPE_CODE = "56446-8"  # LOINC Appointment Summary Document
TYPE_DISPLAY = "Appointment Summary Document"
CLASS_CODE = "001"
CLASS_DISPLAY = "Klinisk rapport"
FORMAT_CODE = "urn:ad:dk:medcom:apd-v2.0.1:full"
FORMAT_DISPLAY = "DK APD schema"

PRACTICE_SETTING_DISPLAY = {
    "394588006": "børne- og ungdomspsykiatri",
    "394587001": "psykiatri",
}
FACILITY_TYPE_DISPLAY = {"554871000005105": "psykiatrienhed"}
EPISODE_LABEL_DISPLAY = {"ALAL03": "Psykiske lidelser og adfærdsmæssige forstyrrelser"}

# DocumentReference.status as IHE MHD maps XDS availabilityStatus: Approved → current,
# Deprecated → superseded. `entered-in-error` has no XDS counterpart.
CURRENT = "current"
SUPERSEDED = "superseded"
ENTERED_IN_ERROR = "entered-in-error"
STATUSES = (CURRENT, SUPERSEDED, ENTERED_IN_ERROR)
REPLACES = "replaces"
RELATES_TO = "DocumentReference:relatesto"

# Document ids that are not UUIDs (MedCom's personalised test documents use them) get a
# stable name-based UUID, so the domain's document id stays a UUID.
DOCUMENT_ID_NAMESPACE = uuid.UUID("0c6a3c0e-3f0e-5d52-9a4f-61706464b201")
