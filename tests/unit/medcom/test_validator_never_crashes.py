"""Malformed messages get a report, never an exception: a mutation fuzzer over MedCom's
published examples, and the crashes it found.

Each mutation takes a published CareCommunication or Acknowledgement example (JSON) and
changes one node at any depth: replaced with a value of another JSON type, deleted, an array
item duplicated, or wrapped in a list. The validator must return a report without an
"internal" issue (its last-resort guard), and a primitive whose JSON type changed must give
an error at or under its own path. Hypothesis runs derandomized, so the cases are the same
on every run.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paatvaers.medcom.validation import ValidationReport, validate_bundle

VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
_MESSAGES = re.compile("carecommunication|acknowledgement", re.IGNORECASE)
EXAMPLES = sorted(p for p in VECTORS.rglob("Bundle-*.json") if _MESSAGES.search(str(p)))

JsonPath = tuple[str | int, ...]
FUZZ = settings(
    derandomize=True,
    database=None,
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def _example_text(index: int) -> str:
    return EXAMPLES[index].read_text(encoding="utf-8")


def example(index: int) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_example_text(index))
    return loaded


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(value), "null")


def nodes(value: object, here: JsonPath = ()) -> list[JsonPath]:
    """The path of every node under the root, parents before children."""
    found: list[JsonPath] = []
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        found.append((*here, key))
        found.extend(nodes(child, (*here, key)))
    return found


def parent_of(document: dict[str, Any], path: JsonPath) -> Any:
    parent: Any = document
    for key in path[:-1]:
        parent = parent[key]
    return parent


def fhir_path(path: JsonPath) -> str:
    """The validator's path of a JSON node, without the `.ofType(...)` of entries."""
    return "Bundle" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)


def plain(path: str) -> str:
    return re.sub(r"\.ofType\([^)]*\)", "", path)


def at_or_under(issue_path: str, node: str) -> bool:
    path = plain(issue_path)
    return path == node or path.startswith((f"{node}.", f"{node}[", f"{node}:"))


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_KEYS = st.sampled_from(["url", "value", "valueString", "extension", "id", "x", "reference"])
VALUES_BY_TYPE = {
    "object": st.dictionaries(_KEYS, _LEAVES | st.lists(_LEAVES, max_size=2), max_size=3),
    "array": st.lists(_LEAVES | st.dictionaries(_KEYS, _LEAVES, max_size=2), max_size=3),
    "string": st.text(max_size=12),
    "number": st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
    "null": st.none(),
}
OPERATIONS = ("retype", "delete", "duplicate", "wrap")


def validate(document: object) -> ValidationReport:
    """The report, which must not carry the guard's "internal" issue."""
    report = validate_bundle(document)  # type: ignore[arg-type]  # malformed on purpose
    internal = [str(i) for i in report.issues if i.rule == "internal"]
    assert not internal, internal
    return report


@st.composite
def mutations(draw: st.DrawFn) -> tuple[dict[str, Any], JsonPath, str, object, object]:
    """A published example with one node changed: (document, path, operation, old, new)."""
    document = example(draw(st.integers(0, len(EXAMPLES) - 1)))
    path = draw(st.sampled_from(nodes(document)))
    parent, key = parent_of(document, path), path[-1]
    old = copy.deepcopy(parent[key])
    operation = draw(st.sampled_from(OPERATIONS))
    new: object = None
    if operation == "retype":
        kind = draw(st.sampled_from([t for t in VALUES_BY_TYPE if t != json_type(old)]))
        new = parent[key] = draw(VALUES_BY_TYPE[kind])
    elif operation == "delete":
        del parent[key]
    elif operation == "duplicate" and isinstance(parent, list):
        parent.insert(int(key), copy.deepcopy(old))
    else:  # wrap, and duplicate of an object member: wrap it in a list
        new = parent[key] = [old]
    return document, path, operation, old, new


@given(mutations())
@FUZZ
def test_no_mutation_makes_the_validator_raise(
    mutation: tuple[dict[str, Any], JsonPath, str, object, object],
) -> None:
    document, path, operation, old, new = mutation
    report = validate(document)
    primitive = json_type(old) in ("string", "number", "boolean")
    if primitive and operation in ("retype", "wrap") and json_type(new) != json_type(old):
        node = fhir_path(path)
        assert any(at_or_under(i.path, node) for i in report.errors), (path, new, report.issues)


@st.composite
def retyped_primitives(draw: st.DrawFn) -> tuple[dict[str, Any], JsonPath, object]:
    """A published example with one primitive (string, number, boolean) of another JSON type."""
    document = example(draw(st.integers(0, len(EXAMPLES) - 1)))
    primitives = [
        p
        for p in nodes(document)
        if json_type(parent_of(document, p)[p[-1]]) in ("string", "number", "boolean")
    ]
    path = draw(st.sampled_from(primitives))
    parent = parent_of(document, path)
    kind = draw(st.sampled_from([t for t in VALUES_BY_TYPE if t != json_type(parent[path[-1]])]))
    new = parent[path[-1]] = draw(VALUES_BY_TYPE[kind])
    return document, path, new


@given(retyped_primitives())
@FUZZ
def test_a_primitive_of_another_json_type_is_an_error_at_its_path(
    mutation: tuple[dict[str, Any], JsonPath, object],
) -> None:
    document, path, new = mutation
    report = validate(document)
    node = fhir_path(path)
    assert any(at_or_under(i.path, node) for i in report.errors), (path, new, report.issues)


def test_the_examples_to_mutate_are_valid() -> None:
    assert len(EXAMPLES) >= 10  # IG and Touchstone JSON examples
    assert all(validate_bundle(example(i)).ok for i in range(len(EXAMPLES)))


# --- the crashes the fuzzer found, one case each ----------------------------------------------

CC_NEW = "3dcb5618"  # CareCommunication reply, 14 entries
ACK = "a8c041b8"


def _entry(bundle: dict[str, Any], kind: str) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(bundle["entry"]):
        if entry["resource"]["resourceType"] == kind:
            resource: dict[str, Any] = entry["resource"]
            return index, resource
    raise LookupError(kind)


def _errors(report: ValidationReport, path: str) -> list[str]:
    return [f"{i.rule}: {i.message}" for i in report.errors if plain(i.path) == path]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": "b"}, "type code: expected a string"),
        (
            ["generated"],
            "json array: Patient.text.status does not repeat: JSON must not hold an array",
        ),
    ],
    ids=["object", "array"],
)
def test_a_narrative_status_that_is_no_string_is_an_error(
    published: Any, value: object, expected: str
) -> None:
    """An object was TypeError: unhashable type (looked up in FHIR's code list, a set)."""
    bundle = published(CC_NEW)
    index, patient = _entry(bundle, "Patient")
    patient["text"]["status"] = value
    report = validate(bundle)
    assert expected in _errors(report, f"Bundle.entry[{index}].resource.text.status")


@pytest.mark.parametrize(
    "value", [{"a": "b"}, ["x"], None, 7, True], ids=["object", "array", "null", "number", "bool"]
)
@pytest.mark.parametrize("element", ["system", "code"])
def test_a_coding_system_or_code_of_another_json_type_is_a_type_error(
    published: Any, element: str, value: object
) -> None:
    """Was TypeError: unhashable type, or AttributeError: no attribute 'lower' (a bound
    Coding's system and code were looked up in the ValueSet's expansion as they were)."""
    bundle = published(CC_NEW)
    index, header = _entry(bundle, "MessageHeader")
    header["eventCoding"][element] = value
    report = validate(bundle)
    errors = [i for i in report.errors if at_or_under(i.path, f"Bundle.entry[{index}].resource")]
    assert any(plain(i.path).endswith(f"eventCoding.{element}") for i in errors), errors


def test_a_codeable_concept_whose_coding_is_no_array_is_a_shape_error(published: Any) -> None:
    """Was TypeError: 'float' object is not iterable (coding iterated as it was)."""
    bundle = published(CC_NEW)
    index, communication = _entry(bundle, "Communication")
    communication["category"][0]["coding"] = 1.5
    report = validate(bundle)
    path = f"Bundle.entry[{index}].resource.category[0].coding"
    assert any(e.startswith("json array") for e in _errors(report, path))


@pytest.mark.parametrize("value", [{"a": "b"}, ["Patient"], 7], ids=["object", "array", "number"])
@pytest.mark.parametrize("declared", [True, False], ids=["meta.profile", "no meta.profile"])
def test_a_resource_type_that_is_no_string_is_a_type_error(
    published: Any, value: object, declared: bool
) -> None:
    """Was TypeError: unhashable type for an entry that declares no profile (its type was
    looked up among the entry types of the message), and then no error at all."""
    bundle = published(CC_NEW)
    index, patient = _entry(bundle, "Patient")
    patient["resourceType"] = value
    if not declared:
        del patient["meta"]
    report = validate(bundle)
    assert _errors(report, f"Bundle.entry[{index}].resource.resourceType") == [
        "type code: expected a string"
    ]


@pytest.mark.parametrize("value", [{"a": "b"}, None], ids=["object", "null"])
def test_a_bundle_resource_type_that_is_no_string_is_a_type_error(
    published: Any, value: object
) -> None:
    bundle = published(ACK)
    bundle["resourceType"] = value
    report = validate(bundle)
    assert [str(i) for i in report.issues] == [
        "error: Bundle.resourceType: [type code] expected a string"
    ]


def test_a_bundle_that_is_no_object_is_an_error() -> None:
    report = validate(["not", "a", "bundle"])
    assert [str(i) for i in report.issues] == [
        "error: Bundle: [type Bundle] expected a JSON object"
    ]


# --- malformed values that passed without an error ---------------------------------------------


def test_an_array_where_an_unexpanded_data_type_holds_one_value_is_an_error(
    published: Any,
) -> None:
    """Identifier is not expanded in the Patient profile: its children were checked for
    names and formats only, so `system: ["x"]` passed."""
    bundle = published(CC_NEW)
    index, patient = _entry(bundle, "Patient")
    patient["identifier"][0]["system"] = ["urn:oid:1.2.208.176.1.2"]
    report = validate(bundle)
    assert _errors(report, f"Bundle.entry[{index}].resource.identifier[0].system") == [
        "json array: Identifier.system does not repeat: JSON must not hold an array"
    ]


def test_one_value_where_an_unexpanded_data_type_repeats_is_an_error(published: Any) -> None:
    bundle = published(CC_NEW)
    index, practitioner = _entry(bundle, "Practitioner")
    name = practitioner["name"][0]
    name["given"] = name["given"][0]
    report = validate(bundle)
    assert _errors(report, f"Bundle.entry[{index}].resource.name[0].given") == [
        "json array: HumanName.given repeats: JSON must hold an array"
    ]


def test_null_is_an_error_where_it_stood_for_an_absent_element(published: Any) -> None:
    """FHIR JSON has no null values; `"id": null` read as an absent id."""
    bundle = published(CC_NEW)
    index, patient = _entry(bundle, "Patient")
    patient["id"] = None
    bundle["entry"][index]["fullUrl"] = None
    report = validate(bundle)
    assert "json null: null is not a FHIR value: leave the element out" in _errors(
        report, f"Bundle.entry[{index}].resource.id"
    )
    assert "json null: null is not a FHIR value: leave the element out" in _errors(
        report, f"Bundle.entry[{index}].fullUrl"
    )


@pytest.mark.parametrize("kind", ["Patient", "Practitioner"])  # name profiled, name unexpanded
def test_null_in_an_array_needs_a_companion_with_the_extensions(published: Any, kind: str) -> None:
    bundle = published(CC_NEW)
    index, resource = _entry(bundle, kind)
    given = resource["name"][0]["given"]
    given.append(None)
    report = validate(bundle)
    path = f"Bundle.entry[{index}].resource.name[0].given[{len(given) - 1}]"
    assert _errors(report, path) == ["json null: null is not a FHIR value: leave the element out"]
    extension = {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier"}
    extension["valueCode"] = "CL"
    resource["name"][0]["_given"] = [None] * (len(given) - 1) + [{"extension": [extension]}]
    assert not _errors(validate(bundle), path)
