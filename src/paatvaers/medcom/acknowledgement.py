"""MedCom Acknowledgement 2.0.3: answering a received message, and reading an answer.

Rules (Acknowledgement IG 2.0.3; MedCom governance for acknowledgements and for
CareCommunication, rule 21): every FHIR message is acknowledged, an acknowledgement never is;
`response.identifier` is the acknowledged MessageHeader.id; any code but `ok` needs an
OperationOutcome (invariant medcom-acknowledgement-1), which `ok` may also carry (e.g. a
duplicate); the bundle holds the acknowledged message's latest Provenance and a new one with
activity `acknowledgement` pointing back at it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime

from paatvaers.medcom._fhir import (
    BundleIndex,
    JsonDict,
    entry,
    extension_object,
    fhir_datetime,
    message_header,
    meta,
    narrative,
    new_id,
    now,
    organization,
    parse_datetime,
    reference,
)
from paatvaers.medcom.codes import (
    ACK_FULL_URL_BASE,
    ACTIVITY_ACKNOWLEDGEMENT,
    CS_ACTIVITY,
    CS_DESTINATION_USE,
    CS_EVENT,
    EVENT_ACKNOWLEDGEMENT,
    EXT_DESTINATION_USE,
    PROFILE_ACK_HEADER,
    PROFILE_ACK_MESSAGE,
    PROFILE_ACK_OUTCOME,
    PROFILE_MESSAGING_PROVENANCE,
    AckOutcome,
    issue_code_system,
)
from paatvaers.medcom.errors import (
    AcknowledgementNotAllowed,
    MalformedMessage,
    MessageRuleViolation,
)
from paatvaers.medcom.model import AckIssue, Acknowledgement, Party
from paatvaers.medcom.writer import sor_endpoint

_SEVERITIES = frozenset({"fatal", "error", "warning", "information"})


def is_acknowledgement(bundle: JsonDict) -> bool:
    header = message_header(bundle)
    return (header.get("eventCoding") or {}).get("code") == EVENT_ACKNOWLEDGEMENT


def build_acknowledgement(
    for_bundle: JsonDict,
    outcome: AckOutcome | str,
    issues: Sequence[AckIssue] = (),
    *,
    sender: Party | None = None,
    receiver: Party | None = None,
    at: datetime | None = None,
) -> JsonDict:
    """The acknowledgement of the received `for_bundle`. It goes from the message's receiver
    back to its sender, at the endpoint the message named for acknowledgements; `sender` and
    `receiver` replace those when the message is too damaged to name them."""
    if is_acknowledgement(for_bundle):
        raise AcknowledgementNotAllowed("an acknowledgement is never acknowledged")
    outcome = AckOutcome(outcome)
    _check_issues(outcome, issues)
    acked = message_header(for_bundle)
    acked_id = acked.get("id")
    if not isinstance(acked_id, str) or not acked_id:
        raise MalformedMessage("MessageHeader.id: missing, so there is nothing to acknowledge")
    index = BundleIndex(for_bundle)
    ack_sender = sender or _primary_destination(index, acked)
    ack_receiver = receiver or index.party(acked.get("sender"), "MessageHeader.sender")
    return _AckWriter(ack_sender, ack_receiver, at or now()).bundle(
        acked, acked_id, outcome, issues, _latest_provenance(index, acked_id)
    )


def read_acknowledgement(bundle: JsonDict) -> Acknowledgement:
    if not is_acknowledgement(bundle):
        raise MalformedMessage("not an acknowledgement")
    index = BundleIndex(bundle)
    header = message_header(bundle)
    response = header.get("response") or {}
    try:
        outcome = AckOutcome(str(response.get("code")))
    except ValueError as exc:
        raise MalformedMessage(f"response.code {response.get('code')!r} is unknown") from exc
    acked_id = response.get("identifier")
    if not isinstance(acked_id, str):
        raise MalformedMessage("MessageHeader.response.identifier: missing")
    details = response.get("details")
    outcome_resource = index.resolve(details, "response.details") if details else None
    return Acknowledgement(
        message_id=str(header.get("id", "")),
        acknowledged_message_id=acked_id,
        outcome=outcome,
        sender=index.party(header.get("sender"), "MessageHeader.sender"),
        receiver=_primary_destination(index, header),
        sent_at=_sent_at(index, bundle, str(header.get("id", ""))),
        issues=tuple(_issues(outcome_resource)) if outcome_resource else (),
    )


def _check_issues(outcome: AckOutcome, issues: Sequence[AckIssue]) -> None:
    if outcome is not AckOutcome.OK and not issues:
        raise MessageRuleViolation(
            f"a {outcome} acknowledgement needs at least one issue (medcom-acknowledgement-1)"
        )
    for issue in issues:
        try:
            issue_code_system(issue.code)
        except ValueError as exc:
            raise MessageRuleViolation(str(exc)) from exc
        if issue.severity not in _SEVERITIES:
            raise MessageRuleViolation(f"unknown issue severity {issue.severity!r}")


def _primary_destination(index: BundleIndex, header: JsonDict) -> Party:
    for destination in header.get("destination", []):
        use = extension_object(destination, EXT_DESTINATION_USE, "valueCoding")
        if use.get("code", "primary") == "primary":
            return index.party(destination.get("receiver"), "MessageHeader.destination")
    raise MalformedMessage("MessageHeader has no primary destination")


def _latest_provenance(index: BundleIndex, message_id: str) -> tuple[JsonDict, str | None] | None:
    """The acknowledged message's own Provenance, with the SOR code of its agent when the
    bundle names that organisation properly."""
    own = [
        resource
        for resource in index.of_type("Provenance")
        if any(
            str(target.get("reference", "")).endswith(f"MessageHeader/{message_id}")
            for target in resource.get("target", [])
        )
    ]
    if not own:
        return None
    latest = max(own, key=lambda r: parse_datetime(r.get("occurredDateTime"), "Provenance"))
    agent = (latest.get("agent") or [{}])[0].get("who")
    try:
        return latest, index.party(agent, "Provenance.agent").sor.value
    except MalformedMessage:
        return latest, None


def _sent_at(index: BundleIndex, bundle: JsonDict, header_id: str) -> datetime:
    for resource in index.of_type("Provenance"):
        targets = [t.get("reference") for t in resource.get("target", [])]
        if f"MessageHeader/{header_id}" in targets:
            return parse_datetime(resource.get("occurredDateTime"), "Provenance.occurred")
    return parse_datetime(bundle.get("timestamp"), "Bundle.timestamp")


def _issues(outcome_resource: JsonDict) -> list[AckIssue]:
    issues = []
    for issue in outcome_resource.get("issue", []):
        details = issue.get("details") or {}
        coding = (details.get("coding") or [{}])[0]
        issues.append(
            AckIssue(
                code=str(coding.get("code", "")),
                issue_type=str(issue.get("code", "")),
                severity=str(issue.get("severity", "")),
                text=details.get("text"),
            )
        )
    return issues


class _AckWriter:
    def __init__(self, sender: Party, receiver: Party, moment: datetime) -> None:
        self.sender, self.receiver, self.moment = sender, receiver, moment
        self.sender_id, self.receiver_id = new_id(), new_id()
        self.header_id, self.outcome_id = new_id(), new_id()

    def bundle(
        self,
        acked: JsonDict,
        acked_id: str,
        outcome: AckOutcome,
        issues: Sequence[AckIssue],
        latest: tuple[JsonDict, str | None] | None,
    ) -> JsonDict:
        resources = [
            self.header(acked, acked_id, outcome, has_details=bool(issues)),
            *([self.copied_provenance(*latest)] if latest else []),
            self.provenance(acked_id),
            organization(self.sender.organisation, self.sender_id),
            organization(self.receiver.organisation, self.receiver_id),
            *([self.operation_outcome(issues)] if issues else []),
        ]
        return {
            "resourceType": "Bundle",
            "id": new_id(),
            "meta": meta(PROFILE_ACK_MESSAGE),
            "type": "message",
            "timestamp": fhir_datetime(self.moment),
            "entry": [entry(ACK_FULL_URL_BASE, resource) for resource in resources],
        }

    def header(
        self, acked: JsonDict, acked_id: str, outcome: AckOutcome, *, has_details: bool
    ) -> JsonDict:
        # Acknowledgements go where the message's source.endpoint says.
        endpoint = (acked.get("source") or {}).get("endpoint") or sor_endpoint(self.receiver)
        response: JsonDict = {"identifier": acked_id, "code": outcome.value}
        if has_details:
            response["details"] = reference("OperationOutcome", self.outcome_id)
        return {
            "resourceType": "MessageHeader",
            "id": self.header_id,
            "meta": meta(PROFILE_ACK_HEADER),
            "text": narrative("Kvittering", f"{outcome.value} for meddelelse {acked_id}"),
            "eventCoding": {"system": CS_EVENT, "code": EVENT_ACKNOWLEDGEMENT},
            "destination": [
                {
                    "extension": [
                        {
                            "url": EXT_DESTINATION_USE,
                            "valueCoding": {"system": CS_DESTINATION_USE, "code": "primary"},
                        }
                    ],
                    "endpoint": endpoint,
                    "receiver": reference("Organization", self.receiver_id),
                }
            ],
            "sender": reference("Organization", self.sender_id),
            "source": {"endpoint": sor_endpoint(self.sender)},
            "response": response,
        }

    def copied_provenance(self, provenance: JsonDict, agent_sor: str | None) -> JsonDict:
        """The acknowledged message's Provenance, unchanged but for its agent, which must
        point at an Organization of this bundle: normally the message's sender, which is
        this acknowledgement's receiver."""
        copied = copy.deepcopy(provenance)
        agent_id = self.sender_id if agent_sor == self.sender.sor.value else self.receiver_id
        copied["agent"] = [{"who": reference("Organization", agent_id)}]
        return copied

    def provenance(self, acked_id: str) -> JsonDict:
        occurred = fhir_datetime(self.moment)
        return {
            "resourceType": "Provenance",
            "id": new_id(),
            "meta": meta(PROFILE_MESSAGING_PROVENANCE),
            "text": narrative("Provenance", f"{ACTIVITY_ACKNOWLEDGEMENT} {occurred}"),
            "target": [reference("MessageHeader", self.header_id)],
            "occurredDateTime": occurred,
            "recorded": occurred,
            "activity": {"coding": [{"system": CS_ACTIVITY, "code": ACTIVITY_ACKNOWLEDGEMENT}]},
            "agent": [{"who": reference("Organization", self.sender_id)}],
            "entity": [{"role": "revision", "what": reference("MessageHeader", acked_id)}],
        }

    def operation_outcome(self, issues: Sequence[AckIssue]) -> JsonDict:
        return {
            "resourceType": "OperationOutcome",
            "id": self.outcome_id,
            "meta": meta(PROFILE_ACK_OUTCOME),
            "text": narrative("Fejl", *(f"{i.severity}: {i.code} {i.text or ''}" for i in issues)),
            "issue": [_issue(issue) for issue in issues],
        }


def _issue(issue: AckIssue) -> JsonDict:
    details: JsonDict = {"coding": [{"system": issue_code_system(issue.code), "code": issue.code}]}
    if issue.text:
        details["text"] = issue.text
    return {"severity": issue.severity, "code": issue.issue_type, "details": details}
