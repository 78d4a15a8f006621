"""Correspondence in a small world: the access tests' municipality, BUP unit and GP clinic in
the address book, the platform's worker on a mailbox directory, and simulated GP and BUP
systems reading theirs, as their own software would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from tests.support.access import NOW, AccessWorld, State, running_access_world

from paatvaers.access.factory import child_access
from paatvaers.correspondence import address_book
from paatvaers.correspondence.sending import Writer
from paatvaers.correspondence.transports import Mailboxes
from paatvaers.correspondence.worker import Worker
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.medcom.model import Party, Patient, Practitioner
from paatvaers.settings import Settings
from paatvaers.sources.gp_system.simulator import SimulatedGpSystem
from paatvaers.store.db import session_factory

GP_GLN = Gln.from_body("579000000002")
BUP_GLN = Gln.from_body("579000000003")


@dataclass
class Correspondence:
    access: AccessWorld
    factory: sessionmaker[Session]
    mailboxes: Mailboxes
    worker: Worker
    gp: SimulatedGpSystem
    bup: SimulatedGpSystem
    family: Party  # the family department, served by the platform's web client
    child: Cpr

    @property
    def patient(self) -> Patient:
        return Patient(self.child, "active", ("Barn",))

    def writer(
        self, session: Session, function: EmployeeFunction = EmployeeFunction.SOCIALRAADGIVER
    ) -> Writer:
        settings = Settings(consent_url=self.access.consent_url)
        access = child_access(session, settings, self.access.consent, clock=lambda: NOW)
        return Writer(session, access, self.access.scenario.principals[function], _now())

    def pump(self, rounds: int = 20) -> None:
        """Let the worker and the simulated systems exchange until nothing moves."""
        for _ in range(rounds):
            moved = self.worker.once() + self.gp.poll_once() + self.bup.poll_once()
            if not moved:
                return
        raise AssertionError("the exchange did not settle")


def _now() -> datetime:
    return datetime.now(UTC)


def _register(session: Session, world: AccessWorld) -> Party:
    units = world.scenario.units
    family = units[UnitKind.CHILD_FAMILY]
    sor, gln = address_book.synthetic_municipal_ids(
        family.municipality_code or "", UnitKind.CHILD_FAMILY
    )
    moment = _now()
    address_book.register(session, family.id, sor, gln, "web", moment)
    ppr = units[UnitKind.PPR]
    ppr_sor, ppr_gln = address_book.synthetic_municipal_ids(
        ppr.municipality_code or "", UnitKind.PPR
    )
    address_book.register(session, ppr.id, ppr_sor, ppr_gln, "web", moment)
    gp, bup = units[UnitKind.GP], units[UnitKind.BUP]
    address_book.register(session, gp.id, Sor(str(gp.sor)), GP_GLN, "vans", moment)
    address_book.register(session, bup.id, Sor(str(bup.sor)), BUP_GLN, "vans", moment)
    return Party(family.name, sor, gln)


@contextmanager
def running_correspondence(
    database_url: str, mailbox_dir: Path, ack_timeout: timedelta = timedelta(minutes=30)
) -> Iterator[Correspondence]:
    with running_access_world(database_url) as world:
        factory = session_factory(world.engine)
        with factory() as session, session.begin():
            family = _register(session, world)
        units = world.scenario.units
        mailboxes = Mailboxes(mailbox_dir)
        gp_unit, bup_unit = units[UnitKind.GP], units[UnitKind.BUP]
        yield Correspondence(
            access=world,
            factory=factory,
            mailboxes=mailboxes,
            worker=Worker(factory, mailboxes, _now, synthetic=True, ack_timeout=ack_timeout),
            gp=SimulatedGpSystem(
                mailboxes,
                Party(gp_unit.name, Sor(str(gp_unit.sor)), GP_GLN),
                Practitioner(("Gitte",), "Lægesen", "speciallaegeipraksis", "+4570000010"),
            ),
            bup=SimulatedGpSystem(
                mailboxes,
                Party(bup_unit.name, Sor(str(bup_unit.sor)), BUP_GLN),
                Practitioner(("Bo",), "Psykiatersen", "overlaege", "+4570000020"),
            ),
            family=family,
            child=world.scenario.children[State.ACTIVE],
        )
