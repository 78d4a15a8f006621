"""The adapter of each source, chosen in one place."""

from __future__ import annotations

import importlib

from paatvaers.sources.base import PassOptions, SourceAdapter, SourceName

# The order of a complete ingest: units and institutions before the records that name them,
# so a first run already resolves references (later runs do not depend on the order).
INGEST_ORDER = (
    SourceName.ORG_REGISTRY,
    SourceName.INSTITUTIONS,
    SourceName.CPR,
    SourceName.CASE_INDEX,
    SourceName.APPOINTMENTS,
)

_ADAPTERS = {
    SourceName.CASE_INDEX: "CaseIndexAdapter",
    SourceName.ORG_REGISTRY: "OrgRegistryAdapter",
    SourceName.CPR: "CprAdapter",
    SourceName.INSTITUTIONS: "InstitutionsAdapter",
    SourceName.APPOINTMENTS: "AppointmentsAdapter",
}


def make_adapter(
    source: SourceName, base_url: str | None = None, options: PassOptions | None = None
) -> SourceAdapter:
    """The adapter a deployment uses; `base_url` None means the simulator's address."""
    module = importlib.import_module(f"paatvaers.sources.{source.value}.adapter")
    adapter_class = getattr(module, _ADAPTERS[source])
    adapter: SourceAdapter = adapter_class(base_url, options=options)
    return adapter
