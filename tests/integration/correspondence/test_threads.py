"""The web client's read side (correspondence.threads) on real exchanges with the simulated
GP system: a thread shown whole and in the order it was written, unread marks, assigning a
thread within the unit, and a reader the access engine denies."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.access import State
from tests.support.medcom import Correspondence, running_correspondence

from paatvaers.access.identity import Principal
from paatvaers.access.policy import load_policy
from paatvaers.access.reading import ChildAccess
from paatvaers.correspondence import threads
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.medcom.model import AttachmentFile, Patient
from paatvaers.store.tables import AccessEventRow, MedcomThreadRow

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SOCIAL_WORKER = EmployeeFunction.SOCIALRAADGIVER
# Who may write about a child, as the shipped policy has it (data flow correspondence).
WRITERS = frozenset(load_policy().of(DataFlow.CORRESPONDENCE).functions)


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[Correspondence]:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        yield world


def _principal(world: Correspondence, function: EmployeeFunction = SOCIAL_WORKER) -> Principal:
    return world.access.scenario.principals[function]


def _access(world: Correspondence, session: Session) -> ChildAccess:
    return world.writer(session).access


def _send(
    world: Correspondence, text: str, attachments: Sequence[AttachmentFile] = ()
) -> tuple[str, str]:
    """A new message from the family department to the GP clinic: (message id, thread id)."""
    gp = world.access.scenario.units[UnitKind.GP].id
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(world.child, gp, text, attachments)
    world.pump()
    return sent.message_id, sent.thread_id


def _view(world: Correspondence, thread_id: str, function: EmployeeFunction = SOCIAL_WORKER):
    with world.factory() as session, session.begin():
        principal = _principal(world, function)
        return threads.thread_view(session, _access(world, session), principal, thread_id)


def _inbox(world: Correspondence, function: EmployeeFunction = SOCIAL_WORKER):
    with world.factory() as session, session.begin():
        principal = _principal(world, function)
        return threads.inbox(session, _access(world, session), principal)


def _mark_read(world: Correspondence, thread_id: str, when: datetime | None = None) -> None:
    with world.factory() as session, session.begin():
        user = _principal(world).user_id
        threads.mark_read(session, thread_id, user, when or datetime.now(UTC))


def _arrive_first(world: Correspondence, first_id: str, second_id: str) -> None:
    """Make the GP's message `first_id` lie in the mailbox before `second_id`."""
    folder = world.mailboxes.folder(world.family.gln.value)
    first = folder / f"{world.gp.sent[first_id].envelope_id}.xml"
    second = folder / f"{world.gp.sent[second_id].envelope_id}.xml"
    stat = second.stat()
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns - 1_000_000_000))


# -- the thread, whole and in order --------------------------------------------------------------


def test_replies_arriving_out_of_order_are_shown_in_the_order_written(
    world: Correspondence,
) -> None:
    message_id, thread_id = _send(world, "Hvordan går det med barnet?")
    moment = datetime.now(UTC).replace(microsecond=0)
    early = world.gp.reply(message_id, "Svar skrevet først", at=moment + timedelta(minutes=1))
    late = world.gp.reply(message_id, "Svar skrevet sidst", at=moment + timedelta(minutes=5))
    _arrive_first(world, late.message_id, early.message_id)
    world.pump()

    answer = _view(world, thread_id)

    assert answer is not None and answer.data is not None
    assert [p.text for p in answer.data.posts] == [
        "Hvordan går det med barnet?",
        "Svar skrevet først",
        "Svar skrevet sidst",
    ]
    assert [p.ours for p in answer.data.posts] == [True, False, False]
    assert answer.data.posts[1].organisation == "Lægerne i Testby"  # from the address book
    assert answer.data.posts[1].author == "Gitte Lægesen"


def test_parallel_replies_each_carrying_their_own_branch_are_all_shown_once(
    world: Correspondence,
) -> None:
    """Both replies answer the first message, so neither carries the other's text; every
    message repeats the first segment, which is still shown once."""
    message_id, thread_id = _send(world, "Første besked")
    moment = datetime.now(UTC).replace(microsecond=0)
    world.gp.reply(message_id, "Gren A", at=moment + timedelta(minutes=2))
    world.gp.reply(message_id, "Gren B", at=moment + timedelta(minutes=1))
    world.pump()

    answer = _view(world, thread_id)

    assert answer is not None and answer.data is not None
    assert [p.text for p in answer.data.posts] == ["Første besked", "Gren B", "Gren A"]


def test_attachments_are_shown_once_with_their_message_and_served_from_the_copy_with_bytes(
    world: Correspondence,
) -> None:
    pdf = AttachmentFile("notat.pdf", "application/pdf", PDF)
    message_id, thread_id = _send(world, "Se notatet.", attachments=[pdf])
    world.gp.reply(message_id, "Tak for notatet.")  # repeats it without the bytes
    world.pump()

    answer = _view(world, thread_id)

    assert answer is not None and answer.data is not None
    first, reply = answer.data.posts
    assert [(a.title, a.downloadable) for a in first.attachments] == [("notat.pdf", True)]
    assert reply.attachments == ()
    assert answer.data.loose_attachments == ()
    attachment_id = first.attachments[0].id
    with world.factory() as session, session.begin():
        got = threads.attachment(
            session, _access(world, session), _principal(world), thread_id, attachment_id
        )
    assert got is not None and got.data is not None
    assert (got.data.title, got.data.content_type, got.data.data) == (
        "notat.pdf",
        "application/pdf",
        PDF,
    )


def test_our_messages_show_their_delivery(world: Correspondence) -> None:
    _, thread_id = _send(world, "Kvitteres denne?")

    answer = _view(world, thread_id)

    assert answer is not None and answer.data is not None
    assert answer.data.posts[0].delivery == threads.Delivery("acknowledged", None)
    summary = next(s for s in _inbox(world) if s.thread_id == thread_id)
    assert summary.delivery == threads.Delivery("acknowledged", None)


# -- unread marks ---------------------------------------------------------------------------------


def test_a_received_message_is_unread_until_the_user_reads_the_thread(
    world: Correspondence,
) -> None:
    world.gp.write(world.family, world.patient, "Ny besked fra lægen.", attachments=())
    world.pump()
    (summary,) = _inbox(world)
    assert summary.unread
    assert (summary.child_name, summary.counterpart) == ("Barn active", "Lægerne i Testby")

    _mark_read(world, summary.thread_id)
    assert not _inbox(world)[0].unread
    # A colleague's marks are their own.
    assert _inbox(world, EmployeeFunction.SAGSBEHANDLER)[0].unread


def test_a_reply_written_before_reading_but_delivered_after_is_unread(
    world: Correspondence,
) -> None:
    message_id, thread_id = _send(world, "Spørgsmål")
    written = datetime.now(UTC) - timedelta(minutes=10)  # delayed on the way
    world.gp.reply(message_id, "Forsinket svar", at=written)
    _mark_read(world, thread_id)  # the user looked before it arrived
    assert not next(s for s in _inbox(world) if s.thread_id == thread_id).unread

    world.pump()

    assert next(s for s in _inbox(world) if s.thread_id == thread_id).unread


def test_our_own_message_is_not_unread_for_its_writer(world: Correspondence) -> None:
    _, thread_id = _send(world, "Min egen besked")
    assert not next(s for s in _inbox(world) if s.thread_id == thread_id).unread


def test_the_inbox_is_newest_first(world: Correspondence) -> None:
    """By the time the latest message was written, whatever order they arrived in."""
    moment = datetime.now(UTC).replace(microsecond=0)
    newer = world.gp.write(world.family, world.patient, "Nyere", at=moment)
    older = world.gp.write(world.family, world.patient, "Ældre", at=moment - timedelta(hours=1))
    world.pump()
    assert [s.thread_id for s in _inbox(world)] == [newer.thread_id, older.thread_id]


# -- assignment -----------------------------------------------------------------------------------


def test_a_thread_is_assigned_only_to_a_colleague_in_the_same_unit(
    world: Correspondence,
) -> None:
    _, thread_id = _send(world, "Hvem tager den?")
    unit = world.access.scenario.units[UnitKind.CHILD_FAMILY].id
    colleague = _principal(world, EmployeeFunction.SAGSBEHANDLER)
    outsider = _principal(world, EmployeeFunction.PPR_PSYKOLOG)

    operations = _principal(world, EmployeeFunction.DRIFT)  # same unit, writes no post

    with world.factory() as session, session.begin():
        threads.assign(session, thread_id, unit, colleague.user_id, WRITERS)
    assert _inbox(world)[0].assigned_to == "Test sagsbehandler"

    for refused_unit, refused_user in (
        (unit, outsider.user_id),
        (unit, uuid.uuid4()),  # nobody
        (outsider.unit.id, outsider.user_id),  # not theirs
        (unit, operations.user_id),  # a colleague whose function may not write
    ):
        with (
            world.factory() as session,
            session.begin(),
            pytest.raises(threads.AssignmentRefused),
        ):
            threads.assign(session, thread_id, refused_unit, refused_user, WRITERS)
    with world.factory() as session:
        assert (
            session.get_one(MedcomThreadRow, (thread_id, unit)).assigned_user_id
            == colleague.user_id
        )

    with world.factory() as session, session.begin():
        threads.assign(session, thread_id, unit, None, WRITERS)
    assert _inbox(world)[0].assigned_to is None
    names = {c.full_name for c in _colleagues(world, unit)}
    # Those in the unit who may write about a child: not the operations user (drift).
    assert names == {"Test socialraadgiver", "Test sagsbehandler"}


def _colleagues(world: Correspondence, unit: uuid.UUID) -> list[threads.Colleague]:
    with world.factory() as session:
        return threads.colleagues(session, unit, WRITERS)


# -- access ---------------------------------------------------------------------------------------


def test_a_denied_reader_gets_the_decision_and_nothing_of_the_thread(
    world: Correspondence,
) -> None:
    """The GP writes about a child the family department no longer has a relationship to:
    the message is received and threaded, but the unit's users may not read it."""
    ended = world.access.scenario.children[State.ENDED]
    pdf = AttachmentFile("notat.pdf", "application/pdf", PDF)
    sent = world.gp.write(world.family, Patient(ended, "ended", ("Barn",)), "Om et barn", [pdf])
    world.pump()
    with world.factory() as session:
        thread_id = session.scalars(select(MedcomThreadRow.thread_id)).one()
    attachment_id = sent.attachments[0].id

    answer = _view(world, thread_id)
    (summary,) = _inbox(world)
    with world.factory() as session, session.begin():
        access = _access(world, session)
        download = threads.attachment(session, access, _principal(world), thread_id, attachment_id)

    assert answer is not None and not answer.permitted and answer.data is None
    assert answer.decision.reason_da.startswith("Du har ingen relation til barnet")
    assert (summary.permitted, summary.child_name, summary.topic) == (False, None, None)
    assert download is not None and download.data is None
    with world.factory() as session:
        logged = session.scalars(
            select(AccessEventRow).where(
                AccessEventRow.child_cpr == ended.value,
                AccessEventRow.data_flow == "correspondence",
            )
        ).all()
    assert len(logged) == 3  # the thread, the inbox line, the attachment
    assert {(e.decision, e.username, e.action) for e in logged} == {
        ("deny", "socialraadgiver", "decide")
    }


def test_another_units_user_does_not_find_the_thread(world: Correspondence) -> None:
    _, thread_id = _send(world, "Kun for familieafdelingen")
    assert _view(world, thread_id, EmployeeFunction.PPR_PSYKOLOG) is None
    assert _inbox(world, EmployeeFunction.PPR_PSYKOLOG) == []


def test_served_here_is_the_web_client_units_only(world: Correspondence) -> None:
    units = world.access.scenario.units
    with world.factory() as session:
        assert threads.served_here(session, units[UnitKind.CHILD_FAMILY].id)
        assert not threads.served_here(session, units[UnitKind.GP].id)  # its own system
        assert threads.served_here(session, units[UnitKind.PPR].id)  # also a web-client unit
        assert not threads.served_here(session, units[UnitKind.SCHOOL].id)  # not registered
        receivers = {r.unit_id for r in threads.receivers(session, units[UnitKind.CHILD_FAMILY].id)}
    assert receivers == {units[UnitKind.GP].id, units[UnitKind.BUP].id, units[UnitKind.PPR].id}
