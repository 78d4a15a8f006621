"""The notice world (world.py) in a fresh database, with its simulators running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.notices.world import NoticeWorld, running_notice_world


@pytest.fixture
def notice_world(fresh_database_url: str, tmp_path: Path) -> Iterator[NoticeWorld]:
    with running_notice_world(fresh_database_url, tmp_path) as world:
        yield world
