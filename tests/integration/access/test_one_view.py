"""Reads within one view (one page or API answer) share what they read about the child and
write their log rows together: they must decide, return and log exactly what the same reads
do one by one, ask the consent service once, and still see a withdrawal in the next view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from paatvaers.access.audit import CONTENT_COLUMNS, AccessLogUnavailable
from paatvaers.access.factory import child_access
from paatvaers.access.identity import Principal
from paatvaers.access.reading import Answer, ChildAccess
from paatvaers.domain.consent import ConsentKind
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.organisations import EmployeeFunction as F
from paatvaers.settings import Settings
from paatvaers.sources.consent.client import ConsentAnswer
from paatvaers.store.tables import AccessEventRow
from support.access import NOW, AccessWorld, State

CASES_TEMPLATE = "paatvaers.sager-til-sundhed.v1"
# The log's content but the time it was written, which differs between two runs.
LOGGED = tuple(c for c in CONTENT_COLUMNS if c != "recorded_at")


class CountingConsent:
    """The consent client, counting the lookups."""

    def __init__(self, world: AccessWorld) -> None:
        self.client = world.consent
        self.lookups = 0

    def lookup(self, child_cpr: Cpr, template: str | None = None) -> ConsentAnswer:
        self.lookups += 1
        return self.client.lookup(child_cpr, template)


def _reads(access: ChildAccess) -> list[Callable[[Principal, Cpr, str], Answer[Any]]]:
    return [
        access.cases_for_health,
        access.child_details,
        access.contacts,
        access.school,
        access.appointments,
        access.cases_in_municipality,
    ]


def _read_all(
    world: AccessWorld, settings: Settings, principal: Principal, child: Cpr, *, view: bool
) -> tuple[list[Answer[Any]], list[tuple[Any, ...]]]:
    """Every read about the child, in a view or one by one; the answers and the log rows."""
    with Session(world.engine) as session, session.begin():
        access = child_access(session, settings, world.consent, clock=lambda: NOW)
        if view:
            with access.one_view():
                answers = [read(principal, child, "view") for read in _reads(access)]
        else:
            answers = [read(principal, child, "view") for read in _reads(access)]
        columns = [getattr(AccessEventRow, c) for c in LOGGED]
        logged = session.execute(select(*columns).order_by(AccessEventRow.id)).all()
        session.rollback()
    return answers, [tuple(row) for row in logged]


def test_reads_in_one_view_decide_return_and_log_exactly_as_reads_one_by_one(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    assert scenario.unrelated_without_data is not None
    children = [*scenario.children.values(), scenario.unrelated_without_data]
    compared = 0
    for principal in scenario.principals.values():
        for child in children:
            alone = _read_all(access_world, settings, principal, child, view=False)
            together = _read_all(access_world, settings, principal, child, view=True)
            assert together == alone, (principal.username, child.value)
            compared += len(alone[1])
    assert compared == len(scenario.principals) * len(children) * 6  # every read was logged


def test_a_view_asks_the_consent_service_once_and_the_next_view_sees_a_withdrawal(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child, holder = scenario.children[State.ACTIVE], scenario.holders[State.ACTIVE][0]
    gp = scenario.principals[F.PRAKTISERENDE_LAEGE]
    consent = CountingConsent(access_world)
    with Session(access_world.engine) as session, session.begin():
        access = child_access(session, settings, consent, clock=lambda: NOW)
        with access.one_view():
            first = [read(gp, child, "view") for read in _reads(access)[:4]]
        assert consent.lookups == 1  # cases and contacts both need consent: asked once
        given = next(
            r
            for r in access_world.consent.records_for(child, CASES_TEMPLATE)
            if r.kind is ConsentKind.CONSENT and r.withdrawn_at is None
        )
        access_world.consent.withdraw(given.id, holder)
        with access.one_view():
            cases = access.cases_for_health(gp, child, "view")
        assert consent.lookups == 2  # asked again: nothing outlives a view
    assert [answer.permitted for answer in first] == [True, True, True, True]
    assert not cases.permitted
    assert cases.decision.reason_en == "The consent has been withdrawn"


def test_a_view_writes_its_log_rows_in_order_when_it_ends_and_none_when_it_fails(
    access_world: AccessWorld, settings: Settings
) -> None:
    scenario = access_world.scenario
    child = scenario.children[State.ACTIVE]
    gp = scenario.principals[F.PRAKTISERENDE_LAEGE]

    def rows(session: Session) -> list[str | None]:
        return list(session.scalars(select(AccessEventRow.data_flow).order_by(AccessEventRow.id)))

    with Session(access_world.engine) as session, session.begin():
        access = child_access(session, settings, access_world.consent, clock=lambda: NOW)
        with access.one_view():
            access.school(gp, child, "view")
            access.child_details(gp, child, "view")
            assert rows(session) == []  # made, not yet written
        assert rows(session) == ["school_to_health", "child_details"]
        with pytest.raises(RuntimeError), access.one_view():
            access.contacts(gp, child, "view")
            raise RuntimeError("the page failed")
        assert rows(session) == ["school_to_health", "child_details"]
        session.rollback()


def test_a_view_whose_log_rows_cannot_be_written_hands_nothing_back(
    access_world: AccessWorld, settings: Settings
) -> None:
    child = access_world.scenario.children[State.ACTIVE]
    gp = access_world.scenario.principals[F.PRAKTISERENDE_LAEGE]
    with access_world.engine.begin() as connection:  # the log can no longer take rows
        connection.execute(
            text("ALTER TABLE access_event ADD CONSTRAINT no_more CHECK (false) NOT VALID")
        )
    returned: list[object] = []
    with Session(access_world.engine) as session, session.begin():
        access = child_access(session, settings, access_world.consent, clock=lambda: NOW)
        with pytest.raises(AccessLogUnavailable, match="access log"):
            with access.one_view():
                answer = access.child_details(gp, child, "view")
            returned.append(answer)
        session.rollback()
    assert returned == []
