"""Cross-disciplinary meetings against the real engine, the consent simulator and simulated
GP and BUP systems: who is proposed, what each invitation carries, and answers by MedCom."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.support.access import NOW, State
from tests.support.medcom import Correspondence, running_correspondence

from paatvaers.access.engine import MeetingWindow
from paatvaers.access.factory import child_access
from paatvaers.access.reading import ChildAccess
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction as F
from paatvaers.domain.organisations import UnitKind
from paatvaers.meetings import invitation, service
from paatvaers.meetings.model import Answer, Channel, Slot
from paatvaers.meetings.proposal import Proposal, propose, unit_participant
from paatvaers.settings import Settings
from paatvaers.store.tables import AccessEventRow, MeetingRow

SCHOOL = "Testby Skole"
SLOT = Slot(NOW + timedelta(days=7), NOW + timedelta(days=7, hours=1))


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[Correspondence]:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        yield world


def _access(world: Correspondence, session: Session) -> ChildAccess:
    settings = Settings(consent_url=world.access.consent_url)
    return child_access(session, settings, world.access.consent, clock=lambda: NOW)


def _propose(world: Correspondence, session: Session, state: State) -> Proposal:
    ppr = world.access.scenario.principals[F.PPR_PSYKOLOG]
    child = world.access.scenario.children[state]
    return propose(session, _access(world, session), ppr, child, service.PURPOSE)


def _convene(world: Correspondence, state: State = State.ACTIVE) -> uuid.UUID:
    scenario = world.access.scenario
    with world.factory() as session, session.begin():
        proposal = _propose(world, session, state)
        request = service.MeetingRequest(
            scenario.children[state],
            (SLOT,),
            "Mødelokale 2, Rådhuset",
            "1. Barnets trivsel i skolen\n2. Plan for udredning",
            proposal.professionals,
        )
        meeting_id = service.convene(
            session,
            _access(world, session),
            proposal.convenor,
            scenario.principals[F.PPR_PSYKOLOG],
            request,
            NOW,
            NOW,
        )
    return meeting_id


def test_the_participants_are_proposed_from_what_the_convenor_may_see(
    world: Correspondence,
) -> None:
    units = world.access.scenario.units
    with world.factory() as session, session.begin():
        proposal = _propose(world, session, State.ACTIVE)
        names = {(p.name, p.channel) for p in proposal.professionals}
        assert names == {
            ("Test socialraadgiver", Channel.PLATFORM),  # the open case's caseworker
            (units[UnitKind.BUP].name, Channel.MEDCOM),  # from the appointments
            (units[UnitKind.GP].name, Channel.MEDCOM),  # the child's GP
        }
        assert [p.name for p in proposal.family] == ["Forælder 1 active", "Forælder 2 active"]
        # Without the appointments consent the PPR may not see the BUP course: not proposed.
        without = _propose(world, session, State.CONSENT_MISSING)
        assert units[UnitKind.BUP].name not in {p.name for p in without.professionals}
        assert units[UnitKind.GP].name in {p.name for p in without.professionals}
        logged = session.scalars(
            select(AccessEventRow.data_flow).where(AccessEventRow.username == F.PPR_PSYKOLOG.value)
        ).all()
    assert {"child_details", "cases_in_municipality", "appointments_to_municipality"} <= set(logged)


def test_each_invitation_carries_only_what_its_recipient_may_see(world: Correspondence) -> None:
    meeting_id = _convene(world)
    world.pump()
    received = list(world.gp.received.values()) + list(world.bup.received.values())
    assert len(received) == 2
    for message in received:  # the health units may see the school (school_to_health)
        text = message.segments[-1].text
        assert message.topic == invitation.SUBJECT
        assert SCHOOL in text and "Test socialraadgiver" in text
        assert invitation.HOW_TO_ANSWER in text
    caseworker = world.access.scenario.principals[F.SOCIALRAADGIVER]
    with world.factory() as session, session.begin():
        access = _access(world, session)
        theirs = service.invitation_for(session, access, meeting_id, caseworker)
        logged = {
            (flow, decision)
            for flow, decision in session.execute(
                select(AccessEventRow.data_flow, AccessEventRow.decision).where(
                    AccessEventRow.username == F.SOCIALRAADGIVER.value
                )
            )
        }
    # The family department may not see school data (school_to_health): its invitation,
    # though it names the child and the other participants, carries no school.
    assert theirs is not None
    assert "Barn: Barn active" in theirs.text and "Test ppr_psykolog" in theirs.text
    assert SCHOOL not in theirs.text and "Skole" not in theirs.text
    assert ("school_to_health", "deny") in logged and ("meeting", "permit") in logged


def test_a_gps_medcom_reply_is_its_answer(world: Correspondence) -> None:
    meeting_id = _convene(world)
    world.pump()
    invited = next(iter(world.gp.received))
    world.gp.reply(invited, "JA tak, jeg kommer.")
    bup_invited = next(iter(world.bup.received))
    world.bup.reply(bup_invited, "Kan I torsdag i stedet?")
    world.pump()
    ppr = world.access.scenario.principals[F.PPR_PSYKOLOG]
    units = world.access.scenario.units
    with world.factory() as session, session.begin():
        page = service.meeting_page(session, _access(world, session), ppr, meeting_id)
        assert page is not None and page.view.meeting
        answers = {p.name: (p.answer, p.answer_text) for p in page.participants}
    assert answers[units[UnitKind.GP].name] == (Answer.ACCEPTED, "JA tak, jeg kommer.")
    assert answers[units[UnitKind.BUP].name] == (Answer.OTHER_TIME, "Kan I torsdag i stedet?")
    assert answers["Test socialraadgiver"][0] == Answer.PENDING


def test_the_meeting_flow_is_bound_to_the_meeting_its_units_and_its_window(
    world: Correspondence,
) -> None:
    scenario = world.access.scenario
    child: Cpr = scenario.children[State.ACTIVE]
    units = scenario.units
    window = MeetingWindow(
        uuid.uuid4(),
        child.value,
        frozenset({units[UnitKind.PPR].id, units[UnitKind.GP].id}),
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
    )
    with world.factory() as session, session.begin():
        access = _access(world, session)

        def rules(function: F, meeting: MeetingWindow | None) -> tuple[str, ...]:
            principal = scenario.principals[function]
            return access.decide(principal, child, DataFlow.MEETING, "x", meeting).rules

        assert rules(F.PRAKTISERENDE_LAEGE, window)[-1] == "meeting.legal_basis"
        assert rules(F.PRAKTISERENDE_LAEGE, None) == ("meeting.meeting",)  # no meeting
        assert rules(F.BUP_LAEGE, window) == ("meeting.meeting",)  # not invited
        closed = MeetingWindow(
            window.meeting_id, child.value, window.participant_units, window.opens, NOW
        )
        later = NOW + timedelta(seconds=1)
        access.clock = lambda: later
        assert rules(F.PRAKTISERENDE_LAEGE, closed) == ("meeting.meeting",)  # window closed
        assert rules(F.BUP_SEKRETAER, window) == ("meeting.function",)


def test_a_meeting_about_a_child_the_convenor_has_no_relationship_to_is_refused(
    world: Correspondence,
) -> None:
    scenario = world.access.scenario
    with world.factory() as session, session.begin():
        proposal = _propose(world, session, State.NONE)
        assert proposal.professionals == () and proposal.child_name is None
        gp = unit_participant(session, scenario.units[UnitKind.GP].id)
        assert gp is not None
        request = service.MeetingRequest(
            scenario.children[State.NONE], (SLOT,), "Rådhuset", "", (gp,)
        )
        ppr = scenario.principals[F.PPR_PSYKOLOG]
        with pytest.raises(service.MeetingRefused) as refused:
            service.convene(
                session, _access(world, session), proposal.convenor, ppr, request, NOW, NOW
            )
    assert refused.value.decision is not None
    assert refused.value.decision.rules == ("meeting.relationship",)
    with world.factory() as session:
        assert session.scalars(select(MeetingRow)).all() == []


def test_only_one_follow_up_meeting(world: Correspondence) -> None:
    first = _convene(world)
    scenario = world.access.scenario
    ppr = scenario.principals[F.PPR_PSYKOLOG]

    def follow_up(of: uuid.UUID) -> uuid.UUID:
        with world.factory() as session, session.begin():
            proposal = _propose(world, session, State.ACTIVE)
            request = service.MeetingRequest(
                scenario.children[State.ACTIVE], (SLOT,), "Rådhuset", "", proposal.professionals, of
            )
            access = _access(world, session)
            return service.convene(session, access, proposal.convenor, ppr, request, NOW, NOW)

    second = follow_up(first)
    for again in (first, second):  # a second follow-up, or a follow-up of the follow-up
        with pytest.raises(service.MeetingRefused, match="ét opfølgende møde"):
            follow_up(again)
