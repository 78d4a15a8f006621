"""R1: who the platform is for, as a rule that says why.

A child is in the target group on a given day when it is 0–17 years old, and at least three
distinct actors are involved in its course, one of them child & adolescent psychiatry (BUP).
Which kinds of actor count depends on the child's age band: the seed says actor involvement is
delimited differently for 0–5 and 6–17, where school-age children involve the full set. The
bands are data, so the joint project can change them without touching the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from paatvaers.domain.cpr import age_on
from paatvaers.domain.organisations import UnitKind


@dataclass(frozen=True, slots=True)
class AgeBand:
    min_age: int
    max_age: int
    counted_kinds: frozenset[UnitKind]

    def contains(self, age: int) -> bool:
        return self.min_age <= age <= self.max_age

    @property
    def label(self) -> str:
        return f"{self.min_age}–{self.max_age}"


class Reason(StrEnum):
    NOT_BORN = "not_born"
    TOO_OLD = "too_old"
    NO_BUP = "no_bup"
    TOO_FEW_ACTORS = "too_few_actors"
    INCLUDED = "included"


@dataclass(frozen=True, slots=True)
class Verdict:
    included: bool
    reason: Reason
    explanation: str
    age: int
    band: AgeBand | None
    counted: frozenset[UnitKind]
    not_counted: frozenset[UnitKind]


FOUR_PROFESSIONS = frozenset({UnitKind.CHILD_FAMILY, UnitKind.PPR, UnitKind.BUP, UnitKind.GP})

DEFAULT_BANDS: tuple[AgeBand, ...] = (
    # Before school: the four professions; daycare is where the child is, not an actor here.
    AgeBand(0, 5, FOUR_PROFESSIONS),
    # School age: the full set of actors, the school included.
    AgeBand(6, 17, frozenset(UnitKind)),
)


@dataclass(frozen=True, slots=True)
class TargetGroupRule:
    bands: tuple[AgeBand, ...] = DEFAULT_BANDS
    min_actors: int = 3
    required_kind: UnitKind = UnitKind.BUP

    def __post_init__(self) -> None:
        ages = sorted(a for band in self.bands for a in range(band.min_age, band.max_age + 1))
        if ages != list(range(18)):
            raise ValueError("age bands must cover 0–17 exactly once")

    def band_for(self, age: int) -> AgeBand | None:
        return next((b for b in self.bands if b.contains(age)), None)

    def evaluate(self, birth_date: date, involved: Iterable[UnitKind], day: date) -> Verdict:
        kinds = frozenset(involved)
        age = age_on(birth_date, day)
        if birth_date > day:
            return self._verdict(Reason.NOT_BORN, "the child is not born yet", age, None, kinds)
        band = self.band_for(age)
        if band is None:
            return self._verdict(
                Reason.TOO_OLD, f"aged {age}, the platform covers 0–17", age, None, kinds
            )
        counted = kinds & band.counted_kinds
        if self.required_kind not in counted:
            text = f"{self.required_kind.value} is not involved"
            return self._verdict(Reason.NO_BUP, text, age, band, kinds)
        if len(counted) < self.min_actors:
            text = (
                f"{len(counted)} of the actor kinds that count for ages {band.label} are involved"
                f" ({', '.join(sorted(counted))}); at least {self.min_actors} are needed"
            )
            return self._verdict(Reason.TOO_FEW_ACTORS, text, age, band, kinds)
        text = (
            f"aged {age} with {len(counted)} actors involved ({', '.join(sorted(counted))}),"
            f" {self.required_kind.value} among them"
        )
        return self._verdict(Reason.INCLUDED, text, age, band, kinds)

    @staticmethod
    def _verdict(
        reason: Reason, text: str, age: int, band: AgeBand | None, kinds: frozenset[UnitKind]
    ) -> Verdict:
        counted = kinds & band.counted_kinds if band else frozenset()
        return Verdict(
            included=reason is Reason.INCLUDED,
            reason=reason,
            explanation=text,
            age=age,
            band=band,
            counted=counted,
            not_counted=kinds - counted,
        )
