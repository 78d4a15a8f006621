"""`paatvaers medcom validate FILE...` on published and broken messages."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from paatvaers.medcom.cli import app

VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
CC = VECTORS / "medcomfhir-website" / "ig" / "carecommunication" / "5.0.2"
NEW_MESSAGE = CC / "Bundle-add5e7e2-0c0f-4a4a-bfff-f6f984fa7e3c.json"


def test_valid_json_and_xml_files_print_ok_and_exit_0() -> None:
    xml = NEW_MESSAGE.with_suffix(".xml")
    result = CliRunner().invoke(app, ["validate", str(NEW_MESSAGE), str(xml)])
    assert result.exit_code == 0, result.output
    assert f"{NEW_MESSAGE}: OK (0 errors, 0 warnings)" in result.output
    assert f"{xml}: OK (0 errors, 0 warnings)" in result.output


def test_a_broken_file_prints_each_issue_and_exits_1(tmp_path: Path) -> None:
    bundle = json.loads(NEW_MESSAGE.read_text())
    communication = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication"
    )
    communication["status"] = "completed"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(bundle))

    result = CliRunner().invoke(app, ["validate", str(NEW_MESSAGE), str(broken)])

    assert result.exit_code == 1
    assert f"{NEW_MESSAGE}: OK" in result.output
    assert f"{broken}: FAILED (1 errors, 0 warnings)" in result.output
    assert (
        "error: Bundle.entry[2].resource.ofType(Communication).status [pattern value] "
        "must be 'unknown', is 'completed'"
    ) in result.output


def test_a_file_that_is_not_json_fails(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    result = CliRunner().invoke(app, ["validate", str(junk)])
    assert result.exit_code == 1
    assert f"{junk}: FAILED (not JSON" in result.output
