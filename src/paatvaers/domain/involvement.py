"""That an actor is involved in a child's course, and what shows it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from paatvaers.domain.cpr import Cpr
from paatvaers.domain.organisations import UnitKind


class Evidence(StrEnum):
    """Which source shows the involvement."""

    CASE_INDEX = "case_index"  # an open municipal case (child/family or PPR)
    APPOINTMENT_OVERVIEW = "appointment_overview"  # a course in BUP
    REFERRAL = "referral"  # the GP referred the child
    SCHOOL_CONCERN = "school_concern"  # the school is part of the course (e.g. PPR referral)


@dataclass(frozen=True, slots=True)
class Involvement:
    child_cpr: Cpr
    unit_id: uuid.UUID
    kind: UnitKind
    since: date
    evidence: Evidence
    until: date | None = None

    def active_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)


def involved_kinds(involvements: list[Involvement], day: date) -> frozenset[UnitKind]:
    return frozenset(i.kind for i in involvements if i.active_on(day))
