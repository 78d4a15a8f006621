"""Daily snapshots: taking the day's again replaces it; several days make a trend; a case
system that delivered on an earlier day and has nothing now raises an alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from paatvaers.population.generator import Population, generate
from paatvaers.population.report import report
from paatvaers.quality import snapshots
from paatvaers.quality.alerts import AlertCode
from paatvaers.quality.cli import app
from paatvaers.quality.report import build_report, gather, take_snapshot
from paatvaers.quality.suppression import suppress
from paatvaers.store.db import make_engine
from paatvaers.store.population_writer import replace_population
from paatvaers.store.tables import QualitySnapshotRow

START = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(1500, 5, date(2026, 11, 26))


@pytest.fixture
def engine(fresh_database_url: str, population: Population) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    replace_population(engine, population, report(population))
    yield engine
    engine.dispose()


def _snapshot(engine: Engine, now: datetime) -> tuple[date, int]:
    with Session(engine) as session, session.begin():
        return take_snapshot(session, gather(session, now))


def _stored(engine: Engine) -> dict[date, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(QualitySnapshotRow.day, func.count().label("n")).group_by(QualitySnapshotRow.day)
        )
        return {row.day: int(row.n) for row in rows}


def _unmark(engine: Engine, how_many: int) -> str:
    """Unmark `how_many` more appointments of the region with the most; its code."""
    with engine.begin() as conn:
        region = conn.execute(
            text(
                "SELECT ch.region FROM appointment a JOIN child ch ON ch.cpr = a.patient_cpr"
                " GROUP BY ch.region ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        conn.execute(
            text(
                "UPDATE appointment SET practice_setting_code = NULL WHERE id IN ("
                " SELECT a.id FROM appointment a JOIN child ch ON ch.cpr = a.patient_cpr"
                " WHERE ch.region = :region AND a.practice_setting_code IS NOT NULL"
                " ORDER BY a.id LIMIT :n)"
            ),
            {"region": region, "n": how_many},
        )
        return str(region)


def _unmarked(engine: Engine, region: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM appointment a JOIN child ch ON ch.cpr = a.patient_cpr"
                    " WHERE ch.region = :region AND a.practice_setting_code IS NULL"
                ),
                {"region": region},
            ).scalar_one()
        )


def test_taking_the_days_snapshot_again_replaces_it(engine: Engine) -> None:
    day, first = _snapshot(engine, START)
    assert first > 0 and _stored(engine) == {day: first}
    region = _unmark(engine, 7)
    again_day, again = _snapshot(engine, START + timedelta(minutes=30))
    assert again_day == day
    assert _stored(engine) == {day: again}
    with Session(engine) as session:
        points = snapshots.trend(session, "appointments", region, "unmarked")
    assert points == (snapshots.TrendPoint(day, suppress(_unmarked(engine, region))),)


def test_snapshots_over_several_days_make_a_trend(engine: Engine) -> None:
    region = ""
    expected = []
    for offset in range(3):
        region = _unmark(engine, 6)
        day, _ = _snapshot(engine, START + timedelta(days=offset))
        expected.append(snapshots.TrendPoint(day, suppress(_unmarked(engine, region))))
    with Session(engine) as session:
        points = snapshots.trend(session, "appointments", region, "unmarked")
        later = snapshots.trend(session, "appointments", region, "unmarked", since=expected[1].day)
        progress = snapshots.rollout_progress(session)
        assert snapshots.days(session) == [p.day for p in expected]
    assert points == tuple(expected)
    assert [p.value for p in points] == sorted(p.value for p in points)  # type: ignore[type-var]
    assert later == tuple(expected[1:])
    assert [(p.day, p.level) for p in progress] == [
        (p.day, level) for p in expected for level in ("kommune", "region", "klinik")
    ]
    assert all(p.values["total"] in (5, 98) or p.level == "klinik" for p in progress)


def test_a_system_that_delivered_before_and_has_nothing_now_raises_an_alert(
    engine: Engine,
) -> None:
    with engine.connect() as conn:
        owner, system = conn.execute(
            text(
                "SELECT owner_cvr, source_system FROM municipal_case"
                " GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        code = conn.execute(
            text("SELECT municipality_code FROM org_unit WHERE cvr = :cvr LIMIT 1"), {"cvr": owner}
        ).scalar_one()
    subject = f"{code}/{system}"
    _snapshot(engine, START)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM municipal_case WHERE owner_cvr = :cvr AND source_system = :system"),
            {"cvr": owner, "system": system},
        )

    def gone_alerts(now: datetime) -> list[str]:
        with Session(engine) as session:
            alerts = build_report(session, now).alerts
        return [
            a.text for a in alerts if a.code is AlertCode.CASES_STOPPED and a.subject == subject
        ]

    # The same day judges against earlier days only: a re-run of today changes nothing.
    assert gone_alerts(START + timedelta(minutes=5)) == []
    [text_of_alert] = gone_alerts(START + timedelta(days=1))
    assert "leverede sager tidligere" in text_of_alert


def test_the_command_stores_todays_snapshot_once(
    engine: Engine, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    outcomes = [
        CliRunner().invoke(app, ["report", "--snapshot", "--section", "udrulning"])
        for _ in range(2)
    ]
    assert [o.exit_code for o in outcomes] == [0, 0], outcomes[0].output
    assert "Øjebliksbillede" in outcomes[1].output
    assert "Udrulning i dag" in outcomes[1].output
    stored = _stored(engine)
    assert len(stored) == 1 and next(iter(stored.values())) > 0
