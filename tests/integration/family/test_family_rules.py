"""The family's view on the exact access scenario: which children a citizen sees (custody,
age, a parent without custody), the protected-address rule, consent given and withdrawn by
the family and the professionals' next decision, and "who has looked"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from paatvaers.access.audit import TABLE, AccessAction, AccessEvent, event_values
from paatvaers.access.factory import child_access
from paatvaers.access.policy import load_policy
from paatvaers.access.reading import WITHHELD
from paatvaers.domain.consent import APPOINTMENTS_TEMPLATE, ConsentKind
from paatvaers.domain.cpr import Cpr, synthetic_cpr
from paatvaers.domain.data_flows import DataFlow
from paatvaers.domain.organisations import EmployeeFunction, UnitKind
from paatvaers.family.citizen import (
    CITIZEN_FUNCTION,
    ChildLink,
    Citizen,
    Relation,
    children_for,
    link_for,
    log_family_view,
)
from paatvaers.family.looked import LookFilter, who_has_looked
from paatvaers.family.meetings import upcoming_meetings
from paatvaers.family.policy import family_policy
from paatvaers.family.sharing import (
    Change,
    ChangeRefused,
    Decider,
    ShareState,
    apply_change,
    sharing,
)
from paatvaers.family.team import team
from paatvaers.settings import Settings
from paatvaers.store.tables import (
    AccessEventRow,
    ChildRow,
    CustodyHolderRow,
    MeetingParticipantRow,
    MeetingRow,
    MeetingTimeRow,
)
from support.access import NOW, TODAY, AccessWorld, State, running_access_world

POLICY = load_policy()
WORDS = family_policy()


@pytest.fixture
def world(fresh_database_url: str) -> Iterator[AccessWorld]:
    with running_access_world(fresh_database_url) as world:
        yield world


def _holder(world: AccessWorld, state: State, which: int = 0) -> Citizen:
    return Citizen(world.scenario.holders[state][which], f"Forælder {which + 1} {state.value}")


def _young_person(world: AccessWorld, age: int, number: int) -> Citizen:
    """A child of exactly `age` today, with two custody holders, related to the scenario's
    units like the active child."""
    born = date(TODAY.year - age, TODAY.month, TODAY.day) - timedelta(days=1)
    cpr = synthetic_cpr(born, 0 if born.year < 2000 else 4, number % 10, 8)
    active = world.scenario.children[State.ACTIVE]
    with Session(world.engine) as session, session.begin():
        template = session.get(ChildRow, active.value)
        assert template is not None
        values = {c.key: getattr(template, c.key) for c in ChildRow.__table__.columns}
        session.add(
            ChildRow(**(values | {"cpr": cpr.value, "birth_date": born, "name": f"Ung {age}"}))
        )
        session.flush()
        for i, holder in enumerate(world.scenario.holders[State.ACTIVE]):
            session.add(
                CustodyHolderRow(
                    child_cpr=cpr.value,
                    holder_cpr=holder.value,
                    holder_cpr_synthetic=True,
                    name=f"Forælder {i + 1} active",
                    role="mor" if i == 0 else "far",
                    lives_with_child=True,
                )
            )
    return Citizen(cpr, f"Ung {age}")


def _today_children(world: AccessWorld, citizen: Citizen) -> list[ChildLink]:
    with Session(world.engine) as session:
        return children_for(session, citizen, TODAY, WORDS)


# -- custody and age --------------------------------------------------------------------------


def test_a_custody_holder_sees_the_child_in_their_custody_and_no_other(world: AccessWorld) -> None:
    links = _today_children(world, _holder(world, State.ACTIVE, 1))
    assert [link.cpr for link in links] == [world.scenario.children[State.ACTIVE]]
    assert links[0].relation is Relation.CUSTODY_HOLDER and not links[0].location_withheld


def test_a_parent_without_custody_sees_nothing_and_is_not_told_why(world: AccessWorld) -> None:
    stranger = Citizen(synthetic_cpr(date(1983, 4, 4), 0, 5), "Morten Uden")
    child = world.scenario.children[State.ACTIVE]
    assert _today_children(world, stranger) == []
    with Session(world.engine) as session:
        assert link_for(session, stranger, child.value, TODAY, WORDS) is None
        # The same answer as for a CPR number nobody has.
        nobody = synthetic_cpr(date(2015, 1, 1), 4, 7).value
        assert link_for(session, stranger, nobody, TODAY, WORDS) is None


def test_custody_ends_when_cpr_no_longer_names_the_holder(world: AccessWorld) -> None:
    holder = _holder(world, State.ACTIVE)
    with Session(world.engine) as session, session.begin():
        session.execute(
            update(CustodyHolderRow)
            .where(CustodyHolderRow.holder_cpr == holder.cpr.value)
            .values(holder_cpr=synthetic_cpr(date(1970, 1, 1), 0, 9).value)
        )
    assert _today_children(world, holder) == []


def test_a_young_person_of_15_sees_their_own_page_and_of_14_does_not(world: AccessWorld) -> None:
    fifteen = _young_person(world, 15, 1)
    fourteen = _young_person(world, 14, 2)
    own = _today_children(world, fifteen)
    assert [(link.cpr, link.relation) for link in own] == [(fifteen.cpr, Relation.SELF)]
    assert own[0].age == 15
    assert _today_children(world, fourteen) == []
    # Their parents see both.
    parent = {link.cpr for link in _today_children(world, _holder(world, State.ACTIVE))}
    assert {fifteen.cpr, fourteen.cpr} <= parent


# -- protected address ------------------------------------------------------------------------


def _protected_world(world: AccessWorld) -> tuple[Cpr, Citizen, Citizen]:
    """The protected child: holder 1 lives with the child, holder 2 does not."""
    child = world.scenario.children[State.PROTECTED]
    away = _holder(world, State.PROTECTED, 1)
    with Session(world.engine) as session, session.begin():
        session.execute(
            update(CustodyHolderRow)
            .where(CustodyHolderRow.holder_cpr == away.cpr.value)
            .values(lives_with_child=False)
        )
        meeting_id = uuid.uuid4()
        session.add(
            MeetingRow(
                id=meeting_id,
                child_cpr=child.value,
                child_cpr_synthetic=True,
                convenor_user_id=uuid.uuid4(),
                convenor_unit_id=world.scenario.units[UnitKind.PPR].id,
                place="Testby Skole, lokale 4",
                agenda="Trivsel",
                created_at=NOW - timedelta(days=1),
                closes_at=NOW + timedelta(days=40),
            )
        )
        session.flush()
        session.add(
            MeetingTimeRow(
                meeting_id=meeting_id,
                starts_at=NOW + timedelta(days=7),
                ends_at=NOW + timedelta(days=7, hours=1),
            )
        )
        for position, (kind, name) in enumerate(
            [("convenor", "Test ppr_psykolog"), ("family", "Forælder 2 protected_address")]
        ):
            session.add(
                MeetingParticipantRow(
                    id=uuid.uuid4(),
                    meeting_id=meeting_id,
                    position=position,
                    kind=kind,
                    name=name,
                    role="PPR-psykolog, PPR" if kind == "convenor" else "Forælder",
                    phone="70000002" if kind == "convenor" else None,
                    channel="platform" if kind == "convenor" else "none",
                    answer="pending",
                )
            )
    return child, _holder(world, State.PROTECTED, 0), away


def test_a_protected_address_hides_every_place_from_the_holder_it_is_aimed_at(
    world: AccessWorld,
) -> None:
    child, at_home, away = _protected_world(world)
    with Session(world.engine) as session:
        home_link = link_for(session, at_home, child.value, TODAY, WORDS)
        away_link = link_for(session, away, child.value, TODAY, WORDS)
        assert home_link is not None and away_link is not None
        assert home_link.address_protected and not home_link.location_withheld
        assert away_link.location_withheld

        seen = team(session, home_link, TODAY, WORDS)
        names = {m.unit_name for m in seen}
        assert {"Testby Skole", "Lægerne i Testby", "Familieafdelingen"} <= names
        hidden = team(session, away_link, TODAY, WORDS)
        assert {m.kind for m in hidden} == {m.kind for m in seen}  # who, by kind: still told
        assert all(m.unit_name is WITHHELD and m.contact is WITHHELD for m in hidden)
        text = repr(hidden)
        assert (
            "Testby" not in text and "70000001" not in text and "Test socialraadgiver" not in text
        )

        (home_meeting,) = upcoming_meetings(session, home_link, NOW)
        (away_meeting,) = upcoming_meetings(session, away_link, NOW)
        assert home_meeting.place == "Testby Skole, lokale 4"
        assert away_meeting.place is WITHHELD and away_meeting.convenor_phone is WITHHELD
        assert "Skole" not in repr(away_meeting)


def test_the_young_person_sees_their_own_protected_places(world: AccessWorld) -> None:
    child = world.scenario.children[State.PROTECTED]
    with Session(world.engine) as session, session.begin():
        session.execute(
            update(ChildRow)
            .where(ChildRow.cpr == child.value)
            .values(birth_date=date(TODAY.year - 16, 1, 1))
        )
    (own,) = _today_children(world, Citizen(child, "Barn protected_address"))
    assert own.relation is Relation.SELF and own.address_protected and not own.location_withheld


def _add_meeting(
    world: AccessWorld, child: Cpr, place: str, starts_in: timedelta, family: bool
) -> None:
    with Session(world.engine) as session, session.begin():
        meeting_id = uuid.uuid4()
        session.add(
            MeetingRow(
                id=meeting_id,
                child_cpr=child.value,
                child_cpr_synthetic=True,
                convenor_user_id=uuid.uuid4(),
                convenor_unit_id=world.scenario.units[UnitKind.PPR].id,
                place=place,
                agenda="",
                created_at=NOW - timedelta(days=20),
                closes_at=NOW + timedelta(days=40),
            )
        )
        session.flush()
        start = NOW + starts_in
        session.add(
            MeetingTimeRow(
                meeting_id=meeting_id, starts_at=start, ends_at=start + timedelta(hours=1)
            )
        )
        kinds = [("convenor", "Test ppr_psykolog")] + (
            [("family", "Forælder 1 active")] if family else []
        )
        for position, (kind, name) in enumerate(kinds):
            session.add(
                MeetingParticipantRow(
                    id=uuid.uuid4(),
                    meeting_id=meeting_id,
                    position=position,
                    kind=kind,
                    name=name,
                    role="Forælder",
                    channel="none" if kind == "family" else "platform",
                    answer="pending",
                )
            )


def test_only_upcoming_meetings_that_invite_the_family_are_shown(world: AccessWorld) -> None:
    child = world.scenario.children[State.ACTIVE]
    _add_meeting(world, child, "Lokale 1", timedelta(days=3), family=True)
    _add_meeting(world, child, "Lokale 2", timedelta(days=-3), family=True)  # held already
    _add_meeting(world, child, "Lokale 3", timedelta(days=5), family=False)  # family not invited
    (link,) = _today_children(world, _holder(world, State.ACTIVE))
    with Session(world.engine) as session:
        meetings = upcoming_meetings(session, link, NOW)
    assert [m.place for m in meetings] == ["Lokale 1"]
    assert meetings[0].family == ("Forælder 1 active",)
    assert meetings[0].convenor_name == "Test ppr_psykolog"


# -- the team ---------------------------------------------------------------------------------


def test_the_team_names_each_unit_with_its_contact_in_plain_words(world: AccessWorld) -> None:
    holder = _holder(world, State.ACTIVE)
    (link,) = _today_children(world, holder)
    with Session(world.engine) as session:
        members = {m.kind: m for m in team(session, link, TODAY, WORDS)}
    assert set(members) >= {UnitKind.CHILD_FAMILY, UnitKind.PPR, UnitKind.BUP, UnitKind.GP}
    family = members[UnitKind.CHILD_FAMILY]
    assert family.contact != WITHHELD and family.contact.name == "Test socialraadgiver"  # type: ignore[union-attr]
    assert family.contact.phone == "70000001"  # type: ignore[union-attr]
    assert members[UnitKind.PPR].words.name.da.startswith("PPR – Pædagogisk Psykologisk")
    assert members[UnitKind.BUP].words.name.da.startswith("BUP – Børne- og ungdomspsykiatrien")


# -- consent in the family's hands --------------------------------------------------------------


def _gp_decision(world: AccessWorld, child: Cpr, flow: DataFlow) -> bool:
    settings = Settings(database_url=world.database_url, consent_url=world.consent_url)
    with Session(world.engine) as session:
        access = child_access(session, settings, world.consent, clock=lambda: NOW)
        gp = world.scenario.principals[EmployeeFunction.PRAKTISERENDE_LAEGE]
        decision = access.decide(gp, child, flow, "COC")
        session.rollback()
    return decision.permit


def _flows(world: AccessWorld, citizen: Citizen, link: ChildLink) -> dict[DataFlow, object]:
    with Session(world.engine) as session:
        return {
            f.flow: f for f in sharing(session, citizen, link, POLICY, WORDS, world.consent, NOW)
        }


def test_withdrawing_a_consent_denies_the_professionals_next_request(world: AccessWorld) -> None:
    child = world.scenario.children[State.ACTIVE]
    # The other custody holder withdraws what the first gave: one "no" stops the sharing.
    other = _holder(world, State.ACTIVE, 1)
    (link,) = _today_children(world, other)
    flows = _flows(world, other, link)
    cases = flows[DataFlow.CASES_TO_HEALTH]
    assert cases.state is ShareState.CONSENTED and cases.change is Change.WITHDRAW  # type: ignore[attr-defined]
    assert flows[DataFlow.CHILD_DETAILS].state is ShareState.BY_LAW  # type: ignore[attr-defined]
    assert flows[DataFlow.CHILD_DETAILS].change is None  # type: ignore[attr-defined]
    assert _gp_decision(world, child, DataFlow.CASES_TO_HEALTH)

    with Session(world.engine) as session:
        changed = apply_change(
            session,
            other,
            link,
            POLICY.of(DataFlow.CASES_TO_HEALTH),
            Change.WITHDRAW,
            world.consent,
            NOW,
        )
    assert changed and all(r.withdrawn_at is not None for r in changed)
    assert not _gp_decision(world, child, DataFlow.CASES_TO_HEALTH)
    assert _gp_decision(world, child, DataFlow.CONTACTS_TO_HEALTH)  # another flow: unchanged
    after = _flows(world, other, link)[DataFlow.CASES_TO_HEALTH]
    assert after.state is ShareState.NOT_CONSENTED and after.change is Change.GIVE  # type: ignore[attr-defined]

    with Session(world.engine) as session:
        apply_change(
            session,
            other,
            link,
            POLICY.of(DataFlow.CASES_TO_HEALTH),
            Change.GIVE,
            world.consent,
            NOW,
        )
    assert _gp_decision(world, child, DataFlow.CASES_TO_HEALTH)


def test_from_15_the_young_person_decides_health_consents_not_the_parent(
    world: AccessWorld,
) -> None:
    young = _young_person(world, 15, 3)
    parent = _holder(world, State.ACTIVE)
    with Session(world.engine) as session:
        parents_link = link_for(session, parent, young.cpr.value, TODAY, WORDS)
        own_link = link_for(session, young, young.cpr.value, TODAY, WORDS)
    assert parents_link is not None and own_link is not None
    as_parent = _flows(world, parent, parents_link)
    as_young = _flows(world, young, own_link)
    appointments = DataFlow.APPOINTMENTS_TO_MUNICIPALITY
    assert as_parent[appointments].decider is Decider.YOUNG_PERSON  # type: ignore[attr-defined]
    assert not as_parent[appointments].may_change  # type: ignore[attr-defined]
    assert as_young[appointments].may_change  # type: ignore[attr-defined]
    # Municipal cases to health care: the custody holders decide, also for a 15-year-old.
    assert as_parent[DataFlow.CASES_TO_HEALTH].may_change  # type: ignore[attr-defined]
    assert not as_young[DataFlow.CASES_TO_HEALTH].may_change  # type: ignore[attr-defined]

    with Session(world.engine) as session, pytest.raises(ChangeRefused):
        apply_change(
            session, parent, parents_link, POLICY.of(appointments), Change.GIVE, world.consent, NOW
        )
    with Session(world.engine) as session:
        (given,) = apply_change(
            session, young, own_link, POLICY.of(appointments), Change.GIVE, world.consent, NOW
        )
    assert given.giver_cpr == young.cpr and given.template == APPOINTMENTS_TEMPLATE
    assert _flows(world, young, own_link)[appointments].state is ShareState.CONSENTED  # type: ignore[attr-defined]


def test_an_objection_shows_as_not_shared(world: AccessWorld) -> None:
    holder = _holder(world, State.BLOCKED)
    (link,) = _today_children(world, holder)
    state = _flows(world, holder, link)[DataFlow.APPOINTMENTS_TO_MUNICIPALITY]
    assert state.state is ShareState.OBJECTED and state.change is None  # type: ignore[attr-defined]
    assert world.consent.lookup(link.cpr).records[-1].kind is ConsentKind.OBJECTION


# -- who has looked -----------------------------------------------------------------------------


def _old_event(world: AccessWorld, child: Cpr, days_ago: int) -> None:
    gp = world.scenario.principals[EmployeeFunction.PRAKTISERENDE_LAEGE]
    event = AccessEvent(
        user_id=gp.user_id,
        username=gp.username,
        employee_function=gp.function.value,
        unit_id=gp.unit.id,
        action=AccessAction.READ,
        purpose="TREAT",
        decision="permit",
        rules=("child_details.function",),
        child_cpr=child.value,
        child_cpr_synthetic=True,
        data_flow=DataFlow.CHILD_DETAILS.value,
    )
    with Session(world.engine) as session, session.begin():
        session.execute(insert(TABLE), [event_values(event, NOW - timedelta(days=days_ago))])


def test_who_has_looked_lists_professionals_newest_first_without_the_familys_own_views(
    world: AccessWorld,
) -> None:
    child = world.scenario.children[State.ACTIVE]
    holder = _holder(world, State.ACTIVE)
    (link,) = _today_children(world, holder)
    settings = Settings(database_url=world.database_url, consent_url=world.consent_url)
    with Session(world.engine) as session:
        access = child_access(session, settings, world.consent, clock=lambda: NOW)
        principals = world.scenario.principals
        access.cases_for_health(principals[EmployeeFunction.PRAKTISERENDE_LAEGE], child, "TREAT")
        access.child_details(principals[EmployeeFunction.PPR_PSYKOLOG], child, "COC")
        stranger = principals[EmployeeFunction.DRIFT]
        assert not access.child_details(stranger, child, "COC").permitted  # denied: no look
        log_family_view(session, holder, link, "team", WORDS)
        session.commit()
    _old_event(world, child, days_ago=365 + 300)  # within two years
    _old_event(world, child, days_ago=3 * 365)  # beyond: not listed

    with Session(world.engine) as session:
        page = who_has_looked(session, link, LookFilter(), NOW + timedelta(minutes=1), WORDS)
        own = session.scalars(
            select(AccessEventRow).where(AccessEventRow.employee_function == CITIZEN_FUNCTION)
        ).all()
    assert len(own) == 1 and own[0].child_cpr == child.value and own[0].username == "borger"
    assert holder.cpr.value not in repr([(r.username, r.user_id) for r in own])
    functions = [look.function for look in page.looks]
    assert functions == [
        EmployeeFunction.PPR_PSYKOLOG,
        EmployeeFunction.PRAKTISERENDE_LAEGE,
        EmployeeFunction.PRAKTISERENDE_LAEGE,
    ]
    assert page.looks[0].person == "Test ppr_psykolog" and page.looks[0].unit_name == "PPR"
    assert page.looks[1].flow is DataFlow.CASES_TO_HEALTH
    assert page.looks[2].at < NOW - timedelta(days=600)
    assert page.earliest_day <= TODAY - timedelta(days=2 * 365 - 1)

    gp_unit = world.scenario.units[UnitKind.GP].id
    with Session(world.engine) as session:
        only_gp = who_has_looked(session, link, LookFilter(unit_id=gp_unit), NOW, WORDS)
        recent = who_has_looked(
            session, link, LookFilter(from_day=TODAY - timedelta(days=30)), NOW, WORDS
        )
        cases = who_has_looked(session, link, LookFilter(flow=DataFlow.CASES_TO_HEALTH), NOW, WORDS)
    assert [look.unit_name for look in only_gp.looks] == ["Lægerne i Testby"] * 2
    assert len(recent.looks) == 2 and len(cases.looks) == 1
    assert {o.name for o in page.organisations} == {"PPR", "Lægerne i Testby"}

    hidden = replace(link, location_withheld=True)
    with Session(world.engine) as session:
        masked = who_has_looked(session, hidden, LookFilter(), NOW, WORDS)
    assert all(look.unit_name is WITHHELD for look in masked.looks) and not masked.organisations
