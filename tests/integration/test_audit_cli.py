"""`paatvaers audit …` in-process against a real PostgreSQL: exit codes and what it prints,
and the FHIR export checked against the FHIR R4 models and BALP's codes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from paatvaers.access.audit import AccessAction, AccessEvent, record
from paatvaers.cli import app
from paatvaers.store.db import make_engine
from support.audit import child_cpr, malicious_dba, write_log

runner = CliRunner()
CHILD = child_cpr(1)
OTHER_CHILD = child_cpr(2)
USER = uuid.UUID("5b1c8f4e-0000-4000-8000-00000000a001")
UNIT = uuid.UUID("5b1c8f4e-0000-4000-8000-00000000b001")


@pytest.fixture
def cli_env(fresh_database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": fresh_database_url,
        "PAATVAERS_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }


@pytest.fixture
def log_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _audit(env: dict[str, str], *args: str) -> Any:
    return runner.invoke(app, ["audit", *args], env=env)


def test_verify_passes_on_a_clean_log_and_fails_naming_the_row(
    log_engine: Engine, cli_env: dict[str, str]
) -> None:
    write_log(log_engine, 120)
    clean = _audit(cli_env, "verify")
    url = log_engine.url.render_as_string(hide_password=False)
    with malicious_dba(url) as dba:
        row_id = dba.execute("SELECT id FROM access_event WHERE seq = 77").fetchone()
        dba.execute("UPDATE access_event SET purpose = 'Nysgerrighed' WHERE seq = 77")
    tampered = _audit(cli_env, "verify")

    assert clean.exit_code == 0, clean.output
    lines = clean.output.splitlines()
    assert lines[0].startswith("OK: 120 events, chain head seq=120 ")
    assert lines[1] == (
        f"Checkpoints: none in {cli_env['PAATVAERS_DATA_DIR']}/audit-checkpoints.jsonl; "
        "a log cut off at its end would go unnoticed"
    )
    assert tampered.exit_code == 1, tampered.output
    assert row_id is not None
    assert tampered.output.splitlines() == [
        "FAILED: 1 problem in 120 events",
        f"row seq=77 (id={row_id[0]}) changed: its content does not match its row_hash",
    ]


def test_checkpoint_then_cut_off_tail_fails_verify(
    log_engine: Engine, cli_env: dict[str, str]
) -> None:
    write_log(log_engine, 60)
    with Session(log_engine) as session, session.begin():
        record(session, _event(AccessAction.READ))  # not sealed yet
    sealed = _audit(cli_env, "seal")
    checkpointed = _audit(cli_env, "checkpoint")
    ok = _audit(cli_env, "verify")
    with malicious_dba(log_engine.url.render_as_string(hide_password=False)) as dba:
        dba.execute("DELETE FROM access_event WHERE seq > 58")
    cut = _audit(cli_env, "verify")

    assert sealed.output.startswith("Sealed 1 events; chain head seq=61 "), sealed.output
    path = Path(cli_env["PAATVAERS_DATA_DIR"]) / "audit-checkpoints.jsonl"
    assert checkpointed.exit_code == 0
    assert checkpointed.output.startswith("Checkpoint seq=61 ")
    assert json.loads(path.read_text(encoding="utf-8"))["seq"] == 61
    assert ok.exit_code == 0 and f"Checkpoints: 1 match ({path})" in ok.output
    assert cut.exit_code == 1
    assert cut.output.splitlines()[1].endswith(
        "the log ends at seq=58: rows seq=59..61 were removed (the log was cut off)"
    )


def test_an_explicit_checkpoint_file(
    log_engine: Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    write_log(log_engine, 10)
    path = tmp_path / "elsewhere" / "heads.jsonl"
    assert _audit(cli_env, "checkpoint", "--checkpoints", str(path)).exit_code == 0
    result = _audit(cli_env, "verify", "--checkpoints", str(path))
    assert result.exit_code == 0
    assert f"Checkpoints: 1 match ({path})" in result.output


def test_an_unreachable_database_exits_2(cli_env: dict[str, str]) -> None:
    url = make_url(cli_env["DATABASE_URL"]).set(database="does_not_exist_audit")
    env = cli_env | {"DATABASE_URL": url.render_as_string(hide_password=False)}
    result = _audit(env, "verify")
    assert result.exit_code == 2
    assert "The access log could not be reached: OperationalError" in result.output
    assert "Traceback" not in result.output


# --- FHIR export ----------------------------------------------------------------------------


def _event(
    action: AccessAction,
    decision: str = "permit",
    child: str = CHILD,
    **changes: Any,
) -> AccessEvent:
    values: dict[str, Any] = {
        "user_id": USER,
        "username": "bup_laege_1",
        "employee_function": "bup_laege",
        "unit_id": UNIT,
        "action": action,
        "purpose": "Behandling",
        "decision": decision,
        "rules": ("cases_to_health.consent",),
        "child_cpr": child,
        "child_cpr_synthetic": True,
        "data_flow": "cases_to_health",
        "legal_reference": "Sundhedsloven § 43",
        "record_ids": ("case:7f7c", "consent:c-1") if decision == "permit" else ("consent:c-2",),
        "reason": None if decision == "permit" else "Samtykket er trukket tilbage",
        "request_id": "r-123",
    }
    return AccessEvent(**(values | changes))


def _export(cli_env: dict[str, str], *args: str) -> dict[str, Any]:
    result = _audit(cli_env, "export", *args)
    assert result.exit_code == 0, result.output
    exported: dict[str, Any] = json.loads(result.stdout)
    return exported


def _by_code(items: list[dict[str, Any]], code: str) -> dict[str, Any]:
    def codes(item: dict[str, Any]) -> set[str]:
        kind = item["type"]
        return {c["code"] for c in kind.get("coding", [kind])}

    return next(item for item in items if code in codes(item))


def test_export_is_a_valid_fhir_bundle_with_balp_codes(
    log_engine: Engine, cli_env: dict[str, str]
) -> None:
    with Session(log_engine) as session, session.begin():
        record(session, _event(AccessAction.DECIDE, "deny"))
        record(session, _event(AccessAction.READ))
        record(session, _event(AccessAction.SEARCH))
        record(session, _event(AccessAction.READ, child=OTHER_CHILD))
        record(
            session,
            _event(AccessAction.READ, employee_function="socialraadgiver", purpose="COC"),
        )
    exported = _export(cli_env, "--child", CHILD)

    Bundle.model_validate(exported)
    assert exported["type"] == "collection"
    deny, read, search, municipal = (entry["resource"] for entry in exported["entry"])
    # The decision: BALP's Consent Authorized Decision, outcome 4 (deny), no data entity.
    assert deny["type"]["code"] == "110113"
    assert deny["subtype"][0]["code"] == "AuthZ-Consent"
    assert (deny["action"], deny["outcome"]) == ("E", "4")
    assert deny["outcomeDesc"] == "Samtykket er trukket tilbage — Sundhedsloven § 43"
    assert [e["type"]["code"] for e in deny["entity"]] == ["1", "Consent", "XrequestId"]
    assert _by_code(deny["agent"], "authserver")["requestor"] is False
    # The read: PatientRead.
    assert (read["type"]["code"], read["subtype"][0]["code"]) == ("rest", "read")
    assert (read["action"], read["outcome"]) == ("R", "0")
    user = _by_code(read["agent"], "IRCP")
    assert user["requestor"] is True
    assert user["who"]["identifier"]["value"] == f"urn:uuid:{USER}"
    assert user["role"][0]["coding"][0]["code"] == "bup_laege"
    assert [p["coding"][0]["code"] for p in user["purposeOfUse"]] == ["TREAT", "cases_to_health"]
    assert user["policy"] == ["urn:paatvaers:access-rule:cases_to_health.consent"]
    patient = _by_code(read["entity"], "1")
    assert patient["role"]["code"] == "1"
    assert patient["what"]["identifier"] == {"system": "urn:oid:1.2.208.176.1.2", "value": CHILD}
    data = _by_code(read["entity"], "2")
    assert (data["role"]["code"], data["what"]["identifier"]["value"]) == ("4", "case:7f7c")
    assert read["meta"]["security"][0]["code"] == "HTEST"  # synthetic child
    assert read["source"]["observer"]["identifier"]["value"] == "urn:paatvaers:platform"
    assert _by_code(read["agent"], "110153")["who"]["identifier"]["value"] == (
        "urn:paatvaers:platform"
    )
    # The search: PatientQuery, with its query entity.
    assert (search["subtype"][0]["code"], search["action"]) == ("search", "E")
    assert _by_code(search["entity"], "2")["role"]["code"] == "24"
    # A municipal caseworker coordinates care; the unit is not typed as a health provider.
    municipal_user = _by_code(municipal["agent"], "IRCP")
    assert municipal_user["purposeOfUse"][0]["coding"][0]["code"] == "COC"
    assert _by_code(municipal["agent"], "AGNT")["who"]["identifier"]["value"] == f"urn:uuid:{UNIT}"


def test_export_since_a_day(log_engine: Engine, cli_env: dict[str, str]) -> None:
    with Session(log_engine) as session, session.begin():
        record(session, _event(AccessAction.READ))
    today = datetime.now(ZoneInfo("Europe/Copenhagen")).date()  # --since is a Danish day
    from_today = _export(cli_env, "--since", today.isoformat())
    from_tomorrow = _export(cli_env, "--since", (today + timedelta(days=1)).isoformat())

    assert len(from_today["entry"]) == 1
    assert from_tomorrow["entry"] == []
    Bundle.model_validate(from_tomorrow)


def test_export_refuses_a_bad_cpr_and_a_bad_day(cli_env: dict[str, str]) -> None:
    assert _audit(cli_env, "export", "--child", "12345").exit_code == 2
    assert _audit(cli_env, "export", "--since", "i går").exit_code == 2
