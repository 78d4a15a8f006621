"""The demo's correspondence glue: BUP units get a synthetic GLN, and the simulated GP and
BUP systems accept a meeting invitation as a person would, by answering JA."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from paatvaers.correspondence.address_book import synthetic_health_gln
from paatvaers.correspondence.demo import _reply_for
from paatvaers.domain.identifiers import Sor
from paatvaers.domain.organisations import UnitKind
from paatvaers.medcom.model import CareCommunication
from paatvaers.meetings.answers import interpret
from paatvaers.meetings.invitation import HOW_TO_ANSWER
from paatvaers.meetings.model import Answer


def _message(*texts: str) -> CareCommunication:
    return cast(
        CareCommunication, SimpleNamespace(segments=[SimpleNamespace(text=t) for t in texts])
    )


def test_a_health_unit_without_a_gln_gets_a_recognisably_synthetic_one() -> None:
    first, second = (
        synthetic_health_gln(Sor("900000000000099")),
        synthetic_health_gln(Sor("900000000000098")),
    )
    assert first.value.startswith("57979") and second.value.startswith("57979")
    assert first != second  # one per unit


def test_the_demo_systems_accept_an_invitation_and_answer_other_messages_in_words() -> None:
    for kind in (UnitKind.GP, UnitKind.BUP):
        reply = _reply_for(kind)
        invitation = reply(_message("Tværfagligt møde …", f"… {HOW_TO_ANSWER}"))
        other = reply(_message("Hvordan går det med Noah?"))
        assert interpret(invitation) is Answer.ACCEPTED
        assert interpret(other) is not Answer.ACCEPTED and other != invitation
