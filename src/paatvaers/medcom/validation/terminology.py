"""ValueSet expansion and code membership over the shipped ValueSets and CodeSystems."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from paatvaers.medcom.validation.definitions import Definitions, JsonObject
from paatvaers.medcom.validation.primitives import r4b_field


@dataclass(frozen=True, slots=True)
class Expansion:
    """The codes of a ValueSet; `open_systems` could not be enumerated from shipped files."""

    url: str
    codes: frozenset[tuple[str, str]]
    case_insensitive: frozenset[str]
    open_systems: frozenset[str]

    def contains(self, system: str | None, code: str) -> bool | None:
        """True or False, or None when the system is one that could not be enumerated."""
        if system is None:
            return self.contains_code(code)
        key = code.lower() if system in self.case_insensitive else code
        if (system, key) in self.codes:
            return True
        return None if system in self.open_systems else False

    def contains_code(self, code: str) -> bool | None:
        """For `code` elements, which carry no system: any system of the ValueSet."""
        for system, known in self.codes:
            if known == (code.lower() if system in self.case_insensitive else code):
                return True
        return None if self.open_systems else False


def _concepts(concepts: Iterable[JsonObject]) -> Iterator[JsonObject]:
    for concept in concepts:
        yield concept
        yield from _concepts(concept.get("concept", ()))


def _descendants(
    concepts: Iterable[JsonObject], ancestor: str, inside: bool = False
) -> Iterator[str]:
    for concept in concepts:
        if inside:
            yield concept["code"]
        yield from _descendants(
            concept.get("concept", ()), ancestor, inside or concept["code"] == ancestor
        )


def _filtered(code_system: JsonObject, filters: list[JsonObject]) -> set[str] | None:
    """Codes passing the include's filters; None for a filter this expander does not know."""
    codes = {c["code"] for c in _concepts(code_system.get("concept", ()))}
    for f in filters:
        if f.get("property") == "concept" and f.get("op") in ("is-a", "descendent-of"):
            found = set(_descendants(code_system.get("concept", ()), f["value"]))
            if f["op"] == "is-a":
                found.add(f["value"])
            codes &= found
        else:
            return None
    return codes


class Terminology:
    """Expands ValueSets from the shipped definitions, once each."""

    def __init__(self, definitions: Definitions) -> None:
        self._definitions = definitions
        self._expansions: dict[str, Expansion | None] = {}

    def expansion(self, url: str) -> Expansion | None:
        """The expansion of a shipped ValueSet, or None when the ValueSet is not shipped."""
        if url not in self._expansions:
            value_set = self._definitions.value_sets.get(url)
            self._expansions[url] = None if value_set is None else self._expand(value_set)
        return self._expansions[url]

    def _expand(self, value_set: JsonObject) -> Expansion:
        codes: set[tuple[str, str]] = set()
        open_systems: set[str] = set()
        compose = value_set.get("compose", {})
        for include in compose.get("include", ()):
            codes |= self._include(include, open_systems)
        for exclude in compose.get("exclude", ()):
            codes -= self._include(exclude, set())
        insensitive = {
            system
            for system, _ in codes
            if self._definitions.code_systems.get(system, {}).get("caseSensitive") is False
        }
        normalised = {(s, c.lower() if s in insensitive else c) for s, c in codes}
        return Expansion(
            value_set["url"], frozenset(normalised), frozenset(insensitive), frozenset(open_systems)
        )

    def _include(self, include: JsonObject, open_systems: set[str]) -> set[tuple[str, str]]:
        codes: set[tuple[str, str]] = set()
        for url in include.get("valueSet", ()):
            nested = self.expansion(url.partition("|")[0])
            if nested is None:
                open_systems.add(url)
            else:
                codes |= nested.codes
                open_systems |= nested.open_systems
        system = include.get("system")
        if system is None:
            return codes
        if include.get("concept"):
            return codes | {(system, c["code"]) for c in include["concept"]}
        code_system = self._definitions.code_systems.get(system)
        if code_system is None or code_system.get("content") not in (None, "complete"):
            open_systems.add(system)
            return codes
        found = (
            _filtered(code_system, include["filter"])
            if include.get("filter")
            else {c["code"] for c in _concepts(code_system.get("concept", ()))}
        )
        if found is None:
            open_systems.add(system)
            return codes
        return codes | {(system, code) for code in found}


@cache
def core_codes(type_path: str, element: str) -> frozenset[str] | None:
    """The codes FHIR allows for a `code` element bound to a FHIR core ValueSet.

    FHIR's own ValueSets are not among the published MedCom files. The fhir.resources R4B
    models, generated from the FHIR specification, carry the code list of each required
    binding on a `code` element (`enum_values`); that is the only other offline source.
    `type_path` is the FHIR type holding the element: `Narrative`, `Bundle.entry.request`.
    """
    info = r4b_field(type_path, element)
    extra = getattr(info, "json_schema_extra", None)
    if not isinstance(extra, dict) or not extra.get("enum_values"):
        return None
    return frozenset(str(code) for code in extra["enum_values"])
