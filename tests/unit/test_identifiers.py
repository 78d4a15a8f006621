"""Tests for `paatvaers.domain.identifiers`: GLN, CVR, SOR, STIL and FK Organisation ids."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paatvaers.domain.identifiers import (
    Cvr,
    FkOrgUuid,
    Gln,
    InstitutionNumber,
    InvalidIdentifier,
    Sor,
    cvr_is_valid,
    gs1_check_digit,
)


def digit_strings(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def single_digit_changes(draw: st.DrawFn, value: str) -> str:
    """`value` with exactly one digit replaced by a different digit."""
    position = draw(st.integers(min_value=0, max_value=len(value) - 1))
    new = draw(st.sampled_from([d for d in "0123456789" if d != value[position]]))
    return value[:position] + new + value[position + 1 :]


# --- GLN -----------------------------------------------------------------------------------

# Hand computed, GS1 mod-10 with weights 3,1,3,... from the right of the 12-digit body:
#
# 4006381333931 (the usual EAN-13 example): body 400638133393 reversed is
#   3 9 3 3 3 1 8 3 6 0 0 4
#   x3 x1 x3 x1 x3 x1 x3 x1 x3 x1 x3 x1
#   = 9+9+9+3+9+1+24+3+18+0+0+4 = 89 -> check digit (10 - 9) % 10 = 1
#
# 5790000123452: body 579000012345 reversed is
#   5 4 3 2 1 0 0 0 0 9 7 5
#   = 15+4+9+2+3+0+0+0+0+9+21+5 = 68 -> check digit (10 - 8) % 10 = 2
#   so 5790000123459 is NOT a valid GLN.
#
# 5790000000012: body 579000000001 reversed is 1 0 0 0 0 0 0 0 0 9 7 5
#   = 3+0+0+0+0+0+0+0+0+9+21+5 = 38 -> check digit 2
VALID_GLNS = ["4006381333931", "5790000123452", "5790000000012"]


@pytest.mark.parametrize("value", VALID_GLNS)
def test_known_valid_glns(value: str) -> None:
    gln = Gln(value)
    assert str(gln) == value
    assert gs1_check_digit(value[:12]) == int(value[12])
    assert Gln.from_body(value[:12]) == gln


def test_gln_with_wrong_check_digit() -> None:
    with pytest.raises(InvalidIdentifier, match="5790000123459"):
        Gln("5790000123459")


@given(body=digit_strings(12))
def test_gln_from_body_is_always_valid(body: str) -> None:
    gln = Gln.from_body(body)
    assert gln.value.startswith(body)
    assert len(gln.value) == 13
    assert Gln(gln.value) == gln


@given(data=st.data(), body=digit_strings(12))
def test_a_single_digit_change_makes_a_gln_invalid(data: st.DataObject, body: str) -> None:
    changed = data.draw(single_digit_changes(Gln.from_body(body).value))
    with pytest.raises(InvalidIdentifier) as excinfo:
        Gln(changed)
    assert repr(changed) in str(excinfo.value)


@pytest.mark.parametrize(
    "value", ["", "400638133393", "40063813339310", "400638133393A", "4006381333931 "]
)
def test_gln_must_be_13_digits(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        Gln(value)
    assert repr(value) in str(excinfo.value)


# --- CVR -----------------------------------------------------------------------------------

# Hand computed, weights 2,7,6,5,4,3,2,1:
# 29190623: 2*2 + 9*7 + 1*6 + 9*5 + 0*4 + 6*3 + 2*2 + 3*1 = 4+63+6+45+0+18+4+3 = 143 = 11*13
# 29190624: the same with the last digit one higher, 144 = 11*13 + 1 -> invalid
# 0000000x: only 00000000 is valid
VALID_CVR = "29190623"


def test_known_valid_cvr() -> None:
    cvr = Cvr(VALID_CVR)
    assert cvr_is_valid(VALID_CVR)
    assert str(cvr) == VALID_CVR
    assert cvr.as_urn() == "urn:oio:cvr-nr:29190623"
    assert Cvr.from_body(VALID_CVR[:7]) == cvr


def test_known_invalid_cvr() -> None:
    assert not cvr_is_valid("29190624")
    with pytest.raises(InvalidIdentifier, match="29190624"):
        Cvr("29190624")


@given(body=digit_strings(7))
def test_cvr_from_body_is_valid_or_none(body: str) -> None:
    cvr = Cvr.from_body(body)
    partial = sum(int(d) * w for d, w in zip(body, (2, 7, 6, 5, 4, 3, 2), strict=True))
    if cvr is None:
        # no digit d in 0..9 makes partial + d divisible by 11: the remainder needed is 10
        assert (-partial) % 11 == 10
    else:
        assert cvr.value.startswith(body)
        assert cvr_is_valid(cvr.value)
        assert Cvr(cvr.value) == cvr


@given(data=st.data(), body=digit_strings(7))
def test_a_single_digit_change_makes_a_cvr_invalid(data: st.DataObject, body: str) -> None:
    cvr = Cvr.from_body(body)
    if cvr is None:
        return
    changed = data.draw(single_digit_changes(cvr.value))
    assert not cvr_is_valid(changed)
    with pytest.raises(InvalidIdentifier) as excinfo:
        Cvr(changed)
    assert repr(changed) in str(excinfo.value)


@pytest.mark.parametrize("value", ["", "2919062", "291906230", "2919062A", " 29190623"])
def test_cvr_must_be_8_digits(value: str) -> None:
    assert not cvr_is_valid(value)
    with pytest.raises(InvalidIdentifier) as excinfo:
        Cvr(value)
    assert repr(value) in str(excinfo.value)


# --- SOR and STIL --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["12345678901", "123456789012345678", "000000000000"])
def test_sor_with_at_least_11_digits(value: str) -> None:
    assert str(Sor(value)) == value


@pytest.mark.parametrize("value", ["", "1234567890", "1234567890A", "12345 678901", "SOR12345678"])
def test_sor_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        Sor(value)
    assert repr(value) in str(excinfo.value)


@given(value=st.text(alphabet="0123456789", min_size=11, max_size=25))
def test_any_digit_string_of_11_or_more_is_a_sor_code(value: str) -> None:
    assert Sor(value).value == value


def test_institution_number_with_6_digits() -> None:
    assert str(InstitutionNumber("101004")) == "101004"


@pytest.mark.parametrize("value", ["", "10100", "1010040", "10100A", "10 100"])
def test_institution_number_rejected(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        InstitutionNumber(value)
    assert repr(value) in str(excinfo.value)


# --- FK Organisation -----------------------------------------------------------------------

FK_UUID = "3f8c4e2a-9b1d-4c6e-8a7f-2d5b1e0c9a84"


def test_fk_org_uuid_without_prefix() -> None:
    parsed = FkOrgUuid.parse(FK_UUID)
    assert parsed.value == uuid.UUID(FK_UUID)
    assert str(parsed) == FK_UUID
    assert parsed.as_urn() == f"urn:uuid:{FK_UUID}"


def test_fk_org_uuid_with_urn_prefix() -> None:
    assert FkOrgUuid.parse(f"urn:uuid:{FK_UUID}") == FkOrgUuid.parse(FK_UUID)


@given(value=st.uuids())
def test_fk_org_uuid_round_trip(value: uuid.UUID) -> None:
    parsed = FkOrgUuid.parse(str(value))
    assert parsed.value == value
    assert FkOrgUuid.parse(parsed.as_urn()) == parsed


@pytest.mark.parametrize(
    "raw",
    ["", "urn:uuid:", "not-a-uuid", "3f8c4e2a-9b1d-4c6e-8a7f", f"{FK_UUID}0", "urn:oid:1.2.208"],
)
def test_fk_org_uuid_rejects_garbage(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        FkOrgUuid.parse(raw)
    assert repr(raw) in str(excinfo.value)


# --- no value may carry a trailing newline -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Gln, "4006381333931\n"),
        (Cvr, "29190623\n"),
        (Sor, "12345678901\n"),
        (InstitutionNumber, "101004\n"),
    ],
)
def test_trailing_newline_is_rejected(kind: type, value: str) -> None:
    # `^...$` with re.match lets a single trailing "\n" through; the value must be digits only.
    with pytest.raises(InvalidIdentifier) as excinfo:
        kind(value)
    assert repr(value) in str(excinfo.value)
