"""Ingest a set of sources, then re-derive who is involved with each child."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import psycopg
from sqlalchemy import Engine

from paatvaers.ingest.involvement import rebuild_involvement
from paatvaers.ingest.pipeline import IngestBusy, Ingestion, Mode, RunSummary
from paatvaers.settings import Settings
from paatvaers.sources.base import PassOptions, SourceName, SourceUnavailable
from paatvaers.sources.registry import INGEST_ORDER, make_adapter


def ingest(
    engine: Engine,
    settings: Settings,
    sources: Iterable[SourceName] = INGEST_ORDER,
    mode: Mode | None = None,
    day: date | None = None,
    progress: Callable[[RunSummary], None] | None = None,
    derive: bool = True,
) -> list[RunSummary]:
    """One run per source, in the order of INGEST_ORDER, then (unless `derive` is False) the
    rebuild of who is involved with each child."""
    wanted = set(sources)
    summaries = []
    for source in (s for s in INGEST_ORDER if s in wanted):
        options = PassOptions(page_size=settings.ingest_page_size)
        adapter = make_adapter(source, settings.source_url(source.value), options)
        try:
            ingestion = Ingestion(engine, adapter, synthetic=settings.sources_are_synthetic)
            summaries.append(ingestion.run(mode, progress))
        except (SourceUnavailable, IngestBusy, OSError, psycopg.Error) as failure:
            # One source failing must not keep the others from being read; its run stays
            # resumable, and the summary says what went wrong.
            summaries.append(
                RunSummary(
                    source.value, (mode or Mode.INCREMENTAL).value, 0, False, error=str(failure)
                )
            )
        finally:
            adapter.close()
    if derive:
        rebuild_involvement(engine, day or date.today())  # noqa: DTZ011 - the local day
    return summaries
