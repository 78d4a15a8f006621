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
    base_element_repeats,
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

# The result of an invariant on a JSON object of the message, kept for the message: a value
# matched to a slice is checked against the slice and against the element it slices, and
# both carry the same invariants. True or False, or why it was not evaluated.
InvariantKey = tuple[str, int, str, int]  # expression, id(value), type path, id(resource)
InvariantResult = bool | str


class Scope(Protocol):
    """The message being validated, as the walker needs it."""

    definitions: Definitions
    terminology: Terminology
    invariant_results: dict[InvariantKey, InvariantResult]

    def resolve(self, reference: str) -> JsonObject | None: ...

    def conforms_to(self, resource: JsonObject, profile: str) -> bool: ...

    def validated_as(self, resource: JsonObject) -> list[str]: ...


@dataclass(slots=True)
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
    value = item.value
    if not isinstance(value, dict):
        return True  # a primitive value, or a companion that carries extensions
    return len(value) > ("id" in value)  # a key other than id


def _ext_1(item: Item) -> bool:
    value = item.value if isinstance(item.value, dict) else {}
    has_value = any(key.startswith("value") for key in value)
    return _present([value.get("extension")]) != has_value


def _coding_membership(expansion: Expansion, coding: JsonObject) -> bool | None:
    """Whether one Coding is in the ValueSet. A system or code of the wrong JSON type is
    reported by its type check; such a Coding cannot be a member."""
    system, code = coding.get("system"), coding.get("code", "")
    if system is not None and not isinstance(system, str):
        return False
    return expansion.contains(system, code if isinstance(code, str) else "")


def internal_error(sink: IssueSink, path: str, error: Exception) -> None:
    """Last resort: a bug in the validator must not lose the message (the inbox and the CLI
    rely on the report), nor pass it. It becomes an error naming where it happened; the
    mutation tests expect none."""
    sink.error(path, "internal", f"the validator failed here: {type(error).__name__}: {error}")


class Walker:
    """Checks resources against profiles, reporting into one IssueSink."""

    def __init__(self, scope: Scope, sink: IssueSink) -> None:
        self.scope = scope
        self.definitions = scope.definitions
        self.sink = sink
        # (element, value) pairs already checked in this walk: a value reached again through
        # another path of the profiles (a type profile under both a slice and the element it
        # slices) would give the same issues into the same sink, so it is checked once.
        self._checked: set[tuple[int, str, str, str, str, str]] = set()

    # --- entry points ----------------------------------------------------------------------

    def resource(self, resource: JsonObject, profile: Profile, path: str) -> None:
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            self.sink.error(f"{path}.resourceType", "type code", "expected a string")
            return
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
        type_code = item.type_code
        done = (id(element), item.path, type_code, item.owner, item.name, item.key)
        if done in self._checked:
            return
        self._checked.add(done)
        try:
            self._check_value(element, item, resource)
        except Exception as error:  # last resort, see internal_error
            internal_error(self.sink, item.path, error)

    def _check_value(self, element: ElementDef, item: Item, resource: JsonObject) -> None:
        type_code = item.type_code
        type_path = (
            self._type_path(element, item)
            if type_code == "BackboneElement" or type_code == "Element"  # noqa: PLR1714
            else type_code
        )
        value = item.value
        if value is not None:
            if element.fixed is not None or element.pattern is not None:
                self._fixed_and_pattern(element, item)
            if element.binding is not None:
                self._binding(element, item)
        if element.constraints:
            self._invariants(element, item, type_path, resource)
        if value is None:
            return
        if is_primitive(type_code):
            problem = primitive_problem(type_code, value)
            if problem:
                self.sink.error(item.path, f"type {type_code}", problem)
            return
        if type_code == "Resource" or not isinstance(value, dict):
            if not isinstance(value, dict):
                self.sink.error(item.path, f"type {type_code}", "expected a JSON object")
            return  # entries are validated on their own, against their own profiles
        self._structure(element, item, type_path, resource)
        if type_code == "Reference":
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
        profiles = element.type_profiles.get(item.type_code, ())
        if element.children:
            self.children(element, item.value, item.path, type_path, resource)
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
        element: ElementDef,
        obj: JsonObject,
        path: str,
        type_path: str,
        resource: JsonObject,
    ) -> None:
        """The children of `element` in `obj`, in the snapshot's order, then the keys of `obj`
        that are none of them. Only children with a key in `obj`, or that must be looked at
        when absent (required ones, choices), are visited."""
        index = element.child_index
        visit = set(element.always_visit)
        others: list[str] = []
        for key in obj:
            if obj[key] is None:
                self._null(f"{path}.{key}")
            found = index.get(key)
            if found is None and key[:1] == "_":
                found = index.get(key[1:])
            if found is None:
                others.append(key)
            else:
                visit.add(found)
        choice_keys: set[str] = set()
        child_list = element.child_list
        for position in sorted(visit):
            self._child(child_list[position], obj, path, type_path, resource, choice_keys)
        if obj is resource:
            choice_keys.add("resourceType")
        for key in others:
            if key in choice_keys or (key[:1] == "_" and key[1:] in choice_keys):
                continue
            self.sink.error(
                f"{path}.{key}", "unknown element", f"{key} is not an element of {type_path}"
            )

    def _child(
        self,
        child: ElementDef,
        obj: JsonObject,
        path: str,
        type_path: str,
        resource: JsonObject,
        choice_keys: set[str],
    ) -> None:
        """One child element: its values' count, each value, and their slices."""
        if child.is_choice:
            items = self._choice_items(child, obj, path, type_path, choice_keys)
        else:
            key = child.json_name
            if obj.get(key) is None and obj.get(child.companion_key) is None:
                if child.check_when_absent:
                    self._absent(child, path, resource)
                return
            items = self._items(child, key, child.type_code, obj, path, type_path)
        count = len(items)
        if count < child.min or (child.max is not None and count > child.max):
            self._cardinality(child, count, f"{path}.{child.json_name}")
        for item in items:
            self.check_item(child, item, resource)
        if child.slices and child.slicing:
            check_slices(self, child, items, f"{path}.{child.json_name}", resource)

    def _absent(self, child: ElementDef, path: str, resource: JsonObject) -> None:
        """A child with no value that needs one (itself, or one of its slices)."""
        if child.min > 0:
            self._cardinality(child, 0, f"{path}.{child.json_name}")
        if child.slices and child.slicing:
            check_slices(self, child, [], f"{path}.{child.json_name}", resource)

    def _items(
        self, child: ElementDef, key: str, type_code: str, obj: JsonObject, path: str, owner: str
    ) -> list[Item]:
        """The values of one JSON key (with its `_key` companion) as items."""
        raw = obj.get(key)
        values = raw if raw is not None else obj.get(f"_{key}")
        here = f"{path}.{key}"
        if child.is_array is not isinstance(values, list):
            self._shape(child, values, here)
        name = child.json_name
        if not isinstance(values, list):
            return [Item(raw, here, type_code, owner, name, key)]
        if raw is None:  # only the `_key` companion: extensions of primitives, no values
            return [
                Item(None, f"{here}[{index}]", type_code, owner, name, key)
                for index in range(len(values))
            ]
        if None in values:
            self._null_items(values, obj.get(f"_{key}"), here)
        return [
            Item(value, f"{here}[{index}]", type_code, owner, name, key)
            for index, value in enumerate(values)
        ]

    def _null_items(self, values: list[Any], companion: object, path: str) -> None:
        """A null in an array only keeps the place of a value whose `_key` companion (at the
        same index) carries its id or extensions."""
        companions = companion if isinstance(companion, list) else []
        for index, value in enumerate(values):
            if value is None and (index >= len(companions) or companions[index] is None):
                self._null(f"{path}[{index}]")

    def _null(self, path: str) -> None:
        self.sink.error(path, "json null", "null is not a FHIR value: leave the element out")

    def _choice_items(
        self, child: ElementDef, obj: JsonObject, path: str, owner: str, consumed: set[str]
    ) -> list[Item]:
        """The values of a choice element (`value[x]`): each JSON key with its type."""
        prefix = child.json_name
        allowed = child.choice_types
        keys: list[tuple[str, str]] = []
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
        items: list[Item] = []
        for key, type_code in keys:
            consumed.add(key)
            if obj[key] is not None or obj.get(f"_{key}") is not None:
                items.extend(self._items(child, key, type_code, obj, path, owner))
        return items

    def _shape(self, child: ElementDef, raw: object, path: str) -> None:
        if child.is_array and not isinstance(raw, list):
            self.sink.error(path, "json array", f"{child.path} repeats: JSON must hold an array")
        elif not child.is_array and isinstance(raw, list):
            self.sink.error(
                path, "json array", f"{child.path} does not repeat: JSON must not hold an array"
            )

    def _cardinality(self, child: ElementDef, count: int, path: str) -> None:
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
        if not isinstance(codings, list):
            codings = []  # CodeableConcept.coding not an array: the shape check reports it
        verdicts = [_coding_membership(expansion, c) for c in codings if isinstance(c, dict)]
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
        elif not isinstance(item.value, str) or item.value not in codes:
            # only a string can be a code (a dict or list cannot even be looked up)
            self.sink.error(
                item.path, rule, f"{item.value!r} is not one of {', '.join(sorted(codes))}"
            )

    # --- invariants ------------------------------------------------------------------------

    def _invariants(
        self, element: ElementDef, item: Item, type_path: str, resource: JsonObject
    ) -> None:
        for constraint in element.constraints:
            key = constraint.key
            if key == "ele-1":
                value = item.value
                if not isinstance(value, dict) or len(value) > ("id" in value):
                    continue  # holds: see _ele_1
                holds: bool | None = False
            elif key == "ext-1":
                holds = _ext_1(item)
            else:
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
        value = item.value
        key: InvariantKey | None = None
        if isinstance(value, dict):  # part of the message, so its id stays its own meanwhile
            key = (constraint.expression, id(value), type_path, id(resource))
            known = self.scope.invariant_results.get(key)
            if known is not None:
                return self._result(constraint, item, known)
        try:
            result: InvariantResult = fhirpath.evaluate(
                constraint.expression, value if value is not None else {}, type_path, resource
            )
        except fhirpath.NotEvaluated as reason:
            result = str(reason)
        if key is not None:
            self.scope.invariant_results[key] = result
        return self._result(constraint, item, result)

    def _result(self, constraint: Constraint, item: Item, result: InvariantResult) -> bool | None:
        if isinstance(result, bool):
            return result
        self.sink.info(
            item.path, f"invariant {constraint.key}", f"not evaluated: {constraint.key} {result}"
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
        done = (0, path, type_path, "", "", "")  # the same check of the same value: once
        if done in self._checked:
            return
        self._checked.add(done)
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
            if raw is None:
                self._null(f"{path}.{key}")
            if key.startswith("_") or found == "Resource":
                continue
            self._base_shape(type_path, name, raw, f"{path}.{key}")
            if isinstance(raw, list) and None in raw:
                self._null_items(raw, obj.get(f"_{key}"), f"{path}.{key}")
            values = raw if isinstance(raw, list) else [raw]
            for index, value in enumerate(values):
                if value is None:
                    continue  # reported above, or only its companion holds something
                here = f"{path}.{key}[{index}]" if isinstance(raw, list) else f"{path}.{key}"
                self._base_value(found, type_path, name, value, here, resource)

    def _base_shape(self, type_path: str, name: str, raw: object, path: str) -> None:
        """An array exactly where the FHIR R4 element repeats (when the R4B model knows it)."""
        repeats = base_element_repeats(type_path, name)
        if repeats is None or raw is None or repeats is isinstance(raw, list):
            return
        element = f"{type_path}.{name}"
        if repeats:
            self.sink.error(path, "json array", f"{element} repeats: JSON must hold an array")
        else:
            self.sink.error(
                path, "json array", f"{element} does not repeat: JSON must not hold an array"
            )

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
