"""The access policy, read from its reviewable file (`policies/data_flows.toml`).

The file is the rule; this module only reads it and refuses a file that is incomplete or names
something unknown, with the place and the reason, so a mistyped function or obligation can
never silently widen or narrow access.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from paatvaers.domain.cases import Sensitivity
from paatvaers.domain.consent import CONSENT_TEMPLATES
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, UnitKind

E = TypeVar("E", bound=StrEnum)


class PolicyError(ValueError):
    """The policy file is malformed; the message names the place."""


class Obligation(StrEnum):
    WITHHOLD_LOCATION_IF_ADDRESS_PROTECTED = "withhold_location_if_address_protected"
    PUBLIC_TITLE_ONLY = "public_title_only"
    WITHIN_DATA_RESTRICTIONS = "within_data_restrictions"


class ConsentFrom(StrEnum):
    CUSTODY_HOLDER = "custody_holder"  # one custody holder's consent suffices
    ALL_CUSTODY_HOLDERS = "all_custody_holders"


@dataclass(frozen=True, slots=True)
class ConsentRule:
    template: str
    consent_from: ConsentFrom
    child_decides_from_age: int | None = None


@dataclass(frozen=True, slots=True)
class FlowPolicy:
    flow: DataFlow
    name_da: str
    name_en: str
    source: str
    requirement: str
    functions: tuple[EmployeeFunction, ...]
    legal_basis_da: str
    legal_basis_en: str
    legal_reference: str
    review: str
    review_note: str
    target_group_only: bool
    obligations: frozenset[Obligation]
    consent: ConsentRule | None = None
    objection_template: str | None = None
    max_case_sensitivity: Sensitivity | None = None
    # Permitted only at a convened meeting the user's unit takes part in, within its window
    # (engine.MeetingWindow): the §49a-type rule for cross-disciplinary meetings.
    meeting_bound: bool = False

    @property
    def recipients(self) -> tuple[UnitKind, ...]:
        """The kinds of unit that receive the flow: those the allowed functions work in."""
        kinds = {f.unit_kind for f in self.functions}
        return tuple(k for k in UnitKind if k in kinds)


@dataclass(frozen=True, slots=True)
class RelationshipRules:
    municipality_tail_days: int
    gp_tail_days: int
    bup_course_quiet_days: int
    bup_booked_ahead_days: int
    bup_tail_days: int


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    relationships: RelationshipRules
    flows: dict[DataFlow, FlowPolicy]

    def of(self, flow: DataFlow) -> FlowPolicy:
        return self.flows[flow]


DEFAULT_POLICY_FILE = "data_flows.toml"
MAX_DAYS = 3650  # ten years: longer is a typo, and would overflow date arithmetic


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the one shipped with the platform."""
    if path is None:
        text = resources.files("paatvaers.access.policies").joinpath(DEFAULT_POLICY_FILE)
        raw = text.read_text(encoding="utf-8")
        where = DEFAULT_POLICY_FILE
    else:
        raw = path.read_text(encoding="utf-8")
        where = str(path)
    try:
        document = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{where}: not valid TOML: {e}") from e
    return parse_policy(document, where)


def parse_policy(document: dict[str, Any], where: str = "policy") -> Policy:
    reject_unknown_keys(document, {"version", "relationships", "flows"}, where)
    flows_table = read_table(document, "flows", where)
    unknown = set(flows_table) - {f.value for f in DataFlow}
    if unknown:
        raise PolicyError(f"{where}: unknown data flow(s): {', '.join(sorted(unknown))}")
    missing = [f.value for f in DataFlow if f.value not in flows_table]
    if missing:
        raise PolicyError(f"{where}: no rule for data flow(s): {', '.join(missing)}")
    return Policy(
        version=read_text(document, "version", where),
        relationships=_relationships(read_table(document, "relationships", where), where),
        flows={
            flow: _flow(flow, read_table(flows_table, flow.value, f"{where}: flows"), where)
            for flow in DataFlow
        },
    )


def _relationships(table: dict[str, Any], where: str) -> RelationshipRules:
    place = f"{where}: [relationships]"
    reject_unknown_keys(table, set(RelationshipRules.__dataclass_fields__), place)
    return RelationshipRules(
        **{
            name: _days(table, name, place)
            for name in RelationshipRules.__dataclass_fields__  # every field is a day count
        }
    )


_FLOW_KEYS = {
    "name_da",
    "name_en",
    "source",
    "requirement",
    "functions",
    "legal_basis_da",
    "legal_basis_en",
    "legal_reference",
    "review",
    "review_note",
    "target_group_only",
    "obligations",
    "consent",
    "objection_template",
    "max_case_sensitivity",
    "meeting_bound",
}


def _flow(flow: DataFlow, table: dict[str, Any], where: str) -> FlowPolicy:
    place = f"{where}: [flows.{flow.value}]"
    reject_unknown_keys(table, _FLOW_KEYS, place)
    review = read_text(table, "review", place)
    if review not in ("proposed", "confirmed"):
        raise PolicyError(f"{place}: review must be 'proposed' or 'confirmed', not {review!r}")
    consent = table.get("consent")
    sensitivity = table.get("max_case_sensitivity")
    objection = table.get("objection_template")
    if objection is not None:
        objection = _template(table, "objection_template", place)
    return FlowPolicy(
        flow=flow,
        name_da=read_text(table, "name_da", place),
        name_en=read_text(table, "name_en", place),
        source=read_text(table, "source", place),
        requirement=read_text(table, "requirement", place),
        functions=_enum_list(table, "functions", EmployeeFunction, place),
        legal_basis_da=read_text(table, "legal_basis_da", place),
        legal_basis_en=read_text(table, "legal_basis_en", place),
        legal_reference=read_text(table, "legal_reference", place),
        review=review,
        review_note=str(table.get("review_note", "")),
        target_group_only=_flag(table, "target_group_only", place),
        obligations=frozenset(_enum_list(table, "obligations", Obligation, place)),
        consent=None if consent is None else _consent(consent, f"{place}.consent"),
        objection_template=objection,
        max_case_sensitivity=None
        if sensitivity is None
        else _enum_value(Sensitivity, sensitivity, f"{place}: max_case_sensitivity"),
        meeting_bound="meeting_bound" in table and _flag(table, "meeting_bound", place),
    )


def _consent(table: object, place: str) -> ConsentRule:
    if not isinstance(table, dict):
        raise PolicyError(f"{place}: must be a table")
    reject_unknown_keys(table, {"template", "from", "child_decides_from_age"}, place)
    age = table.get("child_decides_from_age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int) or not 0 < age < 18):
        raise PolicyError(f"{place}: child_decides_from_age must be an age from 1 to 17")
    return ConsentRule(
        template=_template(table, "template", place),
        consent_from=_enum_value(ConsentFrom, table.get("from"), f"{place}: from"),
        child_decides_from_age=age,
    )


def reject_unknown_keys(table: dict[str, Any], known: set[str], place: str) -> None:
    unknown = set(table) - known
    if unknown:
        raise PolicyError(f"{place}: unknown key(s): {', '.join(sorted(unknown))}")


def _template(table: dict[str, Any], key: str, place: str) -> str:
    """A consent template the platform has registered with the consent service: a typo must
    not silently switch off a citizen's objection or deny every request."""
    value = read_text(table, key, place)
    if value not in CONSENT_TEMPLATES:
        known = ", ".join(sorted(CONSENT_TEMPLATES))
        raise PolicyError(f"{place}: {key} {value!r} is not a known template ({known})")
    return value


def read_table(document: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """The TOML table `[key]`; PolicyError when it is missing. Also read by the family's
    policy (family/policy.py), like `read_text` and `reject_unknown_keys`."""
    value = document.get(key)
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: [{key}] is missing or not a table")
    return value


def read_text(table: dict[str, Any], key: str, place: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{place}: {key} must be non-empty text")
    return value


def _flag(table: dict[str, Any], key: str, place: str) -> bool:
    value = table.get(key)
    if not isinstance(value, bool):
        raise PolicyError(f"{place}: {key} must be true or false")
    return value


def _days(table: dict[str, Any], key: str, place: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DAYS:
        raise PolicyError(f"{place}: {key} must be a whole number of days from 0 to {MAX_DAYS}")
    return value


def _enum_list(table: dict[str, Any], key: str, kind: type[E], place: str) -> tuple[E, ...]:
    values = table.get(key)
    if not isinstance(values, list):
        raise PolicyError(f"{place}: {key} must be a list")
    return tuple(_enum_value(kind, v, f"{place}: {key}") for v in values)


def _enum_value(kind: type[E], value: object, place: str) -> E:
    if isinstance(value, str) and value in {k.value for k in kind}:
        return kind(value)
    allowed = ", ".join(k.value for k in kind)
    raise PolicyError(f"{place}: {value!r} is not one of: {allowed}")
