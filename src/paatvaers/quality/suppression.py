"""The suppression rule: no figure shown from the quality follow-up may be a count of 1 to 4,
so that no child can be singled out. Zero stays zero (nothing to single out); 5 and more are
shown as they are. A share is suppressed when its numerator or its denominator is 1–4, since
the share and the base would give the small count back.

The report layer (`report.Section`) runs every count and share through these functions when
it is built, so no page, table or CSV can show a raw small count, whoever builds it.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPRESSED = "<5"
SMALLEST_SHOWN = 5

Shown = int | str  # a count as shown: 0, 5 or more, or SUPPRESSED


def suppress(count: int) -> Shown:
    """`count` as it may be shown: 1–4 become SUPPRESSED."""
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    return SUPPRESSED if 0 < count < SMALLEST_SHOWN else count


def is_small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


@dataclass(frozen=True, slots=True)
class Share:
    """A part of a whole, kept as its two counts until it is shown."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not 0 <= self.numerator <= max(self.denominator, 0):
            raise ValueError(f"not a share: {self.numerator} of {self.denominator}")

    @property
    def ratio(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def shown(self) -> float | str | None:
        """The share in per cent (one decimal); SUPPRESSED when either count is 1–4; None
        when there is no whole to take a share of."""
        if self.denominator == 0:
            return None
        if is_small(self.numerator) or is_small(self.denominator):
            return SUPPRESSED
        return round(100 * self.numerator / self.denominator, 1)
