"""Slicing: which slice each repeating value belongs to, by the slicing's discriminators.

The expected value of a slice is read from its own element tree, following the
discriminator path into type profiles where the snapshot does not expand them (an
identifier slice typed `dk-core-gln-identifier` gets its system from that profile).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from paatvaers.medcom.validation.definitions import Discriminator, ElementDef, JsonObject
from paatvaers.medcom.validation.tolerance import uri_alias
from paatvaers.medcom.validation.values import equals_fixed, matches_pattern

if TYPE_CHECKING:
    from paatvaers.medcom.validation.walker import Item, Walker

_SEGMENT = re.compile(r"(?:[^.(]|\([^)]*\))+")  # dots inside extension('http://...') stay


class Undetermined(Exception):
    """A discriminator whose expected value cannot be read from the shipped definitions."""


@cache
def segments(path: str) -> tuple[str, ...]:
    return tuple(s for s in _SEGMENT.findall(path) if s != "$this")


def check_slices(
    walker: Walker, element: ElementDef, items: list[Item], path: str, resource: JsonObject
) -> None:
    """Assign each item to a slice, then check slice cardinality, closed rules and order."""
    slicing = element.slicing
    assert slicing is not None  # noqa: S101 -- the caller checks
    assigned = [_slice_of(walker, element, item) for item in items]
    for slice_ in element.slices:
        count = sum(1 for s in assigned if s is slice_)
        if count < slice_.min or (slice_.max is not None and count > slice_.max):
            walker.sink.error(
                f"{path}:{slice_.slice_name}",
                f"cardinality {slice_.cardinality}",
                f"slice {slice_.slice_name} of {element.path} has {count} item(s), "
                f"allowed {slice_.cardinality}",
            )
    for index, (item, matched) in enumerate(zip(items, assigned, strict=True)):
        if matched is None and slicing.rules == "closed":
            names = ", ".join(str(s.slice_name) for s in element.slices)
            walker.sink.error(
                item.path,
                "slicing closed",
                f"matches none of the slices of {element.path} ({names})",
            )
        if matched is None and slicing.rules == "openAtEnd" and any(assigned[index:]):
            walker.sink.error(
                item.path, "slicing openAtEnd", "values outside the slices must come last"
            )
        if matched is not None:
            walker.check_item(matched, item, resource)
    if slicing.ordered:
        order = [element.slices.index(s) for s in assigned if s is not None]
        if order != sorted(order):
            walker.sink.error(
                path, "slicing ordered", f"the slices of {element.path} are out of order"
            )


def _slice_of(walker: Walker, element: ElementDef, item: Item) -> ElementDef | None:
    slicing = element.slicing
    assert slicing is not None  # noqa: S101 -- the caller checks
    for slice_ in element.slices:
        try:
            if all(_matches(walker, slice_, d, item) for d in slicing.discriminators):
                return slice_
        except Undetermined as reason:
            walker.sink.info(item.path, f"slice {slice_.slice_name}", f"not evaluated: {reason}")
    return None


def _matches(walker: Walker, slice_: ElementDef, discriminator: Discriminator, item: Item) -> bool:
    target = element_at(walker, slice_, discriminator.path)
    if discriminator.type in ("value", "pattern"):
        return _value_matches(walker, target, discriminator, item)
    if discriminator.type == "exists":
        found = bool(values_at(walker, item, discriminator.path))
        return found if target.min >= 1 else not found if target.max == 0 else True
    if discriminator.type == "type":
        expected = {t.code[:1].upper() + t.code[1:] for t in target.types}
        return bool(types_at(item, discriminator.path) & expected)
    if discriminator.type == "profile":
        profiles = [p for t in target.types for p in (t.profiles or t.target_profiles)]
        values = [v for v in values_at(walker, item, discriminator.path) if isinstance(v, dict)]
        return any(walker.scope.conforms_to(v, p) for v in values for p in profiles)
    raise Undetermined(f"discriminator type {discriminator.type} is not supported")


def _value_matches(
    walker: Walker, target: ElementDef, discriminator: Discriminator, item: Item
) -> bool:
    actual = values_at(walker, item, discriminator.path)
    if target.fixed is not None:
        return any(_same(target.fixed[1], a, equals_fixed) for a in actual)
    if target.pattern is not None:
        return any(_same(target.pattern[1], a, matches_pattern) for a in actual)
    root = _profile_root(walker, target)
    if root is not None and (root.fixed or root.pattern):
        return _value_matches(walker, root, discriminator, item)
    binding = target.binding
    if binding is not None and binding.strength == "required":
        expansion = walker.scope.terminology.expansion(binding.value_set)
        if expansion is None:
            raise Undetermined(f"{binding.value_set} is not shipped")
        return any(isinstance(a, str) and expansion.contains_code(a) for a in actual)
    raise Undetermined(
        f"{target.id} has no fixed value, pattern or required binding for {discriminator.path}"
    )


def _same(expected: object, actual: object, compare: Callable[[object, object], bool]) -> bool:
    if compare(expected, actual):
        return True
    return (
        isinstance(expected, str)
        and isinstance(actual, str)
        and uri_alias(expected, actual) is not None
    )


# --- the slice side --------------------------------------------------------------------------


def _profile_root(walker: Walker, element: ElementDef) -> ElementDef | None:
    for type_ref in element.types:
        for url in type_ref.profiles:
            profile = walker.definitions.profile(url)
            if profile is None:
                raise Undetermined(f"profile {url} is not shipped")
            return profile.root
    return None


def _child(walker: Walker, element: ElementDef, name: str) -> ElementDef | None:
    children = element.children
    if not children:
        root = _profile_root(walker, element)
        children = root.children if root is not None else {}
    found = children.get(name) or children.get(f"{name}[x]")
    if found is None and len(element.slices) == 1:
        return _child(walker, element.slices[0], name)  # `extension.value` through the one slice
    return found


def _extension(walker: Walker, element: ElementDef, url: str) -> ElementDef | None:
    extensions = _child(walker, element, "extension")
    for slice_ in extensions.slices if extensions else ():
        fixed_url = slice_.children.get("url")
        if any(url in t.profiles for t in slice_.types) or (
            fixed_url is not None and fixed_url.fixed and fixed_url.fixed[1] == url
        ):
            return slice_
    profile = walker.definitions.profile(url)
    return profile.root if profile else None


def element_at(walker: Walker, slice_: ElementDef, path: str) -> ElementDef:
    """The element of the slice that a discriminator path points at (found once: the
    definitions do not change)."""
    key = ("element_at", path)
    found = slice_.memo.get(key)
    if found is None:
        try:
            found = slice_.memo[key] = _element_at(walker, slice_, path)
        except Undetermined as reason:
            found = slice_.memo[key] = reason
    if isinstance(found, Undetermined):
        raise Undetermined(str(found))
    result: ElementDef = found
    return result


def _element_at(walker: Walker, slice_: ElementDef, path: str) -> ElementDef:
    element: ElementDef | None = slice_
    for segment in segments(path):
        if element is None:
            break
        if segment.startswith("extension("):
            element = _extension(walker, element, segment[len("extension(") : -1].strip("'\""))
        elif segment.endswith(")"):
            raise Undetermined(f"discriminator path {path} is not supported")
        else:
            element = _child(walker, element, segment)
    if element is None:
        raise Undetermined(f"{path} is not an element of slice {slice_.id}")
    return element


# --- the instance side -----------------------------------------------------------------------


def _step(value: object, name: str) -> list[Any]:
    if not isinstance(value, dict):
        return []
    keys = (
        [name]
        if name in value
        else [k for k in value if k.startswith(name) and k[len(name) :][:1].isupper()]
    )
    found: list[Any] = []
    for key in keys:
        raw = value[key]
        found.extend(raw if isinstance(raw, list) else [raw])
    return found


def values_at(walker: Walker, item: Item, path: str) -> list[Any]:
    """The instance values a discriminator path selects, starting from the item."""
    current = [item.value]
    for segment in segments(path):
        if segment.startswith("extension("):
            url = segment[len("extension(") : -1].strip("'\"")
            current = [
                e
                for v in current
                for e in _step(v, "extension")
                if isinstance(e, dict) and e.get("url") == url
            ]
        elif segment == "resolve()":
            resolved = [
                walker.scope.resolve(v.get("reference", "")) for v in current if isinstance(v, dict)
            ]
            current = [r for r in resolved if r is not None]
        else:
            current = [found for v in current for found in _step(v, segment)]
    return current


def types_at(item: Item, path: str) -> set[str]:
    """The (capitalised) types of the values a type discriminator looks at."""
    parts = segments(path)
    if not parts:
        return {item.type_code[:1].upper() + item.type_code[1:]}
    current = [item.value]
    for segment in parts[:-1]:
        current = [found for v in current for found in _step(v, segment)]
    last = parts[-1]
    found: set[str] = set()
    for value in current:
        if not isinstance(value, dict):
            continue
        for key in value:
            if key.startswith(last) and key[len(last) :][:1].isupper():
                found.add(key[len(last) :])
            elif key == last and isinstance(value[key], dict) and "resourceType" in value[key]:
                found.add(value[key]["resourceType"])
    return found
