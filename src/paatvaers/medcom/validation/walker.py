"""Walking a resource (as JSON) along a profile's element tree.

Each element is checked for cardinality, JSON shape, primitive format, fixed and pattern
values, required bindings, invariants, references and slicing. Elements a snapshot does not
expand are checked against the FHIR R4 element list (names and primitive formats only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from paatvaers.medcom.validation import fhirpath
from paatvaers.medcom.validation.definitions import (
    FHIRPATH_SYSTEM,
    Constraint,
    Definitions,
    ElementDef,
    JsonObject,
    Profile,
    TypeRef,
)
from paatvaers.medcom.validation.issues import IssueSink, Severity
from paatvaers.medcom.validation.primitives import (
    base_element_type,
    defined_elsewhere,
    is_primitive,
    primitive_problem,
)
from paatvaers.medcom.validation.slicing import check_slices
from paatvaers.medcom.validation.terminology import Expansion, Terminology, core_codes
from paatvaers.medcom.validation.tolerance import uri_alias
from paatvaers.medcom.validation.values import equals_fixed, matches_pattern

# ele-1 and ext-1 sit on nearly every element. They are evaluated natively (same meaning as
# the FHIRPath; tests compare the two) because a FHIRPath call per element would dominate the
# time to validate a message.
NATIVE_INVARIANTS = frozenset({"ele-1", "ext-1"})


class Scope(Protocol):
    """The message being validated, as the walker needs it."""

    definitions: Definitions
    terminology: Terminology

    def resolve(self, reference: str) -> JsonObject | None: ...

    def conforms_to(self, resource: JsonObject, profile: str) -> bool: ...

    def validated_as(self, resource: JsonObject) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Item:
    """One JSON value at `path`, of FHIR type `type_code`, held as `name` in `owner`."""

    value: Any  # None when only the `_name` companion (extensions of a primitive) is present
    path: str
    type_code: str
    owner: str  # FHIR type path of the object holding it: `Narrative`, `Bundle.entry`
    name: str  # element name without [x]
    key: str  # JSON key, `valueCoding` for a choice


def capitalised(type_code: str) -> str:
    return type_code[:1].upper() + type_code[1:]


def _present(values: Iterable[Any]) -> bool:
    return any(v not in (None, [], {}) for v in values)


def _ele_1(item: Item) -> bool:
    if not isinstance(item.value, dict):
        return True  # a primitive value, or a companion that carries extensions
    return any(key != "id" for key in item.value)


def _ext_1(item: Item) -> bool:
    value = item.value if isinstance(item.value, dict) else {}
    has_value = any(key.startswith("value") for key in value)
    return _present([value.get("extension")]) != has_value


class Walker:
    """Checks resources against profiles, reporting into one IssueSink."""

    def __init__(self, scope: Scope, sink: IssueSink) -> None:
        self.scope = scope
        self.definitions = scope.definitions
        self.sink = sink

    # --- entry points ----------------------------------------------------------------------

    def resource(self, resource: JsonObject, profile: Profile, path: str) -> None:
        kind = resource.get("resourceType")
        if kind != profile.type:
            self.sink.error(
                path, "profile type", f"{kind} cannot conform to {profile.url} ({profile.type})"
            )
            return
        item = Item(resource, path, profile.type, profile.type, profile.type, profile.type)
        self.check_item(profile.root, item, resource)

    # --- one value -------------------------------------------------------------------------

    def check_item(self, element: ElementDef, item: Item, resource: JsonObject) -> None:
        """Everything `element` says about one value already matched to it."""
        type_path = self._type_path(element, item)
        if item.value is not None:
            self._fixed_and_pattern(element, item)
            self._binding(element, item)
        self._invariants(element, item, type_path, resource)
        if item.value is None:
            return
        if is_primitive(item.type_code):
            problem = primitive_problem(item.type_code, item.value)
            if problem:
                self.sink.error(item.path, f"type {item.type_code}", problem)
            return
        if item.type_code == "Resource" or not isinstance(item.value, dict):
            if not isinstance(item.value, dict):
                self.sink.error(item.path, f"type {item.type_code}", "expected a JSON object")
            return  # entries are validated on their own, against their own profiles
        self._structure(element, item, type_path, resource)
        if item.type_code == "Reference":
            self._reference(element.types, item, resource)

    def _type_path(self, element: ElementDef, item: Item) -> str:
        """The FHIR type path of the value: a data type, or `Owner.name` for a backbone element."""
        if item.type_code not in ("BackboneElement", "Element"):
            return item.type_code
        if element.content_reference:
            return element.content_reference.partition("#")[2]
        return f"{item.owner}.{item.name}"

    def _structure(
        self, element: ElementDef, item: Item, type_path: str, resource: JsonObject
    ) -> None:
        profiles = [p for t in element.types if t.code == item.type_code for p in t.profiles]
        if element.children:
            self.children(element.children, item.value, item.path, type_path, resource)
        for url in profiles:
            profile = self.definitions.profile(url)
            if profile is None:
                self.sink.info(
                    item.path, "profile not shipped", f"not evaluated: {url} is not shipped"
                )
            else:
                self.check_item(profile.root, item, resource)
        if element.children or profiles:
            return
        if item.type_code == "Extension":
            self._extension(item, resource)
        else:
            self.base(type_path, item.value, item.path, resource)

    def _extension(self, item: Item, resource: JsonObject) -> None:
        """An extension no slice claimed: checked against its definition when that is shipped."""
        url = item.value.get("url")
        profile = self.definitions.profile(url) if isinstance(url, str) else None
        if profile is not None:
            self.check_item(profile.root, item, resource)
            return
        if item.name == "modifierExtension":
            self.sink.error(
                item.path, "modifierExtension unknown", f"unknown modifier extension {url}"
            )
        self.base("Extension", item.value, item.path, resource)

    # --- children --------------------------------------------------------------------------

    def children(
        self,
        children: dict[str, ElementDef],
        obj: JsonObject,
        path: str,
        type_path: str,
        resource: JsonObject,
    ) -> None:
        consumed = {"resourceType"} if obj is resource else set()
        for name, child in children.items():
            items = self._collect(child, name, obj, path, type_path, consumed)
            self._cardinality(child, items, f"{path}.{name.removesuffix('[x]')}")
            for item in items:
                self.check_item(child, item, resource)
            if child.slices and child.slicing:
                check_slices(self, child, items, f"{path}.{name.removesuffix('[x]')}", resource)
        for key in obj:
            if key not in consumed and key.removeprefix("_") not in consumed:
                self.sink.error(
                    f"{path}.{key}", "unknown element", f"{key} is not an element of {type_path}"
                )

    def _collect(
        self,
        child: ElementDef,
        name: str,
        obj: JsonObject,
        path: str,
        owner: str,
        consumed: set[str],
    ) -> list[Item]:
        keys = self._keys(child, name, obj, path)
        items: list[Item] = []
        for key, type_code in keys:
            consumed.add(key)
            raw, companion = obj.get(key), obj.get(f"_{key}")
            if raw is None and companion is None:
                continue
            self._shape(child, raw if raw is not None else companion, f"{path}.{key}")
            values = raw if raw is not None else companion
            if not isinstance(values, list):
                items.append(
                    Item(raw, f"{path}.{key}", type_code, owner, name.removesuffix("[x]"), key)
                )
                continue
            for index, value in enumerate(values):
                items.append(
                    Item(
                        value if raw is not None else None,  # None: only the `_key` companion
                        f"{path}.{key}[{index}]",
                        type_code,
                        owner,
                        name.removesuffix("[x]"),
                        key,
                    )
                )
        return items

    def _keys(
        self, child: ElementDef, name: str, obj: JsonObject, path: str
    ) -> list[tuple[str, str]]:
        """The JSON keys holding `child`, each with its FHIR type."""
        if not child.is_choice:
            type_code = child.types[0].code if child.types else "BackboneElement"
            return [(name, type_code)]
        prefix = name.removesuffix("[x]")
        allowed = {capitalised(t.code): t.code for t in child.types}
        keys = []
        for key in obj:
            suffix = key[len(prefix) :]
            if key.startswith(prefix) and suffix[:1].isupper():
                if suffix not in allowed:
                    self.sink.error(
                        f"{path}.{key}",
                        f"type {child.path}",
                        f"{suffix} is not an allowed type ({', '.join(sorted(allowed))})",
                    )
                keys.append((key, allowed.get(suffix, suffix)))
        return keys

    def _shape(self, child: ElementDef, raw: object, path: str) -> None:
        if child.is_array and not isinstance(raw, list):
            self.sink.error(path, "json array", f"{child.path} repeats: JSON must hold an array")
        elif not child.is_array and isinstance(raw, list):
            self.sink.error(
                path, "json array", f"{child.path} does not repeat: JSON must not hold an array"
            )

    def _cardinality(self, child: ElementDef, items: list[Item], path: str) -> None:
        count = len(items)
        if count < child.min or (child.max is not None and count > child.max):
            self.sink.error(
                path,
                f"cardinality {child.cardinality}",
                f"{child.path} has {count} item(s), allowed {child.cardinality}",
            )

    # --- values ----------------------------------------------------------------------------

    def _fixed_and_pattern(self, element: ElementDef, item: Item) -> None:
        for rule, constraint, matches in (
            ("fixed value", element.fixed, equals_fixed),
            ("pattern value", element.pattern, matches_pattern),
        ):
            if constraint is None or matches(constraint[1], item.value):
                continue
            expected = constraint[1]
            alias = uri_alias(expected, item.value) if isinstance(expected, str) else None
            if alias is not None and isinstance(item.value, str):
                self.sink.warning(
                    item.path,
                    alias.rule,
                    f"{item.value} accepted as {expected} ({alias.reason}); send {expected}",
                )
            else:
                self.sink.error(item.path, rule, f"must be {expected!r}, is {item.value!r}")

    def _binding(self, element: ElementDef, item: Item) -> None:
        binding = element.binding
        if binding is None or binding.strength != "required":
            return
        rule = f"binding required {binding.value_set}"
        expansion = self.scope.terminology.expansion(binding.value_set)
        if expansion is None:
            self._core_binding(item, rule)
            return
        verdict, shown = self._membership(expansion, item)
        if verdict is False:
            self.sink.error(item.path, rule, f"{shown} is not in {binding.value_set}")
        elif verdict is None:
            self.sink.info(
                item.path, rule, f"not evaluated: {shown}: its code system is not shipped"
            )

    @staticmethod
    def _membership(expansion: Expansion, item: Item) -> tuple[bool | None, str]:
        """Whether the value is in the ValueSet (None: cannot tell), and how to show it."""
        value = item.value
        if item.type_code in ("code", "string", "uri") and isinstance(value, str):
            return expansion.contains_code(value), repr(value)
        if item.type_code not in ("Coding", "CodeableConcept") or not isinstance(value, dict):
            return True, ""  # Quantity and other bound types: not checked
        codings = [value] if item.type_code == "Coding" else value.get("coding", [])
        verdicts = [
            expansion.contains(c.get("system"), c.get("code", ""))
            for c in codings
            if isinstance(c, dict)
        ]
        shown = ", ".join(
            f"{c.get('system')}#{c.get('code')}" for c in codings if isinstance(c, dict)
        )
        if any(v is True for v in verdicts):
            return True, shown
        return (None if None in verdicts else False), shown or "no coding"

    def _core_binding(self, item: Item, rule: str) -> None:
        codes = core_codes(item.owner, item.name) if item.type_code == "code" else None
        if codes is None:
            self.sink.info(item.path, rule, "not evaluated: the ValueSet is not shipped")
        elif item.value not in codes:
            self.sink.error(
                item.path, rule, f"{item.value!r} is not one of {', '.join(sorted(codes))}"
            )

    # --- invariants ------------------------------------------------------------------------

    def _invariants(
        self, element: ElementDef, item: Item, type_path: str, resource: JsonObject
    ) -> None:
        for constraint in element.constraints:
            holds = self._holds(constraint, item, type_path, resource)
            if holds is False:
                severity = Severity.WARNING if constraint.severity == "warning" else Severity.ERROR
                self.sink.add(severity, item.path, f"invariant {constraint.key}", constraint.human)

    def _holds(
        self, constraint: Constraint, item: Item, type_path: str, resource: JsonObject
    ) -> bool | None:
        if constraint.key == "ele-1":
            return _ele_1(item)
        if constraint.key == "ext-1":
            return _ext_1(item)
        focus = item.value if item.value is not None else {}
        try:
            return fhirpath.evaluate(constraint.expression, focus, type_path, resource)
        except fhirpath.NotEvaluated as reason:
            self.sink.info(
                item.path,
                f"invariant {constraint.key}",
                f"not evaluated: {constraint.key} {reason}",
            )
            return None

    # --- references ------------------------------------------------------------------------

    def _reference(self, types: tuple[TypeRef, ...], item: Item, resource: JsonObject) -> None:
        reference = item.value.get("reference")
        if not isinstance(reference, str) or reference.startswith("#"):
            return
        target = self.scope.resolve(reference)
        references = [t for t in types if t.code == "Reference"]
        if target is None:
            if any("bundled" in t.aggregation for t in references):
                self.sink.error(
                    f"{item.path}.reference",
                    "reference bundled",
                    f"{reference} does not resolve to an entry of the Bundle",
                )
            return
        targets = [p for t in references for p in t.target_profiles]
        if targets:
            self._target(targets, target, reference, item.path)

    def _target(self, targets: list[str], target: JsonObject, reference: str, path: str) -> None:
        kind = target.get("resourceType")
        allowed = {self.definitions.profile_type(p) for p in targets}
        if "Resource" in allowed:
            return
        if kind not in allowed:
            names = ", ".join(sorted(a or "?" for a in allowed))
            self.sink.error(
                f"{path}.reference",
                "reference target type",
                f"{reference} is a {kind}, allowed: {names}",
            )
            return
        shipped = [
            p
            for p in targets
            if self.definitions.profile_type(p) == kind and self.definitions.profile(p)
        ]
        if any(p in self.scope.validated_as(target) for p in shipped):
            return  # the entry is validated against that profile itself: its issues say why
        if shipped and not any(self.scope.conforms_to(target, p) for p in shipped):
            self.sink.error(
                f"{path}.reference",
                "reference target profile",
                f"{reference} does not conform to {' or '.join(shipped)}",
            )

    # --- elements no profile expands -------------------------------------------------------

    def base(self, type_path: str, obj: object, path: str, resource: JsonObject) -> None:
        """Element names and primitive formats of FHIR R4 where no profile says more."""
        if not isinstance(obj, dict):
            self.sink.error(path, f"type {type_path}", "expected a JSON object")
            return
        for key, raw in obj.items():
            name = key.removeprefix("_")
            found = base_element_type(type_path, name)
            if found is None:
                self.sink.error(
                    f"{path}.{key}", "unknown element", f"{key} is not an element of {type_path}"
                )
                continue
            if key.startswith("_") or found == "Resource":
                continue
            values = raw if isinstance(raw, list) else [raw]
            for index, value in enumerate(values):
                here = f"{path}.{key}[{index}]" if isinstance(raw, list) else f"{path}.{key}"
                self._base_value(found, type_path, name, value, here, resource)

    def _base_value(
        self, found: str, owner: str, name: str, value: object, path: str, resource: JsonObject
    ) -> None:
        type_code = FHIRPATH_SYSTEM + found[7:] if found.startswith("System.") else found
        if is_primitive(type_code):
            problem = primitive_problem(type_code, value)
            if problem:
                self.sink.error(path, f"type {type_code}", problem)
        elif type_code == "Extension" and isinstance(value, dict):
            self._extension(Item(value, path, "Extension", owner, name, name), resource)
        elif type_code == "BackboneElement":
            backbone = f"{owner}.{name}"
            self.base(defined_elsewhere(backbone) or backbone, value, path, resource)
        else:
            self.base(type_code, value, path, resource)
