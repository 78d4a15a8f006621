"""Danish civil registration numbers (CPR) and their replacement forms.

Rules follow HL7 Denmark dk-core 3.4.0 (`DkCoreCprIdentifier.fsh`, `DkCoreeCprIdentifier.fsh`)
and the CPR office's description of the number:

* DDMMYY-SSSS; the day/month must be valid, but **no modulus-11 check** is made, because
  numbers without a valid check digit have been issued since 1 October 2007.
* The 7th digit together with YY gives the century.
* The last digit is odd for men and even for women.
* Replacement numbers: X-eCPR (national; 7th char 1|7, then two letters and a digit) and
  D-eCPR (regional; 7th char 0|5|6, then two letters and a digit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
X_ECPR_SYSTEM = "urn:oid:1.2.208.176.1.6.1.1"
D_ECPR_SYSTEM = "urn:oid:1.2.208.176.1.6.1.3"

# The dk-core invariant, verbatim: DDMM validity only, any six digits after it.
_CPR_PATTERN = re.compile(
    r"^((((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))"
    r"|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))"
    r"|((0[1-9]|1[0-9]|2[0-9])(02)))[0-9]{6})$"
)
_ECPR_PATTERN = re.compile(r"^(?P<ddmmyy>[0-9]{6})(?P<kind>[0-9])[A-Z]{2}[0-9]$")


class InvalidCpr(ValueError):
    """Raised for a string that is neither a CPR number nor a replacement CPR number."""


class CprKind(StrEnum):
    CPR = "cpr"
    X_ECPR = "x-ecpr"  # national replacement number
    D_ECPR = "d-ecpr"  # regional replacement number


# The 7th character of a replacement number tells which kind it is.
_REPLACEMENT_KIND = {
    "1": CprKind.X_ECPR,
    "7": CprKind.X_ECPR,
    "0": CprKind.D_ECPR,
    "5": CprKind.D_ECPR,
    "6": CprKind.D_ECPR,
}


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


def birth_year(yy: int, seventh_digit: int) -> int:
    """The full year of birth from YY and the 7th digit (the CPR office's century table)."""
    if seventh_digit <= 3:
        return 1900 + yy
    if seventh_digit in (4, 9):
        return 2000 + yy if yy <= 36 else 1900 + yy
    # 5-8
    return 2000 + yy if yy <= 57 else 1800 + yy


@dataclass(frozen=True, slots=True)
class Cpr:
    """A validated CPR number (10 digits, no hyphen) or a replacement number."""

    value: str
    kind: CprKind

    @classmethod
    def parse(cls, raw: str) -> Cpr:
        """Accept `DDMMYYSSSS` or `DDMMYY-SSSS`; reject anything else with a clear reason."""
        text = raw.strip()
        if len(text) == 11 and text[6] == "-":
            text = text[:6] + text[7:]
        if _CPR_PATTERN.fullmatch(text):
            birth_date_of(text)  # 29 February in a non-leap year passes the pattern
            return cls(text, CprKind.CPR)
        match = _ECPR_PATTERN.fullmatch(text)
        if match and _PATTERN_DDMM.fullmatch(match["ddmmyy"][:4]):
            kind = _REPLACEMENT_KIND.get(match["kind"])
            if kind is not None:
                _date_from(text[:6], seventh_digit=4)  # the date must exist
                return cls(text, kind)
        raise InvalidCpr(f"not a CPR or replacement CPR number: {raw!r}")

    @property
    def is_replacement(self) -> bool:
        return self.kind is not CprKind.CPR

    @property
    def identifier_system(self) -> str:
        return {
            CprKind.CPR: CPR_SYSTEM,
            CprKind.X_ECPR: X_ECPR_SYSTEM,
            CprKind.D_ECPR: D_ECPR_SYSTEM,
        }[self.kind]

    @property
    def birth_date(self) -> date:
        """Birth date. Replacement numbers carry a date but no century rule; they are
        read with the modern rule (7th digit treated as 4), which suits children."""
        if self.kind is CprKind.CPR:
            return birth_date_of(self.value)
        return _date_from(self.value[:6], seventh_digit=4)

    @property
    def sex(self) -> Sex | None:
        """From the last digit; replacement numbers end in a digit but carry no sex."""
        if self.kind is not CprKind.CPR:
            return None
        return Sex.MALE if int(self.value[9]) % 2 else Sex.FEMALE

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)

    def formatted(self) -> str:
        return f"{self.value[:6]}-{self.value[6:]}"

    def __str__(self) -> str:
        return self.value


_PATTERN_DDMM = re.compile(
    r"^(((0[1-9]|1[0-9]|2[0-9]|3[0-1])(01|03|05|07|08|10|12))"
    r"|((0[1-9]|1[0-9]|2[0-9]|30)(04|06|09|11))"
    r"|((0[1-9]|1[0-9]|2[0-9])(02)))$"
)


def _date_from(ddmmyy: str, seventh_digit: int) -> date:
    day, month, yy = int(ddmmyy[0:2]), int(ddmmyy[2:4]), int(ddmmyy[4:6])
    try:
        return date(birth_year(yy, seventh_digit), month, day)
    except ValueError as exc:
        raise InvalidCpr(f"no such birth date in {ddmmyy!r}: {exc}") from exc


def birth_date_of(cpr: str) -> date:
    """Birth date of a 10-digit CPR number."""
    return _date_from(cpr[:6], int(cpr[6]))


def age_on(born: date, day: date) -> int:
    """Completed years on `day`. A child born on 29 February turns a year older on 1 March in
    non-leap years, as Danish law counts it."""
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def is_valid_cpr(raw: str) -> bool:
    try:
        Cpr.parse(raw)
    except InvalidCpr:
        return False
    return True


# Synthetic people carry a 9 as the 8th digit (the second of the serial), a high serial as in
# MedCom's national test numbers. Real numbers can have one too, so the mark only makes a
# synthetic number recognisable; the `*_synthetic` flag stored beside every CPR column is what
# the platform trusts. (A two-digit mark ran out of numbers at national scale: it leaves only
# 30 numbers per birth date and sex.)
SYNTHETIC_MARK_POSITION = 7
SYNTHETIC_MARK = "9"


def has_synthetic_mark(value: str) -> bool:
    return len(value) == 10 and value[SYNTHETIC_MARK_POSITION] == SYNTHETIC_MARK


def seventh_digits_for(year: int) -> tuple[int, ...]:
    """The 7th digits that give `year` under the century rule."""
    return tuple(d for d in range(10) if birth_year(year % 100, d) == year)


def synthetic_cpr(born: date, seventh_digit: int, last_digit: int, ninth_digit: int = 9) -> Cpr:
    """A synthetic CPR number: valid date, the century digit, the synthetic mark, any 9th
    digit, and a last digit whose parity gives the sex."""
    if seventh_digit not in seventh_digits_for(born.year):
        raise InvalidCpr(f"7th digit {seventh_digit} does not give the year {born.year}")
    value = f"{born:%d%m%y}{seventh_digit}{SYNTHETIC_MARK}{ninth_digit}{last_digit}"
    return Cpr.parse(value)
