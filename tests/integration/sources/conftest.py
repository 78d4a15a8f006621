"""Fixtures for the source tests: a small population served by the real simulators over
loopback HTTP."""

from __future__ import annotations

from datetime import date

import pytest

from paatvaers.population.generator import Population, generate
from paatvaers.sources.simulation.world import World

SOURCE_AS_OF = date(2026, 11, 26)


@pytest.fixture(scope="module")
def source_population() -> Population:
    return generate(300, 21, SOURCE_AS_OF)


@pytest.fixture
def world(source_population: Population) -> World:
    """A fresh world per test, so a test may change it."""
    return World.from_population(source_population)
