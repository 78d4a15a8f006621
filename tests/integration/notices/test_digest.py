"""The e-mail digest: a count and a link, never a child's data, sent once per notice and per
meeting invitation; against a small SMTP server on a socket (no extra dependency). Notices
go to users who asked for the digest, platform invitations to the invited professional
without that opt-in, never to the convenor."""

from __future__ import annotations

import socketserver
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from integration.notices.world import NoticeWorld
from paatvaers.domain.organisations import UnitKind
from paatvaers.notices.digest import send_digests
from paatvaers.notices.subscriptions import subscribe
from paatvaers.settings import Settings
from paatvaers.store.db import session_factory
from paatvaers.store.tables import (
    MeetingParticipantRow,
    MeetingRow,
    MeetingTimeRow,
    NoticeRow,
    NoticeSubscriptionRow,
    StaffUserRow,
)


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib to deliver: every message is kept whole."""

    def handle(self) -> None:
        self._say("220 test ESMTP")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "EHLO":
                self._say("250-test", "250 8BITMIME")
            elif verb == "DATA":
                self._say("354 go on")
                self.server.received.append(self._data())  # type: ignore[attr-defined]
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self._say("250 ok")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def _say(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, list[bytes]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"smtp://127.0.0.1:{server.server_address[1]}", server.received  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_the_digest_tells_a_count_and_nothing_about_the_child_once(
    notice_world: NoticeWorld, smtp_server: tuple[str, list[bytes]]
) -> None:
    world = notice_world
    url, received = smtp_server
    settings = world.settings.model_copy(
        update={"smtp_url": url, "public_url": "https://paatvaers.test"}
    )
    with Session(world.engine) as session, session.begin():  # the GP wants no e-mail
        subscribe(session, world.users["laege"], email_digest=False, now=world.now)
    world.give_consent()
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job().once()
    factory = session_factory(world.engine)

    first = send_digests(factory, settings, datetime.now(UTC))
    again = send_digests(factory, settings, datetime.now(UTC))

    assert (first, again) == (1, 0)  # the psychologist only, and only once
    mail = message_from_bytes(received[0], policy=policy.default)
    assert mail["To"] == "ppr@test.example"
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    assert "Du har 1 ny notifikation" in body
    assert "https://paatvaers.test/notifikationer" in body
    for secret in ("Alma", world.child.value, "Familieafdelingen", "sag", "Testby"):
        assert secret not in body and secret not in str(mail["Subject"])
    with Session(world.engine) as session:
        emailed = session.scalars(
            select(NoticeRow.emailed_at).where(NoticeRow.user_id == world.users["ppr"])
        ).one()
    assert emailed is not None


def test_without_an_smtp_server_no_digest_is_sent(notice_world: NoticeWorld) -> None:
    world = notice_world
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job().once()
    assert send_digests(session_factory(world.engine), world.settings, datetime.now(UTC)) == 0


# -- meeting invitations ---------------------------------------------------------------------------

PLACE = "Mødelokale 2, Rådhuset"


def _meeting(
    world: NoticeWorld, convenor: str, closes_in: timedelta = timedelta(days=8)
) -> uuid.UUID:
    """A meeting about the world's child, called by `convenor`, one week from now."""
    meeting_id = uuid.uuid4()
    starts = world.now + timedelta(days=7)
    with Session(world.engine) as session, session.begin():
        unit = session.get_one(StaffUserRow, world.users[convenor]).unit_id
        session.add(
            MeetingRow(
                id=meeting_id,
                child_cpr=world.child.value,
                child_cpr_synthetic=True,
                convenor_user_id=world.users[convenor],
                convenor_unit_id=unit,
                place=PLACE,
                agenda="Alma trives ikke i skolen",
                created_at=world.now,
                closes_at=world.now + closes_in,
            )
        )
        session.flush()
        session.add(
            MeetingTimeRow(
                meeting_id=meeting_id, starts_at=starts, ends_at=starts + timedelta(hours=1)
            )
        )
    _participant(world, meeting_id, convenor, kind="convenor", answer="accepted")
    return meeting_id


def _participant(
    world: NoticeWorld,
    meeting_id: uuid.UUID,
    username: str,
    kind: str = "professional",
    answer: str = "pending",
) -> uuid.UUID:
    """`username` invited in the platform, as meetings/service.py stores them."""
    row_id = uuid.uuid4()
    with Session(world.engine) as session, session.begin():
        staff = session.get_one(StaffUserRow, world.users[username])
        position = len(
            session.scalars(
                select(MeetingParticipantRow.id).where(
                    MeetingParticipantRow.meeting_id == meeting_id
                )
            ).all()
        )
        session.add(
            MeetingParticipantRow(
                id=row_id,
                meeting_id=meeting_id,
                position=position,
                kind=kind,
                unit_id=staff.unit_id,
                staff_user_id=staff.id,
                name=staff.full_name,
                role="Fagperson",
                email=staff.email,
                channel="platform",
                answer=answer,
            )
        )
    return row_id


def _emailed(world: NoticeWorld, row_id: uuid.UUID) -> datetime | None:
    with Session(world.engine) as session:
        return session.get_one(MeetingParticipantRow, row_id).emailed_at


def _settings(world: NoticeWorld, url: str) -> Settings:
    return world.settings.model_copy(
        update={"smtp_url": url, "public_url": "https://paatvaers.test"}
    )


def _mails(received: list[bytes]) -> list[EmailMessage]:
    return [message_from_bytes(m, policy=policy.default) for m in received]


def _body(mail: EmailMessage) -> str:
    return mail.get_body().get_content()  # type: ignore[union-attr,no-any-return]


def test_an_invitation_is_emailed_once_without_the_opt_in_and_not_to_the_convenor(
    notice_world: NoticeWorld, smtp_server: tuple[str, list[bytes]]
) -> None:
    world = notice_world
    url, received = smtp_server
    with Session(world.engine) as session, session.begin():  # PPR never opted in to anything
        session.execute(
            delete(NoticeSubscriptionRow).where(NoticeSubscriptionRow.user_id == world.users["ppr"])
        )
    meeting = _meeting(world, "raadgiver")  # the caseworker, opted in to the digest, calls it
    invited = _participant(world, meeting, "ppr")
    factory = session_factory(world.engine)

    first = send_digests(factory, _settings(world, url), datetime.now(UTC))
    again = send_digests(factory, _settings(world, url), datetime.now(UTC))

    assert (first, again) == (1, 0)
    [mail] = _mails(received)
    assert mail["To"] == "ppr@test.example"
    body = _body(mail)
    assert "Du har 1 ny mødeindkaldelse i" in body
    assert "You have 1 new meeting invitation in" in body
    assert "Log ind for at se dem: https://paatvaers.test/moeder" in body.splitlines()
    assert "notifikationer" not in body
    starts = world.now + timedelta(days=7)
    secrets = ("Alma", world.child.value, "Rådhuset", "Rikke", "Test raadgiver", "PPR", "kl.")
    for secret in (*secrets, f"{starts:%d.%m}", f"{starts:%d-%m}", f"{starts:%m-%d}"):
        assert secret not in body and secret not in str(mail["Subject"])
    assert _emailed(world, invited) is not None


def test_invitations_and_notices_go_in_one_email(
    notice_world: NoticeWorld, smtp_server: tuple[str, list[bytes]]
) -> None:
    world = notice_world
    url, received = smtp_server
    world.give_consent()
    world.add_case(UnitKind.CHILD_FAMILY)
    world.ingest_cases()
    world.job().once()  # a notice for PPR, who asked for the digest
    meeting = _meeting(world, "raadgiver")
    invited = _participant(world, meeting, "ppr")

    sent = send_digests(session_factory(world.engine), _settings(world, url), datetime.now(UTC))

    assert sent == 2  # the GP is told of the notice too, in an e-mail of their own
    [mail] = [m for m in _mails(received) if m["To"] == "ppr@test.example"]
    assert str(mail["Subject"]) == "Mødeindkaldelse i På Tværs – Børn & Unge"
    body = _body(mail)
    assert "Du har 1 ny mødeindkaldelse og 1 ny notifikation i" in body
    assert "https://paatvaers.test/moeder og https://paatvaers.test/notifikationer" in body
    assert _emailed(world, invited) is not None
    with Session(world.engine) as session:
        notices = session.scalars(
            select(NoticeRow.emailed_at).where(NoticeRow.user_id == world.users["ppr"])
        ).all()
    assert notices and None not in notices


def test_no_email_for_answered_closed_own_or_addressless_invitations(
    notice_world: NoticeWorld, smtp_server: tuple[str, list[bytes]]
) -> None:
    world = notice_world
    url, received = smtp_server
    answered = _meeting(world, "raadgiver")
    _participant(world, answered, "ppr", answer="accepted")  # seen and answered already
    closed = _meeting(world, "raadgiver", closes_in=timedelta(hours=-1))
    _participant(world, closed, "ppr")  # the meeting's window has closed
    own = _meeting(world, "ppr")
    _participant(world, own, "ppr")  # the convenor listed again: still their own meeting
    with Session(world.engine) as session, session.begin():
        session.execute(
            update(StaffUserRow)
            .where(StaffUserRow.id == world.users["raadgiver"])
            .values(email=None)
        )
    _participant(world, own, "raadgiver")  # no address to send to

    sent = send_digests(session_factory(world.engine), _settings(world, url), datetime.now(UTC))

    assert (sent, received) == (0, [])
