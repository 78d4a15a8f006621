"""Helpers the access-log tests share: varied synthetic events, a committed and sealed log,
and a connection that acts as a malicious database administrator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paatvaers.access.audit import AccessAction, AccessEvent, record, seal
from paatvaers.domain.cpr import synthetic_cpr
from paatvaers.domain.organisations import EmployeeFunction

FUNCTIONS = list(EmployeeFunction)
ACTIONS = [AccessAction.READ, AccessAction.DECIDE, AccessAction.SEARCH]


def child_cpr(i: int) -> str:
    return synthetic_cpr(date(2014, 1, 1) + timedelta(days=i % 900), 4, i % 10).value


def sample_event(i: int) -> AccessEvent:
    """The i-th of a varied stream of events: every action, function and decision, Danish
    text, optional fields both set and empty."""
    deny = i % 7 == 0
    return AccessEvent(
        user_id=uuid.UUID(int=1000 + i % 13),
        username=f"bruger{i % 13}",
        employee_function=FUNCTIONS[i % len(FUNCTIONS)].value,
        unit_id=uuid.UUID(int=2000 + i % 5),
        action=ACTIONS[i % len(ACTIONS)],
        purpose="Koordinering af indsats for barnet",
        decision="deny" if deny else "permit",
        rules=(f"rule.{i % 4}", "relationship.active"),
        child_cpr=child_cpr(i),
        child_cpr_synthetic=True,
        data_flow="cases_to_health" if i % 2 else "appointments_to_municipality",
        legal_reference="Sundhedsloven § 41, stk. 2" if i % 3 else None,
        record_ids=() if deny else (f"case:{i}", f"consent:{i % 11}"),
        reason="Samtykke fra forældremyndighedsindehaver mangler" if deny else None,
        request_id=f"req-{i:05d}" if i % 5 else None,
    )


def write_log(engine: Engine, count: int, per_transaction: int = 40) -> None:
    """`count` events, committed a few at a time, each batch sealed in its own transaction,
    as the running app would leave them."""
    for start in range(0, count, per_transaction):
        with Session(engine) as session, session.begin():
            for i in range(start, min(start + per_transaction, count)):
                record(session, sample_event(i))
        with Session(engine) as session, session.begin():
            seal(session)


def psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def malicious_dba(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection with triggers switched off for its session (what a DBA who
    wants to rewrite the log does); commits when the block ends."""
    with psycopg.connect(psycopg_url(url)) as conn:
        conn.execute("SET session_replication_role = replica")
        yield conn
        conn.commit()


def ids_by_seq(url: str) -> dict[int, int]:
    with psycopg.connect(psycopg_url(url)) as conn:
        rows = conn.execute("SELECT seq, id FROM access_event WHERE seq IS NOT NULL").fetchall()
    return {int(seq): int(row_id) for seq, row_id in rows}
