"""Correspondence availability (R13) from a small correspondence world: the family department
on the platform's web client, a BUP unit that answers, a GP clinic that does not."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from tests.support.medcom import Correspondence, running_correspondence

from paatvaers.domain.organisations import UnitKind
from paatvaers.quality.correspondence import availability, by_kind
from paatvaers.quality.report import build_report
from paatvaers.quality.suppression import SUPPRESSED
from paatvaers.store.tables import OrgUnitRow

MESSAGES = 5


class _Jumping:
    """A clock an hour later at every look: acknowledgements are overdue at once."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(hours=1)
        return self.moment


def _clinic_without_medcom() -> OrgUnitRow:
    return OrgUnitRow(
        id=uuid.uuid4(),
        kind="gp",
        name="Lægehuset uden MedCom",
        municipality_code="0851",
        sor="900000000099",
        source="cpr",
        confirmed_at=datetime.now(UTC),
    )


@pytest.fixture
def world(fresh_database_url: str, tmp_path: Path) -> Iterator[Correspondence]:
    with running_correspondence(fresh_database_url, tmp_path / "postkasser") as world:
        units = world.access.scenario.units
        with world.factory() as session, session.begin():
            writer = world.writer(session)
            for i in range(MESSAGES):
                writer.new(world.child, units[UnitKind.BUP].id, f"Til BUP {i}")
        world.pump()  # BUP's system answers every one
        for i in range(MESSAGES + 1):
            world.gp.write(world.family, world.patient, f"Fra lægen {i}")
        world.pump()  # the platform answers the GP's
        with world.factory() as session, session.begin():
            writer = world.writer(session)
            for i in range(MESSAGES):
                writer.new(world.child, units[UnitKind.GP].id, f"Til lægen {i}")
        late = dataclasses.replace(world.worker, now=_Jumping())
        with world.factory() as session, session.begin():
            session.add(_clinic_without_medcom())
        for _ in range(6):  # the GP's system never reads its mailbox: resent, then failed
            late.once()
        yield world


def test_each_unit_shows_how_exchanges_with_it_went(world: Correspondence) -> None:
    units = world.access.scenario.units
    with world.factory() as session:
        by_unit = {u.unit_id: u for u in availability(session)}
    bup, gp = by_unit[units[UnitKind.BUP].id], by_unit[units[UnitKind.GP].id]
    family = by_unit[units[UnitKind.CHILD_FAMILY].id]
    assert (bup.sent, bup.failed, bup.acknowledgements_ok, bup.received) == (
        MESSAGES,
        0,
        MESSAGES,
        0,
    )
    assert bup.last_successful_exchange is not None and not bup.web_client
    assert (gp.sent, gp.failed, gp.acknowledgements_ok, gp.received) == (
        MESSAGES,
        MESSAGES,
        0,
        MESSAGES + 1,
    )
    assert gp.last_successful_exchange is not None  # the messages it sent us went well
    assert family.web_client and family.transport == "web" and family.receives
    assert (family.sent, family.failed) == (0, 0)
    assert gp.municipality_code == units[UnitKind.GP].municipality_code


def test_per_kind_and_in_the_report(world: Correspondence) -> None:
    units = world.access.scenario.units
    with world.factory() as session:
        kinds = {k.kind: k for k in by_kind(session, availability(session))}
        report = build_report(session)
    family = kinds[UnitKind.CHILD_FAMILY.value]
    assert (family.in_address_book, family.web_client, family.receiving) == (1, 1, 1)
    gp = kinds[UnitKind.GP.value]
    assert (gp.units, gp.in_address_book) == (2, 1)  # one clinic cannot be written to
    assert (gp.sent, gp.failed, gp.web_client) == (MESSAGES, MESSAGES, 0)
    section = report.section("korrespondance")
    assert section.value(str(units[UnitKind.GP].id), "fejlrate") == 100.0
    assert section.value(str(units[UnitKind.BUP].id), "fejlrate") == 0.0
    assert section.value(str(units[UnitKind.BUP].id), "kvitteringer_ok") == MESSAGES
    assert section.value(str(units[UnitKind.CHILD_FAMILY].id), "transport") == (
        "Platformens webklient"
    )
    kinds_section = report.section("korrespondance-typer")
    assert kinds_section.value("gp", "enheder") == SUPPRESSED  # two clinics
    assert kinds_section.value("gp", "fejlrate") == 100.0


def test_no_exchange_no_rate(fresh_database_url: str, tmp_path: Path) -> None:
    with (
        running_correspondence(fresh_database_url, tmp_path / "postkasser") as world,
        Session(world.access.engine) as session,
    ):
        section = build_report(session).section("korrespondance")
    assert {row.values["fejlrate"] for row in section.rows} == {None}
    assert {row.values["sendt"] for row in section.rows} == {0}
