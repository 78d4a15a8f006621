"""Rebuild the `involvement` table from what the sources have delivered, by the domain's
rules (`domain.involvement.derive_involvements`). Run after ingestion.

In the same transaction, each unit newly involved with a child is written as an
`involvement_change` (paatvaers.notices.detection): the outbox the notice job reads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import psycopg
from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from paatvaers.domain.appointments import PRACTICE_SETTING_CHILD_PSYCHIATRY, Appointment
from paatvaers.domain.cases import Case, CaseParty, PartyRole
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.involvement import ChildFacts, Involvement, derive_involvements
from paatvaers.domain.organisations import UnitKind
from paatvaers.notices.detection import record_changes, remember_involvement
from paatvaers.store.repositories import appointment_from_row, case_from_row
from paatvaers.store.tables import (
    AppointmentRow,
    CasePartyRow,
    ChildRow,
    EnrollmentRow,
    MunicipalCaseRow,
    OrgUnitRow,
)

COLUMNS = "child_cpr, child_cpr_synthetic, unit_id, kind, since, until, evidence"


def _facts(session: Session) -> list[tuple[ChildFacts, bool]]:
    """Every child that has a case or a child-psychiatry appointment, with its facts and
    whether its CPR number is synthetic."""
    cases: dict[str, list[tuple[Case, UnitKind]]] = defaultdict(list)
    for case_row, cpr, kind in session.execute(
        select(MunicipalCaseRow, CasePartyRow.cpr, OrgUnitRow.kind)
        .join(
            CasePartyRow,
            and_(
                CasePartyRow.case_id == MunicipalCaseRow.id,
                CasePartyRow.role == PartyRole.PRIMARY.value,
            ),
        )
        .join(OrgUnitRow, OrgUnitRow.id == MunicipalCaseRow.responsible_unit_id)
    ):
        party = CaseParty(Cpr.parse(cpr), PartyRole.PRIMARY)
        cases[cpr].append((case_from_row(case_row, (party,)), UnitKind(kind)))
    appointments: dict[str, list[Appointment]] = defaultdict(list)
    for appointment_row in session.scalars(
        select(AppointmentRow).where(
            AppointmentRow.practice_setting_code == PRACTICE_SETTING_CHILD_PSYCHIATRY
        )
    ):
        appointments[appointment_row.patient_cpr].append(appointment_from_row(appointment_row))
    schools = dict(
        session.execute(
            select(EnrollmentRow.child_cpr, EnrollmentRow.institution_unit_id)
            .join(OrgUnitRow, OrgUnitRow.id == EnrollmentRow.institution_unit_id)
            .where(OrgUnitRow.kind == UnitKind.SCHOOL.value)
        ).all()
    )
    synthetic = dict(session.execute(select(ChildRow.cpr, ChildRow.cpr_synthetic)).all())
    return [
        (
            ChildFacts(
                Cpr.parse(cpr),
                tuple(cases.get(cpr, ())),
                tuple(appointments.get(cpr, ())),
                schools.get(cpr),
            ),
            bool(synthetic.get(cpr, False)),
        )
        for cpr in sorted(set(cases) | set(appointments))
    ]


def rebuild_involvement(engine: Engine, day: date) -> int:
    """Replace the involvement table with what the rules derive on `day`; returns its size."""
    with Session(engine) as session:
        facts = _facts(session)
    rows: list[tuple[Involvement, bool]] = [
        (i, synthetic) for f, synthetic in facts for i in derive_involvements(f, day)
    ]
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)  # noqa: S101 - we only use psycopg
        with conn.cursor() as cur:
            remember_involvement(cur)
            cur.execute("TRUNCATE involvement")
            with cur.copy(f"COPY involvement ({COLUMNS}) FROM STDIN") as copy:
                for i, synthetic in rows:
                    copy.write_row(
                        (
                            i.child_cpr.value,
                            synthetic,
                            i.unit_id,
                            i.kind.value,
                            i.since,
                            i.until,
                            i.evidence.value,
                        )
                    )
            record_changes(cur, day)
        raw.commit()
    finally:
        raw.close()
    return len(rows)
