"""Tests for the small domain types: cases, appointments and children."""

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paatvaers.domain.appointments import (
    PRACTICE_SETTING_CHILD_PSYCHIATRY,
    PRACTICE_SETTING_PSYCHIATRY,
    Appointment,
    AppointmentMarking,
    AppointmentStatus,
    CourseStage,
)
from paatvaers.domain.cases import (
    Case,
    CaseParty,
    CaseStatus,
    InvalidKle,
    KleNumber,
    PartyRole,
    Sensitivity,
)
from paatvaers.domain.children import AddressProtection, Child, CustodyHolder, CustodyRole
from paatvaers.domain.cpr import Cpr
from paatvaers.domain.identifiers import Cvr, Sor

CHILD_CPR = Cpr.parse("1503144123")  # born 15 March 2014
MOTHER_CPR = Cpr.parse("0102854122")
FATHER_CPR = Cpr.parse("0203834121")
CET = timezone(timedelta(hours=1))

# --- Sensitivity ---------------------------------------------------------------------------

# lowest first, as SagIndeksEgenskaber/Foelsomhed orders them
SENSITIVITY_ORDER = [
    Sensitivity.IKKE_FORTROLIGE_DATA,
    Sensitivity.FORTROLIGE_PERSONOPLYSNINGER,
    Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
    Sensitivity.VIP_SAGER,
]


def test_sensitivity_examples() -> None:
    assert Sensitivity.IKKE_FORTROLIGE_DATA.within(Sensitivity.VIP_SAGER)
    assert Sensitivity.FOELSOMME_PERSONOPLYSNINGER.within(Sensitivity.FOELSOMME_PERSONOPLYSNINGER)
    assert not Sensitivity.VIP_SAGER.within(Sensitivity.FOELSOMME_PERSONOPLYSNINGER)
    assert not Sensitivity.FORTROLIGE_PERSONOPLYSNINGER.within(Sensitivity.IKKE_FORTROLIGE_DATA)


@given(level=st.sampled_from(list(Sensitivity)), clearance=st.sampled_from(list(Sensitivity)))
def test_sensitivity_within_follows_the_order(level: Sensitivity, clearance: Sensitivity) -> None:
    expected = SENSITIVITY_ORDER.index(level) <= SENSITIVITY_ORDER.index(clearance)
    assert level.within(clearance) is expected
    assert level.rank == SENSITIVITY_ORDER.index(level)


# --- KLE -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["27.24.03", "00.00.00", "99.99.99"])
def test_kle_number_accepted(value: str) -> None:
    kle = KleNumber(value)
    assert str(kle) == value
    assert kle.main_group == value[:2]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "27.24.3",
        "272403",
        "27-24-03",
        "27.24.03.01",
        "27.24",
        "ab.cd.ef",
        " 27.24.03",
        "27.24.03 ",
        "27.24.03\n",
    ],
)
def test_kle_number_rejected(value: str) -> None:
    with pytest.raises(InvalidKle) as excinfo:
        KleNumber(value)
    assert repr(value) in str(excinfo.value)


# --- Case ----------------------------------------------------------------------------------


def make_case(case_number: str = "27.24.03-G01-1-26", title: str = "Sag om barn") -> Case:
    return Case(
        id=uuid.UUID(int=1),
        case_number=case_number,
        title=title,
        kle=KleNumber("27.24.03"),
        status=CaseStatus.OPSTAAET,
        sensitivity=Sensitivity.FOELSOMME_PERSONOPLYSNINGER,
        owner_cvr=Cvr("29190623"),
        responsible_unit_id=uuid.UUID(int=2),
        source_system="DUBU",
        opened_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        parties=(
            CaseParty(MOTHER_CPR, PartyRole.SECONDARY),
            CaseParty(CHILD_CPR, PartyRole.PRIMARY),
        ),
    )


def test_case_accepts_case_numbers_of_1_to_50_characters() -> None:
    assert make_case("1").case_number == "1"
    assert make_case("x" * 50).case_number == "x" * 50


@pytest.mark.parametrize("case_number", ["", "x" * 51, "x" * 200])
def test_case_rejects_empty_or_too_long_case_numbers(case_number: str) -> None:
    with pytest.raises(ValueError, match="case number"):
        make_case(case_number=case_number)


@pytest.mark.parametrize("title", ["", "t" * 256])
def test_case_rejects_empty_or_too_long_titles(title: str) -> None:
    with pytest.raises(ValueError, match="case title"):
        make_case(title=title)
    assert make_case(title="t" * 255).title == "t" * 255


def test_case_primary_party() -> None:
    case = make_case()
    assert case.primary_party is not None
    assert case.primary_party.cpr == CHILD_CPR
    assert case.primary_party.as_urn() == "urn:oio:cpr-nr:1503144123"
    assert dataclasses.replace(case, parties=()).primary_party is None


# --- Appointment ---------------------------------------------------------------------------

MARKING = AppointmentMarking(PRACTICE_SETTING_CHILD_PSYCHIATRY, "554871000005105", "ALAL03")


def make_appointment(start: datetime, end: datetime | None) -> Appointment:
    return Appointment(
        id=uuid.UUID(int=10),
        document_id=uuid.UUID(int=11),
        patient_cpr=CHILD_CPR,
        start=start,
        end=end,
        performer_sor=Sor("12345678901"),
        performer_name="BUP Glostrup",
        location_sor=None,
        location_name=None,
        reason="Udredning",
        marking=MARKING,
        status=AppointmentStatus.BOOKED,
        stage=CourseStage.ASSESSMENT,
    )


START = datetime(2026, 3, 2, 10, 0, tzinfo=CET)


def test_appointment_with_aware_times() -> None:
    appointment = make_appointment(START, START + timedelta(hours=1))
    assert appointment.end == START + timedelta(hours=1)
    assert make_appointment(START, START).end == START  # zero length is allowed
    assert make_appointment(START, None).end is None  # APD-DK allows an open end


def test_appointment_rejects_a_naive_start() -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_appointment(START.replace(tzinfo=None), None)


def test_appointment_rejects_a_naive_end() -> None:
    # Only `start` is checked; a naive `end` reaches `end < start`, which raises TypeError
    # ("can't compare offset-naive and offset-aware datetimes") instead of a clear ValueError.
    with pytest.raises(ValueError, match="time zone"):
        make_appointment(START, (START + timedelta(hours=1)).replace(tzinfo=None))


def test_appointment_rejects_end_before_start() -> None:
    with pytest.raises(ValueError, match="end before it starts"):
        make_appointment(START, START - timedelta(minutes=1))


def test_appointment_end_compared_across_time_zones() -> None:
    # 09:30 UTC is 10:30 in CET, after the 10:00 CET start
    assert make_appointment(START, datetime(2026, 3, 2, 9, 30, tzinfo=UTC)).end is not None
    with pytest.raises(ValueError, match="end before it starts"):
        make_appointment(START, datetime(2026, 3, 2, 8, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("practice_setting", "child_psychiatry", "marked"),
    [
        ("394588006", True, True),
        (PRACTICE_SETTING_PSYCHIATRY, False, True),
        ("408443003", False, True),
        (None, False, False),
    ],
)
def test_marking(practice_setting: str | None, child_psychiatry: bool, marked: bool) -> None:
    marking = AppointmentMarking(practice_setting, None, None)
    assert marking.is_child_psychiatry is child_psychiatry
    assert marking.is_marked is marked


def test_course_stage_names() -> None:
    assert [s.danish_name for s in CourseStage] == [
        "Henvisning",
        "Udredning",
        "Behandling",
        "Afsluttet",
    ]


# --- Child ---------------------------------------------------------------------------------


def holder(cpr: Cpr, role: CustodyRole, lives_with_child: bool) -> CustodyHolder:
    return CustodyHolder(cpr, "Navn", role, lives_with_child)


def make_child(*custody: CustodyHolder, protection: AddressProtection | None = None) -> Child:
    return Child(CHILD_CPR, "Barn", "0101", custody, protection)


@pytest.mark.parametrize(
    ("custody", "split"),
    [
        ((), False),
        ((holder(MOTHER_CPR, CustodyRole.MOTHER, True),), False),
        ((holder(MOTHER_CPR, CustodyRole.MOTHER, False),), False),
        (
            (
                holder(MOTHER_CPR, CustodyRole.MOTHER, True),
                holder(FATHER_CPR, CustodyRole.FATHER, True),
            ),
            False,
        ),
        (
            (
                holder(MOTHER_CPR, CustodyRole.MOTHER, True),
                holder(FATHER_CPR, CustodyRole.FATHER, False),
            ),
            True,
        ),
        (
            (
                holder(MOTHER_CPR, CustodyRole.MOTHER, False),
                holder(FATHER_CPR, CustodyRole.FATHER, False),
            ),
            True,
        ),
    ],
)
def test_has_split_custody(custody: tuple[CustodyHolder, ...], split: bool) -> None:
    assert make_child(*custody).has_split_custody is split


def test_child_birth_date_and_age() -> None:
    child = make_child()
    assert child.birth_date == date(2014, 3, 15)
    assert child.age_on(date(2026, 3, 14)) == 11
    assert child.age_on(date(2026, 3, 15)) == 12


def test_address_protection() -> None:
    protection = AddressProtection(since=date(2025, 1, 1), until=date(2025, 12, 31))
    child = make_child(protection=protection)
    assert not child.is_protected_on(date(2024, 12, 31))
    assert child.is_protected_on(date(2025, 1, 1))
    assert child.is_protected_on(date(2025, 12, 31))
    assert not child.is_protected_on(date(2026, 1, 1))
    open_ended = make_child(protection=AddressProtection(since=date(2025, 1, 1), until=None))
    assert open_ended.is_protected_on(date(2099, 1, 1))
    assert not make_child().is_protected_on(date(2025, 6, 1))
