"""Bundles on the wire: FHIR JSON (`application/fhir+json`) and FHIR XML (`application/fhir+xml`);
MedCom's VANS envelope allows either.

JSON needs nothing but `json`. XML goes through fhir.resources' R4B models, whose
`model_dump_xml`/`model_validate_xml` follow the FHIR XML rules (primitives as `value`
attributes, `_element` extensions, resources wrapped in their type, element order of the
specification, the narrative as embedded XHTML). fhir.resources has no R4 package; R4B is the
nearest, and for the resources MedCom's messages use (Bundle, MessageHeader, Communication,
Patient, Practitioner, PractitionerRole, Organization, CareTeam, Encounter, Provenance,
OperationOutcome) R4B changed neither elements nor their order, so its XML is R4's.

Two things are handled here rather than trusted to the library: its XML reader returns each
narrative `div` with character references (`&#229;` for "å") and the whitespace after the
element, so the div is re-serialised; and the parser is hardened (no DTD, no entities, no
network) while still taking the long text nodes of large attachments.
"""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle
from lxml import etree

from paatvaers.medcom._fhir import JsonDict
from paatvaers.medcom.errors import MalformedMessage


def to_json(bundle: JsonDict) -> bytes:
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def from_json(data: bytes) -> JsonDict:
    try:
        bundle = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage(f"not JSON: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise MalformedMessage("not a FHIR Bundle")
    return bundle


def to_xml(bundle: JsonDict) -> bytes:
    """FHIR XML of a bundle; the model validates it once on the way (about 3 ms a bundle)."""
    xml: str | bytes = Bundle.model_validate(bundle).model_dump_xml()
    return xml if isinstance(xml, bytes) else xml.encode("utf-8")


def from_xml(data: bytes) -> JsonDict:
    """The FHIR JSON form of a bundle received as FHIR XML."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise MalformedMessage("FHIR XML has no DTD or entity declarations")
    try:
        model = Bundle.model_validate_xml(data, xmlparser=_parser())
    except (ValueError, etree.XMLSyntaxError) as exc:  # pydantic's errors are ValueErrors
        raise MalformedMessage(f"not a FHIR XML Bundle: {exc}") from exc
    bundle: JsonDict = json.loads(model.model_dump_json())
    _normalise_narratives(bundle)
    return bundle


def _parser() -> etree.XMLParser:
    # A parser per call: lxml parser objects must not be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # base64 attachments exceed libxml2's 10 MB text limit
    )


def _normalise_narratives(node: object) -> None:
    if isinstance(node, dict):
        text = node.get("text")
        if isinstance(text, dict) and isinstance(text.get("div"), str):
            text["div"] = _normalise_div(text["div"])
        for value in node.values():
            _normalise_narratives(value)
    elif isinstance(node, list):
        for item in node:
            _normalise_narratives(item)


def _normalise_div(div: str) -> str:
    element = etree.fromstring(div.strip().encode("utf-8"), _parser())
    return str(etree.tostring(element, encoding="unicode", with_tail=False))
