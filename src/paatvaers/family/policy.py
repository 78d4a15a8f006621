"""The citizen rules of the access policy, read strictly from `policies/family.toml`.

Like `access/policy.py`, this module only reads the file, and refuses a file that names
something unknown or leaves a data flow or a unit kind without words, with the place and the
reason: a family page must never fall back to an acronym or to nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from paatvaers.access.policy import PolicyError, read_table, read_text, reject_unknown_keys
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import UnitKind

FAMILY_POLICY_FILE = "family.toml"
K = TypeVar("K", bound=StrEnum)
V = TypeVar("V")


class WithholdLocationFrom(StrEnum):
    # The custody holders who do not live at the child's address (CPR's lives_with_child):
    # the people a name and address protection is usually aimed at.
    CUSTODY_HOLDERS_NOT_AT_CHILD_ADDRESS = "custody_holders_not_at_child_address"


@dataclass(frozen=True, slots=True)
class Words:
    """A text for the family, in Danish and English."""

    da: str
    en: str

    def of(self, lang: str) -> str:
        return self.en if lang == "en" else self.da


@dataclass(frozen=True, slots=True)
class FlowWords:
    what: Words
    basis: Words


@dataclass(frozen=True, slots=True)
class KindWords:
    name: Words
    does: Words


@dataclass(frozen=True, slots=True)
class FamilyPolicy:
    version: str
    custody_holder_sees: bool
    young_person_from_age: int
    withhold_location_from: WithholdLocationFrom
    access_log_years: int
    legal_basis: Words
    legal_reference: str
    review: str
    review_note: str
    flows: dict[DataFlow, FlowWords]
    unit_kinds: dict[UnitKind, KindWords]


@cache
def family_policy(path: Path | None = None) -> FamilyPolicy:
    """The citizen rules in `path`, or those shipped beside data_flows.toml (read once)."""
    if path is None:
        raw = (
            resources.files("paatvaers.access.policies")
            .joinpath(FAMILY_POLICY_FILE)
            .read_text(encoding="utf-8")
        )
        where = FAMILY_POLICY_FILE
    else:
        raw, where = path.read_text(encoding="utf-8"), str(path)
    try:
        document = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{where}: not valid TOML: {e}") from e
    return parse_family_policy(document, where)


def parse_family_policy(document: dict[str, Any], where: str = "family policy") -> FamilyPolicy:
    reject_unknown_keys(document, {"version", "citizen", "flows", "unit_kinds"}, where)
    citizen = read_table(document, "citizen", where)
    place = f"{where}: [citizen]"
    reject_unknown_keys(
        citizen,
        {
            "custody_holder_sees",
            "young_person_from_age",
            "withhold_location_from",
            "access_log_years",
            "legal_basis_da",
            "legal_basis_en",
            "legal_reference",
            "review",
            "review_note",
        },
        place,
    )
    age = citizen.get("young_person_from_age")
    if isinstance(age, bool) or not isinstance(age, int) or not 0 < age < 18:
        raise PolicyError(f"{place}: young_person_from_age must be an age from 1 to 17")
    years = citizen.get("access_log_years")
    if isinstance(years, bool) or not isinstance(years, int) or not 2 <= years <= 10:
        raise PolicyError(f"{place}: access_log_years must be from 2 to 10 (issue #9: 2 at least)")
    sees = citizen.get("custody_holder_sees")
    if not isinstance(sees, bool):
        raise PolicyError(f"{place}: custody_holder_sees must be true or false")
    withhold = citizen.get("withhold_location_from")
    if withhold not in {w.value for w in WithholdLocationFrom}:
        allowed = ", ".join(w.value for w in WithholdLocationFrom)
        raise PolicyError(f"{place}: withhold_location_from must be one of: {allowed}")
    review = read_text(citizen, "review", place)
    if review not in ("proposed", "confirmed"):
        raise PolicyError(f"{place}: review must be 'proposed' or 'confirmed'")
    return FamilyPolicy(
        version=read_text(document, "version", where),
        custody_holder_sees=sees,
        young_person_from_age=age,
        withhold_location_from=WithholdLocationFrom(withhold),
        access_log_years=years,
        legal_basis=_words(citizen, "legal_basis", place),
        legal_reference=read_text(citizen, "legal_reference", place),
        review=review,
        review_note=str(citizen.get("review_note", "")),
        flows=_every(read_table(document, "flows", where), DataFlow, _flow, f"{where}: flows"),
        unit_kinds=_every(
            read_table(document, "unit_kinds", where), UnitKind, _kind, f"{where}: unit_kinds"
        ),
    )


def _every(
    table: dict[str, Any], kind: type[K], read: Callable[[dict[str, Any], str], V], place: str
) -> dict[K, V]:
    """One entry per member of `kind`, no more and no fewer."""
    names = {k.value for k in kind}
    unknown = set(table) - names
    if unknown:
        raise PolicyError(f"{place}: unknown: {', '.join(sorted(unknown))}")
    missing = [k.value for k in kind if k.value not in table]
    if missing:
        raise PolicyError(f"{place}: no words for: {', '.join(missing)}")
    return {k: read(read_table(table, k.value, place), f"{place}.{k.value}") for k in kind}


def _flow(table: dict[str, Any], place: str) -> FlowWords:
    reject_unknown_keys(table, {"what_da", "what_en", "basis_da", "basis_en"}, place)
    return FlowWords(_words(table, "what", place), _words(table, "basis", place))


def _kind(table: dict[str, Any], place: str) -> KindWords:
    reject_unknown_keys(table, {"name_da", "name_en", "does_da", "does_en"}, place)
    return KindWords(_words(table, "name", place), _words(table, "does", place))


def _words(table: dict[str, Any], stem: str, place: str) -> Words:
    return Words(read_text(table, f"{stem}_da", place), read_text(table, f"{stem}_en", place))
