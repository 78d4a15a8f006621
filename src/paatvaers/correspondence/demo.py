"""Correspondence in the demo: every unit in the address book, the worker running, and the
demo GP's and BUP unit's own systems simulated, answering each message with an
acknowledgement and a short reply, so that a message written in the demo comes back
acknowledged and answered."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from paatvaers.correspondence import address_book
from paatvaers.correspondence.transports import Mailboxes
from paatvaers.correspondence.worker import worker_for
from paatvaers.domain.organisations import UnitKind
from paatvaers.medcom.model import CareCommunication, Practitioner
from paatvaers.meetings.invitation import HOW_TO_ANSWER
from paatvaers.settings import Settings
from paatvaers.sources.gp_system.simulator import SimulatedGpSystem
from paatvaers.store.db import session_factory, transaction
from paatvaers.store.repositories import StaffRepository

_REPLY = {
    UnitKind.GP: "Tak for beskeden. Jeg ser barnet i næste uge og vender tilbage.",
    UnitKind.BUP: "Tak, vi har noteret det i journalen og tager det med på konferencen.",
}
_ROLE = {UnitKind.GP: "speciallaegeipraksis", UnitKind.BUP: "overlaege"}
_ACCEPTS_MEETING = "JA, vi deltager."


def _reply_for(kind: UnitKind) -> Callable[[CareCommunication], str]:
    """The demo systems accept a meeting invitation, and answer anything else in words."""

    def reply(message: CareCommunication) -> str:
        invited = any(HOW_TO_ANSWER in segment.text for segment in message.segments)
        return _ACCEPTS_MEETING if invited else _REPLY[kind]

    return reply


@contextmanager
def running_demo_correspondence(engine: Engine, settings: Settings) -> Iterator[None]:
    with transaction(session_factory(engine)) as session:
        address_book.register_known_units(session, datetime.now(UTC))
        systems = _demo_systems(session, Mailboxes(settings.mailbox_dir))
    worker = worker_for(settings, engine)
    stop = threading.Event()
    with ExitStack() as stack:
        for target in (worker.run, *(s.run for s in systems)):
            thread = threading.Thread(target=target, args=(stop,), daemon=True)
            thread.start()
            stack.callback(thread.join, 5)
        stack.callback(stop.set)
        yield


def _demo_systems(session: Session, mailboxes: Mailboxes) -> list[SimulatedGpSystem]:
    """The own systems of the demo users' GP clinic and BUP unit."""
    systems = []
    for user in StaffRepository(session).demo_users():
        kind = user.unit.kind
        if kind not in _REPLY:
            continue
        clinic = address_book.party(session, user.unit.id)
        if clinic is None:
            continue
        *given, family = user.member.full_name.split()
        doctor = Practitioner(tuple(given), family, _ROLE[kind], user.unit.phone)
        systems.append(SimulatedGpSystem(mailboxes, clinic, doctor, auto_reply=_reply_for(kind)))
    return systems
