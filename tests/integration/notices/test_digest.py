"""The e-mail digest: a count and a link to each user who asked for it, never a child's data,
sent once per notice; against a small SMTP server on a socket (no extra dependency)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.notices.world import NoticeWorld
from paatvaers.domain.organisations import UnitKind
from paatvaers.notices.digest import send_digests
from paatvaers.notices.subscriptions import subscribe
from paatvaers.store.db import session_factory
from paatvaers.store.tables import NoticeRow


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
