"""The notice job's guarantees: grouping within the window, nothing lost when it fails or the
consent service is away, and each change taken once when two jobs run at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from integration.notices.world import APPOINTMENTS_TEMPLATE, NoticeWorld, add_child
from paatvaers.domain.cpr import synthetic_cpr
from paatvaers.domain.organisations import UnitKind
from paatvaers.notices import job as job_module
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.store.tables import InvolvementChangeRow, NoticeItemRow, NoticeRow


def _unprocessed(world: NoticeWorld) -> int:
    with Session(world.engine) as session:
        return int(
            session.scalar(select(func.count()).where(InvolvementChangeRow.processed_at.is_(None)))
            or 0
        )


def test_changes_within_the_window_join_one_notice_and_a_later_one_starts_another(
    notice_world: NoticeWorld,
) -> None:
    world = notice_world
    world.give_consent(APPOINTMENTS_TEMPLATE)  # BUP courses may reach the municipality
    start = world.now + timedelta(minutes=1)
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job(at=start).once()
    world.add_course("900000000011", "BUP Nord")
    world.ingest_cases()
    world.job(at=start + timedelta(minutes=30)).once()
    world.add_course("900000000012", "BUP Syd")
    world.ingest_cases()
    world.job(at=start + timedelta(minutes=61)).once()

    # The psychologist: the case and the first course in one notice, the later course in a
    # new one (the window is 60 minutes from the notice's first item).
    assert [count for _id, count in world.notices("ppr")] == [2, 1]
    # The GP may see the case (no consent to cases was given: not even that) but no flow
    # shows a BUP course to a GP.
    assert world.notices("laege") == []


def test_a_read_notice_is_not_added_to(notice_world: NoticeWorld) -> None:
    world = notice_world
    world.give_consent(APPOINTMENTS_TEMPLATE)
    start = world.now + timedelta(minutes=1)
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job(at=start).once()
    with Session(world.engine) as session, session.begin():
        notice = session.scalars(select(NoticeRow)).one()
        notice.read_at = start
    world.add_course("900000000011", "BUP Nord")
    world.ingest_cases()
    world.job(at=start + timedelta(minutes=5)).once()
    assert [count for _id, count in world.notices("ppr")] == [1, 1]


def test_a_job_that_fails_before_it_commits_loses_nothing_and_announces_nothing(
    notice_world: NoticeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = notice_world
    world.give_consent()
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    original = job_module.add_item
    calls = []

    def add_then_crash(*args: object, **kwargs: object) -> object:
        calls.append(1)
        notice = original(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("killed after the first notice was written")
        return notice  # pragma: no cover

    monkeypatch.setattr(job_module, "add_item", add_then_crash)
    with pytest.raises(RuntimeError):
        world.job().once()
    assert calls == [1]
    assert _unprocessed(world) == 1
    assert world.notices("laege") == [] and world.notices("ppr") == []

    monkeypatch.setattr(job_module, "add_item", original)
    assert world.job().once() == 1
    assert [count for _id, count in world.notices("laege")] == [1]
    assert [count for _id, count in world.notices("ppr")] == [1]
    assert _unprocessed(world) == 0


def test_a_change_waits_while_the_consent_service_is_away(notice_world: NoticeWorld) -> None:
    world = notice_world
    world.give_consent()
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    with ConsentClient("http://127.0.0.1:9", timeout=0.5) as away:
        assert world.job(consent=away).once() == 1
    with Session(world.engine) as session:
        change = session.scalars(select(InvolvementChangeRow)).one()
        assert (change.processed_at, change.attempts) == (None, 1)
        due = change.due_at
    # No notice for anyone: not even the psychologist, whose flow needs no consent, is told
    # before the change as a whole could be decided.
    assert world.notices("ppr") == [] and world.notices("laege") == []
    assert world.job().once() == 0  # not due yet
    assert world.job(at=due).once() == 1
    assert [count for _id, count in world.notices("laege")] == [1]
    assert [count for _id, count in world.notices("ppr")] == [1]


def test_a_change_another_job_holds_is_skipped_not_waited_for(notice_world: NoticeWorld) -> None:
    world = notice_world
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    with Session(world.engine) as holder, holder.begin():
        holder.scalars(select(InvolvementChangeRow).with_for_update()).one()
        assert world.job().once() == 0
    assert world.job().once() == 1


def test_two_jobs_at_once_take_each_change_once(notice_world: NoticeWorld) -> None:
    world = notice_world
    children = [synthetic_cpr(world.child.birth_date, 4, n, 8) for n in range(1, 6)]
    for n, child in enumerate(children):
        add_child(world, child, synthetic_cpr(world.holder.birth_date, 0, n, 8), f"Barn {n}")
        world.add_case(UnitKind.PPR, days_ago=100, child=child)
    world.ingest_cases()
    world.job().once()  # the new children's first actors
    first_new = _last_change(world) + 1
    for child in [world.child, *children]:
        world.add_case(UnitKind.CHILD_FAMILY, child=child)
    world.ingest_cases()
    assert _unprocessed(world) == 6

    jobs = [world.job(), world.job()]
    taken: list[int] = []
    threads = [threading.Thread(target=lambda j=j: taken.append(j.once())) for j in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(taken) == 6
    assert _unprocessed(world) == 0
    with Session(world.engine) as session:
        items = session.execute(
            select(NoticeItemRow.change_id, func.count())
            .where(NoticeItemRow.change_id >= first_new)
            .group_by(NoticeItemRow.change_id)
        ).all()
    # One item per change: the psychologist's (no consent lets the cases reach the GP).
    assert len(items) == 6 and all(count == 1 for _change, count in items)


def test_units_that_became_involved_together_are_not_told_about_each_other(
    notice_world: NoticeWorld,
) -> None:
    world = notice_world
    child = synthetic_cpr(world.child.birth_date, 4, 3, 8)
    add_child(world, child, synthetic_cpr(world.holder.birth_date, 0, 3, 8), "Bo Nybarn")
    world.add_case(UnitKind.PPR, days_ago=3, child=child)
    world.ingest_cases()  # PPR, BUP, the referring GP and the school, all at once
    assert _unprocessed(world) == 4
    world.job().once()
    # The psychologist's PPR is new itself, so nobody was there to tell but the GP clinic on
    # the patient list. It sees the new school (no consent needed), not the BUP course (no
    # flow) nor the PPR case (no consent to cases given).
    assert world.notices("ppr") == []
    with Session(world.engine) as session:
        flows = session.scalars(
            select(NoticeItemRow.data_flow)
            .join(NoticeRow, NoticeRow.id == NoticeItemRow.notice_id)
            .where(NoticeRow.user_id == world.users["laege"])
        ).all()
    assert flows == ["school_to_health"]


def _last_change(world: NoticeWorld) -> int:
    with Session(world.engine) as session:
        return int(session.scalar(select(func.max(InvolvementChangeRow.id))) or 0)
