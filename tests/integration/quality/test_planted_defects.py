"""A synthetic population with four planted defects, ingested over HTTP from the real
simulators through the real adapters: the report and its CSV show exactly those defects, and
no others."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.support.quality import Planted, plant

from paatvaers.domain.geography import municipality
from paatvaers.ingest.service import ingest
from paatvaers.population.generator import Population, generate
from paatvaers.quality.alerts import AlertCode
from paatvaers.quality.report import QualityReport, build_report, to_csv
from paatvaers.quality.suppression import SUPPRESSED
from paatvaers.settings import Settings
from paatvaers.sources.simulation.server import RunningSimulators
from paatvaers.store.db import make_engine

AS_OF = date(2026, 11, 26)
CHILDREN = 2500
SEED = 21


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(CHILDREN, SEED, AS_OF)


@pytest.fixture
def planted(
    population: Population, fresh_database_url: str
) -> Iterator[tuple[QualityReport, Planted]]:
    now = datetime.now(UTC)
    world, defects = plant(population, now)
    engine: Engine = make_engine(fresh_database_url)
    try:
        with RunningSimulators(world) as sims:
            settings = Settings(
                database_url=fresh_database_url,
                **{f"{s.value}_url": u for s, u in sims.urls.items()},  # type: ignore[arg-type]
            )
            runs = ingest(engine, settings, day=AS_OF)
        assert all(r.error is None and r.quarantined == 0 for r in runs)
        with Session(engine) as session:
            yield build_report(session), defects
    finally:
        engine.dispose()


def _expected_alerts(defects: Planted) -> set[tuple[str, str]]:
    stopped = {
        (AlertCode.CASES_STOPPED.value, f"{defects.stopped_municipality}/{system}")
        for system in defects.stopped_systems
    }
    return {
        *stopped,
        (AlertCode.NO_PPR_CASES.value, defects.no_ppr_municipality),
        (AlertCode.UNMARKED_SHARE.value, defects.unmarked_region),
        *(
            (AlertCode.UNITS_WITHOUT_CONTACT.value, code)
            for code in defects.municipalities_without_phone
        ),
    }


def _nonzero(report: QualityReport, section: str, level: str, column: str) -> set[str]:
    return {
        row.key
        for row in report.section(section).rows
        if row.level == level and row.values.get(column) not in (0, None)
    }


def test_the_report_shows_exactly_the_planted_defects(
    planted: tuple[QualityReport, Planted],
) -> None:
    report, defects = planted
    assert {(a.code.value, a.subject) for a in report.alerts} == _expected_alerts(defects)

    cases = report.section("sager")
    stopped_rows = {
        r.key for r in cases.rows if r.level == "kildesystem" and not r.values["leverer"]
    }
    assert stopped_rows == {f"{defects.stopped_municipality}/{s}" for s in defects.stopped_systems}
    assert cases.value(defects.stopped_municipality, "forsinkelse") >= 48
    assert cases.value(defects.no_ppr_municipality, "ppr_sager") == 0
    assert cases.value(defects.no_ppr_municipality, "leverer") is True
    for column in ("uden_enhed", "uden_behandler", "parter_ikke_i_cpr"):
        assert _nonzero(report, "sager", "kommune", column) == set()

    appointments = report.section("aftaler")
    assert _nonzero(report, "aftaler", "region", "uden_markering") == {defects.unmarked_region}
    assert appointments.value(defects.unmarked_region, "andel_uden_markering") == round(
        100 * defects.unmarked / defects.region_appointments, 1
    )
    assert round(100 * defects.unmarked / defects.region_appointments) == 30
    for column in ("inkonsistent", "ukendte_sor"):
        assert _nonzero(report, "aftaler", "region", column) == set()

    organisation = report.section("organisation")
    assert _nonzero(report, "organisation", "kommune", "uden_telefon") == set(
        defects.municipalities_without_phone
    )
    assert _nonzero(report, "organisation", "kommune", "uden_email") == set()
    assert organisation.value("DK", "uden_telefon") == len(defects.units_without_phone)
    contact = report.section("kontaktdata")
    assert {r.name: r.values["mangler_telefon"] for r in contact.rows} == dict.fromkeys(
        defects.units_without_phone.values(), True
    )
    assert all(s.values["karantaene"] == 0 for s in report.section("kilder").rows)
    assert report.section("karantaene").rows == ()


def test_the_csv_shows_exactly_the_planted_defects(
    planted: tuple[QualityReport, Planted],
) -> None:
    report, defects = planted
    lines = list(csv.DictReader(io.StringIO(to_csv(report)), delimiter=";"))
    alerts = {
        (line["navn"], line["værdi"])
        for line in lines
        if line["sektion"] == "alarmer" and line["kolonne"] == "Alarm"
    }
    alert_keys = {
        tuple(line["nøgle"].split(":", 1))
        for line in lines
        if line["sektion"] == "alarmer" and line["kolonne"] == "Alarm"
    }
    assert alert_keys == _expected_alerts(defects)
    assert len(alerts) == len(alert_keys)

    def nonzero(section: str, level: str, column: str) -> set[str]:
        return {
            line["nøgle"]
            for line in lines
            if line["sektion"] == section
            and line["niveau"] == level
            and line["kolonne"] == column
            and line["værdi"] not in ("0", "")
        }

    assert nonzero("aftaler", "region", "Uden psykiatrimarkering") == {defects.unmarked_region}
    assert nonzero("organisation", "kommune", "Uden telefon") == set(
        defects.municipalities_without_phone
    )
    not_delivering = {
        line["nøgle"]
        for line in lines
        if line["sektion"] == "sager"
        and line["niveau"] == "kildesystem"
        and line["kolonne"] == "Leverer"
        and line["værdi"] == "nej"
    }
    assert not_delivering == {
        f"{defects.stopped_municipality}/{s}" for s in defects.stopped_systems
    }
    units = {
        line["navn"]
        for line in lines
        if line["sektion"] == "kontaktdata" and line["kolonne"] == "Mangler telefon"
    }
    assert units == set(defects.units_without_phone.values())
    texts = [line["værdi"] for line in lines if line["kolonne"] == "Beskrivelse"]
    assert any(municipality(defects.no_ppr_municipality).name in t for t in texts)
    small = [
        line for line in lines if line["art"] == "antal" and line["værdi"] in {"1", "2", "3", "4"}
    ]
    assert small == []
    assert any(line["værdi"] == SUPPRESSED for line in lines)
