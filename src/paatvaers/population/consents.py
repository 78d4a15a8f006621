"""The consents and objections the national consent service holds about the synthetic
children, deterministic by the population's seed.

Only children someone is involved with have consents: nobody asks the parents of a child no
one works with. For them, custody holders consent to most templates, not all; a young person
from 15 often gives the health-side consent (appointments shared with the municipality)
themselves; some consents have lapsed or been withdrawn, and some of those were given again
later, so the service holds real histories. Every child whose custody holder blocked the
sharing of appointments has an objection (frabedelse) on the appointments template instead.

Whose consent counts is the access policy's decision, not this module's: a parent's consent
for a young person of 15 is generated too, because it happens, and the policy ignores it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from paatvaers.domain.children import Child
from paatvaers.domain.consent import (
    APPOINTMENTS_TEMPLATE,
    CASES_TEMPLATE,
    CONTACTS_TEMPLATE,
    ConsentEvent,
    ConsentKind,
    ConsentRecord,
    ConsentState,
)
from paatvaers.domain.cpr import Cpr
from paatvaers.population.generator import Population

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

# Of involved children: a custody holder (or the young person) consented to the template.
CONSENT_SHARE = {APPOINTMENTS_TEMPLATE: 0.75, CASES_TEMPLATE: 0.65, CONTACTS_TEMPLATE: 0.8}
# Health data: from 15 the young person consents themselves (sundhedsloven § 17, stk. 3).
OWN_CONSENT_TEMPLATES = frozenset({APPOINTMENTS_TEMPLATE})
OWN_CONSENT_AGE = 15
OWN_CONSENT_SHARE = 0.8  # of young people from 15 with that consent: they gave it
BOTH_HOLDERS_SHARE = 0.3  # joint custody: both holders consented, each in their own record
LAPSED_SHARE = 0.08  # of consents: ran out before the reference date
WITHDRAWN_SHARE = 0.05  # of consents: withdrawn before the reference date
RENEWED_SHARE = 0.5  # of lapsed or withdrawn consents: given again later
OTHER_HOLDER_WITHDRAWS = 0.3  # joint custody: the other holder withdrew it
VALIDITY_DAYS = (365, 730)  # a consent is given for one or two years
RECENT_DAYS = 300  # a consent in force was given within this many days


def consents_for(population: Population) -> list[ConsentRecord]:
    """Every record the consent service holds about the population's children."""
    draw = _Draw(random.Random(f"consents-{population.seed}"), population.as_of)
    involved = {i.child_cpr.value for i in population.involvements}
    blocked = population.appointment_sharing_blocked
    records: list[ConsentRecord] = []
    for child in population.children:
        is_blocked = child.cpr.value in blocked
        if is_blocked and child.custody:
            records.append(draw.objection(child))
        if child.cpr.value in involved:
            records.extend(draw.consents(child, is_blocked))
    return records


class _Draw:
    """Random draws in a fixed order from one generator."""

    def __init__(self, rng: random.Random, as_of: date) -> None:
        self.rng = rng
        self.as_of = as_of

    def chance(self, share: float) -> bool:
        return self.rng.random() < share

    def record_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, earliest: date, latest: date) -> datetime:
        """A time of day in Danish office-to-evening hours on a day in [earliest, latest]."""
        first = min(earliest, latest)  # a child born on the reference date: its first day
        day = first + timedelta(days=self.rng.randrange((latest - first).days + 1))
        clock = time(self.rng.randrange(8, 21), self.rng.randrange(60))
        return datetime.combine(day, clock, tzinfo=COPENHAGEN)

    def objection(self, child: Child) -> ConsentRecord:
        """A custody holder's block of appointment sharing; it lasts until withdrawn."""
        holder = self.rng.choice(child.custody).cpr
        yesterday = self.as_of - timedelta(days=1)
        given = self.moment(max(child.birth_date, self.as_of - timedelta(days=700)), yesterday)
        return _given(
            self.record_id(), ConsentKind.OBJECTION, APPOINTMENTS_TEMPLATE, child, holder, given
        )

    def consents(self, child: Child, blocked: bool) -> list[ConsentRecord]:
        records: list[ConsentRecord] = []
        for template, share in CONSENT_SHARE.items():
            if (template == APPOINTMENTS_TEMPLATE and blocked) or not self.chance(share):
                continue
            for giver, earliest in self.givers(child, template):
                records.extend(self.series(child, template, giver, earliest))
        return records

    def givers(self, child: Child, template: str) -> list[tuple[Cpr, date]]:
        """Who consented, each with the first day they could have."""
        own = template in OWN_CONSENT_TEMPLATES and child.age_on(self.as_of) >= OWN_CONSENT_AGE
        if own and self.chance(OWN_CONSENT_SHARE):
            return [(child.cpr, _birthday(child.birth_date, OWN_CONSENT_AGE))]
        holders = list(child.custody)
        if not holders:  # no one holds custody (none in the generated population)
            return []
        if len(holders) < 2 or not self.chance(BOTH_HOLDERS_SHARE):
            holders = [self.rng.choice(holders)]
        return [(h.cpr, child.birth_date) for h in holders]

    def series(
        self, child: Child, template: str, giver: Cpr, earliest: date
    ) -> list[ConsentRecord]:
        """One giver's records for a template: one in force, or an ended one (lapsed or
        withdrawn) possibly followed by a new one."""
        fate = self.rng.random()
        ended: ConsentRecord | None = None
        if fate < LAPSED_SHARE:
            ended = self.lapsed(child, template, giver, earliest)
        elif fate < LAPSED_SHARE + WITHDRAWN_SHARE:
            ended = self.withdrawn(child, template, giver, earliest)
        if ended is None:
            return [self.current(child, template, giver, earliest)]
        if not self.chance(RENEWED_SHARE):
            return [ended]
        end = ended.withdrawn_at.date() if ended.withdrawn_at else ended.valid_until or self.as_of
        return [ended, self.current(child, template, giver, end + timedelta(days=1))]

    def current(self, child: Child, template: str, giver: Cpr, earliest: date) -> ConsentRecord:
        yesterday = self.as_of - timedelta(days=1)
        start = min(max(earliest, self.as_of - timedelta(days=RECENT_DAYS)), yesterday)
        given = self.moment(start, yesterday)
        valid_until = given.date() + timedelta(days=self.rng.choice(VALIDITY_DAYS))
        return _given(
            self.record_id(), ConsentKind.CONSENT, template, child, giver, given, valid_until
        )

    def lapsed(
        self, child: Child, template: str, giver: Cpr, earliest: date
    ) -> ConsentRecord | None:
        """A one-year consent that ran out before the reference date; None when the giver
        could not have given one that long ago."""
        validity = VALIDITY_DAYS[0]
        latest = self.as_of - timedelta(days=validity + 2)
        start = max(earliest, self.as_of - timedelta(days=validity + 500))
        if start > latest:
            return None
        given = self.moment(start, latest)
        valid_until = given.date() + timedelta(days=validity)
        return _given(
            self.record_id(), ConsentKind.CONSENT, template, child, giver, given, valid_until
        )

    def withdrawn(
        self, child: Child, template: str, giver: Cpr, earliest: date
    ) -> ConsentRecord | None:
        """A consent withdrawn on a later day, by the giver or the other custody holder."""
        start = max(earliest, self.as_of - timedelta(days=600))
        latest = self.as_of - timedelta(days=3)
        if start > latest:
            return None
        given = self.moment(start, latest)
        valid_until = given.date() + timedelta(days=self.rng.choice(VALIDITY_DAYS))
        record = _given(
            self.record_id(), ConsentKind.CONSENT, template, child, giver, given, valid_until
        )
        last_day = min(valid_until, self.as_of - timedelta(days=2))
        at = self.moment(given.date() + timedelta(days=1), last_day)
        return _withdraw(record, at, self.withdrawer(child, giver))

    def withdrawer(self, child: Child, giver: Cpr) -> Cpr:
        others = [h.cpr for h in child.custody if h.cpr != giver]
        if giver != child.cpr and others and self.chance(OTHER_HOLDER_WITHDRAWS):
            return others[0]
        return giver


def _given(
    record_id: uuid.UUID,
    kind: ConsentKind,
    template: str,
    child: Child,
    giver: Cpr,
    at: datetime,
    valid_until: date | None = None,
) -> ConsentRecord:
    return ConsentRecord(
        id=record_id,
        kind=kind,
        template=template,
        subject_cpr=child.cpr,
        giver_cpr=giver,
        given_at=at,
        valid_until=valid_until,
        history=(ConsentEvent(at, ConsentState.GIVEN, giver),),
    )


def _withdraw(record: ConsentRecord, at: datetime, by: Cpr) -> ConsentRecord:
    event = ConsentEvent(at, ConsentState.WITHDRAWN, by)
    return replace(record, withdrawn_at=at, history=(*record.history, event))


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February; the birthday falls on 1 March
        return date(born.year + years, 3, 1)
