"""The contract between the national sources and ingestion.

An adapter fetches pages of raw records in the source's own format and parses each record
into domain objects. Parsing is strict: a record that breaks the source's rules raises
`RecordRejected` with a precise reason, and ingestion quarantines it with its raw payload.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from paatvaers.domain.appointments import Appointment
from paatvaers.domain.cases import Case
from paatvaers.domain.children import Child
from paatvaers.domain.enrollment import Enrollment
from paatvaers.domain.organisations import OrgUnit, StaffMember


class SourceName(StrEnum):
    CASE_INDEX = "case_index"  # KOMBIT SF1470 Sags- og Dokumentindeks (SOAP)
    ORG_REGISTRY = "org_registry"  # FK Organisation (GraphQL)
    CPR = "cpr"  # CPR (persons, custody, address protection, moves)
    INSTITUTIONS = "institutions"  # STIL institution register and enrollments
    APPOINTMENTS = "appointments"  # Aftaleoversigten: APD-DK documents via IHE MHD
    CONSENT = "consent"  # Digitalt Samtykke: asked live on every decision, never ingested

    @property
    def default_port(self) -> int:
        """Where the simulator listens by default, and so where the adapter looks."""
        return DEFAULT_PORTS[self]

    @property
    def default_url(self) -> str:
        return f"http://127.0.0.1:{self.default_port}"

    @property
    def danish_name(self) -> str:
        """What a Danish user calls the source."""
        return _DANISH_NAMES[self]


_DANISH_NAMES = {
    SourceName.CASE_INDEX: "Sags- og Dokumentindekset (KOMBIT)",
    SourceName.ORG_REGISTRY: "FK Organisation",
    SourceName.CPR: "CPR-registret",
    SourceName.INSTITUTIONS: "Institutionsregisteret (STIL)",
    SourceName.APPOINTMENTS: "Aftaleoversigten",
    SourceName.CONSENT: "Digitalt Samtykke",
}


DEFAULT_PORTS = {
    SourceName.CASE_INDEX: 8101,
    SourceName.ORG_REGISTRY: 8102,
    SourceName.CPR: 8103,
    SourceName.INSTITUTIONS: 8104,
    SourceName.APPOINTMENTS: 8105,
    SourceName.CONSENT: 8106,
}


class RecordRejected(Exception):
    """A record breaks its source's rules. `reason` says which rule, in one readable line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SourceUnavailable(Exception):
    """The source could not be reached or answered with an error for the whole request."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record exactly as the source delivered it."""

    key: str  # the source's own id of the record (case UUID, CPR number, document id, …)
    payload: bytes  # the record's bytes in the source's format (an XML element, a JSON object)
    media_type: str  # e.g. "application/xml", "application/json"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a pass over a source."""

    records: Sequence[RawRecord]
    deleted_keys: Sequence[str] = ()  # records the source says are gone (incremental passes)
    # Where the next page starts; None when this was the last page of the pass. Ingestion
    # commits it with the page's data, so a killed run resumes here.
    next_cursor: str | None = None
    # The source's high-water mark after this page (e.g. the latest change time seen). The
    # last page's value becomes the `since` of the next incremental run.
    high_water_mark: str | None = None


# What a parse returns. Most sources give a domain object as it is; two carry a unit along
# that the record names and that no other source of ours describes.


@dataclass(frozen=True, slots=True)
class PersonWithGp:
    """CPR's person, with the GP clinic the child is listed with (from the health insurance
    register in a deployment; see docs/sources.md). The choice's date and the clinic before
    it ride on the child (`Child.gp_since`, `previous_gp_sor`), like its latest move."""

    child: Child
    gp: OrgUnit | None


@dataclass(frozen=True, slots=True)
class AppointmentWithPerformer:
    """An appointment and the health unit that performs it, as the APD-DK document names it."""

    appointment: Appointment
    performer: OrgUnit


@dataclass(frozen=True, slots=True)
class EnrollmentWithInstitution:
    enrollment: Enrollment
    institution: OrgUnit


Entity = (
    PersonWithGp
    | Case
    | OrgUnit
    | StaffMember
    | EnrollmentWithInstitution
    | (AppointmentWithPerformer)
)


class SourceAdapter(Protocol):
    """What every source's adapter provides. Only the base URL differs between the simulator
    and a deployment."""

    name: SourceName

    def pages(self, since: str | None, cursor: str | None) -> Iterator[Page]:
        """A pass over the source: everything when `since` is None (full load), otherwise the
        changes (and deletions, where the source reports them) after the high-water mark
        `since`. `cursor` resumes an interrupted pass at the page it names."""
        ...

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        """The domain objects in one raw record; raises RecordRejected."""
        ...

    def close(self) -> None:
        """Release connections the adapter holds."""
        ...


@dataclass
class PassOptions:
    """Tuning shared by the adapters."""

    page_size: int = 500
    timeout_seconds: float = 30.0
    extra_headers: dict[str, str] = field(default_factory=dict)
