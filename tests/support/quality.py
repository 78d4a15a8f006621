"""A synthetic population with planted data-quality defects, served by the real simulators.

`plant` first makes the population free of the defects the quality follow-up looks for (the
generator marks some BUP courses badly on purpose), then plants exactly four:

(a) one municipality whose PPR cases the case index does not have (its PPR systems never
    delivered them), while its family department's cases arrive as usual;
(b) one region with 30 % of its delivered BUP appointments without psychiatry marking;
(c) a named set of municipal units that FK Organisation delivers without a phone number;
(d) one municipality whose case system stopped delivering two days ago: the index last
    registered its cases then, while every other municipality's were registered an hour ago
    (the index's registration time, StsTidspunkt, is what the adapter reads as delivery).

The world's clock is set so that the registration times are relative to `now`, the moment the
test reads the report at: appointments and the other municipalities' cases were registered an
hour before, the stopped municipality's two days before.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from paatvaers.domain.appointments import (
    EPISODE_LABEL_MENTAL_DISORDERS,
    FACILITY_PSYCHIATRIC_UNIT,
    PRACTICE_SETTING_CHILD_PSYCHIATRY,
    AppointmentMarking,
)
from paatvaers.domain.geography import Region
from paatvaers.domain.organisations import UnitKind
from paatvaers.population.generator import Population
from paatvaers.sources.simulation.world import Entry, SourceStore, World

UNMARKED_SHARE = 0.30
STOPPED_FOR = timedelta(days=2)
OTHERS_DELIVERED_AGO = timedelta(hours=1)
UNITS_WITHOUT_PHONE_REGION = Region.NORDJYLLAND
MUNICIPALITIES_WITHOUT_PHONE = 3  # both municipal units of each lose their phone
CORRECT_MARKING = AppointmentMarking(
    PRACTICE_SETTING_CHILD_PSYCHIATRY, FACILITY_PSYCHIATRIC_UNIT, EPISODE_LABEL_MENTAL_DISORDERS
)


@dataclass(frozen=True)
class Planted:
    no_ppr_municipality: str
    stopped_municipality: str
    stopped_systems: frozenset[str]
    stopped_at: datetime
    unmarked_region: str
    unmarked: int
    region_appointments: int
    units_without_phone: dict[uuid.UUID, str]  # unit id -> name
    municipalities_without_phone: frozenset[str]


def defect_free(population: Population) -> Population:
    """The population with every appointment marked correctly as child psychiatry."""
    return replace(
        population,
        appointments=[replace(a, marking=CORRECT_MARKING) for a in population.appointments],
    )


def plant(population: Population, now: datetime, seed: int = 1) -> tuple[World, Planted]:
    clean = defect_free(population)
    children: dict[str, int] = {}
    for child in clean.children:
        children[child.municipality_code] = children.get(child.municipality_code, 0) + 1
    largest = sorted(children, key=lambda code: (-children[code], code))
    no_ppr, stopped = largest[0], largest[1]
    municipality_of_cvr = {
        str(u.cvr): u.municipality_code for u in clean.org_units if u.cvr is not None
    }
    kinds = {u.id: u.kind for u in clean.org_units}

    def owner(case: Any) -> str | None:
        return municipality_of_cvr.get(str(case.owner_cvr))

    ppr_cases = [
        c
        for c in clean.cases
        if owner(c) == no_ppr and kinds[c.responsible_unit_id] is UnitKind.PPR
    ]
    assert ppr_cases, "the chosen municipality has no PPR case to withhold"
    withheld = {c.id for c in ppr_cases}
    clean = replace(clean, cases=[c for c in clean.cases if c.id not in withheld])

    clean, region, unmarked, in_region = _unmark(clean, random.Random(seed))
    clean, without_phone = _remove_phones(clean, {no_ppr, stopped})

    world = World.from_population(clean)
    stopped_at = now - STOPPED_FOR
    # Every case and appointment registered two days ago; then all but the stopped
    # municipality's cases again an hour ago, as their systems went on delivering.
    _register(world, stopped_at, lambda _store, _entry: True)
    stopped_keys = {str(c.id) for c in clean.cases if owner(c) == stopped}
    _register(
        world,
        now - OTHERS_DELIVERED_AGO,
        lambda store, entry: store is not world.cases or entry.key not in stopped_keys,
    )
    return world, Planted(
        no_ppr_municipality=no_ppr,
        stopped_municipality=stopped,
        stopped_systems=frozenset(c.source_system for c in clean.cases if owner(c) == stopped),
        stopped_at=stopped_at,
        unmarked_region=region.value,
        unmarked=unmarked,
        region_appointments=in_region,
        units_without_phone=without_phone,
        municipalities_without_phone=frozenset(
            u.municipality_code or "" for u in clean.org_units if u.id in without_phone
        ),
    )


def _unmark(population: Population, rng: random.Random) -> tuple[Population, Region, int, int]:
    """Unmark exactly 30 % of the delivered appointments of the region with the most."""
    region_of_sor = {
        str(u.sor): Region(u.region) for u in population.org_units if u.sor and u.region
    }
    delivered = [
        a
        for a in population.appointments
        if a.patient_cpr.value not in population.appointment_sharing_blocked
    ]
    by_region: dict[Region, list[uuid.UUID]] = {}
    for a in delivered:
        by_region.setdefault(region_of_sor[str(a.performer_sor)], []).append(a.id)
    region = max(by_region, key=lambda r: (len(by_region[r]), r.value))
    chosen = set(rng.sample(by_region[region], round(UNMARKED_SHARE * len(by_region[region]))))
    unmarked_appointments = [
        replace(a, marking=AppointmentMarking(None, None, None)) if a.id in chosen else a
        for a in population.appointments
    ]
    return (
        replace(population, appointments=unmarked_appointments),
        region,
        len(chosen),
        len(by_region[region]),
    )


def _remove_phones(
    population: Population, avoid: set[str]
) -> tuple[Population, dict[uuid.UUID, str]]:
    """Both municipal units of the first few municipalities of one region lose their phone."""
    municipal = [
        u
        for u in population.org_units
        if u.kind in (UnitKind.CHILD_FAMILY, UnitKind.PPR)
        and u.region == UNITS_WITHOUT_PHONE_REGION.value
        and u.municipality_code not in avoid
    ]
    codes = sorted({u.municipality_code for u in municipal if u.municipality_code})
    chosen = set(codes[:MUNICIPALITIES_WITHOUT_PHONE])
    without = {u.id: u.name for u in municipal if u.municipality_code in chosen}
    units = [replace(u, phone=None) if u.id in without else u for u in population.org_units]
    return replace(population, org_units=units), without


def _register(
    world: World, moment: datetime, again: Callable[[SourceStore[Any], Entry[Any]], bool]
) -> None:
    """Have the sources register their cases and appointments anew at `moment` (the world's
    clock moves there, then on by a millisecond per record)."""
    world.clock.advance(moment - world.clock.now)
    stores: list[SourceStore[Any]] = [world.cases, world.appointments]
    for store in stores:
        for entry in store.page(None, None, 10**9)[0]:
            if again(store, entry):
                store.put(entry.key, entry.value)
