"""Identifiers of organisations and institutions, with the rules dk-core and the registers use.

* SOR: the health sector's organisation register; at least 11 digits (dk-core `SORIdentifier`).
* GLN (EAN location number): 13 digits with a GS1 mod-10 check digit.
* CVR: 8 digits with a mod-11 check (weights 2,7,6,5,4,3,2,1).
* FK Organisation: a UUID, written `urn:uuid:…` in FHIR.
* STIL institution number: 6 digits.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
GLN_SYSTEM = (
    "https://www.gs1.org/gln"  # the spelling dk-core 3.4.0 (used by CareCommunication 5.0.2) has
)
CVR_SYSTEM = "http://cvr.dk"
FK_ORG_SYSTEM = "https://kombit.dk/sts/organisation"

_SOR = re.compile(r"^[0-9]{11,}$")
_GLN = re.compile(r"^[0-9]{13}$")
_CVR = re.compile(r"^[0-9]{8}$")
_INST = re.compile(r"^[0-9]{6}$")
_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


class InvalidIdentifier(ValueError):
    """Raised for an identifier that breaks its register's rule; the message says which."""


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before it: weights 3,1,3,… from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def cvr_is_valid(value: str) -> bool:
    if not _CVR.fullmatch(value):
        return False
    return sum(int(d) * w for d, w in zip(value, _CVR_WEIGHTS, strict=True)) % 11 == 0


@dataclass(frozen=True, slots=True)
class Sor:
    value: str

    def __post_init__(self) -> None:
        if not _SOR.fullmatch(self.value):
            raise InvalidIdentifier(f"SOR code must be at least 11 digits: {self.value!r}")

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Gln:
    value: str

    def __post_init__(self) -> None:
        if not _GLN.fullmatch(self.value):
            raise InvalidIdentifier(f"GLN must be 13 digits: {self.value!r}")
        if gs1_check_digit(self.value[:12]) != int(self.value[12]):
            raise InvalidIdentifier(f"GLN check digit is wrong: {self.value!r}")

    @classmethod
    def from_body(cls, body12: str) -> Gln:
        return cls(body12 + str(gs1_check_digit(body12)))

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Cvr:
    value: str

    def __post_init__(self) -> None:
        if not _CVR.fullmatch(self.value):
            raise InvalidIdentifier(f"CVR number must be 8 digits: {self.value!r}")
        if not cvr_is_valid(self.value):
            raise InvalidIdentifier(f"CVR number fails the modulus-11 check: {self.value!r}")

    @classmethod
    def from_body(cls, body7: str) -> Cvr | None:
        """The CVR number with these first seven digits, or None when no check digit fits
        (a remainder of 10 has no digit)."""
        partial = sum(int(d) * w for d, w in zip(body7, _CVR_WEIGHTS[:7], strict=True))
        check = (-partial) % 11
        return None if check == 10 else cls(body7 + str(check))

    def as_urn(self) -> str:
        """The form the case index uses for an owner organisation."""
        return f"urn:oio:cvr-nr:{self.value}"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class FkOrgUuid:
    value: uuid.UUID

    @classmethod
    def parse(cls, raw: str) -> FkOrgUuid:
        text = raw.removeprefix("urn:uuid:")
        try:
            return cls(uuid.UUID(text))
        except ValueError as exc:
            raise InvalidIdentifier(f"FK Organisation id must be a UUID: {raw!r}") from exc

    def as_urn(self) -> str:
        return f"urn:uuid:{self.value}"

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class InstitutionNumber:
    """STIL's institution number (`INST_NR`)."""

    value: str

    def __post_init__(self) -> None:
        if not _INST.fullmatch(self.value):
            raise InvalidIdentifier(f"STIL institution number must be 6 digits: {self.value!r}")

    def __str__(self) -> str:
        return self.value
