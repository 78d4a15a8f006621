"""A small world for involvement notices: one child followed by PPR (an open case), BUP (a
course the GP referred to) and the school, with the units' staff; cases come through the
case index simulator and real ingestion, consents through the consent simulator.

Times are the real "now": the job takes the changes that ingestion has just found.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from paatvaers.access.engine import ConsentLookup
from paatvaers.domain.appointments import PRACTICE_SETTING_CHILD_PSYCHIATRY
from paatvaers.domain.cases import Case, CaseParty, CaseStatus, KleNumber, PartyRole, Sensitivity
from paatvaers.domain.clock import danish_day
from paatvaers.domain.consent import ConsentKind
from paatvaers.domain.cpr import Cpr, synthetic_cpr
from paatvaers.domain.identifiers import Cvr
from paatvaers.domain.organisations import (
    EmployeeFunction,
    UnitKind,
    unit_id_for_institution,
    unit_id_for_sor,
)
from paatvaers.ingest.service import ingest
from paatvaers.notices.job import NoticeJob
from paatvaers.notices.subscriptions import subscribe
from paatvaers.settings import Settings
from paatvaers.sources.base import SourceName
from paatvaers.sources.consent.client import ConsentClient
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.sources.simulation.world import World
from paatvaers.store.db import make_engine, session_factory, transaction
from paatvaers.store.tables import (
    AppointmentRow,
    ChildRow,
    CustodyHolderRow,
    EnrollmentRow,
    NoticeItemRow,
    NoticeRow,
    OrgUnitRow,
    StaffUserRow,
)

HOME = "0851"
CVR = Cvr.from_body("2918942")
BUP_SOR, GP_SOR, SCHOOL_NUMBER = "900000000001", "900000000002", "900001"
CASES_TEMPLATE = "paatvaers.sager-til-sundhed.v1"
APPOINTMENTS_TEMPLATE = "paatvaers.aftaler-til-kommune.v1"

# The staff, by username: their function and whether they opted in to notices.
STAFF = {
    "laege": (EmployeeFunction.PRAKTISERENDE_LAEGE, True),
    "klinik": (EmployeeFunction.KLINIKPERSONALE, True),  # opted in, no flow shows cases
    "ppr": (EmployeeFunction.PPR_PSYKOLOG, True),
    "bup": (EmployeeFunction.BUP_LAEGE, False),  # may see cases, but did not opt in
    "raadgiver": (EmployeeFunction.SOCIALRAADGIVER, True),  # the new case's own unit
}


@dataclass
class NoticeWorld:
    engine: Engine
    settings: Settings
    sources: World
    consent: ConsentClient
    now: datetime
    child: Cpr
    holder: Cpr
    units: dict[UnitKind, uuid.UUID] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return danish_day(self.now)

    def job(self, at: datetime | None = None, consent: ConsentLookup | None = None) -> NoticeJob:
        """The job, on the real clock or at a fixed moment (after the changes were found)."""
        clock = (lambda: at) if at is not None else (lambda: datetime.now(UTC))
        return NoticeJob(
            session_factory(self.engine), self.settings, consent or self.consent, clock
        )

    def add_course(self, sor: str, name: str, child: Cpr | None = None) -> None:
        """A course in another BUP unit, as the appointment overview would deliver it; not
        referred by the GP (a second GP involvement from another BUP unit's course trips the
        involvement rebuild: see the report)."""
        appointment = _appointment(child or self.child, self.today, sor, name, "booked")
        appointment.requester_sor = None
        with transaction(session_factory(self.engine)) as session:
            session.add(appointment)

    def ingest_cases(self) -> None:
        """A pass over the case index, then the rebuild of involvement (as `paatvaers
        ingest` does)."""
        summaries = ingest(self.engine, self.settings, [SourceName.CASE_INDEX], day=self.today)
        assert not any(s.error for s in summaries), summaries

    def add_case(self, kind: UnitKind, days_ago: int = 1, child: Cpr | None = None) -> Case:
        assert CVR is not None
        number = len(self.sources.cases) + 1
        case = Case(
            id=uuid.uuid4(),
            case_number=f"S-2026-{number:04d}",
            title="Sag om støtte til barnet",
            non_public_title="Underretning fra skolen",
            kle=KleNumber("27.24.03" if kind is UnitKind.CHILD_FAMILY else "17.13.03"),
            status=CaseStatus.OPLYST,
            sensitivity=Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
            owner_cvr=CVR,
            responsible_unit_id=self.units[kind],
            source_system="DUBU" if kind is UnitKind.CHILD_FAMILY else "JOSA",
            opened_at=self.now - timedelta(days=days_ago),
            primary_handler="Rikke Rådgiver",
            parties=(CaseParty(child or self.child, PartyRole.PRIMARY),),
        )
        self.sources.cases.put(str(case.id), case)
        return case

    def give_consent(self, template: str = CASES_TEMPLATE) -> None:
        self.consent.give(ConsentKind.CONSENT, template, self.child, self.holder)

    def notices(self, username: str) -> list[tuple[int, int]]:
        """(notice id, number of items) of the user's notices, oldest first."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(NoticeRow.id, func.count(NoticeItemRow.change_id))
                .join(NoticeItemRow, NoticeItemRow.notice_id == NoticeRow.id)
                .where(NoticeRow.user_id == self.users[username])
                .group_by(NoticeRow.id)
                .order_by(NoticeRow.id)
            ).all()
        return [(notice_id, count) for notice_id, count in rows]


def _units(now: datetime) -> list[OrgUnitRow]:
    assert CVR is not None
    common = {"source": "test", "confirmed_at": now, "content_hash": None}
    home = {"municipality_code": HOME, "region": "1081", "cvr": CVR.value}
    return [
        OrgUnitRow(
            id=uuid.uuid4(), kind="child_family", name="Familieafdelingen", **home, **common
        ),
        OrgUnitRow(id=uuid.uuid4(), kind="ppr", name="PPR Testby", **home, **common),
        OrgUnitRow(
            id=unit_id_for_sor(BUP_SOR), kind="bup", name="BUP Testby", sor=BUP_SOR, **common
        ),
        OrgUnitRow(
            id=unit_id_for_sor(GP_SOR),
            kind="gp",
            name="Lægerne i Testby",
            municipality_code=HOME,
            sor=GP_SOR,
            **common,
        ),
        OrgUnitRow(
            id=unit_id_for_institution(SCHOOL_NUMBER),
            kind="school",
            name="Testby Skole",
            municipality_code=HOME,
            institution_number=SCHOOL_NUMBER,
            **common,
        ),
    ]


def _child_rows(world: NoticeWorld, child: Cpr, name: str) -> list[object]:
    now, today = world.now, world.today
    common = {"source": "test", "confirmed_at": now, "content_hash": None}
    rows: list[object] = [
        ChildRow(
            cpr=child.value,
            cpr_synthetic=True,
            name=name,
            birth_date=child.birth_date,
            municipality_code=HOME,
            region="1081",
            gp_unit_id=world.units[UnitKind.GP],
            address_line="Opdigtet Vej 1",
            postcode="9000",
            city="Testby",
            **common,
        ),
        EnrollmentRow(
            child_cpr=child.value,
            child_cpr_synthetic=True,
            institution_unit_id=world.units[UnitKind.SCHOOL],
            institution_number=SCHOOL_NUMBER,
            institution_type="1012",
            main_group="4.B",
            grade="4",
            since=today - timedelta(days=800),
            **common,
        ),
    ]
    rows.append(_appointment(child, today - timedelta(days=30), BUP_SOR, "BUP Testby", "held"))
    rows.append(_appointment(child, today + timedelta(days=14), BUP_SOR, "BUP Testby", "booked"))
    return rows


def _appointment(child: Cpr, day: date, sor: str, name: str, status: str) -> AppointmentRow:
    """A child-psychiatry appointment the GP referred to."""
    return AppointmentRow(
        id=uuid.uuid4(),
        document_id=uuid.uuid4(),
        patient_cpr=child.value,
        patient_cpr_synthetic=True,
        start=datetime.combine(day, time(9), tzinfo=UTC),
        end=datetime.combine(day, time(10), tzinfo=UTC),
        performer_sor=sor,
        performer_name=name,
        location_sor=sor,
        location_name="Opdigtet Hospitalsvej 3",
        reason="Udredning",
        practice_setting_code=PRACTICE_SETTING_CHILD_PSYCHIATRY,
        status=status,
        stage="assessment",
        requester_sor=GP_SOR,
        source="test",
        confirmed_at=datetime.now(UTC),
        content_hash=None,
    )


def add_child(world: NoticeWorld, child: Cpr, holder: Cpr, name: str) -> None:
    """A child at the school, with a custody holder and a BUP course the GP referred to."""
    with transaction(session_factory(world.engine)) as session:
        for row in _child_rows(world, child, name):
            session.add(row)
        session.flush()
        session.add(
            CustodyHolderRow(
                child_cpr=child.value,
                holder_cpr=holder.value,
                holder_cpr_synthetic=True,
                name=f"Forælder til {name}",
                role="mor",
                lives_with_child=True,
            )
        )


def _staff(world: NoticeWorld, session: Session) -> None:
    for username, (function, opted_in) in STAFF.items():
        user_id = uuid.uuid4()
        municipal = function.unit_kind in (UnitKind.CHILD_FAMILY, UnitKind.PPR)
        session.add(
            StaffUserRow(
                id=user_id,
                username=username,
                full_name=f"Test {username}",
                employee_function=function.value,
                unit_id=world.units[function.unit_kind],
                email=f"{username}@test.example",
                kle_scope=["17.*", "27.*"] if municipal else None,
                max_sensitivity="FOELSOMME_PERSONOPLYSNINGER" if municipal else None,
                source="local",
                confirmed_at=world.now,
            )
        )
        session.flush()
        if opted_in:
            subscribe(session, user_id, email_digest=True, now=world.now)
        world.users[username] = user_id


@contextmanager
def running_notice_world(database_url: str, data_dir: Path) -> Iterator[NoticeWorld]:
    """The world in an empty, migrated database, with the case index and consent simulators
    running; the PPR case ingested and involvement built once (the first build)."""
    now = datetime.now(UTC)
    sources = World(danish_day(now) - timedelta(days=1))
    engine = make_engine(database_url)
    try:
        with (
            RunningSimulators(sources, sources=[SourceName.CASE_INDEX, SourceName.CONSENT]) as up,
            ConsentClient(up.urls[SourceName.CONSENT]) as consent,
        ):
            settings = Settings(
                database_url=database_url,
                data_dir=data_dir,
                case_index_url=up.urls[SourceName.CASE_INDEX],
                consent_url=up.urls[SourceName.CONSENT],
            )
            child = synthetic_cpr(date(2016, 5, 1), 4, 1)
            holder = synthetic_cpr(date(1985, 1, 1), 0, 2)
            world = NoticeWorld(engine, settings, sources, consent, now, child, holder)
            with transaction(session_factory(engine)) as session:
                for unit in _units(now):
                    session.add(unit)
                    world.units[UnitKind(unit.kind)] = unit.id
                session.flush()
                _staff(world, session)
            add_child(world, child, holder, "Alma Testbarn")
            world.add_case(UnitKind.PPR, days_ago=100)
            world.ingest_cases()
            yield world
    finally:
        engine.dispose()
