"""Tests for composing, writing and reading CareCommunication messages.

Built messages are compared with MedCom's published CareCommunication 5.0.2 examples, which
follow one thread: new (add5e7e2) → reply with a PDF (b56549f7) → reply (3dcb5618) →
forward (c0426e3e). The tests build the same flow between synthetic parties.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from paatvaers.domain.clock import DANISH_TIME
from paatvaers.domain.cpr import CprKind
from paatvaers.domain.identifiers import GLN_SYSTEM, SOR_SYSTEM
from paatvaers.medcom.carecommunication import (
    build_forward,
    build_new,
    build_reply,
    forward,
    new_message,
    reply_to,
)
from paatvaers.medcom.codes import CS_CATEGORY, DEFAULT_CATEGORY, Activity
from paatvaers.medcom.errors import MalformedMessage, MessageRuleViolation
from paatvaers.medcom.model import (
    Attachment,
    AttachmentFile,
    CareCommunication,
    EpisodeOfCare,
    Party,
    Patient,
    Practitioner,
)
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.serialisation import from_xml
from paatvaers.medcom.writer import to_bundle

Loader = Callable[[str], dict[str, Any]]

# MedCom's examples, by the start of their Bundle.id.
NEW = "add5e7e2"
REPLY_WITH_PDF = "b56549f7"
REPLY = "3dcb5618"
FORWARD = "c0426e3e"
ALL_OPTIONAL = "gfd00bc2"
ECPR = "0d5b3c18"
REPLY_TO_OIOXML = "k7bfbc0c"

UUID_URN = re.compile(
    r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


# -- helpers ------------------------------------------------------------------------------------


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0, tzinfo=DANISH_TIME)


def resources(bundle: dict[str, Any], resource_type: str | None = None) -> list[dict[str, Any]]:
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if resource_type in (None, r["resourceType"])]


def entry_types(bundle: dict[str, Any]) -> list[str]:
    return [r["resourceType"] for r in resources(bundle)]


def one(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (found,) = resources(bundle, resource_type)
    return found


def activities(bundle: dict[str, Any]) -> list[str]:
    """Provenance activity codes, oldest first (the examples list them in varying order)."""
    provenances = sorted(resources(bundle, "Provenance"), key=lambda p: p["occurredDateTime"])
    return [p["activity"]["coding"][0]["code"] for p in provenances]


def payload_kinds(bundle: dict[str, Any]) -> list[str]:
    """Each payload as `text`, `attachment+data`, `attachment` (no content) or `link`."""
    kinds = []
    for payload in one(bundle, "Communication")["payload"]:
        content = payload.get("contentAttachment")
        if content is None:
            kinds.append("text")
        elif "data" in content:
            kinds.append("attachment+data")
        else:
            kinds.append("link" if "url" in content else "attachment")
    return kinds


def extension_urls(payload: dict[str, Any]) -> set[str]:
    return {e["url"] for e in payload["extension"]}


def profiles_by_type(bundle: dict[str, Any]) -> dict[str, list[str]]:
    return {r["resourceType"]: r["meta"]["profile"] for r in resources(bundle)}


def revisions(provenance: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["what"] for e in provenance["entity"] if e["role"] == "revision"]


@dataclass
class Thread:
    """The published flow between synthetic parties: new, reply with PDF, reply, forward."""

    new: CareCommunication
    reply_with_pdf: CareCommunication
    reply: CareCommunication
    forward: CareCommunication


@pytest.fixture
def thread(
    municipality: Party,
    child_psychiatry: Party,
    general_practice: Party,
    social_worker: Practitioner,
    psychiatrist: Practitioner,
    child: Patient,
    pdf_file: AttachmentFile,
) -> Thread:
    first = new_message(
        sender=municipality,
        author=social_worker,
        receiver=child_psychiatry,
        patient=child,
        text="Vi er bekymrede for Liva.\nKan I se hende snarest?",
        topic="Bekymring for barnets trivsel",
        at=at(1),
    )
    second = reply_to(
        first,
        sender=child_psychiatry,
        author=psychiatrist,
        text="Vi har set Liva. Notat vedhæftet.",
        attachments=[pdf_file],
        at=at(2),
    )
    third = reply_to(second, sender=municipality, author=social_worker, text="Tak.", at=at(3))
    fourth = forward(
        third,
        sender=child_psychiatry,
        author=psychiatrist,
        receiver=general_practice,
        text="Til orientering for egen læge.",
        attachment_content={second.attachments[0].id: pdf_file.data},
        at=at(4),
    )
    return Thread(first, second, third, fourth)


def built_bundles(thread: Thread) -> list[dict[str, Any]]:
    return [to_bundle(m) for m in (thread.new, thread.reply_with_pdf, thread.reply, thread.forward)]


# -- the shape of MedCom's examples -------------------------------------------------------------


def test_a_new_message_has_the_entries_of_the_published_new_message(
    thread: Thread, published: Loader
) -> None:
    bundle, example = to_bundle(thread.new), published(NEW)

    assert entry_types(bundle) == entry_types(example)
    assert profiles_by_type(bundle) == profiles_by_type(example)
    assert activities(bundle) == activities(example) == ["new-message"]
    assert payload_kinds(bundle) == payload_kinds(example) == ["text"]
    assert bundle["meta"] == example["meta"]
    assert bundle["type"] == "message"


def test_the_message_header_is_shaped_like_the_published_one(
    thread: Thread, published: Loader
) -> None:
    header = one(to_bundle(thread.new), "MessageHeader")
    example = one(published(NEW), "MessageHeader")

    assert header.keys() == example.keys()
    assert header["eventCoding"] == example["eventCoding"]
    assert header["definition"] == example["definition"]
    assert header["destination"][0]["extension"] == example["destination"][0]["extension"]
    assert header["destination"][0]["endpoint"] == "https://sor2.sum.dsdn.dk/#id=90000000002"
    assert header["source"]["endpoint"] == "https://sor2.sum.dsdn.dk/#id=90000000001"


def test_communication_segments_and_organisations_match_the_published_ones(
    thread: Thread, published: Loader
) -> None:
    bundle, example = to_bundle(thread.new), published(NEW)
    communication, theirs = one(bundle, "Communication"), one(example, "Communication")

    assert communication.keys() == theirs.keys()
    assert communication["status"] == "unknown"
    assert communication["category"][0]["coding"][0]["system"] == CS_CATEGORY
    assert extension_urls(communication["payload"][0]) == extension_urls(theirs["payload"][0])
    for organisation in resources(bundle, "Organization"):
        assert [i["system"] for i in organisation["identifier"]] == [GLN_SYSTEM, SOR_SYSTEM]
    assert [i["system"] for i in resources(example, "Organization")[0]["identifier"]] == [
        GLN_SYSTEM,
        SOR_SYSTEM,
    ]


@pytest.mark.parametrize(
    ("step", "example", "kinds"),
    [
        ("reply_with_pdf", REPLY_WITH_PDF, ["text", "text", "attachment+data"]),
        ("reply", REPLY, ["text", "text", "attachment", "text"]),
        ("forward", FORWARD, ["text", "text", "attachment+data", "text", "text"]),
    ],
)
def test_replies_and_forwards_have_the_shape_of_the_published_flow(
    thread: Thread, step: str, example: str, kinds: list[str], published: Loader
) -> None:
    bundle, example_bundle = to_bundle(getattr(thread, step)), published(example)

    assert sorted(entry_types(bundle)) == sorted(entry_types(example_bundle))
    assert entry_types(bundle)[:3] == ["MessageHeader", "Patient", "Communication"]
    assert activities(bundle) == activities(example_bundle)
    assert payload_kinds(bundle) == payload_kinds(example_bundle) == kinds
    assert profiles_by_type(bundle) == profiles_by_type(example_bundle)


def test_each_provenance_points_at_the_message_before_it(thread: Thread) -> None:
    bundle = to_bundle(thread.forward)
    provenances = sorted(resources(bundle, "Provenance"), key=lambda p: p["occurredDateTime"])
    messages = [thread.new, thread.reply_with_pdf, thread.reply, thread.forward]

    for provenance, message, before in zip(provenances, messages, [None, *messages], strict=False):
        assert provenance["target"] == [{"reference": f"MessageHeader/{message.message_id}"}]
        expected = [{"reference": f"MessageHeader/{before.message_id}"}] if before else []
        assert revisions(provenance) == expected
        sources = [
            e["what"]["identifier"]["value"] for e in provenance["entity"] if e["role"] == "source"
        ]
        assert sources == list(message.added_payload_ids)


def test_provenances_keep_their_ids_through_the_thread(thread: Thread) -> None:
    first_ids = {p["id"] for p in resources(to_bundle(thread.new), "Provenance")}
    later_ids = {p["id"] for p in resources(to_bundle(thread.forward), "Provenance")}
    assert first_ids < later_ids


# -- reply and forward rules --------------------------------------------------------------------


def test_a_reply_keeps_the_thread_and_every_earlier_segment(thread: Thread) -> None:
    reply = thread.reply

    assert reply.thread_id == thread.new.thread_id == thread.reply_with_pdf.thread_id
    assert reply.segments[:2] == thread.reply_with_pdf.segments
    assert [s.text for s in reply.segments][-1] == "Tak."
    assert reply.activity is Activity.REPLY
    assert reply.previous_message_id == thread.reply_with_pdf.message_id
    assert reply.receiver == thread.reply_with_pdf.sender


def test_a_reply_repeats_earlier_attachments_without_their_content(
    thread: Thread, pdf_file: AttachmentFile
) -> None:
    (earlier,) = thread.reply_with_pdf.attachments
    (repeated,) = thread.reply.attachments

    assert earlier.data == pdf_file.data
    assert repeated == replace(earlier, data=None)
    content = one(to_bundle(thread.reply), "Communication")["payload"][2]["contentAttachment"]
    assert content == {
        "contentType": "application/pdf",
        "title": "Handleplan",
        "creation": "2026-03-01T08:00:00+01:00",
    }


def test_a_forward_starts_a_new_thread_and_carries_the_content(
    thread: Thread, pdf_file: AttachmentFile
) -> None:
    forwarded = thread.forward
    bundle = to_bundle(forwarded)

    assert forwarded.thread_id != thread.reply.thread_id
    assert UUID_URN.fullmatch(forwarded.thread_id)
    assert forwarded.activity is Activity.FORWARD
    assert forwarded.previous_message_id == thread.reply.message_id
    assert forwarded.segments[:-1] == thread.reply.segments
    content = one(bundle, "Communication")["payload"][2]["contentAttachment"]
    assert base64.b64decode(content["data"]) == pdf_file.data
    assert forwarded.receiver.name == "Lægehuset Opdigtet Allé"
    assert len(resources(bundle, "Organization")) == 3


def test_a_forward_needs_the_content_of_attachments_it_lacks(
    thread: Thread, general_practice: Party, child_psychiatry: Party, psychiatrist: Practitioner
) -> None:
    with pytest.raises(MessageRuleViolation, match="Handleplan"):
        forward(
            thread.reply,
            sender=child_psychiatry,
            author=psychiatrist,
            receiver=general_practice,
            text="Videresendt",
        )


def test_a_reply_to_ones_own_latest_message_goes_to_the_same_receiver(
    thread: Thread, municipality: Party, social_worker: Practitioner
) -> None:
    again = reply_to(thread.new, sender=municipality, author=social_worker, text="Tilføjelse")
    assert again.receiver == thread.new.receiver


def test_a_reply_keeps_category_and_topic_unless_changed(
    thread: Thread, child_psychiatry: Party, psychiatrist: Practitioner
) -> None:
    kept = reply_to(thread.new, sender=child_psychiatry, author=psychiatrist, text="Svar")
    changed = reply_to(
        thread.new,
        sender=child_psychiatry,
        author=psychiatrist,
        text="Svar",
        category="carecoordination",
        topic="",
    )

    assert (kept.category, kept.topic) == (DEFAULT_CATEGORY, "Bekymring for barnets trivsel")
    assert (changed.category, changed.topic) == ("carecoordination", None)
    assert "topic" not in one(to_bundle(changed), "Communication")


def test_a_specific_sender_becomes_the_specific_recipient_of_the_reply(
    municipality: Party,
    general_practice: Party,
    social_worker: Practitioner,
    gp: Practitioner,
    child: Patient,
) -> None:
    caseworker = replace(municipality, practitioner=social_worker)
    first = new_message(
        sender=caseworker,
        author=social_worker,
        receiver=replace(general_practice, care_team="Børneteamet"),
        patient=child,
        text="Spørgsmål til egen læge",
    )
    answer = to_bundle(reply_to(first, sender=general_practice, author=gp, text="Svar"))

    communication = one(answer, "Communication")
    (recipient_ref,) = communication["recipient"]
    role = next(
        r
        for r in resources(answer, "PractitionerRole")
        if recipient_ref["reference"].endswith(r["id"])
    )
    receiver_ref = one(answer, "MessageHeader")["destination"][0]["receiver"]
    assert role["organization"] == receiver_ref
    assert role["code"][0]["coding"][0]["code"] == "socialraadgiver"
    assert read_carecommunication(answer).receiver.practitioner == replace(
        social_worker, phone=None
    )

    first_bundle = to_bundle(first)
    team = one(first_bundle, "CareTeam")
    assert one(first_bundle, "Communication")["recipient"] == [
        {"reference": f"CareTeam/{team['id']}"}
    ]
    assert team["managingOrganization"] == [
        one(first_bundle, "MessageHeader")["destination"][0]["receiver"]
    ]


def test_a_received_episode_of_care_is_returned_in_replies_and_forwards(
    thread: Thread,
    municipality: Party,
    child_psychiatry: Party,
    general_practice: Party,
    social_worker: Practitioner,
    psychiatrist: Practitioner,
    child: Patient,
) -> None:
    episode = EpisodeOfCare(
        "https://sor2.sum.dsdn.dk/#id=90000000002", str(uuid.uuid4()), "in-progress", "AMB"
    )
    first = new_message(
        sender=child_psychiatry,
        author=psychiatrist,
        receiver=municipality,
        patient=child,
        text="Udredning påbegyndt",
        episode_of_care=episode,
    )
    answer = reply_to(first, sender=municipality, author=social_worker, text="Tak")
    onward = forward(
        answer,
        sender=municipality,
        author=social_worker,
        receiver=general_practice,
        text="Orientering",
    )

    for message in (answer, onward):
        bundle = to_bundle(message)
        encounter = one(bundle, "Encounter")
        assert one(bundle, "Communication")["encounter"] == {
            "reference": f"Encounter/{encounter['id']}"
        }
        assert encounter["episodeOfCare"] == [
            {"identifier": {"system": episode.system, "value": episode.value}}
        ]
        assert read_carecommunication(bundle).episode_of_care == episode


# -- profile rules the builder enforces ---------------------------------------------------------


def new_with(
    municipality: Party,
    child_psychiatry: Party,
    author: Practitioner,
    child: Patient,
    **options: Any,
) -> CareCommunication:
    return new_message(
        sender=municipality,
        author=author,
        receiver=child_psychiatry,
        patient=child,
        text="Hej",
        **options,
    )


def test_the_default_category_is_psychiatry_social_disability(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    message = new_with(municipality, child_psychiatry, social_worker, child)
    coding = one(to_bundle(message), "Communication")["category"][0]["coding"][0]
    assert coding == {"system": CS_CATEGORY, "code": "psychiatry-social-disability"}


def test_priority_is_allowed_only_with_regarding_referral(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    urgent = new_with(
        municipality,
        child_psychiatry,
        social_worker,
        child,
        category="regarding-referral",
        priority="asap",
    )
    assert one(to_bundle(urgent), "Communication")["priority"] == "asap"

    with pytest.raises(MessageRuleViolation, match="medcom-careCommunication-5"):
        new_with(municipality, child_psychiatry, social_worker, child, priority="asap")
    with pytest.raises(MessageRuleViolation, match="routine or asap"):
        new_with(
            municipality,
            child_psychiatry,
            social_worker,
            child,
            category="regarding-referral",
            priority="stat",
        )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"category": "other"}, "medcom-careCommunication-6"),
        ({"category": "child-welfare"}, "unknown category"),
        ({"topic": "   "}, "topic needs text"),
        ({"topic": "form\x0cfeed"}, "topic needs text"),
    ],
)
def test_category_and_topic_rules(
    municipality: Party,
    child_psychiatry: Party,
    social_worker: Practitioner,
    child: Patient,
    options: dict[str, str],
    match: str,
) -> None:
    with pytest.raises(MessageRuleViolation, match=match):
        new_with(municipality, child_psychiatry, social_worker, child, **options)


def test_category_other_with_a_topic_is_fine(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    message = new_with(
        municipality, child_psychiatry, social_worker, child, category="other", topic="Skolestart"
    )
    assert one(to_bundle(message), "Communication")["topic"] == {"text": "Skolestart"}


@pytest.mark.parametrize("text", ["", "   \n", "bip\x07", "not a character \ufffe", "\ud800"])
def test_a_message_needs_a_text_fhir_can_carry(
    municipality: Party,
    child_psychiatry: Party,
    social_worker: Practitioner,
    child: Patient,
    text: str,
) -> None:
    with pytest.raises(MessageRuleViolation):
        new_message(
            sender=municipality,
            author=social_worker,
            receiver=child_psychiatry,
            patient=child,
            text=text,
        )


@pytest.mark.parametrize("phone", [None, "", "ring omstillingen", "70 00 00 0x"])
def test_an_author_needs_a_phone_number(
    municipality: Party,
    child_psychiatry: Party,
    social_worker: Practitioner,
    child: Patient,
    phone: str | None,
) -> None:
    with pytest.raises(MessageRuleViolation, match="phone"):
        new_with(municipality, child_psychiatry, replace(social_worker, phone=phone), child)


def test_the_author_phone_is_written_without_spaces(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    payload = one(
        to_bundle(new_with(municipality, child_psychiatry, social_worker, child)), "Communication"
    )["payload"][0]
    contact = next(e for e in payload["extension"] if e["url"].endswith("contact-extension"))
    assert contact["valueContactPoint"] == {"system": "phone", "value": "+4570000001"}


def test_a_role_outside_the_sks_list_is_written_as_text(
    municipality: Party, general_practice: Party, gp: Practitioner, child: Patient
) -> None:
    bundle = build_new(
        sender=general_practice, author=gp, receiver=municipality, patient=child, text="Hej"
    )
    assert one(bundle, "PractitionerRole")["code"] == [{"text": "Praktiserende læge"}]
    assert one(bundle, "Practitioner")["name"] == [{"family": "Eksempelsen", "given": ["Gitte"]}]


# -- identifiers, time and the patient ----------------------------------------------------------


def test_ids_are_new_uuids_and_a_resend_keeps_the_message_id(thread: Thread) -> None:
    first, resend = to_bundle(thread.new), to_bundle(thread.new)
    ids = [r["id"] for r in resources(first)]

    for value in [first["id"], *ids]:
        uuid.UUID(value)
    assert len(set(ids)) == len(ids)
    assert resend["id"] != first["id"]
    assert one(resend, "MessageHeader")["id"] == one(first, "MessageHeader")["id"]
    assert UUID_URN.fullmatch(thread.new.thread_id)
    assert all(UUID_URN.fullmatch(s.id) for s in thread.forward.segments)


def test_timestamps_carry_the_danish_offset(thread: Thread) -> None:
    bundle = to_bundle(thread.new)
    assert bundle["timestamp"] == "2026-03-01T10:00:00+01:00"
    assert one(bundle, "Provenance")["occurredDateTime"] == "2026-03-01T10:00:00+01:00"
    summer = to_bundle(thread.new, assembled_at=at(1).replace(month=7))
    assert summer["timestamp"] == "2026-07-01T10:00:00+02:00"


def test_the_patient_carries_the_cpr_identifier(thread: Thread, child: Patient) -> None:
    patient = one(to_bundle(thread.new), "Patient")
    assert patient["identifier"] == [
        {"system": "urn:oid:1.2.208.176.1.2", "value": child.cpr.value}
    ]
    assert patient["name"] == [
        {"use": "official", "family": "Testbarn", "given": ["Liva", "Opdigt"]}
    ]


def test_a_replacement_cpr_is_written_as_in_the_published_ecpr_example(
    thread: Thread, published: Loader
) -> None:
    ecpr = read_carecommunication(published(ECPR)).patient
    assert ecpr.cpr.kind is CprKind.X_ECPR
    message = replace(thread.new, patient=ecpr)
    assert (
        one(to_bundle(message), "Patient")["identifier"]
        == one(published(ECPR), "Patient")["identifier"]
    )


# -- every built bundle is valid FHIR and reads back ---------------------------------------------


def test_built_bundles_are_valid_r4b_bundles(thread: Thread) -> None:
    for bundle in built_bundles(thread):
        Bundle.model_validate(bundle)


def test_built_messages_read_back_unchanged(thread: Thread) -> None:
    for message in (thread.new, thread.reply_with_pdf, thread.reply, thread.forward):
        assert read_carecommunication(to_bundle(message)) == message


def test_build_functions_return_bundles(
    thread: Thread,
    municipality: Party,
    child_psychiatry: Party,
    general_practice: Party,
    social_worker: Practitioner,
    child: Patient,
) -> None:
    new = build_new(
        sender=municipality,
        author=social_worker,
        receiver=child_psychiatry,
        patient=child,
        text="Hej",
    )
    reply = build_reply(thread.new, sender=child_psychiatry, author=social_worker, text="Svar")
    onward = build_forward(
        thread.new,
        sender=municipality,
        author=social_worker,
        receiver=general_practice,
        text="Orientering",
    )
    assert [activities(b)[-1] for b in (new, reply, onward)] == [
        "new-message",
        "reply-message",
        "forward-message",
    ]


def test_built_bundles_pass_the_profile_validator(thread: Thread) -> None:
    validation = pytest.importorskip("paatvaers.medcom.validation")
    for bundle in built_bundles(thread):
        report = validation.validate_bundle(bundle)
        assert report.ok, [str(issue) for issue in report.errors]


# -- reading MedCom's examples ------------------------------------------------------------------


def _read_any(path: Path) -> tuple[dict[str, Any], CareCommunication]:
    data = path.read_bytes()
    bundle = from_xml(data) if path.suffix == ".xml" else json.loads(data)
    return bundle, read_carecommunication(bundle)


def test_every_published_example_reads(any_cc_example: Path) -> None:
    bundle, message = _read_any(any_cc_example)
    communication = one(bundle, "Communication")
    texts = [p["contentString"] for p in communication["payload"] if "contentString" in p]

    assert message.message_id == one(bundle, "MessageHeader")["id"]
    assert message.thread_id == communication["identifier"][0]["value"]
    assert [s.text for s in message.segments] == texts
    assert len(message.attachments) == len(communication["payload"]) - len(texts)
    assert message.history[-1].occurred_at >= message.history[0].occurred_at
    assert message.provenance.message_id == message.message_id


def test_every_published_example_is_rewritten_to_the_same_message(cc_example: Path) -> None:
    message = read_carecommunication(json.loads(cc_example.read_bytes()))
    rewritten = to_bundle(message)
    Bundle.model_validate(rewritten)
    assert read_carecommunication(rewritten) == message


def test_the_published_new_message_reads_into_the_expected_values(published: Loader) -> None:
    message = read_carecommunication(published(NEW))

    assert message.activity is Activity.NEW
    assert message.thread_id == "urn:uuid:b2eb3d0e-5de5-4de9-b2a3-0ff321ad1c3a"
    assert (message.category, message.topic, message.priority) == (
        "examination-results",
        "Forspørgsel på seneste resultater",
        None,
    )
    assert message.sender.sor.value == "265161000016000"
    assert message.receiver.gln.value == "5790001348120"
    (segment,) = message.segments
    assert segment.author.practitioner == Practitioner(
        ("Michael",), "Burns", "sygeplejerske", "38683868"
    )
    assert segment.author.sor == message.sender.sor


def test_the_published_all_options_example_reads_its_options(published: Loader) -> None:
    message = read_carecommunication(published(ALL_OPTIONAL))

    assert (message.category, message.priority, message.topic) == (
        "regarding-referral",
        "asap",
        "Journal notat",
    )
    assert message.receiver.care_team == "Plejecenter Herlev Team 1"
    assert message.sender.practitioner is not None
    assert message.sender.practitioner.full_name == "Michael Burns"
    assert message.episode_of_care is not None
    assert message.episode_of_care.encounter_class == "IMP"
    link = next(a for a in message.attachments if a.url)
    assert (link.url, link.title, link.data) == ("https://medcom.dk/", "medcom.dk", None)
    pdf = next(a.data for a in message.attachments if a.data)
    assert pdf.startswith(b"%PDF-")


def test_a_reply_to_an_oioxml_letter_reads_the_legacy_reference(published: Loader) -> None:
    message = read_carecommunication(published(REPLY_TO_OIOXML))
    assert message.previous_message_id is None
    assert message.provenance.previous_legacy_id == "B300720181623#5790000121526"
    revision = revisions(one(to_bundle(message), "Provenance"))
    assert revision == [{"identifier": {"value": "B300720181623#5790000121526"}}]


@pytest.mark.parametrize("system", ["urn:oid:1.3.88", "http://www.gs1.org/gln"])
def test_older_and_newer_gln_systems_are_read_and_the_profiles_one_written(
    system: str, published: Loader
) -> None:
    original, variant = published(NEW), published(NEW)
    for organisation in resources(variant, "Organization"):
        for identifier in organisation["identifier"]:
            if identifier["system"] == GLN_SYSTEM:
                identifier["system"] = system

    message = read_carecommunication(variant)
    assert message == read_carecommunication(original)
    systems = {
        i["system"] for o in resources(to_bundle(message), "Organization") for i in o["identifier"]
    }
    assert systems == {GLN_SYSTEM, SOR_SYSTEM}


# -- what the reader refuses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda b: b["entry"].reverse(), "first entry"),
        (
            lambda b: one(b, "MessageHeader")["eventCoding"].update(code="empty-message"),
            "not a CareCommunication",
        ),
        (
            lambda b: one(b, "Provenance")["activity"]["coding"][0].update(code="retract-message"),
            "retract-message",
        ),
        (lambda b: one(b, "Patient").update(identifier=[]), "CPR"),
        (lambda b: one(b, "Patient")["identifier"][0].update(value="3113001234"), "CPR"),
        (lambda b: resources(b, "Organization")[0].update(identifier=[]), "SOR and a GLN"),
        (
            lambda b: one(b, "Provenance").update(occurredDateTime="2024-05-01T12:00:00"),
            "time zone",
        ),
        (
            lambda b: one(b, "MessageHeader")["focus"][0].update(reference="Communication/nope"),
            "not in the bundle",
        ),
    ],
    ids=["order", "event", "activity", "no-cpr", "bad-cpr", "no-gln", "naive-time", "dangling"],
)
def test_the_reader_says_what_is_wrong(change: Any, match: str, published: Loader) -> None:
    with pytest.raises(MalformedMessage, match=match):
        bundle = published(NEW)
        change(bundle)
        read_carecommunication(bundle)


def test_an_attachment_of_a_received_message_keeps_its_declared_type(published: Loader) -> None:
    message = read_carecommunication(published(REPLY_WITH_PDF))
    (attachment,) = message.attachments
    assert isinstance(attachment, Attachment)
    assert attachment.content_type == "application/pdf"
    assert attachment.author.sor.value == "953741000016009"


def test_a_message_composed_now_reads_back_unchanged(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> None:
    message = new_with(municipality, child_psychiatry, social_worker, child)
    assert message.sent_at.microsecond == 0
    assert read_carecommunication(to_bundle(message)) == message
