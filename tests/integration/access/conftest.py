"""The access scenario (tests/support/access.py) in a fresh database, with the consent
simulator running on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from paatvaers.sources.base import SourceName
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from paatvaers.store.db import make_engine
from support.access import NOW, Scenario, build_scenario


@dataclass
class AccessWorld:
    engine: Engine
    database_url: str
    scenario: Scenario
    consent: ConsentClient
    consent_url: str
    world: World


@pytest.fixture
def access_world(fresh_database_url: str) -> Iterator[AccessWorld]:
    world = World(NOW.date())
    engine = make_engine(fresh_database_url)
    try:
        with (
            RunningSimulators(world, sources=[SourceName.CONSENT]) as running,
            ConsentClient(running.urls[SourceName.CONSENT]) as consent,
        ):
            url = running.urls[SourceName.CONSENT]
            scenario = build_scenario(engine, consent)
            yield AccessWorld(engine, fresh_database_url, scenario, consent, url, world)
    finally:
        engine.dispose()
