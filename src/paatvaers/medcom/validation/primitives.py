"""FHIR R4 primitive types in JSON, and the element types of FHIR R4 outside the profiles.

The regular expressions are the ones the FHIR R4 specification gives for each primitive
(datatypes.html). Where a profile's snapshot does not expand a data type (an unconstrained
`HumanName`, say), its child elements and their types come from the FHIR R4 model that
fhirpathpy ships (`path2Type`), since FHIR's own StructureDefinitions are not shipped.
"""

from __future__ import annotations

import importlib
import re
import types
import typing
from functools import cache

from fhirpathpy.models import models

from paatvaers.medcom.validation.definitions import FHIRPATH_SYSTEM

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_DATE = rf"{_YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_FULL_DATE = (
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
)

_PATTERNS: dict[str, str] = {
    "string": r"[ \r\n\t\S]+",
    "markdown": r"[ \r\n\t\S]+",
    "xhtml": r"[ \r\n\t\S]+",
    "uri": r"\S*",
    "url": r"\S*",
    "canonical": r"\S*",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "id": r"[A-Za-z0-9\-\.]{1,64}",
    "code": r"[^\s]+(\s[^\s]+)*",
    "base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+",
    "date": _DATE,
    "dateTime": rf"{_DATE}(T{_TIME}{_ZONE})?",
    "instant": rf"{_FULL_DATE}T{_TIME}{_ZONE}",
    "time": _TIME,
}
# ASCII: as in the Java validator, `\s` is ASCII whitespace (a no-break space is content).
_REGEXES = {name: re.compile(pattern, re.ASCII) for name, pattern in _PATTERNS.items()}
# Without whitespace, FHIR's base64Binary pattern means: groups of four characters of the
# alphabet, that is a length divisible by 4. That is checked without the pattern (whose
# groups cost a millisecond on an attachment's 30 kB, and a plain character class still a
# quarter of one): the ASCII bytes less the alphabet's must leave nothing. With whitespace,
# the pattern decides.
_BASE64_ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/="
# `[ \r\n\t\S]+` (string, markdown, xhtml) with ASCII `\S`: one character or more, none of
# them a form feed or a vertical tab. Narratives and texts are long: tested without the
# pattern, the same meaning.
_TEXT_TYPES = frozenset({"string", "markdown", "xhtml"})

_INTEGERS = {"integer": -(2**31), "unsignedInt": 0, "positiveInt": 1}
PRIMITIVES = frozenset({*_PATTERNS, *_INTEGERS, "boolean", "decimal"})
_R4 = models["r4"]


_IS_PRIMITIVE: dict[str, bool] = {}


def is_primitive(type_code: str) -> bool:
    found = _IS_PRIMITIVE.get(type_code)
    if found is None:
        found = _IS_PRIMITIVE[type_code] = type_code in PRIMITIVES or type_code.startswith(
            FHIRPATH_SYSTEM
        )
    return found


def _number_problem(type_code: str, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "expected a number" if type_code == "decimal" else "expected an integer"
    if type_code == "decimal":
        return None
    if not isinstance(value, int):
        return "expected an integer"
    return None if _INTEGERS[type_code] <= value < 2**31 else "integer out of range"


def primitive_problem(type_code: str, value: object) -> str | None:
    """Why `value` is not a valid JSON value of the primitive type, or None."""
    if type_code == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if type_code == "decimal" or type_code in _INTEGERS:
        return _number_problem(type_code, value)
    if not isinstance(value, str):
        return "expected a string"  # every other primitive, element ids and extension urls too
    if _plainly_valid(type_code, value):
        return None
    regex = _REGEXES.get(type_code)
    if regex is not None and not regex.fullmatch(value):
        return f"not a valid {type_code}: {value!r}"
    return None


def _plainly_valid(type_code: str, value: str) -> bool:
    """Long texts and attachments, valid by their pattern, found so without it."""
    if type_code in _TEXT_TYPES:
        return bool(value) and "\f" not in value and "\v" not in value
    return type_code == "base64Binary" and _plain_base64(value)


def _plain_base64(value: str) -> bool:
    """Characters of the base64 alphabet only, and a length divisible by 4."""
    if not value or len(value) % 4:
        return False
    try:
        data = value.encode("ascii")
    except UnicodeEncodeError:
        return False
    return not data.translate(None, _BASE64_ALPHABET)


@cache
def _backbone_paths() -> frozenset[str]:
    """Paths of FHIR R4 backbone elements: path2Type lists only their children."""
    return frozenset(path.rsplit(".", 1)[0] for path in _R4["path2Type"] if path.count(".") > 1)


@cache
def base_element_type(type_path: str, element: str) -> str | None:
    """The FHIR R4 type of `element` inside `type_path` (`HumanName`, `family` -> `string`).

    A JSON name of a choice (`valueString`) is listed as such. Backbone elements come back as
    `BackboneElement`: their children live under their own path (`Communication.payload`).
    """
    path = f"{type_path}.{element}"
    found = _R4["path2Type"].get(path)
    if found is not None:
        return str(found)
    if path in _backbone_paths() or path in _R4["pathsDefinedElsewhere"]:
        return "BackboneElement"
    return None


def defined_elsewhere(path: str) -> str | None:
    """For a content reference (`Bundle.entry.link`), the path that defines its children."""
    found = _R4["pathsDefinedElsewhere"].get(path)
    return None if found is None else str(found)


def r4b_field(type_path: str, element: str) -> object:
    """The fhir.resources R4B model field of `element` in `type_path` (`Bundle.entry.request`,
    `method`), or None. The R4B models, generated from the FHIR specification, are the only
    offline source of what fhirpathpy's model lacks: code lists and which elements repeat."""
    module_name = type_path.partition(".")[0]
    class_name = "".join(part[:1].upper() + part[1:] for part in type_path.split("."))
    try:
        module = importlib.import_module(f"fhir.resources.R4B.{module_name.lower()}")
    except ImportError:
        return None
    fields: dict[str, object] = getattr(getattr(module, class_name, None), "model_fields", {})
    return fields.get(element) or fields.get(f"{element}__fhir__")


def _is_list_type(annotation: object) -> bool:
    origin = typing.get_origin(annotation)
    if origin is list:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_list_type(arg) for arg in typing.get_args(annotation))
    return False


@cache
def base_element_repeats(type_path: str, element: str) -> bool | None:
    """Whether `element` of `type_path` repeats in FHIR (an array in JSON); None: unknown."""
    field = r4b_field(type_path, element)
    return None if field is None else _is_list_type(getattr(field, "annotation", None))
