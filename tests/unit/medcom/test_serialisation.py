"""Tests for FHIR JSON and XML of message bundles, against MedCom's examples published in both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from paatvaers.medcom.acknowledgement import build_acknowledgement
from paatvaers.medcom.carecommunication import build_new
from paatvaers.medcom.errors import MalformedMessage
from paatvaers.medcom.model import AttachmentFile, Party, Patient, Practitioner
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.serialisation import from_json, from_xml, to_json, to_xml


def canonical(xml: bytes) -> bytes:
    """XML without formatting whitespace, in canonical form (C14N)."""
    root = etree.fromstring(xml, etree.XMLParser(remove_blank_text=True, remove_comments=True))
    for element in root.iter():
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return bytes(etree.tostring(root, method="c14n"))


@pytest.fixture
def message(
    municipality: Party,
    child_psychiatry: Party,
    social_worker: Practitioner,
    child: Patient,
    pdf_file: AttachmentFile,
) -> dict[str, Any]:
    return build_new(
        sender=municipality,
        author=social_worker,
        receiver=child_psychiatry,
        patient=child,
        text='Første linje\nAnden linje med <tegn> & "citat"\r\nTredje\ttabulator',
        topic="Æ, Ø og Å",
        attachments=[pdf_file],
    )


def test_published_xml_reads_as_its_json_sibling(json_xml_pair: tuple[Path, Path]) -> None:
    json_path, xml_path = json_xml_pair
    assert from_xml(xml_path.read_bytes()) == json.loads(json_path.read_bytes())


def test_published_json_written_as_xml_reads_back_unchanged(
    json_xml_pair: tuple[Path, Path],
) -> None:
    bundle = json.loads(json_xml_pair[0].read_bytes())
    assert from_xml(to_xml(bundle)) == bundle


def test_published_json_written_as_xml_is_the_published_xml(
    json_xml_pair: tuple[Path, Path],
) -> None:
    json_path, xml_path = json_xml_pair
    ours = to_xml(json.loads(json_path.read_bytes()))
    # fhir.resources writes a UTC instant as +00:00 where MedCom wrote Z: the same instant.
    theirs = xml_path.read_bytes().replace(b'Z"/>', b'+00:00"/>')
    assert canonical(ours) == canonical(theirs)


def test_json_round_trip(json_xml_pair: tuple[Path, Path]) -> None:
    bundle = json.loads(json_xml_pair[0].read_bytes())
    assert from_json(to_json(bundle)) == bundle


def test_built_bundles_survive_both_formats(message: dict[str, Any]) -> None:
    ack = build_acknowledgement(message, "ok")
    for bundle in (message, ack):
        assert from_json(to_json(bundle)) == bundle
        assert from_xml(to_xml(bundle)) == bundle
    assert read_carecommunication(from_xml(to_xml(message))) == read_carecommunication(message)


def test_json_is_compact_utf8(message: dict[str, Any]) -> None:
    data = to_json(message)
    assert "Æ, Ø og Å".encode() in data
    assert b"\n " not in data


def test_line_breaks_in_text_are_character_references_in_xml(message: dict[str, Any]) -> None:
    # The profile: line breaks are "\n" in JSON and "&#xA;" (the same character) in XML.
    expected = "Første linje&#10;Anden linje med &lt;tegn&gt; &amp; &quot;citat&quot;&#13;&#10;"
    assert f'<contentString value="{expected}Tredje&#9;tabulator"/>'.encode() in to_xml(message)


def test_an_attachment_larger_than_libxml2s_text_limit_passes_through_xml(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    big = AttachmentFile("Scanning", "application/pdf", b"%PDF-1.7\n" + bytes(11_000_000))
    bundle = build_new(
        sender=municipality,
        author=social_worker,
        receiver=child_psychiatry,
        patient=child,
        text="Stor fil",
        attachments=[big],
    )
    (attachment,) = read_carecommunication(from_xml(to_xml(bundle))).attachments
    assert attachment.data == big.data


# Text as users type it: any character FHIR XML can carry, line breaks of every kind included.
xml_text = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"]
        + ["\ufffe", "\uffff"],
    ),
    min_size=1,
).filter(str.strip)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=xml_text, topic=xml_text)
def test_any_text_survives_json_and_xml(
    municipality: Party,
    child_psychiatry: Party,
    social_worker: Practitioner,
    child: Patient,
    text: str,
    topic: str,
) -> None:
    bundle = build_new(
        sender=municipality,
        author=social_worker,
        receiver=child_psychiatry,
        patient=child,
        text=text,
        topic=topic,
    )
    message = read_carecommunication(bundle)
    assert message.segments[0].text == text
    assert read_carecommunication(from_json(to_json(bundle))) == message
    assert read_carecommunication(from_xml(to_xml(bundle))) == message


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml version='1.0'?><!DOCTYPE Bundle [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        b'<Bundle xmlns="http://hl7.org/fhir"><id value="&x;"/></Bundle>',
        b"<Bundle xmlns='http://hl7.org/fhir'><type value='message'>",
        b'<Patient xmlns="http://hl7.org/fhir"><id value="p"/></Patient>',
        b"not xml at all",
    ],
    ids=["xxe", "unclosed", "not-a-bundle", "garbage"],
)
def test_bad_xml_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedMessage):
        from_xml(data)


@pytest.mark.parametrize(
    "data",
    [b"{", b"[]", b'{"resourceType": "Patient"}', b"\xff\xfe"],
    ids=["truncated", "array", "not-a-bundle", "not-utf8"],
)
def test_bad_json_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedMessage):
        from_json(data)
