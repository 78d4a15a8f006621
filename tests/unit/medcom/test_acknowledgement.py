"""Tests for building and reading MedCom Acknowledgements (2.0.3), compared with the published
examples: ok (a8c041b8), fatal-error (bc9535ef) and transient-error (c9c2b2f6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from paatvaers.domain.clock import DANISH_TIME
from paatvaers.medcom.acknowledgement import (
    build_acknowledgement,
    is_acknowledgement,
    read_acknowledgement,
)
from paatvaers.medcom.carecommunication import build_new
from paatvaers.medcom.codes import CS_ACK_ERRORS, CS_OPERATION_OUTCOME, AckOutcome
from paatvaers.medcom.errors import (
    AcknowledgementNotAllowed,
    MalformedMessage,
    MessageRuleViolation,
)
from paatvaers.medcom.model import AckIssue, Party, Patient, Practitioner

Loader = Callable[[str], dict[str, Any]]

OK, FATAL, TRANSIENT = "a8c041b8", "bc9535ef", "c9c2b2f6"
NEW_MESSAGE = "add5e7e2"  # the CareCommunication the published acknowledgements answer
MOMENT = datetime(2026, 3, 2, 10, 5, tzinfo=DANISH_TIME)


def resources(bundle: dict[str, Any], resource_type: str | None = None) -> list[dict[str, Any]]:
    found = [e["resource"] for e in bundle["entry"]]
    return [r for r in found if resource_type in (None, r["resourceType"])]


def entry_types(bundle: dict[str, Any]) -> list[str]:
    return [r["resourceType"] for r in resources(bundle)]


def header(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def by_reference(bundle: dict[str, Any], reference: dict[str, str]) -> dict[str, Any]:
    kind, _, resource_id = reference["reference"].partition("/")
    (found,) = [r for r in resources(bundle, kind) if r["id"] == resource_id]
    return found


@pytest.fixture
def message(
    municipality: Party, child_psychiatry: Party, social_worker: Practitioner, child: Patient
) -> dict[str, Any]:
    return build_new(
        sender=municipality,
        author=social_worker,
        receiver=child_psychiatry,
        patient=child,
        text="Hej",
    )


def test_an_ok_acknowledgement_has_the_shape_of_the_published_one(
    message: dict[str, Any], published: Loader
) -> None:
    ack, example = build_acknowledgement(message, "ok", at=MOMENT), published(OK)

    assert entry_types(ack) == entry_types(example)
    assert ack["meta"] == example["meta"]
    assert header(ack).keys() == header(example).keys()
    assert header(ack)["eventCoding"] == header(example)["eventCoding"]
    assert header(ack)["meta"] == header(example)["meta"]
    assert header(ack)["response"] == {"identifier": header(message)["id"], "code": "ok"}
    Bundle.model_validate(ack)


def test_the_acknowledgement_goes_back_to_the_sender_where_it_asked(
    message: dict[str, Any], municipality: Party, child_psychiatry: Party
) -> None:
    ack = build_acknowledgement(message, "ok", at=MOMENT)
    acknowledged = read_acknowledgement(ack)

    assert acknowledged.sender == child_psychiatry
    assert acknowledged.receiver == municipality
    assert header(ack)["destination"][0]["endpoint"] == header(message)["source"]["endpoint"]
    assert header(ack)["source"]["endpoint"] == "https://sor2.sum.dsdn.dk/#id=90000000002"


def test_it_copies_the_messages_provenance_and_adds_its_own(message: dict[str, Any]) -> None:
    ack = build_acknowledgement(message, "ok", at=MOMENT)
    copied, own = resources(ack, "Provenance")
    (original,) = resources(message, "Provenance")

    assert {k: v for k, v in copied.items() if k != "agent"} == {
        k: v for k, v in original.items() if k != "agent"
    }
    assert by_reference(ack, copied["agent"][0]["who"]) == by_reference(
        ack, header(ack)["destination"][0]["receiver"]
    )
    assert own["activity"]["coding"][0]["code"] == "acknowledgement"
    assert own["target"] == [{"reference": f"MessageHeader/{header(ack)['id']}"}]
    assert own["entity"] == [
        {"role": "revision", "what": {"reference": f"MessageHeader/{header(message)['id']}"}}
    ]
    assert own["agent"] == [{"who": header(ack)["sender"]}]
    assert own["occurredDateTime"] == "2026-03-02T10:05:00+01:00"


@pytest.mark.parametrize(
    ("outcome", "issue", "system", "example"),
    [
        (
            "fatal-error",
            AckIssue("MSG_VALUESET_VALUE_UNKNOWN", "structure"),
            CS_ACK_ERRORS,
            FATAL,
        ),
        (
            "transient-error",
            AckIssue("MSG_Mailbox_Out_Of_Operation", "transient", text="Postkassen er lukket"),
            CS_ACK_ERRORS,
            TRANSIENT,
        ),
        ("fatal-error", AckIssue("MSG_BAD_SYNTAX", "structure"), CS_OPERATION_OUTCOME, FATAL),
    ],
)
def test_an_error_acknowledgement_carries_an_operation_outcome(
    message: dict[str, Any],
    published: Loader,
    outcome: str,
    issue: AckIssue,
    system: str,
    example: str,
) -> None:
    ack = build_acknowledgement(message, outcome, [issue], at=MOMENT)
    theirs = published(example)

    assert entry_types(ack) == entry_types(theirs)
    outcome_resource = by_reference(ack, header(ack)["response"]["details"])
    assert outcome_resource["meta"] == resources(theirs, "OperationOutcome")[0]["meta"]
    (written,) = outcome_resource["issue"]
    assert written["details"]["coding"] == [{"system": system, "code": issue.code}]
    assert written["severity"] == "error"
    assert read_acknowledgement(ack).issues == (issue,)
    Bundle.model_validate(ack)


def test_ok_may_carry_an_issue_too(message: dict[str, Any]) -> None:
    duplicate = AckIssue("MSG_DUPLICATE_ID", "duplicate", severity="information")
    ack = build_acknowledgement(message, AckOutcome.OK, [duplicate])
    assert header(ack)["response"]["code"] == "ok"
    assert read_acknowledgement(ack).issues == (duplicate,)


@pytest.mark.parametrize(
    ("outcome", "issues", "match"),
    [
        ("fatal-error", [], "medcom-acknowledgement-1"),
        ("transient-error", [], "medcom-acknowledgement-1"),
        ("fatal-error", [AckIssue("MSG_SOMETHING_ELSE")], "issue-details"),
        ("fatal-error", [AckIssue("MSG_BAD_SYNTAX", severity="bad")], "severity"),
    ],
)
def test_error_acknowledgements_need_known_issues(
    message: dict[str, Any], outcome: str, issues: list[AckIssue], match: str
) -> None:
    with pytest.raises(MessageRuleViolation, match=match):
        build_acknowledgement(message, outcome, issues)


def test_an_unknown_outcome_is_refused(message: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="maybe"):
        build_acknowledgement(message, "maybe")


def test_an_acknowledgement_is_never_acknowledged(
    message: dict[str, Any], published: Loader
) -> None:
    ours = build_acknowledgement(message, "ok")
    for ack in (ours, published(OK), published(FATAL)):
        assert is_acknowledgement(ack)
        with pytest.raises(AcknowledgementNotAllowed):
            build_acknowledgement(ack, "ok")
    assert not is_acknowledgement(message)


def test_a_published_message_is_acknowledged_with_its_own_provenance(published: Loader) -> None:
    message = published(NEW_MESSAGE)
    ack = build_acknowledgement(message, "ok", at=MOMENT)
    copied = resources(ack, "Provenance")[0]

    assert copied["id"] == resources(message, "Provenance")[0]["id"]
    assert header(ack)["response"]["identifier"] == "42cb9200-f421-4d08-8391-7d51a2503cb4"
    sender = by_reference(ack, header(ack)["sender"])
    assert {"system": "urn:oid:1.2.208.176.1.1", "value": "953741000016009"} in sender["identifier"]
    Bundle.model_validate(ack)


def test_a_damaged_message_can_be_acknowledged_with_known_parties(
    message: dict[str, Any], municipality: Party, child_psychiatry: Party
) -> None:
    damaged = json.loads(json.dumps(message))
    for resource in resources(damaged, "Organization"):
        resource["identifier"] = []
    issue = AckIssue("MSG_Receiver_Identifier_MISSING", "required")

    with pytest.raises(MalformedMessage):
        build_acknowledgement(damaged, "fatal-error", [issue])
    ack = build_acknowledgement(
        damaged, "fatal-error", [issue], sender=child_psychiatry, receiver=municipality
    )
    assert read_acknowledgement(ack).receiver == municipality


@pytest.mark.parametrize(
    ("example", "outcome", "codes"),
    [
        (OK, AckOutcome.OK, []),
        (FATAL, AckOutcome.FATAL_ERROR, ["MSG_VALUESET_VALUE_UNKNOWN"]),
        (TRANSIENT, AckOutcome.TRANSIENT_ERROR, ["MSG_Mailbox_Out_Of_Operation"]),
    ],
)
def test_published_acknowledgements_read(
    published: Loader, example: str, outcome: AckOutcome, codes: list[str]
) -> None:
    ack = read_acknowledgement(published(example))

    assert ack.outcome is outcome
    assert [issue.code for issue in ack.issues] == codes
    assert ack.sender.sor.value == "953741000016009"
    assert ack.receiver.sor.value == "265161000016000"
    assert ack.sent_at.utcoffset() is not None


def test_the_empty_message_example_is_not_an_acknowledgement(ack_example: Path) -> None:
    bundle = json.loads(ack_example.read_bytes())
    if is_acknowledgement(bundle):
        assert read_acknowledgement(bundle).acknowledged_message_id
    else:
        with pytest.raises(MalformedMessage, match="not an acknowledgement"):
            read_acknowledgement(bundle)


def test_acknowledgements_pass_the_profile_validator(message: dict[str, Any]) -> None:
    validation = pytest.importorskip("paatvaers.medcom.validation")
    issue = AckIssue("MSG_Mailbox_Out_Of_Operation", "transient")
    for ack in (
        build_acknowledgement(message, "ok"),
        build_acknowledgement(message, "transient-error", [issue]),
    ):
        report = validation.validate_bundle(ack)
        assert report.ok, [str(i) for i in report.errors]
