"""The shipped conformance resources are unchanged copies of the published ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paatvaers.medcom.validation.definitions import shipped_definitions
from paatvaers.medcom.validation.tolerance import gln_system

DEFINITIONS = Path(__file__).resolve().parents[3] / "src" / "paatvaers" / "medcom" / "definitions"
VECTORS = Path(__file__).resolve().parents[3].parent / "shared" / "vectors"
# Where each source repository's files sit under ../shared/vectors/ (see its SOURCES.txt).
VECTOR_FOLDERS = {
    "medcomdk/medcomfhir-website": "medcomfhir-website",
    "hl7dk/website": "hl7dk-website",
}


def _sources() -> list[tuple[str, Path]]:
    rows = []
    for line in (DEFINITIONS / "SOURCES.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        local, repo, _commit, source, *_ = (part.strip() for part in line.split("|"))
        rows.append((local, VECTORS / VECTOR_FOLDERS[repo] / source))
    return rows


SOURCES = _sources()


def test_every_shipped_file_is_listed_in_sources() -> None:
    shipped = {str(p.relative_to(DEFINITIONS)) for p in DEFINITIONS.rglob("*.json")}
    assert shipped == {local for local, _ in SOURCES}
    assert len(shipped) > 80


@pytest.mark.parametrize(("local", "vector"), SOURCES, ids=[local for local, _ in SOURCES])
def test_shipped_file_is_byte_identical_to_the_published_one(local: str, vector: Path) -> None:
    assert vector.is_file(), (
        f"{vector} is missing: ../shared/vectors must sit beside the repository"
    )
    assert (DEFINITIONS / local).read_bytes() == vector.read_bytes()


def test_every_profile_carries_a_snapshot() -> None:
    definitions = shipped_definitions()
    for url, sd in definitions.structure_definitions.items():
        assert "snapshot" in sd, url
        assert definitions.profile(url) is not None


def test_the_message_profiles_are_shipped() -> None:
    definitions = shipped_definitions()
    for url in (
        "http://medcomfhir.dk/ig/carecommunication/StructureDefinition/medcom-careCommunication-message",
        "http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement",
        "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization",
        "http://hl7.dk/fhir/core/StructureDefinition/dk-core-gln-identifier",
    ):
        assert definitions.profile(url) is not None, url
    assert "http://medcomfhir.dk/ig/terminology/ValueSet/medcom-careCommunication-categories" in (
        definitions.value_sets
    )


def test_the_gln_system_to_emit_is_the_one_dk_core_3_4_0_fixes() -> None:
    published = json.loads(
        (
            VECTORS
            / "hl7dk-website/fhir/core/3.4.0/StructureDefinition-dk-core-gln-identifier.json"
        ).read_text()
    )
    fixed = next(
        e["fixedUri"] for e in published["snapshot"]["element"] if e["id"] == "Identifier.system"
    )
    assert gln_system(shipped_definitions()) == fixed == "https://www.gs1.org/gln"
