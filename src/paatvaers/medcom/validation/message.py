"""A MedCom message (a FHIR message Bundle): which profiles apply, and validating it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from paatvaers.medcom.validation.definitions import Definitions, JsonObject, shipped_definitions
from paatvaers.medcom.validation.fhirpath import NotEvaluated, current_scope
from paatvaers.medcom.validation.issues import Issue, IssueSink, Severity, ValidationReport
from paatvaers.medcom.validation.terminology import Terminology
from paatvaers.medcom.validation.tolerance import bundle_id_problem
from paatvaers.medcom.validation.walker import (
    InvariantKey,
    InvariantResult,
    Walker,
    internal_error,
)

EVENT_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"
_CC = "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/"
_ACK = "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/"
_MSG = "http://medcomfhir.dk/ig/messaging/StructureDefinition/"
_CORE = "http://medcomfhir.dk/ig/core/StructureDefinition/"


@dataclass(frozen=True, slots=True)
class MessageKind:
    """A MedCom message type: its event code, Bundle profile, and the profile of each entry
    type that declares none in meta.profile (MedCom's examples always declare one)."""

    event: str
    bundle: str
    entries: dict[str, str] = field(default_factory=dict)


_COMMON = {"Organization": f"{_MSG}medcom-messaging-organization"}
MESSAGE_KINDS = (
    MessageKind(
        "care-communication-message",
        f"{_CC}medcom-careCommunication-message",
        {
            **_COMMON,
            "MessageHeader": f"{_CC}medcom-careCommunication-messageHeader",
            "Communication": f"{_CC}medcom-careCommunication-communication",
            "Provenance": f"{_CC}medcom-careCommunication-provenance",
            "Patient": f"{_CORE}medcom-core-patient",
            "Practitioner": f"{_CORE}medcom-core-practitioner",
            "PractitionerRole": f"{_CORE}medcom-core-practitionerrole",
            "Encounter": f"{_CORE}medcom-core-encounter",
            "CareTeam": f"{_CORE}medcom-core-careteam",
        },
    ),
    MessageKind(
        "acknowledgement-message",
        f"{_ACK}medcom-messaging-acknowledgement",
        {
            **_COMMON,
            "MessageHeader": f"{_ACK}medcom-messaging-acknowledgementHeader",
            "Provenance": f"{_MSG}medcom-messaging-provenance",
            "OperationOutcome": f"{_ACK}medcom-acknowledgement-operationoutcome",
        },
    ),
    MessageKind(
        "empty-message",
        f"{_MSG}medcom-messaging-message",
        {
            **_COMMON,
            "MessageHeader": f"{_MSG}medcom-messaging-messageHeader",
            "Provenance": f"{_MSG}medcom-messaging-provenance",
        },
    ),
)


@cache
def shipped_terminology() -> Terminology:
    return Terminology(shipped_definitions())


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


class MessageRun:
    """One validation of one Bundle: the entry index, and results per (resource, profile)."""

    def __init__(
        self,
        bundle: JsonObject,
        kind: MessageKind,
        definitions: Definitions,
        terminology: Terminology,
    ) -> None:
        self.bundle = bundle
        self.kind = kind
        self.definitions = definitions
        self.terminology = terminology
        self.entries = _list(bundle.get("entry"))
        self._by_url: dict[str, JsonObject] = {}
        self._paths: dict[int, str] = {id(bundle): "Bundle"}
        for index, entry in enumerate(self.entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            resource_type = resource.get("resourceType")
            self._paths[id(resource)] = (
                f"Bundle.entry[{index}].resource.ofType({resource_type})"
                if isinstance(resource_type, str)
                else f"Bundle.entry[{index}].resource"  # its type check says what is wrong
            )
            if isinstance(entry.get("fullUrl"), str):
                self._by_url.setdefault(entry["fullUrl"], resource)
            self._by_url.setdefault(f"{resource_type}/{resource.get('id')}", resource)
        self._results: dict[tuple[int, str], list[Issue]] = {}
        self._planned: dict[int, list[str]] = {}
        self.invariant_results: dict[InvariantKey, InvariantResult] = {}

    def validated_as(self, resource: JsonObject) -> list[str]:
        """The shipped profiles an entry is validated against (declared, else the default)."""
        key = id(resource)
        if key not in self._planned:
            self._planned[key] = entry_profiles(self.kind, resource, self.definitions)[0]
        return self._planned[key]

    def resolve(self, reference: str) -> JsonObject | None:
        """An entry by its fullUrl, or by `Type/id` (relative references, as MedCom sends)."""
        found = self._by_url.get(reference)
        if found is None and "/" in reference:
            without_version = reference.split("/_history/", 1)[0]
            found = self._by_url.get("/".join(without_version.split("/")[-2:]))
        return found

    def path_of(self, resource: JsonObject) -> str:
        return self._paths.get(id(resource), str(resource.get("resourceType")))

    def issues_for(self, resource: JsonObject, url: str) -> list[Issue]:
        """The issues of a resource against a shipped profile, computed once per message."""
        key = (id(resource), url)
        if key not in self._results:
            self._results[key] = []  # a reference cycle back here counts as conforming
            profile = self.definitions.profile(url)
            if profile is None:
                raise LookupError(f"{url} is not shipped")
            sink = IssueSink()
            Walker(self, sink).resource(resource, profile, self.path_of(resource))
            self._results[key] = sink.issues()
        return self._results[key]

    def conforms_to(self, resource: JsonObject, profile: str) -> bool:
        if self.definitions.profile(profile) is None:
            raise NotEvaluated(f"profile {profile} is not shipped")
        return not any(i.severity is Severity.ERROR for i in self.issues_for(resource, profile))


def _header(bundle: JsonObject) -> JsonObject | None:
    for entry in _list(bundle.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader":
            return resource
    return None


def _declared(resource: JsonObject) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return [p.partition("|")[0] for p in _list(profiles) if isinstance(p, str)]


def choose_kind(bundle: JsonObject, sink: IssueSink) -> MessageKind | None:
    """The message type, from MessageHeader.eventCoding, checked against Bundle.meta.profile."""
    header = _header(bundle)
    coding = header.get("eventCoding") if header else None
    event = (
        coding.get("code")
        if isinstance(coding, dict) and coding.get("system") == EVENT_CODES
        else None
    )
    by_event = next((k for k in MESSAGE_KINDS if k.event == event), None)
    declared = _declared(bundle)
    by_profile = next((k for k in MESSAGE_KINDS if k.bundle in declared), None)
    if by_event and by_profile and by_event is not by_profile:
        sink.error(
            "Bundle.meta.profile",
            "profile selection",
            f"declares {by_profile.bundle}, but the MessageHeader's event is {by_event.event}",
        )
    kind = by_event or by_profile
    if kind is None:
        sink.error(
            "Bundle",
            "profile selection",
            f"no MedCom message profile applies (event {event}, meta.profile {declared})",
        )
    return kind


def entry_profiles(
    kind: MessageKind, resource: JsonObject, definitions: Definitions
) -> tuple[list[str], list[str]]:
    """The shipped profiles an entry is validated against, and the declared ones not shipped."""
    declared = _declared(resource)
    shipped = [p for p in declared if definitions.profile(p) is not None]
    unknown = [p for p in declared if p not in shipped]
    resource_type = resource.get("resourceType")
    if not shipped and isinstance(resource_type, str) and resource_type in kind.entries:
        shipped = [kind.entries[resource_type]]
    return shipped, unknown


def _check_entries(run: MessageRun, kind: MessageKind, sink: IssueSink) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(run.entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue  # Bundle.entry.resource 1..1 reports it
        if not isinstance(resource.get("resourceType"), str):
            # an entry that declares no profile gets none then; the walk says the same
            sink.error(f"{run.path_of(resource)}.resourceType", "type code", "expected a string")
        identity = f"{resource.get('resourceType')}/{resource.get('id')}"
        if identity in seen:
            sink.error(
                f"Bundle.entry[{index}]",
                "duplicate entry",
                f"{identity} is also Bundle.entry[{seen[identity]}]",
            )
        seen.setdefault(identity, index)
        unknown = entry_profiles(kind, resource, run.definitions)[1]
        for url in unknown:
            sink.warning(
                run.path_of(resource),
                "profile not shipped",
                f"declared profile {url} is not shipped; not validated against it",
            )
        for url in run.validated_as(resource):
            for issue in run.issues_for(resource, url):
                sink.add(issue.severity, issue.path, issue.rule, issue.message)


def validate_bundle(bundle: JsonObject) -> ValidationReport:
    """Validate a MedCom message, given as the JSON (dict) form of its Bundle."""
    sink = IssueSink()
    try:
        return _validate(bundle, sink)
    except Exception as error:  # last resort, see internal_error
        internal_error(sink, "Bundle", error)
        return ValidationReport(None, sink.issues())


def _validate(bundle: object, sink: IssueSink) -> ValidationReport:
    """validate_bundle; `bundle` is whatever the JSON held, not necessarily an object."""
    if not isinstance(bundle, dict):
        sink.error("Bundle", "type Bundle", "expected a JSON object")
        return ValidationReport(None, sink.issues())
    if not isinstance(bundle.get("resourceType"), str):
        sink.error("Bundle.resourceType", "type code", "expected a string")
        return ValidationReport(None, sink.issues())
    if bundle.get("resourceType") != "Bundle":
        sink.error("Bundle", "resource type", "a MedCom message is a Bundle")
        return ValidationReport(None, sink.issues())
    kind = choose_kind(bundle, sink)
    if kind is None:
        return ValidationReport(None, sink.issues())
    definitions = shipped_definitions()
    run = MessageRun(bundle, kind, definitions, shipped_terminology())
    token = current_scope.set(run)
    try:
        for url in dict.fromkeys([kind.bundle, *_declared(bundle)]):
            if definitions.profile(url) is not None:
                for issue in run.issues_for(bundle, url):
                    sink.add(issue.severity, issue.path, issue.rule, issue.message)
        _check_entries(run, kind, sink)
    finally:
        current_scope.reset(token)
    problem = bundle_id_problem(bundle.get("id"))
    if problem:
        sink.warning("Bundle.id", "tolerance bundle-id", problem)
    return ValidationReport(kind.bundle, sink.issues())
