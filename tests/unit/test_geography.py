"""Tests for `paatvaers.domain.geography` against the published dk-core CodeSystem."""

import json
from pathlib import Path

import pytest

from paatvaers.domain.geography import (
    MUNICIPALITIES,
    MUNICIPALITY_SYSTEM,
    Municipality,
    Region,
    UnknownMunicipality,
    is_municipality_code,
    municipality,
)

# An unchanged copy of the published CodeSystem; tests/vectors/SOURCES.txt says where from.
CODE_SYSTEM = (
    Path(__file__).resolve().parents[1]
    / "vectors"
    / "hl7dk"
    / "CodeSystem-dk-core-municipality-codes.json"
)
CHRISTIANSOE = "0411"


@pytest.fixture(scope="module")
def published() -> dict[str, str]:
    if not CODE_SYSTEM.is_file():
        pytest.fail(
            f"the dk-core 3.4.0 municipality CodeSystem is missing: expected it at {CODE_SYSTEM}"
        )
    resource = json.loads(CODE_SYSTEM.read_text(encoding="utf-8"))
    assert resource["resourceType"] == "CodeSystem"
    assert resource["url"] == MUNICIPALITY_SYSTEM
    assert resource["version"] == "3.4.0"
    return {c["code"]: c["display"] for c in resource["concept"]}


def test_the_published_code_system_has_christiansoe(published: dict[str, str]) -> None:
    assert published[CHRISTIANSOE] == "Christiansø"
    assert len(published) == 99


def test_municipalities_equal_the_published_code_system_less_christiansoe(
    published: dict[str, str],
) -> None:
    expected = {code: name for code, name in published.items() if code != CHRISTIANSOE}
    ours = {m.code: m.name for m in MUNICIPALITIES}
    assert len(MUNICIPALITIES) == 98
    assert len(ours) == 98, "a code appears twice"
    missing = sorted(expected.items() - ours.items())
    extra = sorted(ours.items() - expected.items())
    assert (missing, extra) == ([], [])


def test_codes_have_four_digits() -> None:
    for m in MUNICIPALITIES:
        assert len(m.code) == 4
        assert m.code.isdigit()
        assert m.code.startswith("0")
        assert m.population_k > 0


def test_names_are_unique() -> None:
    assert len({m.name for m in MUNICIPALITIES}) == len(MUNICIPALITIES)


@pytest.mark.parametrize("region", list(Region))
def test_each_region_has_municipalities(region: Region) -> None:
    assert any(m.region is region for m in MUNICIPALITIES)
    assert region.danish_name.startswith("Region ")


def test_five_regions() -> None:
    assert len(Region) == 5
    assert {m.region for m in MUNICIPALITIES} == set(Region)


@pytest.mark.parametrize(
    ("code", "name", "region"),
    [
        ("0101", "København", Region.HOVEDSTADEN),
        ("0400", "Bornholm", Region.HOVEDSTADEN),
        ("0461", "Odense", Region.SYDDANMARK),
        ("0751", "Aarhus", Region.MIDTJYLLAND),
        ("0851", "Aalborg", Region.NORDJYLLAND),
        ("0265", "Roskilde", Region.SJAELLAND),
    ],
)
def test_lookup_by_four_digit_code(code: str, name: str, region: Region) -> None:
    m = municipality(code)
    assert isinstance(m, Municipality)
    assert (m.code, m.name, m.region) == (code, name, region)
    assert is_municipality_code(code)


def test_lookup_by_three_digit_code() -> None:
    assert municipality("101") == municipality("0101")
    assert municipality("101").name == "København"
    assert is_municipality_code("851")


@pytest.mark.parametrize("code", ["0411", "411", "0000", "9999", "", "abcd", "01010"])
def test_unknown_code(code: str) -> None:
    with pytest.raises(UnknownMunicipality) as excinfo:
        municipality(code)
    assert repr(code) in str(excinfo.value)
    assert not is_municipality_code(code)
