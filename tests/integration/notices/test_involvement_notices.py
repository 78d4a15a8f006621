"""Involvement notices end to end: ingestion finds a new actor, the job tells the
professionals already involved who opted in, each only as far as they may see it."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from integration.notices.world import NoticeWorld
from paatvaers.domain.organisations import UnitKind
from paatvaers.store.tables import AccessEventRow, InvolvementChangeRow


def _changes(world: NoticeWorld) -> list[tuple[str, str, bool]]:
    with Session(world.engine) as session:
        rows = session.execute(
            select(
                InvolvementChangeRow.child_cpr,
                InvolvementChangeRow.kind,
                InvolvementChangeRow.processed_at.is_not(None),
            ).order_by(InvolvementChangeRow.id)
        ).all()
    return [(cpr, kind, done) for cpr, kind, done in rows]


def test_a_new_case_notifies_each_involved_professional_once_and_no_one_without_permission(
    notice_world: NoticeWorld,
) -> None:
    world = notice_world
    world.give_consent()  # a custody holder lets the municipality's cases reach health care
    world.add_case(UnitKind.CHILD_FAMILY)

    world.ingest_cases()
    first = world.job().once()
    again = world.job().once()

    assert _changes(world) == [(world.child.value, "child_family", True)]
    assert (first, again) == (1, 0)
    # The GP (cases_to_health, with consent) and the PPR psychologist (cases_in_municipality,
    # within their data restrictions): one notice each, with one item.
    assert [count for _id, count in world.notices("laege")] == [1]
    assert [count for _id, count in world.notices("ppr")] == [1]
    # Clinic staff opted in but receive no case data; BUP did not opt in; the family
    # department's own social worker is the new actor.
    assert world.notices("klinik") == []
    assert world.notices("bup") == []
    assert world.notices("raadgiver") == []


def test_the_job_logs_what_it_read_on_each_recipients_behalf(notice_world: NoticeWorld) -> None:
    world = notice_world
    world.give_consent()
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job().once()
    with Session(world.engine) as session:
        logged = session.execute(
            select(AccessEventRow.username, AccessEventRow.data_flow, AccessEventRow.action)
            .where(AccessEventRow.purpose.like("Notifikation%"))
            .order_by(AccessEventRow.username)
        ).all()
    assert [tuple(row) for row in logged] == [
        ("klinik", "cases_to_health", "decide"),
        ("laege", "cases_to_health", "read"),
        ("ppr", "cases_in_municipality", "read"),
    ]


def test_without_consent_the_gp_gets_no_notice_and_the_psychologist_does(
    notice_world: NoticeWorld,
) -> None:
    world = notice_world
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job().once()
    assert world.notices("laege") == []
    assert [count for _id, count in world.notices("ppr")] == [1]


def test_the_first_build_announces_nothing_and_an_unchanged_rebuild_neither(
    notice_world: NoticeWorld,
) -> None:
    world = notice_world  # the world's setup built involvement once, from an empty table
    with Session(world.engine) as session:
        involved = session.scalar(select(func.count()).select_from(text("involvement")))
    assert involved == 4  # PPR, BUP, the referring GP, the school
    world.ingest_cases()
    assert _changes(world) == []
    assert world.job().once() == 0
