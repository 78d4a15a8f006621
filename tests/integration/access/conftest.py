"""The access scenario (tests/support/access.py) in a fresh database, with the consent
simulator running on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.access import AccessWorld, running_access_world


@pytest.fixture
def access_world(fresh_database_url: str) -> Iterator[AccessWorld]:
    with running_access_world(fresh_database_url) as world:
        yield world
