"""The VANS-style envelope around a MedCom message on a mailbox transport.

On the VANS network a FHIR message travels base64-encoded in `VANSEnvelope/Message/Data`,
its media type in `Transport/ServiceTag[@name="MCM:MIME"]`, and the message type in
`MetaInformation/Document` (Name `MCM:FDIS91#<category>`, Version 5.0, for a
CareCommunication; `MCM:FCTL#<response code>`, Version 2.0.0, for an acknowledgement). That is
what MedCom's governance describes (docs/medcom.md); its XML schema was not available to us,
so the elements around those are our own, and the envelope is "VANS-style", not VANS.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from lxml import etree

from paatvaers.medcom.errors import MalformedMessage

JSON = "application/fhir+json"
XML = "application/fhir+xml"
CARE_COMMUNICATION_VERSION = "5.0"
ACKNOWLEDGEMENT_VERSION = "2.0.0"
# The envelope's own parser: no network, no entities (a received file is untrusted input).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True, slots=True)
class Envelope:
    envelope_id: str  # Bundle.id: new on every transmission
    message_id: str  # MessageHeader.id: the same on every transmission
    sender_gln: str
    receiver_gln: str
    document_name: str  # MCM:FDIS91#<category> or MCM:FCTL#<code>
    document_version: str
    media_type: str
    data: bytes  # the FHIR message, serialised as `media_type` says


def care_communication_document(category: str) -> tuple[str, str]:
    return f"MCM:FDIS91#{category}", CARE_COMMUNICATION_VERSION


def acknowledgement_document(outcome: str) -> tuple[str, str]:
    return f"MCM:FCTL#{outcome}", ACKNOWLEDGEMENT_VERSION


def wrap(envelope: Envelope) -> bytes:
    root = etree.Element("VANSEnvelope")
    _text(etree.SubElement(root, "Sender"), "Identifier", envelope.sender_gln, type="GLN")
    _text(etree.SubElement(root, "Receiver"), "Identifier", envelope.receiver_gln, type="GLN")
    transport = etree.SubElement(root, "Transport")
    _text(transport, "Type", "reliable")
    _text(transport, "ServiceTag", envelope.media_type, name="MCM:MIME")
    meta = etree.SubElement(root, "MetaInformation")
    _text(meta, "EnvelopeIdentifier", envelope.envelope_id)
    _text(meta, "MessageIdentifier", envelope.message_id)
    document = etree.SubElement(meta, "Document")
    _text(document, "Format", "HL7")
    _text(document, "Name", envelope.document_name)
    _text(document, "Version", envelope.document_version)
    message = etree.SubElement(root, "Message")
    _text(message, "Data", base64.b64encode(envelope.data).decode("ascii"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def unwrap(data: bytes) -> Envelope:
    """The envelope read back; MalformedMessage names what is missing or broken."""
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedMessage(f"the envelope is not well-formed XML: {exc}") from None
    if root.tag != "VANSEnvelope":
        raise MalformedMessage(f"not a VANSEnvelope but <{root.tag}>")
    try:
        payload = base64.b64decode(_find(root, "Message/Data"), validate=True)
    except binascii.Error:
        raise MalformedMessage("Message/Data is not base64") from None
    media_type = _find(root, "Transport/ServiceTag[@name='MCM:MIME']")
    if media_type not in (JSON, XML):
        raise MalformedMessage(f"MCM:MIME {media_type!r} is neither {JSON} nor {XML}")
    return Envelope(
        envelope_id=_find(root, "MetaInformation/EnvelopeIdentifier"),
        message_id=_find(root, "MetaInformation/MessageIdentifier"),
        sender_gln=_find(root, "Sender/Identifier"),
        receiver_gln=_find(root, "Receiver/Identifier"),
        document_name=_find(root, "MetaInformation/Document/Name"),
        document_version=_find(root, "MetaInformation/Document/Version"),
        media_type=media_type,
        data=payload,
    )


def _text(parent: etree._Element, tag: str, value: str, **attributes: str) -> None:
    element = etree.SubElement(parent, tag, attributes)
    element.text = value


def _find(root: etree._Element, path: str) -> str:
    element = root.find(path)
    if element is None or not (element.text or "").strip():
        raise MalformedMessage(f"the envelope has no {path}")
    return (element.text or "").strip()
