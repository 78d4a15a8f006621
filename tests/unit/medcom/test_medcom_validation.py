"""`validate_bundle`: every published example passes, broken variants fail with the right rule."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paatvaers.medcom.cli import read_message
from paatvaers.medcom.validation import Severity, ValidationReport, fastpath, validate_bundle
from paatvaers.medcom.validation import fhirpath as fp
from paatvaers.medcom.validation.primitives import primitive_problem
from paatvaers.medcom.validation.walker import Item, _ele_1, _ext_1

VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
IG = VECTORS / "medcomfhir-website" / "ig"
CC = IG / "carecommunication" / "5.0.2"
ACK = IG / "acknowledgement" / "2.0.3"
TOUCHSTONE = (
    VECTORS / "dk-medcom-carecommunication-testscripts" / "input" / "attachments" / "SendExamples"
)

CC_PROFILE = (
    "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message"
)
ACK_PROFILE = (
    "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement"
)
EMPTY_PROFILE = "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-message"
# Bundle-eb26be85 in the Acknowledgement IG is the empty message the acknowledgements answer.
EMPTY_MESSAGE = "Bundle-eb26be85-fdb7-454d-a980-95cba6d1745b"


def _examples(folder: Path, suffix: str) -> list[Path]:
    found = sorted(folder.glob(f"Bundle-*.{suffix}"))
    assert found, f"no examples in {folder}: ../shared/vectors must sit beside the repository"
    return found


CC_EXAMPLES = [*_examples(CC, "json"), *_examples(TOUCHSTONE, "json")]
ACK_EXAMPLES = _examples(ACK, "json")
XML_EXAMPLES = [*_examples(CC, "xml"), *_examples(ACK, "xml"), *_examples(TOUCHSTONE, "xml")]


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def describe(report: ValidationReport) -> str:
    return "\n".join(str(i) for i in report.issues if i.severity is not Severity.INFORMATION)


@pytest.mark.parametrize("path", CC_EXAMPLES, ids=lambda p: p.name)
def test_published_carecommunication_examples_are_valid(path: Path) -> None:
    report = validate_bundle(load(path))
    assert report.profile == CC_PROFILE
    assert report.ok, describe(report)


@pytest.mark.parametrize("path", ACK_EXAMPLES, ids=lambda p: p.name)
def test_published_acknowledgement_examples_are_valid(path: Path) -> None:
    report = validate_bundle(load(path))
    assert report.profile == (EMPTY_PROFILE if path.stem == EMPTY_MESSAGE else ACK_PROFILE)
    assert report.ok, describe(report)


@pytest.mark.parametrize("path", XML_EXAMPLES, ids=lambda p: p.name)
def test_published_xml_examples_are_valid(path: Path) -> None:
    report = validate_bundle(read_message(path))
    assert report.ok, describe(report)


def test_touchstone_bundle_ids_that_are_not_uuids_are_only_warnings() -> None:
    report = validate_bundle(
        load(TOUCHSTONE / "Bundle-S-A-new-1932711d-49d0-4ad7-b1ee-61de711892d2.json")
    )
    assert report.ok
    assert [(i.path, i.rule) for i in report.warnings] == [("Bundle.id", "tolerance bundle-id")]


# --- broken variants -------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def resource(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind
    )
    return found


def gln_identifier(bundle: dict[str, Any]) -> dict[str, Any]:
    identifiers = resource(bundle, "Organization")["identifier"]
    found: dict[str, Any] = next(i for i in identifiers if i["system"] == "https://www.gs1.org/gln")
    return found


def drop_category(b: dict[str, Any]) -> None:
    del resource(b, "Communication")["category"]


def second_category_coding(b: dict[str, Any]) -> None:
    codings = resource(b, "Communication")["category"][0]["coding"]
    codings.append(dict(codings[0]))


def completed_status(b: dict[str, Any]) -> None:
    resource(b, "Communication")["status"] = "completed"


def unknown_category(b: dict[str, Any]) -> None:
    resource(b, "Communication")["category"][0]["coding"][0]["code"] = "gossip"


def no_destination_use(b: dict[str, Any]) -> None:
    del resource(b, "MessageHeader")["destination"][0]["extension"]


def cc_destination(b: dict[str, Any]) -> None:
    destinations = resource(b, "MessageHeader")["destination"]
    cc = copy.deepcopy(destinations[0])
    cc["extension"][0]["valueCoding"]["code"] = "cc"
    destinations.append(cc)


def no_payload_identifier(b: dict[str, Any]) -> None:
    payload = resource(b, "Communication")["payload"][0]
    payload["extension"] = [
        e for e in payload["extension"] if not e["url"].endswith("identifier-extension")
    ]


def priority_without_referral(b: dict[str, Any]) -> None:
    resource(b, "Communication")["priority"] = "asap"


def dangling_subject(b: dict[str, Any]) -> None:
    resource(b, "Communication")["subject"]["reference"] = "Patient/not-in-the-bundle"


def focus_on_patient(b: dict[str, Any]) -> None:
    resource(b, "MessageHeader")["focus"] = [dict(resource(b, "Communication")["subject"])]


def duplicate_patient(b: dict[str, Any]) -> None:
    b["entry"].append(copy.deepcopy(b["entry"][1]))


def unknown_element(b: dict[str, Any]) -> None:
    resource(b, "Communication")["mood"] = "cheerful"


def wrong_gln_check_digit(b: dict[str, Any]) -> None:
    identifier = gln_identifier(b)
    identifier["value"] = identifier["value"][:-1] + str((int(identifier["value"][-1]) + 1) % 10)


def timestamp_not_an_instant(b: dict[str, Any]) -> None:
    b["timestamp"] = "yesterday"


def retract_activity(b: dict[str, Any]) -> None:
    resource(b, "Provenance")["activity"]["coding"][0]["code"] = "retract-message"


def unknown_gender(b: dict[str, Any]) -> None:
    resource(b, "Patient")["gender"] = "mand"


def script_in_narrative(b: dict[str, Any]) -> None:
    resource(b, "Communication")["text"]["div"] = (
        '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>'
    )


def acknowledgement_profile_on_carecommunication(b: dict[str, Any]) -> None:
    b["meta"]["profile"] = [ACK_PROFILE]


COMMUNICATION = "Bundle.entry[2].resource.ofType(Communication)"
HEADER = "Bundle.entry[0].resource.ofType(MessageHeader)"
CATEGORIES = "http://medcomfhir.dk/ig/terminology/ValueSet/medcom-careCommunication-categories"
ACTIVITIES = (
    "http://medcomfhir.dk/ig/terminology/ValueSet/medcom-careCommunication-messagingActivities"
)

# (mutation of the new-message example add5e7e2, expected path, expected rule)
CARECOMMUNICATION_BREAKS: list[tuple[Mutation, str, str]] = [
    (drop_category, f"{COMMUNICATION}.category", "cardinality 1..1"),
    (second_category_coding, f"{COMMUNICATION}.category[0].coding", "cardinality 1..1"),
    (completed_status, f"{COMMUNICATION}.status", "pattern value"),
    (unknown_category, f"{COMMUNICATION}.category[0]", f"binding required {CATEGORIES}"),
    (no_destination_use, f"{HEADER}.destination[0]", "slicing closed"),
    (no_destination_use, f"{HEADER}.destination:primary", "cardinality 1..1"),
    (cc_destination, f"{HEADER}.destination:cc", "cardinality 0..0"),
    (no_payload_identifier, f"{COMMUNICATION}.payload[0].extension:identifier", "cardinality 1..1"),
    (priority_without_referral, COMMUNICATION, "invariant medcom-careCommunication-5"),
    (dangling_subject, f"{COMMUNICATION}.subject.reference", "reference bundled"),
    (focus_on_patient, f"{HEADER}.focus[0].reference", "reference target type"),
    (duplicate_patient, "Bundle.entry[8]", "duplicate entry"),
    (duplicate_patient, "Bundle", "invariant bdl-7"),
    (unknown_element, f"{COMMUNICATION}.mood", "unknown element"),
    (
        wrong_gln_check_digit,
        "Bundle.entry[5].resource.ofType(Organization).identifier[0].value",
        "invariant gln-modulus-10",
    ),
    (timestamp_not_an_instant, "Bundle.timestamp", "type instant"),
    (
        retract_activity,
        "Bundle.entry[7].resource.ofType(Provenance).activity",
        f"binding required {ACTIVITIES}",
    ),
    (
        unknown_gender,
        "Bundle.entry[1].resource.ofType(Patient).gender",
        "binding required http://hl7.org/fhir/ValueSet/administrative-gender",
    ),
    (script_in_narrative, f"{COMMUNICATION}.text.div", "invariant txt-1"),
    (acknowledgement_profile_on_carecommunication, "Bundle.meta.profile", "profile selection"),
]


@pytest.fixture(scope="module")
def new_message() -> dict[str, Any]:
    return load(CC / "Bundle-add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c.json")


@pytest.fixture(scope="module")
def acknowledgement() -> dict[str, Any]:
    return load(ACK / "Bundle-a8c041b8-c65a-4fde-a90f-962076918834.json")


def broken(example: dict[str, Any], mutation: Mutation) -> ValidationReport:
    bundle = copy.deepcopy(example)
    mutation(bundle)
    return validate_bundle(bundle)


@pytest.mark.parametrize(
    ("mutation", "path", "rule"),
    CARECOMMUNICATION_BREAKS,
    ids=[f"{m.__name__}-{rule}" for m, _, rule in CARECOMMUNICATION_BREAKS],
)
def test_broken_carecommunication_is_rejected(
    new_message: dict[str, Any], mutation: Mutation, path: str, rule: str
) -> None:
    report = broken(new_message, mutation)
    assert not report.ok
    assert (path, rule) in [(i.path, i.rule) for i in report.errors], describe(report)


def test_an_error_names_path_rule_and_what_was_found(new_message: dict[str, Any]) -> None:
    report = broken(new_message, completed_status)
    [issue] = report.errors
    assert issue.severity is Severity.ERROR
    assert issue.message == "must be 'unknown', is 'completed'"


def test_fatal_error_acknowledgement_needs_an_operation_outcome(
    acknowledgement: dict[str, Any],
) -> None:
    def fatal(b: dict[str, Any]) -> None:
        resource(b, "MessageHeader")["response"]["code"] = "fatal-error"

    report = broken(acknowledgement, fatal)
    assert [(i.path, i.rule) for i in report.errors] == [
        ("Bundle", "invariant medcom-acknowledgement-1")
    ]


def test_unknown_response_code_breaks_the_binding_and_conforms_to(
    acknowledgement: dict[str, Any],
) -> None:
    def maybe(b: dict[str, Any]) -> None:
        resource(b, "MessageHeader")["response"]["code"] = "maybe"

    rules = {(i.path, i.rule) for i in broken(acknowledgement, maybe).errors}
    assert (
        "Bundle.entry[0].resource.ofType(MessageHeader).response.code",
        "binding required http://hl7.org/fhir/ValueSet/response-code",
    ) in rules
    assert ("Bundle", "invariant medcom-acknowledgement-2") in rules  # conformsTo() on the header


# --- tolerance -------------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["urn:oid:1.3.88", "http://www.gs1.org/gln"])
def test_other_gln_systems_are_accepted_on_read_with_a_warning(
    new_message: dict[str, Any], system: str
) -> None:
    report = broken(new_message, lambda b: gln_identifier(b).update(system=system))
    assert report.ok, describe(report)
    [warning] = report.warnings
    assert warning.rule == "tolerance gln-system"
    assert warning.path == "Bundle.entry[5].resource.ofType(Organization).identifier[0].system"


def test_any_other_gln_system_is_an_error(new_message: dict[str, Any]) -> None:
    report = broken(new_message, lambda b: gln_identifier(b).update(system="urn:oid:1.3.89"))
    paths = {(i.path, i.rule) for i in report.errors}
    assert (
        "Bundle.entry[5].resource.ofType(Organization).identifier:EAN-ID",
        "cardinality 1..1",
    ) in paths


# --- invariants that cannot be evaluated say so -----------------------------------------------


def test_an_invariant_fhirpathpy_cannot_evaluate_is_reported_not_passed(
    new_message: dict[str, Any],
) -> None:
    # dom-3 applies `as(canonical)` to a collection, which fhirpathpy refuses once a resource
    # has contained resources. The validator must say so rather than count it as passed.
    def contained(b: dict[str, Any]) -> None:
        communication = resource(b, "Communication")
        communication["contained"] = [
            {"resourceType": "Basic", "id": "c1", "code": {"text": "note"}}
        ]
        communication["about"] = [{"reference": "#c1"}]

    report = broken(new_message, contained)
    [issue] = [i for i in report.issues if i.rule == "invariant dom-3"]
    assert issue.severity is Severity.INFORMATION
    assert issue.path == COMMUNICATION
    assert issue.message.startswith("not evaluated: dom-3 fhirpathpy failed:")


def test_an_expression_fhirpathpy_rejects_raises_not_evaluated() -> None:
    with pytest.raises(fp.NotEvaluated, match="fhirpathpy"):
        fp.evaluate("name.where(", {"name": []}, "Patient", {"resourceType": "Patient"})


def test_conforms_to_outside_a_message_is_not_evaluated() -> None:
    with pytest.raises(fp.NotEvaluated):
        fp.evaluate(
            "conformsTo('http://x')",
            {"resourceType": "Patient"},
            "Patient",
            {"resourceType": "Patient"},
        )


# --- native ele-1 and ext-1 agree with their FHIRPath ----------------------------------------

ELE_1 = "hasValue() or (children().count() > id.count())"
EXT_1 = "extension.exists() != value.exists()"


@pytest.mark.parametrize(
    "value",
    [{"id": "a"}, {"id": "a", "system": "x"}, {"text": "t"}, {}, "plain", True, 3],
)
def test_native_ele_1_matches_its_fhirpath(value: Any) -> None:
    item = Item(value, "x", "Coding" if isinstance(value, dict) else "string", "Patient", "x", "x")
    assert _ele_1(item) == fp.evaluate(ELE_1, value, "Coding", {"resourceType": "Patient"})


@pytest.mark.parametrize(
    "value",
    [
        {"url": "u", "valueString": "v"},
        {"url": "u", "extension": [{"url": "a", "valueString": "b"}]},
        {"url": "u"},
        {"url": "u", "valueString": "v", "extension": [{"url": "a", "valueString": "b"}]},
    ],
)
def test_native_ext_1_matches_its_fhirpath(value: dict[str, Any]) -> None:
    item = Item(value, "x", "Extension", "Patient", "extension", "extension")
    assert _ext_1(item) == fp.evaluate(EXT_1, value, "Extension", {"resourceType": "Patient"})


# --- profile selection -----------------------------------------------------------------------


def test_entries_without_meta_profile_get_the_profile_of_their_type(
    new_message: dict[str, Any],
) -> None:
    # medcom-careCommunication-1 and -3 require meta.profile on the header and Provenances.
    def undeclared(b: dict[str, Any]) -> None:
        for entry in b["entry"]:
            if entry["resource"]["resourceType"] not in ("MessageHeader", "Provenance"):
                del entry["resource"]["meta"]
        completed_status(b)

    report = broken(new_message, undeclared)
    assert report.profile == CC_PROFILE
    assert [(i.path, i.rule) for i in report.errors] == [
        (f"{COMMUNICATION}.status", "pattern value")
    ]


def test_a_bundle_without_message_header_or_profile_is_rejected(
    new_message: dict[str, Any],
) -> None:
    def headless(b: dict[str, Any]) -> None:
        del b["entry"][0]
        del b["meta"]

    report = broken(new_message, headless)
    assert report.profile is None
    assert [(i.path, i.rule) for i in report.errors] == [("Bundle", "profile selection")]


# --- the fast FHIRPath evaluator agrees with fhirpathpy ---------------------------------------


def _contained_basic(b: dict[str, Any]) -> None:
    communication = resource(b, "Communication")
    communication["contained"] = [{"resourceType": "Basic", "id": "c1", "code": {"text": "note"}}]
    communication["about"] = [{"reference": "#c1"}]


def _acknowledgement_answer(code: str) -> Mutation:
    def answer(b: dict[str, Any]) -> None:
        resource(b, "MessageHeader")["response"]["code"] = code

    return answer


def _every_message() -> list[dict[str, Any]]:
    """The published examples (JSON and XML) and every broken variant the tests use."""
    bundles = [load(p) for p in (*CC_EXAMPLES, *ACK_EXAMPLES)]
    bundles += [read_message(p) for p in XML_EXAMPLES]
    new = load(CC / "Bundle-add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c.json")
    acknowledgement = load(ACK / "Bundle-a8c041b8-c65a-4fde-a90f-962076918834.json")
    variants: list[tuple[dict[str, Any], Mutation]] = [
        *((new, mutation) for mutation, _, _ in CARECOMMUNICATION_BREAKS),
        (new, _contained_basic),
        (new, lambda b: gln_identifier(b).update(system="urn:oid:1.3.88")),
        (new, lambda b: gln_identifier(b).update(system="urn:oid:1.3.89")),
        (acknowledgement, _acknowledgement_answer("fatal-error")),
        (acknowledgement, _acknowledgement_answer("maybe")),
    ]
    for example, mutation in variants:
        bundle = copy.deepcopy(example)
        mutation(bundle)
        bundles.append(bundle)
    return bundles


def test_the_fast_evaluator_agrees_with_fhirpathpy_on_every_invariant_evaluated() -> None:
    with fp.cross_checking() as check:
        for bundle in _every_message():
            validate_bundle(bundle)
    assert check.mismatches == []
    assert len(check.expressions) >= 40  # the invariants of all message types were met
    assert check.fast > 50 * check.deferred  # and nearly all evaluated by the fast evaluator


def test_what_the_fast_evaluator_defers_is_still_evaluated_by_fhirpathpy(
    new_message: dict[str, Any],
) -> None:
    # dom-3 on a resource with contained resources needs descendants(): deferred to fhirpathpy,
    # which cannot evaluate it either, and says so (see the test above on not-evaluated).
    with fp.cross_checking() as check:
        report = broken(new_message, _contained_basic)
    assert check.deferred >= 1
    assert [i.severity for i in report.issues if i.rule == "invariant dom-3"] == [
        Severity.INFORMATION
    ]


PATIENT = {"resourceType": "Patient", "id": "p"}
EXTENSION_WITH_COMPANION = {"url": "u", "_valueString": {"extension": [{"url": "e"}]}}

# (expression, focus, FHIR type of the focus): shapes where fhirpathpy's meaning is subtle
EDGE_CASES: list[tuple[str, object, str]] = [
    ("value.exists()", {"url": "u", "valueString": "x"}, "Extension"),
    ("value.exists()", EXTENSION_WITH_COMPANION, "Extension"),
    ("value.ofType(Quantity).exists()", {"url": "u", "valueQuantity": {"value": 1}}, "Extension"),
    ("given.count() = 2", {"given": ["a", "b"], "_given": [{"id": "x"}, {"id": "y"}]}, "HumanName"),
    ("given.count()", {"given": ["a", None], "_given": [None, {"id": "x"}]}, "HumanName"),
    ("Patient.name.exists()", {**PATIENT, "name": [{"family": "F"}]}, "Patient"),
    ("Bundle.entry.exists()", PATIENT, "Patient"),
    ("name.exists() and telecom.exists()", {**PATIENT, "name": [{"family": "F"}]}, "Patient"),
    ("name.exists() or telecom.exists()", PATIENT, "Patient"),
    ("gender.exists() implies birthDate.exists()", {**PATIENT, "gender": "male"}, "Patient"),
    ("active and gender.exists()", {**PATIENT, "active": True}, "Patient"),
    ("active.not()", {**PATIENT, "active": False}, "Patient"),
    ("gender.not()", {**PATIENT, "gender": "male"}, "Patient"),
    ("gender.exists() xor active.exists()", {**PATIENT, "gender": "male"}, "Patient"),
    ("gender and active", {**PATIENT, "gender": "male", "active": True}, "Patient"),
    ("coding.code != 'a'", {"coding": [{"code": "a"}, {"code": "b"}]}, "CodeableConcept"),
    ("coding.code = 'a'", {"coding": [{"code": "a"}]}, "CodeableConcept"),
    ("coding.code = 'a'", {"coding": []}, "CodeableConcept"),
    (
        "coding.where(code = 'b').exists()",
        {"coding": [{"code": "a"}, {"code": "b"}]},
        "CodeableConcept",
    ),
    ("coding.all(code.exists())", {"coding": [{"code": "a"}, {"system": "s"}]}, "CodeableConcept"),
    (
        "coding.select(code & system).isDistinct()",
        {"coding": [{"code": "a"}, {"code": "a"}]},
        "CodeableConcept",
    ),
    ("coding.first().code = 'a'", {"coding": [{"code": "a"}, {"code": "b"}]}, "CodeableConcept"),
    ("coding[1].code = 'b'", {"coding": [{"code": "a"}, {"code": "b"}]}, "CodeableConcept"),
    (
        "(coding.count() + text.count()) > 1",
        {"coding": [{"code": "a"}], "text": "t"},
        "CodeableConcept",
    ),
    ("iif(text.exists(), coding.exists(), true)", {"text": "t"}, "CodeableConcept"),
    ("where(use = 'home').empty()", {"use": "home"}, "Address"),
    ("extension('u').value.exists()", {"extension": [{"url": "u", "valueCode": "c"}]}, "Coding"),
    ("extension('u').exists()", {"extension": [{"url": "v", "valueCode": "c"}]}, "Coding"),
    ("extension('u').exists()", {"extension": [{"valueCode": "c"}]}, "Coding"),
    (
        "text.`div`.exists()",
        {"text": {"status": "generated", "div": "<div/>"}, **PATIENT},
        "Patient",
    ),
    ("%resource.id = 'p'", {"family": "F"}, "HumanName"),
    ("birthDate > '2000'", {**PATIENT, "birthDate": "2001-01-01"}, "Patient"),
    ("birthDate = @2001-01-01", {**PATIENT, "birthDate": "2001-01-01"}, "Patient"),
    ("multipleBirth = 1.0", {**PATIENT, "multipleBirthInteger": 1}, "Patient"),
    (
        "name.family.startsWith('F')",
        {**PATIENT, "name": [{"family": "F"}, {"family": "G"}]},
        "Patient",
    ),
    ("name.family.contains('x')", {**PATIENT, "name": [{"family": "axb"}]}, "Patient"),
    ("contained.where(descendants().exists()).empty()", PATIENT, "Patient"),
    (
        "contained.where(descendants().exists()).empty()",
        {**PATIENT, "contained": [PATIENT]},
        "Patient",
    ),
    ("matches('^[0-9]{3}$')", "123", "string"),
    ("matches('[0-9]')", "a1", "string"),
    ("substring(0,1).toInteger() * 3 mod(10) = 9", "35", "string"),
    ("substring(5,1).exists()", "35", "string"),
    ("toInteger() + 1 = 36", "35", "string"),
    ("hasValue()", "x", "string"),
    ("hasValue()", {"id": "x"}, "Coding"),
    ("resource.is(Patient)", {"resource": PATIENT}, "Bundle.entry"),
    ("resource.is(DomainResource)", {"resource": PATIENT}, "Bundle.entry"),
    ("resource.ofType(Observation).exists()", {"resource": PATIENT}, "Bundle.entry"),
    ("request is BackboneElement", {"request": {"method": "GET", "url": "x"}}, "Bundle.entry"),
    ("fullUrl.contains('/_history/').not()", {"fullUrl": "urn:uuid:1"}, "Bundle.entry"),
    ("trace('x').fullUrl.exists()", {"fullUrl": "urn:uuid:1"}, "Bundle.entry"),
]


@pytest.mark.parametrize(
    ("expression", "focus", "type_path"), EDGE_CASES, ids=[e for e, _, _ in EDGE_CASES]
)
def test_the_fast_evaluator_agrees_with_fhirpathpy_or_defers(
    expression: str, focus: object, type_path: str
) -> None:
    resource = focus if isinstance(focus, dict) and "resourceType" in focus else PATIENT
    with fp.cross_checking() as check, contextlib.suppress(fp.NotEvaluated):
        fp.evaluate(expression, focus, type_path, resource)
    assert check.mismatches == []
    assert check.fast + check.deferred == 1


def test_the_fast_evaluator_defers_what_it_does_not_evaluate_exactly() -> None:
    two_codings = {"coding": [{"code": "a"}, {"code": "b"}]}
    deferred = [
        ("coding.code = coding.code.where(true)", two_codings, "CodeableConcept"),
        ("birthDate = @2001-01-01", {**PATIENT, "birthDate": "2001-01-01"}, "Patient"),
        ("resource.is(DomainResource)", {"resource": PATIENT}, "Bundle.entry"),
        ("request is BackboneElement", {"request": {"method": "GET"}}, "Bundle.entry"),
        ("given.count()", {"given": ["a", None]}, "HumanName"),
    ]
    for expression, focus, type_path in deferred:
        with pytest.raises(fastpath.Defer):
            fp.fast_compiled(expression).holds(focus, type_path, PATIENT)


# --- base64Binary without its pattern's groups -------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["QUJD", "QUJDRA==", "QUJDRA=", "QUJ", "", "QU JD", " QUJD ", "QUJD\nRA==", "QU-D", "QUJDé==="],
)
def test_base64_is_checked_as_its_pattern_says(value: str) -> None:
    pattern = re.compile(r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+", re.ASCII)
    expected = None if pattern.fullmatch(value) else f"not a valid base64Binary: {value!r}"
    assert primitive_problem("base64Binary", value) == expected


@pytest.mark.parametrize("type_code", ["string", "markdown", "xhtml"])
@pytest.mark.parametrize(
    "value", ["tekst", "", " ", "a\tb\r\nc", "a\fb", "\v", "no-break\u00a0space", "\u2028", "æøå"]
)
def test_text_is_checked_as_its_pattern_says(type_code: str, value: str) -> None:
    pattern = re.compile(r"[ \r\n\t\S]+", re.ASCII)
    expected = None if pattern.fullmatch(value) else f"not a valid {type_code}: {value!r}"
    assert primitive_problem(type_code, value) == expected
