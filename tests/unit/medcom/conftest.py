"""Fixtures for the MedCom message tests: synthetic parties, people and files, and MedCom's
published examples.

Organisations, people and CPR numbers are invented: the SOR codes and GLNs are made up (the
GLNs with a valid check digit), and the child's CPR number carries the project's synthetic
mark. The examples are read where the project keeps its shared test vectors
(`shared/vectors/SOURCES.txt` says where each file comes from).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from paatvaers.domain.clock import DANISH_TIME
from paatvaers.domain.cpr import has_synthetic_mark, synthetic_cpr
from paatvaers.domain.identifiers import Gln, Sor
from paatvaers.medcom.model import AttachmentFile, Party, Patient, Practitioner

_VECTORS = Path(__file__).resolve().parents[4] / "shared" / "vectors"
_IG = _VECTORS / "medcomfhir-website" / "ig"
_CC = _IG / "carecommunication" / "5.0.2"
_ACK = _IG / "acknowledgement" / "2.0.3"
_TOUCHSTONE = (
    _VECTORS / "dk-medcom-carecommunication-testscripts" / "input" / "attachments" / "SendExamples"
)
_CC_JSON = sorted(_CC.glob("Bundle-*.json"))
_ACK_JSON = sorted(_ACK.glob("Bundle-*.json"))
_TOUCHSTONE_ALL = sorted(_TOUCHSTONE.glob("Bundle-*"))

Loader = Callable[[str], dict[str, Any]]


def _name(path: Path) -> str:
    return path.stem.removeprefix("Bundle-")[:12]


def example_path(prefix: str) -> Path:
    """A published CareCommunication or Acknowledgement example by the start of its id."""
    found = [p for p in (*_CC_JSON, *_ACK_JSON) if p.stem.startswith(f"Bundle-{prefix}")]
    assert len(found) == 1, f"no single MedCom example starts with {prefix!r} under {_IG}"
    return found[0]


@pytest.fixture
def published() -> Loader:
    """Loads a published example, e.g. `published("add5e7e2")` (a fresh copy each call)."""

    def load(prefix: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(example_path(prefix).read_text(encoding="utf-8"))
        return loaded

    return load


@pytest.fixture
def send_example() -> Callable[[str], Path]:
    """A MedCom Touchstone send example by the start of its name, e.g. `send_example("S-B")`."""

    def find(prefix: str) -> Path:
        found = [p for p in _TOUCHSTONE_ALL if p.name.startswith(f"Bundle-{prefix}")]
        assert len(found) == 1, f"no single Touchstone example starts with {prefix!r}"
        return found[0]

    return find


@pytest.fixture(params=_CC_JSON, ids=_name)
def cc_example(request: pytest.FixtureRequest) -> Path:
    """Each published CareCommunication 5.0.2 example (JSON)."""
    path: Path = request.param
    return path


@pytest.fixture(params=_CC_JSON + _TOUCHSTONE_ALL, ids=_name)
def any_cc_example(request: pytest.FixtureRequest) -> Path:
    """Each CareCommunication example: the IG's and MedCom's Touchstone send examples
    (JSON or XML)."""
    path: Path = request.param
    return path


@pytest.fixture(params=_ACK_JSON, ids=_name)
def ack_example(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture(
    params=[p for p in _CC_JSON + _ACK_JSON if p.with_suffix(".xml").is_file()], ids=_name
)
def json_xml_pair(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """Each published example that is published in both JSON and XML."""
    path: Path = request.param
    return path, path.with_suffix(".xml")


@pytest.fixture
def municipality() -> Party:
    return Party(
        "Børne- og familieafdelingen, Testrup Kommune",
        Sor("90000000001"),
        Gln.from_body("579900000001"),
    )


@pytest.fixture
def child_psychiatry() -> Party:
    return Party(
        "Børne- og ungdomspsykiatrisk afsnit, Testregion",
        Sor("90000000002"),
        Gln.from_body("579900000002"),
    )


@pytest.fixture
def general_practice() -> Party:
    return Party("Lægehuset Opdigtet Allé", Sor("90000000003"), Gln.from_body("579900000003"))


@pytest.fixture
def social_worker() -> Practitioner:
    return Practitioner(("Karen",), "Opdigtsen", "socialraadgiver", "+45 70 00 00 01")


@pytest.fixture
def psychiatrist() -> Practitioner:
    return Practitioner.from_full_name("Peter Prøve Fiktivsen", "overlaege", "70000002")


@pytest.fixture
def gp() -> Practitioner:
    return Practitioner(("Gitte",), "Eksempelsen", "Praktiserende læge", "70000003")


@pytest.fixture
def child() -> Patient:
    cpr = synthetic_cpr(date(2014, 3, 12), seventh_digit=4, last_digit=2)
    assert has_synthetic_mark(cpr.value)
    return Patient(cpr, "Testbarn", ("Liva", "Opdigt"))


@pytest.fixture
def pdf_file() -> AttachmentFile:
    data = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"
    created = datetime(2026, 3, 1, 8, 0, tzinfo=DANISH_TIME)
    return AttachmentFile("Handleplan", "application/pdf", data, created=created)
