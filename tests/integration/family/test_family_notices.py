"""The family's e-mail notice: one e-mail when a place new to the child looks, none for a
place that has looked before or for the family's own views, none after opting out, and no
child data in the e-mail."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Self

import pytest
from sqlalchemy.orm import Session

from paatvaers.access.factory import child_access
from paatvaers.domain.organisations import EmployeeFunction
from paatvaers.family.citizen import Citizen, children_for, log_family_view
from paatvaers.family.notices import send_family_notices, subscribe, unsubscribe, valid_email
from paatvaers.family.policy import family_policy
from paatvaers.settings import Settings
from paatvaers.store.db import session_factory
from support.access import NOW, TODAY, AccessWorld, State, running_access_world

ADDRESS = "forælder@example.dk"


class FakeSmtp:
    """An SMTP server that keeps what it is sent."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.connections = 0

    def __call__(self, host: str, port: int) -> Self:
        assert (host, port) == ("mail.example", 2525)
        self.connections += 1
        return self

    def send_message(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def quit(self) -> None:
        pass


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[AccessWorld]:
    with running_access_world(fresh_database_url) as world:
        yield world


def _settings(world: AccessWorld) -> Settings:
    return Settings(
        database_url=world.database_url,
        consent_url=world.consent_url,
        smtp_url="smtp://mail.example:2525",
        public_url="https://paatvaers.example",
    )


def _look(world: AccessWorld, function: EmployeeFunction) -> None:
    with Session(world.engine) as session:
        access = child_access(session, _settings(world), world.consent, clock=lambda: NOW)
        child = world.scenario.children[State.ACTIVE]
        assert access.child_details(world.scenario.principals[function], child, "COC").permitted
        session.commit()


def test_a_new_place_looking_sends_one_email_without_child_data(world: AccessWorld) -> None:
    holder = Citizen(world.scenario.holders[State.ACTIVE][0], "Forælder 1 active")
    settings = _settings(world)
    factory = session_factory(world.engine)
    smtp = FakeSmtp()
    _look(world, EmployeeFunction.PRAKTISERENDE_LAEGE)  # before opting in: not counted
    with factory() as session:
        subscribe(session, holder, ADDRESS, NOW)
        session.commit()
    assert send_family_notices(factory, settings, NOW, smtp) == 0
    assert smtp.connections == 0  # nothing to send: no connection

    _look(world, EmployeeFunction.PRAKTISERENDE_LAEGE)  # a place that looked before
    with factory() as session:
        (link,) = children_for(session, holder, TODAY, family_policy())
        log_family_view(session, holder, link, "team", family_policy())  # the family's own
        session.commit()
    assert send_family_notices(factory, settings, NOW, smtp) == 0

    _look(world, EmployeeFunction.PPR_PSYKOLOG)  # new to the child
    assert send_family_notices(factory, settings, NOW, smtp) == 1
    assert send_family_notices(factory, settings, NOW, smtp) == 0  # told once
    (mail,) = smtp.sent
    body = mail.get_content()
    assert mail["To"] == ADDRESS and "https://paatvaers.example/familie" in body
    for secret in ("Barn active", world.scenario.children[State.ACTIVE].value, "PPR", "Test"):
        assert secret not in body and secret not in mail["Subject"]

    with factory() as session:
        unsubscribe(session, holder)
        session.commit()
    _look(world, EmployeeFunction.SOCIALRAADGIVER)
    assert send_family_notices(factory, settings, NOW, smtp) == 0
    no_smtp = settings.model_copy(update={"smtp_url": None})
    assert send_family_notices(factory, no_smtp, NOW, smtp) == 0


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("a@b.dk", True),
        ("forælder@example.dk", True),
        ("a@b", False),
        ("a b@c.dk", False),
        ("", False),
    ],
)
def test_an_email_address_is_checked_before_it_is_stored(address: str, valid: bool) -> None:
    assert valid_email(address) is valid
