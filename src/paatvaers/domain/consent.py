"""Consent and objection as the national consent service (Digitalt Samtykke) keeps them.

The common public concept model covers both *samtykke* (consent: sharing may happen) and
*frabedelse* (objection: the citizen asks that it does not, like a block in Min Spærring).
A record is given for one template (one data flow), about one person (the child), by one
person (a custody holder, or the child itself); it can be withdrawn and it can lapse.
Its history is kept whole: nothing is overwritten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from paatvaers.domain.clock import danish_day
from paatvaers.domain.cpr import Cpr


class ConsentKind(StrEnum):
    CONSENT = "samtykke"
    OBJECTION = "frabedelse"


class ConsentState(StrEnum):
    GIVEN = "givet"
    WITHDRAWN = "tilbagekaldt"
    EXPIRED = "udloebet"


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One step in a record's history: given, withdrawn, renewed."""

    at: datetime
    state: ConsentState
    by_cpr: Cpr  # who did it (the giver, or staff assisting them is recorded by the service)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: uuid.UUID
    kind: ConsentKind
    template: str  # the service's template id; the policy file names one per data flow
    subject_cpr: Cpr  # whom the data are about: the child
    giver_cpr: Cpr  # who gave it: a custody holder, or the child from 15 in health matters
    given_at: datetime
    valid_until: date | None  # lapses after this day unless renewed
    withdrawn_at: datetime | None = None
    history: tuple[ConsentEvent, ...] = ()

    def state_at(self, moment: datetime) -> ConsentState:
        if self.withdrawn_at is not None and self.withdrawn_at <= moment:
            return ConsentState.WITHDRAWN
        if self.valid_until is not None and danish_day(moment) > self.valid_until:
            return ConsentState.EXPIRED
        return ConsentState.GIVEN

    def in_force_at(self, moment: datetime) -> bool:
        return self.given_at <= moment and self.state_at(moment) is ConsentState.GIVEN


@dataclass(frozen=True, slots=True)
class ConsentTemplate:
    """A template (skabelon) of the consent service: one data flow a consent or objection is
    about, worded for the citizen who gives it."""

    id: str
    title: str  # Danish, as the citizen sees it
    description: str


APPOINTMENTS_TEMPLATE = "paatvaers.aftaler-til-kommune.v1"
CASES_TEMPLATE = "paatvaers.sager-til-sundhed.v1"
CONTACTS_TEMPLATE = "paatvaers.kontakter-til-sundhed.v1"

# The templates the platform registers with the service; the access policy file names them.
CONSENT_TEMPLATES: dict[str, ConsentTemplate] = {
    t.id: t
    for t in (
        ConsentTemplate(
            APPOINTMENTS_TEMPLATE,
            "Aftaler i børne- og ungdomspsykiatrien deles med kommunen",
            "Barnets socialrådgiver og PPR-psykolog i kommunen kan se, hvornår barnet har"
            " aftaler i børne- og ungdomspsykiatrien. En frabedelse på denne skabelon"
            " blokerer delingen.",
        ),
        ConsentTemplate(
            CASES_TEMPLATE,
            "Kommunens sager om barnet vises for sundhedsvæsenet",
            "Børne- og ungdomspsykiatrien og barnets praktiserende læge kan se, hvilke sager"
            " børne- og familieafdelingen og PPR har om barnet (sagens offentlige titel).",
        ),
        ConsentTemplate(
            CONTACTS_TEMPLATE,
            "Sagsbehandlerens kontaktoplysninger vises for sundhedsvæsenet",
            "Børne- og ungdomspsykiatrien og barnets praktiserende læge kan se navn og"
            " telefonnummer på barnets sagsbehandler og enhed i kommunen.",
        ),
    )
}
