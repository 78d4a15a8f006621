"""Receive → acknowledgement round trips between the platform and simulated GP and BUP
systems, over the mailbox transport, with real CareCommunication and Acknowledgement bundles
validated against the published profiles on both sides."""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.support.medcom import Correspondence, running_correspondence

from paatvaers.correspondence import outbox
from paatvaers.correspondence.envelope import unwrap, wrap
from paatvaers.correspondence.worker import Worker
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.medcom._fhir import JsonDict
from paatvaers.medcom.codes import AckOutcome, Activity
from paatvaers.medcom.model import AttachmentFile
from paatvaers.medcom.reader import read_carecommunication
from paatvaers.medcom.serialisation import from_json, to_json
from paatvaers.store.tables import (
    MedcomMessageRow,
    MedcomOutboxRow,
    MedcomQuarantineRow,
    MedcomThreadRow,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[Correspondence]:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        yield world


def _gp_writes(world: Correspondence, text: str = "Hej, vi har set barnet i dag.") -> str:
    return world.gp.write(world.family, world.patient, text).message_id


def _stored(world: Correspondence, message_id: str) -> MedcomMessageRow:
    with world.factory() as session:
        return session.scalars(
            select(MedcomMessageRow).where(MedcomMessageRow.message_id == message_id)
        ).one()


def _thread(world: Correspondence, thread_id: str) -> MedcomThreadRow:
    with world.factory() as session:
        return session.scalars(
            select(MedcomThreadRow).where(MedcomThreadRow.thread_id == thread_id)
        ).one()


def _acks_for(world: Correspondence, message_id: str) -> list[AckOutcome]:
    system = world.gp
    return [a.outcome for a in system.acknowledgements if a.acknowledged_message_id == message_id]


def test_a_new_message_is_stored_threaded_and_acknowledged(world: Correspondence) -> None:
    message_id = _gp_writes(world)
    world.pump()
    stored = _stored(world, message_id)
    assert (stored.direction, stored.kind, stored.ack_outcome) == ("in", "carecommunication", "ok")
    thread = _thread(world, str(stored.thread_id))
    assert thread.child_cpr == world.child.value
    assert thread.latest_message_id == message_id
    assert _acks_for(world, message_id) == [AckOutcome.OK]


def test_a_reply_keeps_the_thread_and_all_earlier_text(world: Correspondence) -> None:
    first = _gp_writes(world, "Første besked fra lægen.")
    world.pump()
    thread_id = str(_stored(world, first).thread_id)
    with world.factory() as session, session.begin():
        reply = world.writer(session).reply(thread_id, "Tak, vi kontakter familien.")
    world.pump()
    received = world.gp.received[reply.message_id]
    assert received.thread_id == thread_id
    assert [s.text for s in received.segments] == [
        "Første besked fra lægen.",
        "Tak, vi kontakter familien.",
    ]
    assert received.activity is Activity.REPLY
    assert received.previous_message_id == first
    assert _stored(world, reply.message_id).delivery == "acknowledged"


def test_a_forward_opens_a_new_thread_and_carries_attachment_content(
    world: Correspondence,
) -> None:
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(
            world.child,
            world.access.scenario.units[UnitKind.GP].id,
            "Se vedhæftede notat.",
            [AttachmentFile("notat.pdf", "application/pdf", PDF)],
        )
    world.pump()
    reply = world.gp.reply(sent.message_id, "Modtaget, tak.")
    world.pump()
    stored_reply = _stored(world, reply.message_id)
    assert stored_reply.ack_outcome == "ok", world.gp.acknowledgements[-1]
    assert _thread(world, sent.thread_id).latest_message_id == reply.message_id
    with world.factory() as session, session.begin():
        forwarded = world.writer(session).forward(
            sent.thread_id, world.access.scenario.units[UnitKind.BUP].id, "Til orientering."
        )
    world.pump()
    at_bup = world.bup.received[forwarded.message_id]
    assert at_bup.thread_id != sent.thread_id
    assert at_bup.activity is Activity.FORWARD
    assert [a.data for a in at_bup.attachments] == [PDF]  # content included again
    assert len(at_bup.segments) == 3
    assert _stored(world, forwarded.message_id).delivery == "acknowledged"


def test_replies_arriving_out_of_order_are_ordered_by_their_own_time(
    world: Correspondence,
) -> None:
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(
            world.child, world.access.scenario.units[UnitKind.GP].id, "Hvordan går det?"
        )
    world.pump()
    moment = datetime.now(UTC)
    early = world.gp.reply(sent.message_id, "Svar 1", at=moment)
    late = world.gp.reply(sent.message_id, "Svar 2", at=moment + timedelta(minutes=5))
    _make_arrive_first(world, late.message_id, early.message_id)
    world.pump()
    thread = _thread(world, sent.thread_id)
    assert thread.latest_message_id == late.message_id  # though it arrived first
    assert _stored(world, early.message_id).ack_outcome == "ok"


def test_a_duplicate_is_answered_as_the_first_and_stored_once(world: Correspondence) -> None:
    message_id = _gp_writes(world)
    world.pump()
    _redeliver(world, message_id, lambda bundle: bundle)
    world.pump()
    assert _acks_for(world, message_id) == [AckOutcome.OK, AckOutcome.OK]
    with world.factory() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(MedcomMessageRow)
                .where(MedcomMessageRow.message_id == message_id)
            )
            == 1
        )
        assert session.scalar(select(func.count()).select_from(MedcomThreadRow)) == 1


def test_the_same_id_with_other_content_is_a_fatal_error_and_quarantined(
    world: Correspondence,
) -> None:
    message_id = _gp_writes(world, "Den rigtige tekst.")
    world.pump()

    def tamper(bundle: JsonDict) -> JsonDict:
        text = to_json(bundle).replace(b"Den rigtige tekst.", b"En anden tekst.")
        return from_json(text)

    _redeliver(world, message_id, tamper)
    world.pump()
    assert _acks_for(world, message_id) == [AckOutcome.OK, AckOutcome.FATAL_ERROR]
    refusal = world.gp.acknowledgements[-1]
    assert [i.code for i in refusal.issues] == ["MSG_DUPLICATE_ID"]
    stored = read_carecommunication(_stored(world, message_id).bundle)
    assert stored.segments[0].text == "Den rigtige tekst."  # the first stays
    with world.factory() as session:
        reasons = list(session.scalars(select(MedcomQuarantineRow.reason)))
    assert any(message_id in reason for reason in reasons)


def test_an_acknowledgement_is_never_acknowledged(world: Correspondence) -> None:
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(
            world.child, world.access.scenario.units[UnitKind.GP].id, "Besked"
        )
    world.pump()
    with world.factory() as session:
        answered = session.scalars(
            select(MedcomMessageRow.acknowledges).where(
                MedcomMessageRow.kind == "acknowledgement", MedcomMessageRow.direction == "out"
            )
        ).all()
    gp_ack = next(m for m in world.gp.sent.values() if m.document_name.startswith("MCM:FCTL"))
    assert gp_ack.message_id not in answered  # we answered nothing the GP acknowledged with
    assert _stored(world, sent.message_id).delivery == "acknowledged"


def test_an_invalid_message_gets_a_fatal_error_naming_the_path(world: Correspondence) -> None:
    message_id = _gp_writes(world)
    _redeliver(world, message_id, _drop_category, first=True)
    world.pump()
    outcomes = _acks_for(world, message_id)
    assert outcomes[0] is AckOutcome.FATAL_ERROR
    issue = world.gp.acknowledgements[0].issues[0]
    assert "category" in (issue.text or "")


def test_no_acknowledgement_means_two_resends_with_new_bundle_ids_then_failed(
    fresh_database_url: str, tmp_path: Path
) -> None:
    with running_correspondence(
        fresh_database_url, tmp_path / "postkasser", ack_timeout=timedelta(0)
    ) as world:
        with world.factory() as session, session.begin():
            sent = world.writer(session).new(
                world.child, world.access.scenario.units[UnitKind.GP].id, "Er der nogen?"
            )
        for _ in range(5):  # the GP system never answers
            world.worker.once()
        files = sorted(world.mailboxes.folder(world.gp.clinic.gln.value).glob("*.xml"))
        assert len(files) == 3  # sent, and sent again twice, each in a new envelope
        stored = _stored(world, sent.message_id)
        assert stored.delivery == "failed"
        assert "ingen kvittering" in str(stored.delivery_note)
        with world.factory() as session:
            outbox = session.scalars(select(MedcomOutboxRow)).one()
        assert (outbox.state, outbox.attempts) == ("failed", 3)


def test_a_message_we_send_is_handed_over_as_stored(world: Correspondence) -> None:
    # The outbox encodes the bundle itself (for the column and the envelope): the envelope
    # carries the stored message, as compact JSON, and the content hash is the message's.
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(
            world.child, world.access.scenario.units[UnitKind.GP].id, "Et spørgsmål om Liva."
        )
    world.worker.once()  # sent; the GP system has not read it yet
    (path,) = world.mailboxes.folder(world.gp.clinic.gln.value).glob("*.xml")
    envelope = unwrap(path.read_bytes())
    stored = _stored(world, sent.message_id)
    assert envelope.data == to_json(stored.bundle)
    assert from_json(envelope.data) == stored.bundle
    assert stored.content_hash == outbox.content_hash(from_json(envelope.data))
    assert stored.delivery == "sent"
    assert read_carecommunication(stored.bundle).segments[-1].text == "Et spørgsmål om Liva."


# -- helpers -------------------------------------------------------------------------------------


def _drop_category(bundle: JsonDict) -> JsonDict:
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Communication":
            del entry["resource"]["category"]
    return bundle


def _redeliver(
    world: Correspondence,
    message_id: str,
    change: Callable[[JsonDict], JsonDict],
    first: bool = False,
) -> None:
    """The GP system's message again, in a new envelope (new Bundle.id), changed by
    `change`; `first` replaces the original, still unread, transmission."""
    envelope = world.gp.sent[message_id]
    bundle = change(from_json(envelope.data))
    bundle["id"] = str(uuid.uuid4())
    again = dataclasses.replace(envelope, envelope_id=bundle["id"], data=to_json(bundle))
    folder = world.mailboxes.folder(world.family.gln.value)
    if first:
        for path in folder.glob("*.xml"):
            path.unlink()
    (folder / f"{again.envelope_id}.xml").write_bytes(wrap(again))


def _make_arrive_first(world: Correspondence, first_id: str, second_id: str) -> None:
    folder = world.mailboxes.folder(world.family.gln.value)
    first = folder / f"{world.gp.sent[first_id].envelope_id}.xml"
    second = folder / f"{world.gp.sent[second_id].envelope_id}.xml"
    stat = second.stat()
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns - 1_000_000_000))


def test_parallel_replies_received_by_two_workers_at_once_are_each_kept_once(
    world: Correspondence,
) -> None:
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(
            world.child, world.access.scenario.units[UnitKind.GP].id, "Til begge læger"
        )
    world.pump()
    moment = datetime.now(UTC)
    replies = [
        world.gp.reply(sent.message_id, f"Parallelt svar {n}", at=moment + timedelta(seconds=n))
        for n in range(6)
    ]
    second = Worker(world.factory, world.mailboxes, world.worker.now, synthetic=True)
    threads = [threading.Thread(target=w.once) for w in (world.worker, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    world.pump()
    for reply in replies:
        assert _stored(world, reply.message_id).ack_outcome == "ok"
        assert _acks_for(world, reply.message_id)[0] is AckOutcome.OK
    assert _thread(world, sent.thread_id).latest_message_id == replies[-1].message_id
    with world.factory() as session:
        assert not session.scalars(select(MedcomQuarantineRow)).all()


def test_two_of_our_own_units_writing_to_each_other_each_keep_the_thread(
    world: Correspondence,
) -> None:
    units = world.access.scenario.units
    with world.factory() as session, session.begin():
        sent = world.writer(session).new(world.child, units[UnitKind.PPR].id, "Til PPR")
    world.pump()
    with world.factory() as session:
        family_thread = session.get_one(
            MedcomThreadRow, (sent.thread_id, units[UnitKind.CHILD_FAMILY].id)
        )
        ppr_thread = session.get_one(MedcomThreadRow, (sent.thread_id, units[UnitKind.PPR].id))
        copies = session.scalars(
            select(MedcomMessageRow.direction).where(MedcomMessageRow.message_id == sent.message_id)
        ).all()
        delivery = session.get_one(MedcomMessageRow, (sent.message_id, "out")).delivery
    assert sorted(copies) == ["in", "out"]  # sent by one unit, received by the other
    assert delivery == "acknowledged"
    assert family_thread.latest_message_id == ppr_thread.latest_message_id == sent.message_id
    with world.factory() as session, session.begin():
        reply = world.writer(session, EmployeeFunction.PPR_PSYKOLOG).reply(
            sent.thread_id, "Svar fra PPR"
        )
    world.pump()
    with world.factory() as session:
        family_thread = session.get_one(
            MedcomThreadRow, (sent.thread_id, units[UnitKind.CHILD_FAMILY].id)
        )
        reply_delivery = session.get_one(MedcomMessageRow, (reply.message_id, "out")).delivery
    assert family_thread.latest_message_id == reply.message_id
    assert reply_delivery == "acknowledged"


def test_an_invalid_outgoing_message_is_neither_stored_nor_sent(world: Correspondence) -> None:
    message = world.gp.write(world.family, world.patient, "Skabelon")  # any valid message
    bundle = _drop_category(from_json(world.gp.sent[message.message_id].data))
    outgoing = outbox.Outgoing(
        kind=outbox.CARE_COMMUNICATION,
        message_id=str(uuid.uuid4()),
        sender_gln=world.family.gln.value,
        receiver_gln=world.gp.clinic.gln.value,
        sent_at=datetime.now(UTC),
    )
    with (
        world.factory() as session,
        session.begin(),
        pytest.raises(outbox.OutgoingMessageInvalid, match="category"),
    ):
        outbox.enqueue(session, bundle, outgoing, datetime.now(UTC))
    with world.factory() as session:
        assert session.get(MedcomMessageRow, (outgoing.message_id, "out")) is None
        assert not session.scalars(select(MedcomOutboxRow)).all()
