"""The state the simulators serve: the synthetic population, split the way the national
sources hold it, with change times so that incremental passes and deletions can be served.

Tests change the world in-process (`world.cases.put(...)`, `.delete(...)`) while the simulators
run in a background thread; every access goes through one lock.
"""

from __future__ import annotations

import threading
import uuid
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from paatvaers.domain.appointments import Appointment
from paatvaers.domain.cases import Case
from paatvaers.domain.consent import ConsentEvent, ConsentKind, ConsentRecord, ConsentState
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.enrollment import Enrollment
from paatvaers.domain.organisations import OrgUnit, StaffMember, UnitKind
from paatvaers.population.consents import consents_for
from paatvaers.population.generator import Population
from paatvaers.sources.base import (
    AppointmentWithPerformer,
    EnrollmentWithInstitution,
    Entity,
    PersonWithGp,
    SourceName,
)

T = TypeVar("T")
E = TypeVar("E")

MUNICIPAL_KINDS = frozenset({UnitKind.CHILD_FAMILY, UnitKind.PPR})


class Clock:
    """A deterministic clock: every change is one millisecond after the previous one."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def tick(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time on by `delta` (tests of consents running out)."""
        self._now += delta
        return self._now

    @property
    def now(self) -> datetime:
        return self._now


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record the source serves broken, in its own format, verbatim."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    key: str
    value: T | Malformed
    changed_at: datetime

    @property
    def position(self) -> tuple[datetime, str]:
        return (self.changed_at, self.key)


class SourceStore(Generic[T]):
    """One kind of record as a source holds them: current records and tombstones, ordered by
    change time so a pass can page through them with a stable cursor."""

    def __init__(self, clock: Clock, lock: threading.RLock) -> None:
        self._clock = clock
        self._lock = lock
        self._entries: dict[str, Entry[T]] = {}
        self._deleted: dict[str, datetime] = {}
        # Entries in change order, rebuilt only after a change: a pass over an unchanged store
        # sorts once, and each page finds its start by bisection.
        self._ordered: list[Entry[T]] | None = None

    def put(self, key: str, value: T | Malformed) -> None:
        with self._lock:
            self._entries[key] = Entry(key, value, self._clock.tick())
            self._deleted.pop(key, None)
            self._ordered = None

    def put_all(self, items: Iterable[tuple[str, T]]) -> None:
        for key, value in items:
            self.put(key, value)

    def delete(self, key: str) -> None:
        with self._lock:
            if self._entries.pop(key, None) is not None:
                self._deleted[key] = self._clock.tick()
                self._ordered = None

    def get(self, key: str) -> T | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or isinstance(entry.value, Malformed):
            return None
        return entry.value

    def values(self) -> list[T]:
        with self._lock:
            return [e.value for e in self._entries.values() if not isinstance(e.value, Malformed)]

    def __len__(self) -> int:
        return len(self._entries)

    def _in_order(self) -> list[Entry[T]]:
        with self._lock:
            if self._ordered is None:
                self._ordered = sorted(self._entries.values(), key=lambda e: e.position)
            return self._ordered

    def page(
        self, since: datetime | None, after: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[Entry[T]], tuple[datetime, str] | None]:
        """Up to `limit` entries changed after `since`, in change order, starting after the
        position `after`; and the position to continue from, or None at the end."""
        ordered = self._in_order()
        start = 0
        if since is not None:
            start = bisect_right(ordered, (since, "\uffff"), key=lambda e: e.position)
        if after is not None:
            start = max(start, bisect_right(ordered, after, key=lambda e: e.position))
        chunk = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return chunk, (chunk[-1].position if more and chunk else None)

    def deleted_since(self, since: datetime) -> list[tuple[str, datetime]]:
        with self._lock:
            return sorted(
                ((k, t) for k, t in self._deleted.items() if t > since), key=lambda kt: kt[1]
            )

    def high_water_mark(self) -> datetime:
        """The latest change (or deletion) this store has seen."""
        with self._lock:
            times = [e.changed_at for e in self._entries.values()] + list(self._deleted.values())
        return max(times, default=datetime.min.replace(tzinfo=UTC))


class AlreadyWithdrawn(Exception):
    """A consent can be withdrawn once; a new consent is a new record."""


class ConsentStore:
    """The consent service's records, looked up by the person they concern. A record changes
    only by a withdrawal, which appends to its history; nothing is overwritten or deleted.

    Tests plant broken records (`put_malformed`, served verbatim among the person's records)
    and switch the service off (`out_of_service`: every call answers 503)."""

    def __init__(self, clock: Clock, lock: threading.RLock) -> None:
        self._clock = clock
        self._lock = lock
        self._records: dict[uuid.UUID, ConsentRecord] = {}
        self._by_subject: dict[str, list[uuid.UUID]] = {}
        self._malformed: dict[str, list[bytes]] = {}
        self.out_of_service = False

    def put(self, record: ConsentRecord) -> None:
        with self._lock:
            if record.id not in self._records:
                self._by_subject.setdefault(record.subject_cpr.value, []).append(record.id)
            self._records[record.id] = record

    def put_all(self, records: Iterable[ConsentRecord]) -> None:
        for record in records:
            self.put(record)

    def put_malformed(self, subject_cpr: str, payload: bytes) -> None:
        with self._lock:
            self._malformed.setdefault(subject_cpr, []).append(payload)

    def get(self, record_id: uuid.UUID) -> ConsentRecord | None:
        with self._lock:
            return self._records.get(record_id)

    def concerning(
        self, subject_cpr: str, template: str | None = None
    ) -> tuple[list[ConsentRecord], list[bytes]]:
        """The person's records (of one template, if given) in the order they were given,
        and the broken records planted for the person."""
        with self._lock:
            records = [self._records[i] for i in self._by_subject.get(subject_cpr, [])]
            broken = list(self._malformed.get(subject_cpr, []))
        chosen = [r for r in records if template is None or r.template == template]
        return sorted(chosen, key=lambda r: (r.given_at, str(r.id))), broken

    def give(
        self,
        kind: ConsentKind,
        template: str,
        subject: Cpr,
        giver: Cpr,
        valid_until: date | None,
    ) -> ConsentRecord:
        with self._lock:
            at = self._clock.tick()
            record = ConsentRecord(
                id=uuid.uuid4(),
                kind=kind,
                template=template,
                subject_cpr=subject,
                giver_cpr=giver,
                given_at=at,
                valid_until=valid_until,
                history=(ConsentEvent(at, ConsentState.GIVEN, giver),),
            )
            self.put(record)
        return record

    def withdraw(self, record_id: uuid.UUID, by: Cpr) -> ConsentRecord:
        """Raises KeyError for an unknown record, AlreadyWithdrawn for a withdrawn one."""
        with self._lock:
            record = self._records[record_id]
            if record.withdrawn_at is not None:
                raise AlreadyWithdrawn(
                    f"samtykke {record_id} blev tilbagekaldt {record.withdrawn_at}"
                )
            at = self._clock.tick()
            event = ConsentEvent(at, ConsentState.WITHDRAWN, by)
            withdrawn = replace(record, withdrawn_at=at, history=(*record.history, event))
            self._records[record_id] = withdrawn
        return withdrawn

    def __len__(self) -> int:
        return len(self._records)


class World:
    """Every source's records, built from one population."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.lock = threading.RLock()
        self.clock = Clock(datetime.combine(as_of, time(0), tzinfo=UTC))
        self.persons: SourceStore[PersonWithGp] = self._store()  # key: CPR
        self.cases: SourceStore[Case] = self._store()  # key: case UUID
        self.org_units: SourceStore[OrgUnit] = self._store()  # key: FK Organisation UUID
        self.users: SourceStore[StaffMember] = self._store()  # key: Bruger UUID
        self.institutions: SourceStore[OrgUnit] = self._store()  # key: institution number
        self.enrollments: SourceStore[Enrollment] = self._store()  # key: child CPR
        self.appointments: SourceStore[AppointmentWithPerformer] = self._store()  # key: id
        # CPR numbers for which the appointment overview shares nothing: a custody holder
        # blocked sharing, and the service filters before answering.
        self.sharing_blocked: set[str] = set()
        # Digitalt Samtykke: asked live, so its records need no change times.
        self.consents = ConsentStore(self.clock, self.lock)

    def _store(self) -> SourceStore[Any]:
        return SourceStore(self.clock, self.lock)

    @classmethod
    def from_population(cls, population: Population) -> World:
        world = cls(population.as_of)
        delivered = deliveries(population)
        world.persons.put_all(
            (p.child.cpr.value, p) for p in _of(delivered[SourceName.CPR], PersonWithGp)
        )
        world.org_units.put_all(
            (str(u.id), u) for u in _of(delivered[SourceName.ORG_REGISTRY], OrgUnit)
        )
        world.users.put_all(
            (str(s.id), s) for s in _of(delivered[SourceName.ORG_REGISTRY], StaffMember)
        )
        world.cases.put_all((str(c.id), c) for c in _of(delivered[SourceName.CASE_INDEX], Case))
        institutions = _of(delivered[SourceName.INSTITUTIONS], OrgUnit)
        world.institutions.put_all(
            (u.institution_number.value, u) for u in institutions if u.institution_number
        )
        world.enrollments.put_all(
            (e.enrollment.child_cpr.value, e.enrollment)
            for e in _of(delivered[SourceName.INSTITUTIONS], EnrollmentWithInstitution)
        )
        # The service holds every appointment; it filters blocked patients when it answers.
        by_sor = {u.sor.value: u for u in population.org_units if u.sor is not None}
        world.appointments.put_all(
            (str(a.id), AppointmentWithPerformer(a, by_sor[a.performer_sor.value]))
            for a in population.appointments
        )
        world.sharing_blocked = set(population.appointment_sharing_blocked)
        world.consents.put_all(consents_for(population))
        return world

    def shared_appointments(self, patient_cpr: str) -> list[Appointment]:
        """What the appointment overview may hand out for a patient: nothing when sharing is
        blocked."""
        if patient_cpr in self.sharing_blocked:
            return []
        return [
            a.appointment
            for a in self.appointments.values()
            if a.appointment.patient_cpr.value == patient_cpr
        ]


def deliveries(population: Population) -> dict[SourceName, list[Entity]]:
    """What each national source holds of the population: the simulators serve it, and the
    population writer stores it as if it had been ingested."""
    units = {u.id: u for u in population.org_units}
    by_sor = {u.sor.value: u for u in population.org_units if u.sor is not None}
    by_number = {
        u.institution_number.value: u for u in population.org_units if u.institution_number
    }
    municipal = [u for u in population.org_units if u.kind in MUNICIPAL_KINDS]
    municipal_ids = {u.id for u in municipal}
    return {
        SourceName.CPR: [
            PersonWithGp(c, _gp(population, units, c.cpr.value)) for c in population.children
        ],
        SourceName.ORG_REGISTRY: [
            *municipal,
            *(s for s in population.staff if s.unit_id in municipal_ids),
        ],
        SourceName.CASE_INDEX: list(population.cases),
        SourceName.INSTITUTIONS: [
            *by_number.values(),
            *(
                EnrollmentWithInstitution(e, by_number[e.institution_number.value])
                for e in population.enrollments
            ),
        ],
        SourceName.APPOINTMENTS: [
            AppointmentWithPerformer(a, by_sor[a.performer_sor.value])
            for a in population.appointments
            if a.patient_cpr.value not in population.appointment_sharing_blocked
        ],
    }


def local_staff(population: Population) -> list[StaffMember]:
    """Staff that no national source delivers: health staff are registered in the platform
    itself (their logins come from the regions' and clinics' own user administration)."""
    municipal_ids = {u.id for u in population.org_units if u.kind in MUNICIPAL_KINDS}
    return [s for s in population.staff if s.unit_id not in municipal_ids]


def _of(entities: list[Entity], kind: type[E]) -> list[E]:
    return [e for e in entities if isinstance(e, kind)]


def _gp(population: Population, units: dict[uuid.UUID, OrgUnit], cpr: str) -> OrgUnit | None:
    gp_id = population.gp_of.get(cpr)
    return units[gp_id] if gp_id is not None else None
