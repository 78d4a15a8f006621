"""STIL: the real adapter against the institution register and enrollment simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx2
import pytest

from paatvaers.domain.enrollment import Enrollment, InstitutionType
from paatvaers.domain.organisations import OrgUnit, UnitKind
from paatvaers.sources.base import (
    EnrollmentWithInstitution,
    PassOptions,
    RawRecord,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.institutions.adapter import (
    InstitutionsAdapter,
    parse_enrollment,
    parse_institution,
)
from paatvaers.sources.institutions.simulator import (
    add_malformed_examples,
    enrollment_record,
    institution_record,
)
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from support.sources import only, parse_records, records_of

STIL = SourceName.INSTITUTIONS


@pytest.fixture
def sims(world: World) -> Iterator[RunningSimulators]:
    with RunningSimulators(world, sources=[STIL]) as running:
        yield running


@pytest.fixture
def make(sims: RunningSimulators) -> Callable[..., InstitutionsAdapter]:
    """Adapters against the simulator."""

    def adapter(page_size: int = 500) -> InstitutionsAdapter:
        return InstitutionsAdapter(sims.urls[STIL], options=PassOptions(page_size=page_size))

    return adapter


def _parse_all(
    adapter: InstitutionsAdapter, records: Sequence[RawRecord]
) -> tuple[set[OrgUnit], set[EnrollmentWithInstitution], dict[str, str]]:
    entities, rejected = parse_records(adapter, records)
    units = {e for e in entities if isinstance(e, OrgUnit)}
    rest = [e for e in entities if not isinstance(e, OrgUnit)]
    return units, only(rest, EnrollmentWithInstitution), rejected


def _expected(world: World) -> set[EnrollmentWithInstitution]:
    return {
        EnrollmentWithInstitution(e, world.institutions.get(e.institution_number.value))  # type: ignore[arg-type]
        for e in world.enrollments.values()
    }


def test_full_pass_reads_institutions_and_enrollments(
    world: World, make: Callable[..., InstitutionsAdapter]
) -> None:
    adapter = make()
    pages = list(adapter.pages(None, None))
    assert pages[-1].next_cursor is None and all(p.next_cursor for p in pages[:-1])
    units, enrollments, rejected = _parse_all(adapter, records_of(pages))
    assert rejected == {}
    assert units == set(world.institutions.values())
    assert {u.kind for u in units} == {UnitKind.SCHOOL, UnitKind.DAYCARE}
    assert enrollments == _expected(world)
    assert {e.enrollment.institution_type for e in enrollments} == set(InstitutionType)
    keys = {r.key for r in records_of(pages)}
    assert keys == {str(u.institution_number) for u in units} | {
        e.enrollment.child_cpr.value for e in enrollments
    }


def test_paging_and_resuming_at_a_cursor(
    world: World, make: Callable[..., InstitutionsAdapter]
) -> None:
    adapter = make(page_size=100)
    pages = list(adapter.pages(None, None))
    institutions, enrollments = len(world.institutions), len(world.enrollments)
    assert institutions % 100 and enrollments % 100  # so each listing ends with a short page
    sizes = [len(p.records) for p in pages]
    split = institutions // 100 + 1
    assert sizes[:split] == [100] * (split - 1) + [institutions % 100]
    assert sizes[split:] == [100] * (enrollments // 100) + [enrollments % 100]
    for at in (0, split - 1, split):  # within a listing, and at the turn to the enrollments
        resumed = list(adapter.pages(None, pages[at].next_cursor))
        assert [r.key for r in records_of(resumed)] == [r.key for r in records_of(pages[at + 1 :])]
    assert {p.high_water_mark for p in pages} == {world.clock.now.isoformat()}


def test_incremental_pass_returns_changes_and_removals(
    world: World, make: Callable[..., InstitutionsAdapter]
) -> None:
    adapter = make()
    mark = list(adapter.pages(None, None))[-1].high_water_mark
    school = next(u for u in world.institutions.values() if u.kind is UnitKind.SCHOOL)
    assert school.institution_number is not None
    renamed = replace(school, name="Den Nye Skole", phone=None)
    world.institutions.put(school.institution_number.value, renamed)
    closed = next(u for u in world.institutions.values() if u.kind is UnitKind.DAYCARE)
    assert closed.institution_number is not None
    world.institutions.delete(closed.institution_number.value)
    pupil = next(e for e in world.enrollments.values() if not e.is_daycare)
    promoted = replace(pupil, main_group="9.A", grade="9", since=world.as_of - timedelta(days=1))
    world.enrollments.put(pupil.child_cpr.value, promoted)
    left = next(e for e in world.enrollments.values() if e.is_daycare)
    world.enrollments.delete(left.child_cpr.value)

    pages = list(adapter.pages(mark, None))
    assert [r.key for r in records_of(pages)] == [
        school.institution_number.value,
        pupil.child_cpr.value,
    ]
    assert [k for p in pages for k in p.deleted_keys] == [
        closed.institution_number.value,
        left.child_cpr.value,
    ]
    units, enrollments, _ = _parse_all(adapter, records_of(pages))
    assert units == {renamed}
    [parsed] = enrollments
    assert parsed.enrollment == promoted
    new_mark = pages[-1].high_water_mark
    assert new_mark is not None and mark is not None and new_mark > mark
    quiet = list(adapter.pages(new_mark, None))
    assert records_of(quiet) == [] and [k for p in quiet for k in p.deleted_keys] == []


def test_malformed_records_are_rejected_and_the_rest_parses(
    world: World, make: Callable[..., InstitutionsAdapter]
) -> None:
    add_malformed_examples(world)
    adapter = make()
    units, enrollments, rejected = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    reasons = sorted(rejected.values())
    assert len(reasons) == 3
    assert any("institution number must be 6 digits" in r for r in reasons)
    assert any("institution type '9999'" in r for r in reasons)
    assert any("cpr '3102129901' is not a valid CPR number" in r for r in reasons)
    assert units == set(world.institutions.values())
    assert enrollments == _expected(world)


def test_institutions_without_phone(world: World, make: Callable[..., InstitutionsAdapter]) -> None:
    adapter = make()
    units, enrollments, _ = _parse_all(adapter, records_of(list(adapter.pages(None, None))))
    silent = {u for u in units if u.phone is None}
    assert silent and silent == {u for u in world.institutions.values() if u.phone is None}
    numbers = {u.institution_number for u in silent}
    assert all(
        e.institution.phone is None
        for e in enrollments
        if e.institution.institution_number in numbers
    )


def _enrollment(world: World, daycare: bool) -> dict[str, Any]:
    chosen: Enrollment = next(e for e in world.enrollments.values() if e.is_daycare is daycare)
    return enrollment_record(chosen, world.institutions.get(chosen.institution_number.value))


@pytest.mark.parametrize(
    ("daycare", "change", "reason"),
    [
        (False, lambda r: r["elev"].update(elevtrin="11"), "0-10 or DT"),
        (False, lambda r: r["elev"].update(elevtrin="DT"), "does not fit"),
        (True, lambda r: r["elev"].update(rolle="Elev"), "does not fit"),
        (False, lambda r: r["elev"].update(hovedgruppenavn=None), "needs a hovedgruppenavn"),
        (False, lambda r: r["institution"].update(instnr="12a456"), "6 digits"),
        (False, lambda r: r["institution"].update(kommunenr="999"), "no Danish municipality"),
        (False, lambda r: r.update(fradato="1990-01-01"), "before the child was born"),
        (False, lambda r: r.update(fradato=None), "not a date"),
    ],
)
def test_enrollment_rules(
    world: World, daycare: bool, change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    record = _enrollment(world, daycare)
    change(record)
    with pytest.raises(RecordRejected, match=reason):
        parse_enrollment(record)


def test_daycare_enrollment(world: World) -> None:
    parsed = parse_enrollment(_enrollment(world, daycare=True))
    assert parsed.enrollment.is_daycare and parsed.enrollment.grade == "DT"
    assert parsed.institution.kind is UnitKind.DAYCARE


def test_institution_rules(world: World) -> None:
    record = institution_record(next(iter(world.institutions.values())))
    record["KOMMUNE_NR"] = None
    with pytest.raises(RecordRejected, match="no Danish municipality"):
        parse_institution(record)
    record["INST_NR"] = None
    with pytest.raises(RecordRejected, match="6 digits"):
        parse_institution(record)


def test_http_failures_raise_source_unavailable(
    world: World, make: Callable[..., InstitutionsAdapter]
) -> None:
    with pytest.raises(SourceUnavailable, match="could not be reached"):
        list(InstitutionsAdapter("http://127.0.0.1:1").pages(None, None))
    with pytest.raises(SourceUnavailable, match="HTTP 400"):
        list(make().pages("yesterday", None))

    def broken(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(502, text="bad gateway")

    failing = InstitutionsAdapter(
        "http://stil.example", client=httpx2.Client(transport=httpx2.MockTransport(broken))
    )
    with pytest.raises(SourceUnavailable, match="HTTP 502"):
        list(failing.pages(None, None))
