"""The shipped conformance resources, loaded once and indexed by canonical URL.

StructureDefinitions are turned into trees of `ElementDef` built from their published
snapshots (every shipped profile carries one, so nothing is generated against a base).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

JsonObject = dict[str, Any]

FHIR_BASE = "http://hl7.org/fhir/StructureDefinition/"
FHIRPATH_SYSTEM = "http://hl7.org/fhirpath/System."


@dataclass(frozen=True, slots=True)
class TypeRef:
    code: str
    profiles: tuple[str, ...] = ()
    target_profiles: tuple[str, ...] = ()
    aggregation: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraint:
    key: str
    severity: str
    human: str
    expression: str


@dataclass(frozen=True, slots=True)
class Binding:
    strength: str
    value_set: str  # canonical URL without the version
    version: str | None


@dataclass(frozen=True, slots=True)
class Discriminator:
    type: str
    path: str


@dataclass(frozen=True, slots=True)
class Slicing:
    discriminators: tuple[Discriminator, ...]
    rules: str
    ordered: bool


@dataclass(eq=False, slots=True)
class ElementDef:
    """One element of a snapshot, with its children and slices attached.

    The fields after `slices` are derived once, when the profile is built, so that walking
    a message does not compute them again for every value."""

    id: str
    path: str
    min: int
    max: int | None  # None: unbounded
    is_array: bool  # from base.max: whether the JSON form is an array
    types: tuple[TypeRef, ...]
    fixed: tuple[str, Any] | None  # ("Uri", value) for fixedUri
    pattern: tuple[str, Any] | None
    binding: Binding | None
    constraints: tuple[Constraint, ...]
    slicing: Slicing | None
    slice_name: str | None
    content_reference: str | None
    children: dict[str, ElementDef] = field(default_factory=dict)
    slices: list[ElementDef] = field(default_factory=list)
    name: str = field(init=False)  # the last path segment, e.g. `value[x]`
    json_name: str = field(init=False)  # without [x]: `value`
    companion_key: str = field(init=False)  # `_value`: a primitive's id and extensions
    is_choice: bool = field(init=False)
    cardinality: str = field(init=False)  # `0..*`
    type_code: str = field(init=False)  # the type of a non-choice element
    choice_types: dict[str, str] = field(init=False)  # `String` -> `string`, for value[x]
    type_profiles: dict[str, tuple[str, ...]] = field(init=False)  # type code -> profiles
    # Set by build_profile once the tree is complete:
    known_names: frozenset[str] = frozenset()  # JSON names of the non-choice children
    check_when_absent: bool = False  # min > 0, or a slice with min > 0
    child_list: tuple[ElementDef, ...] = ()  # the children in the snapshot's order
    child_index: dict[str, int] = field(default_factory=dict)  # JSON name -> position
    always_visit: tuple[int, ...] = ()  # children to visit even when the JSON has no key
    memo: dict[Any, Any] = field(default_factory=dict)  # lookups derived from the definitions

    def __post_init__(self) -> None:
        self.name = self.path.rsplit(".", 1)[-1]
        self.is_choice = self.name.endswith("[x]")
        self.json_name = self.name.removesuffix("[x]")
        self.companion_key = f"_{self.json_name}"
        self.cardinality = f"{self.min}..{'*' if self.max is None else self.max}"
        self.type_code = self.types[0].code if self.types else "BackboneElement"
        self.choice_types = {t.code[:1].upper() + t.code[1:]: t.code for t in self.types}
        profiles: dict[str, tuple[str, ...]] = {}
        for t in self.types:
            profiles[t.code] = profiles.get(t.code, ()) + t.profiles
        self.type_profiles = profiles


@dataclass(eq=False, slots=True)
class Profile:
    url: str
    version: str | None
    name: str
    type: str
    kind: str
    root: ElementDef
    by_id: dict[str, ElementDef]


def _strip_version(url: str) -> tuple[str, str | None]:
    base, _, version = url.partition("|")
    return base, version or None


def _type_ref(raw: JsonObject) -> TypeRef:
    return TypeRef(
        code=raw["code"],
        profiles=tuple(_strip_version(p)[0] for p in raw.get("profile", ())),
        target_profiles=tuple(_strip_version(p)[0] for p in raw.get("targetProfile", ())),
        aggregation=tuple(raw.get("aggregation", ())),
    )


def _prefixed(raw: JsonObject, prefix: str) -> tuple[str, Any] | None:
    for key, value in raw.items():
        if key.startswith(prefix):
            return key[len(prefix) :], value
    return None


def _binding(raw: JsonObject) -> Binding | None:
    binding = raw.get("binding")
    if not binding or "valueSet" not in binding:
        return None
    url, version = _strip_version(binding["valueSet"])
    return Binding(binding["strength"], url, version)


def _slicing(raw: JsonObject) -> Slicing | None:
    slicing = raw.get("slicing")
    if not slicing:
        return None
    discriminators = tuple(
        Discriminator(d["type"], d["path"]) for d in slicing.get("discriminator", ())
    )
    return Slicing(
        discriminators, slicing.get("rules", "open"), bool(slicing.get("ordered", False))
    )


def _element(raw: JsonObject) -> ElementDef:
    maximum = raw.get("max", "*")
    base_max = raw.get("base", {}).get("max", maximum)
    constraints = tuple(
        Constraint(c["key"], c.get("severity", "error"), c.get("human", ""), c["expression"])
        for c in raw.get("constraint", ())
        if "expression" in c
    )
    return ElementDef(
        id=raw["id"],
        path=raw["path"],
        min=int(raw.get("min", 0)),
        max=None if maximum == "*" else int(maximum),
        is_array=base_max not in ("1", "0"),
        types=tuple(_type_ref(t) for t in raw.get("type", ())),
        fixed=_prefixed(raw, "fixed"),
        pattern=_prefixed(raw, "pattern"),
        binding=_binding(raw),
        constraints=constraints,
        slicing=_slicing(raw),
        slice_name=raw.get("sliceName"),
        content_reference=raw.get("contentReference"),
    )


def _split_last(element_id: str) -> tuple[str, str]:
    """`a.b:s.c` -> (`a.b:s`, `c`). Slice names never contain dots in the shipped profiles."""
    parent, _, last = element_id.rpartition(".")
    return parent, last


def build_profile(sd: JsonObject) -> Profile:
    """The element tree of a snapshot: children by name, slices under the element they slice."""
    elements = [_element(raw) for raw in sd["snapshot"]["element"]]
    by_id = {e.id: e for e in elements}
    for element in elements[1:]:
        parent_id, last = _split_last(element.id)
        name, colon, _slice = last.partition(":")
        if colon:
            sliced_id = f"{parent_id}.{name}" if parent_id else name
            by_id[sliced_id].slices.append(element)
        else:
            by_id[parent_id].children[name] = element
    for element in elements:
        if element.content_reference:  # e.g. `#Provenance.agent`: children defined there
            referenced = by_id.get(element.content_reference.partition("#")[2])
            if referenced is not None:
                element.children = referenced.children
    for element in elements:
        element.check_when_absent = element.min > 0 or (
            element.slicing is not None and any(s.min > 0 for s in element.slices)
        )
    for element in elements:
        element.known_names = frozenset(
            child.json_name for child in element.children.values() if not child.is_choice
        )
        element.child_list = tuple(element.children.values())
        element.child_index = {
            child.json_name: index
            for index, child in enumerate(element.child_list)
            if not child.is_choice
        }
        element.always_visit = tuple(
            index
            for index, child in enumerate(element.child_list)
            if child.is_choice or child.check_when_absent
        )
    return Profile(
        url=sd["url"],
        version=sd.get("version"),
        name=str(sd.get("name", sd["id"])),
        type=sd["type"],
        kind=sd.get("kind", ""),
        root=elements[0],
        by_id=by_id,
    )


def _json_files(folder: Traversable) -> Iterator[Traversable]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _json_files(entry)
        elif entry.name.endswith(".json"):
            yield entry


@dataclass(slots=True)
class Definitions:
    """Every shipped StructureDefinition, ValueSet and CodeSystem, by canonical URL."""

    structure_definitions: dict[str, JsonObject] = field(default_factory=dict)
    value_sets: dict[str, JsonObject] = field(default_factory=dict)
    code_systems: dict[str, JsonObject] = field(default_factory=dict)
    _profiles: dict[str, Profile] = field(default_factory=dict)

    def add(self, resource: JsonObject) -> None:
        table = {
            "StructureDefinition": self.structure_definitions,
            "ValueSet": self.value_sets,
            "CodeSystem": self.code_systems,
        }.get(resource.get("resourceType", ""))
        if table is not None:
            table[resource["url"]] = resource

    def profile(self, url: str) -> Profile | None:
        """The element tree of a shipped profile, built on first use; None when not shipped."""
        url = _strip_version(url)[0]
        profile = self._profiles.get(url)
        if profile is None:
            sd = self.structure_definitions.get(url)
            if sd is None or "snapshot" not in sd:
                return None
            profile = self._profiles[url] = build_profile(sd)
        return profile

    def profile_type(self, url: str) -> str | None:
        """The resource or data type a profile constrains; base FHIR URLs name it themselves."""
        url = _strip_version(url)[0]
        sd = self.structure_definitions.get(url)
        if sd is not None:
            return str(sd["type"])
        if url.startswith(FHIR_BASE):
            return url[len(FHIR_BASE) :]
        return None


@cache
def shipped_definitions() -> Definitions:
    """The definitions under `paatvaers/medcom/definitions/`, read once per process."""
    definitions = Definitions()
    folder = resources.files("paatvaers.medcom") / "definitions"
    for file in _json_files(folder):
        definitions.add(json.loads(file.read_bytes()))
    return definitions
