"""The worker (`paatvaers worker`): receives what the mailboxes of our units hold, and sends
what the outbox has due, until stopped.

Every step is its own transaction, and nothing is lost when the worker is killed: a received
file is moved aside only after what it held is committed (received again otherwise, and
answered as a duplicate), and an outbox row stays due until its transmission is committed
(transmitted again otherwise, and de-duplicated by the receiver). A database that goes away
is waited for.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from paatvaers.correspondence import inbox, outbox
from paatvaers.correspondence.envelope import unwrap
from paatvaers.correspondence.transports import HttpEndpoint, Mailboxes, Transport
from paatvaers.medcom.errors import MessageError
from paatvaers.settings import Settings
from paatvaers.store.db import session_factory, transaction
from paatvaers.store.polling import poll
from paatvaers.store.tables import MedcomEndpointRow, MedcomQuarantineRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Worker:
    factory: sessionmaker[Session]
    mailboxes: Mailboxes
    now: Callable[[], datetime]
    synthetic: bool
    ack_timeout: timedelta = outbox.ACK_TIMEOUT
    http_token: str | None = None

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        log.info("worker_started", extra={"mailboxes": str(self.mailboxes.root)})
        poll(self.once, stop, interval, log, "worker")

    def once(self) -> int:
        """Receive everything waiting, then send everything due; how much was done."""
        done = 0
        for gln in self._our_glns():
            for path in list(self.mailboxes.waiting(gln)):
                self._receive_file(path)
                done += 1
        while outbox.deliver_next(self.factory, self.route, self.now, self.ack_timeout):
            done += 1
        return done

    def route(self, gln: str) -> Transport:
        """How a message reaches a GLN: its HTTP endpoint if it has one; otherwise its
        mailbox (on VANS every GLN has one, our own units' included)."""
        with self.factory() as session:
            endpoint = session.scalar(select(MedcomEndpointRow).where(MedcomEndpointRow.gln == gln))
        if endpoint is not None and endpoint.transport == "http" and endpoint.address:
            return HttpEndpoint(endpoint.address, self.http_token)
        return self.mailboxes

    def _our_glns(self) -> list[str]:
        with self.factory() as session:
            return list(
                session.scalars(
                    select(MedcomEndpointRow.gln).where(MedcomEndpointRow.transport == "web")
                )
            )

    def _receive_file(self, path: Path) -> None:
        """Receive one file and move it aside. Another worker receiving the same message at
        the same moment makes one of the two transactions fail on the message's key; that
        one is received again, and is then a duplicate. A file that fails for any other
        reason is quarantined with the error, so that it neither blocks the mailbox nor is
        lost."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # another worker has taken it
            return
        try:
            self._receive_twice_if_raced(data, str(path))
        except OperationalError:
            raise  # the database is away: the file stays, and is read again later
        except Exception as exc:
            log.exception("medcom_receive_failed", extra={"origin": str(path)})
            with transaction(self.factory) as session:
                session.add(_quarantined(data, str(path), f"intern fejl: {exc!r}", self.now()))
        self.mailboxes.mark_received(path)

    def _receive_twice_if_raced(self, data: bytes, origin: str) -> None:
        try:
            self._receive_bytes(data, origin)
        except IntegrityError:
            self._receive_bytes(data, origin)  # the other one committed: now a duplicate

    def _receive_bytes(self, data: bytes, origin: str) -> None:
        with transaction(self.factory) as session:
            moment = self.now()
            try:
                envelope = unwrap(data)
            except MessageError as exc:
                session.add(_quarantined(data, origin, str(exc), moment))
                return
            receipt = inbox.receive(
                session,
                envelope.data,
                envelope.media_type,
                origin,
                moment,
                synthetic=self.synthetic,
            )
            log.info(
                "medcom_received",
                extra={"outcome": receipt.outcome, "message_id": receipt.message_id},
            )


def _quarantined(data: bytes, origin: str, reason: str, now: datetime) -> MedcomQuarantineRow:
    return MedcomQuarantineRow(received_at=now, origin=origin, payload=data, reason=reason)


def worker_for(settings: Settings, engine: Engine) -> Worker:
    """The worker the settings describe, on `engine`."""
    return Worker(
        factory=session_factory(engine),
        mailboxes=Mailboxes(settings.mailbox_dir),
        now=lambda: datetime.now(UTC),
        synthetic=settings.sources_are_synthetic,
        ack_timeout=timedelta(minutes=settings.medcom_ack_timeout_minutes),
        http_token=settings.medcom_http_token,
    )
