"""Generate a synthetic national population, deterministic by seed and reference date.

The shape follows Danish reality closely enough to exercise the platform: children spread
over the 98 municipalities by size; GP clinics with patient lists; schools and daycares;
custody including split custody; about 1 % protected addresses; municipal cases in child/family
departments and PPR; BUP courses with appointment series (booked, held, cancelled, moved); and a
target group of a few percent of children.

Everything random comes from `random.Random` streams seeded by `seed`, drawn in a fixed
order, so the same seed and reference date give the same population, bit for bit. What was
added later (addresses, GP history, the staff of the access functions) draws from a second
stream, so that adding it left everything drawn before (CPR numbers, ids, cases) as it was.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from paatvaers.domain.appointments import (
    EPISODE_LABEL_MENTAL_DISORDERS,
    FACILITY_PSYCHIATRIC_UNIT,
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
    KleNumber,
    PartyRole,
    Sensitivity,
)
from paatvaers.domain.children import (
    Address,
    AddressProtection,
    Child,
    CustodyHolder,
    CustodyRole,
)
from paatvaers.domain.cpr import Cpr, Sex, seventh_digits_for, synthetic_cpr
from paatvaers.domain.enrollment import Enrollment, InstitutionType
from paatvaers.domain.geography import MUNICIPALITIES, Municipality, Region
from paatvaers.domain.identifiers import Cvr, Gln, InstitutionNumber, Sor
from paatvaers.domain.involvement import ChildFacts, Involvement, derive_involvements
from paatvaers.domain.organisations import (
    DataRestrictions,
    EmployeeFunction,
    OrgUnit,
    StaffMember,
    UnitKind,
    unit_id_for_institution,
    unit_id_for_sor,
)
from paatvaers.population import names

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
DEMO_MUNICIPALITY = "0851"  # Aalborg: Region Nordjylland ran the pilot's health-side access

T = TypeVar("T")


class PopulationError(RuntimeError):
    pass


@dataclass
class Population:
    seed: int
    as_of: date
    org_units: list[OrgUnit] = field(default_factory=list)
    staff: list[StaffMember] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    gp_of: dict[str, uuid.UUID] = field(default_factory=dict)  # child CPR -> GP clinic
    enrollments: list[Enrollment] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    involvements: list[Involvement] = field(default_factory=list)
    # CPR numbers whose appointments the appointment overview must not share.
    appointment_sharing_blocked: set[str] = field(default_factory=set)

    def demo_users(self) -> list[StaffMember]:
        return [s for s in self.staff if s.is_demo]


@dataclass
class _Units:
    """The units of one municipality (and its region's BUP) that children get attached to."""

    child_family: OrgUnit
    ppr: OrgUnit
    clinics: list[OrgUnit]
    schools: list[OrgUnit]
    daycares: list[OrgUnit]


# How the generated world is shaped. Shares are of all children unless said otherwise.
BUP_SHARE_SCHOOL_AGE = 0.05
BUP_SHARE_UNDER_FOUR = 0.004
PPR_SHARE = 0.06
CHILD_FAMILY_SHARE = 0.035
PROTECTED_SHARE = 0.01
MOVED_SHARE = 0.03  # moved into the municipality within the last two years
# GP choice: a child who moved chose a clinic in the new municipality; of the others, some
# changed clinic within the last month (inside the access tail of the former clinic), some
# within the last five years; the rest have been listed with the clinic since birth.
GP_CHANGED_LAST_MONTH = 0.01
GP_CHANGED_EARLIER = 0.10
APARTMENT_SHARE = 0.35  # addresses with a floor and a door
UNITS_WITHOUT_PHONE = 0.05  # institutions that registered no phone number
INCONSISTENT_MARKING = 0.02  # courses marked as adult psychiatry or without the episode label
BLOCKED_SHARING = 0.01  # of children in BUP: a custody holder blocked sharing of appointments
CHILDREN_PER_CLINIC = 700
CHILDREN_PER_SCHOOL = 400
CHILDREN_PER_DAYCARE = 60
# Share of BUP appointments each region marks with the child-psychiatry practice setting (R12).
MARKING_QUALITY = {
    Region.NORDJYLLAND: 0.99,
    Region.MIDTJYLLAND: 0.95,
    Region.SYDDANMARK: 0.9,
    Region.HOVEDSTADEN: 0.97,
    Region.SJAELLAND: 0.85,
}
BUP_SITES = {
    Region.NORDJYLLAND: ("Aalborg",),
    Region.MIDTJYLLAND: ("Aarhus", "Herning"),
    Region.SYDDANMARK: ("Odense", "Esbjerg", "Kolding"),
    Region.HOVEDSTADEN: ("Glostrup", "Hillerød", "Bispebjerg"),
    Region.SJAELLAND: ("Roskilde", "Næstved"),
}
CHILD_FAMILY_KLE = (
    ("27.24.03", "Børnefaglig undersøgelse"),
    ("27.27.09", "Familiebehandling"),
    ("27.27.06", "Praktisk pædagogisk støtte i hjemmet"),
    ("27.27.21", "Fast kontaktperson"),
    ("27.12.08", "Rådgivning og vejledning om barnet"),
    ("27.27.27", "Anbringelse uden for hjemmet"),
)
# PPR's KLE subjects are not confirmed by the research (kombit-infrastructure.md §2); these are
# the group for special needs education, which is where PPR cases are commonly journalised.
PPR_KLE = (
    ("17.13.00", "Pædagogisk-psykologisk vurdering"),
    ("17.13.02", "Specialpædagogisk bistand"),
)
# What a municipal login grants of the municipality's case data (KOMBIT adgangsstyring: a
# job-function role's data restrictions): KLE patterns and the highest sensitivity. They cover
# CHILD_FAMILY_KLE (27.*) and PPR_KLE (17.13.*); no one is granted VIP cases.
MUNICIPAL_GRANTS: dict[EmployeeFunction, tuple[tuple[str, ...], Sensitivity]] = {
    EmployeeFunction.SOCIALRAADGIVER: (("27.*",), Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
    EmployeeFunction.SAGSBEHANDLER: (("27.*",), Sensitivity.FORTROLIGE_PERSONOPLYSNINGER),
    EmployeeFunction.PPR_PSYKOLOG: (("17.*", "27.*"), Sensitivity.FOELSOMME_PERSONOPLYSNINGER),
}
APPOINTMENT_REASONS = {
    CourseStage.REFERRAL: ("Forsamtale", "Visitationssamtale"),
    CourseStage.ASSESSMENT: ("Udredningssamtale", "Psykologisk test", "Forældresamtale"),
    CourseStage.TREATMENT: ("Behandlingssamtale", "Forældresamtale", "Medicinkontrol"),
    CourseStage.COMPLETION: ("Afsluttende samtale",),
}


class _Generator:
    def __init__(
        self, children: int, seed: int, as_of: date, progress: Callable[[int], None] | None
    ) -> None:
        if children < 1:
            raise PopulationError("a population needs at least one child")
        self.n_children = children
        self.rng = random.Random(seed)
        # The stream of what was added later; see the module's docstring.
        self.later = random.Random(f"{seed}:later")
        self.as_of = as_of
        self.population = Population(seed=seed, as_of=as_of)
        self.used_cprs: set[str] = set()
        self.counters: dict[str, int] = {}
        self.progress = progress or (lambda _done: None)

    # -- small helpers ---------------------------------------------------------------------

    @contextmanager
    def drawing_from(self, rng: random.Random) -> Iterator[None]:
        """Every draw inside the block comes from `rng` instead of the main stream."""
        main, self.rng = self.rng, rng
        try:
            yield
        finally:
            self.rng = main

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def next_number(self, key: str, start: int = 1) -> int:
        value = self.counters.get(key, start)
        self.counters[key] = value + 1
        return value

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randrange(10)) for _ in range(n))

    def phone(self) -> str:
        return (
            f"+45 {self.rng.randrange(20, 100)} {self.digits(2)} {self.digits(2)} {self.digits(2)}"
        )

    def sor(self) -> Sor:
        return Sor(f"{self.next_number('sor', 900000000000001)}")

    def gln(self) -> Gln:
        return Gln.from_body(f"579{self.next_number('gln', 900000001):09d}")

    def cpr(self, born: date, sex: Sex) -> Cpr:
        """A synthetic CPR number not used before: a few random draws, then every candidate
        (up to 300 per birth date and sex) before giving up."""
        digits7 = seventh_digits_for(born.year)
        parity = (1, 3, 5, 7, 9) if sex is Sex.MALE else (0, 2, 4, 6, 8)
        for _ in range(8):
            cpr = synthetic_cpr(
                born, self.pick(digits7), self.pick(parity), ninth_digit=self.rng.randrange(10)
            )
            if cpr.value not in self.used_cprs:
                self.used_cprs.add(cpr.value)
                return cpr
        for seventh in digits7:
            for ninth in range(10):
                for last in parity:
                    cpr = synthetic_cpr(born, seventh, last, ninth_digit=ninth)
                    if cpr.value not in self.used_cprs:
                        self.used_cprs.add(cpr.value)
                        return cpr
        raise PopulationError(f"no synthetic CPR number left for {born}: population too dense")

    def workday_time(self, day: date) -> datetime:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        slot = time(self.rng.randrange(8, 15), self.pick((0, 15, 30, 45)))
        return datetime.combine(day, slot, tzinfo=COPENHAGEN)

    # -- organisations ---------------------------------------------------------------------

    def municipal_cvr(self, m: Municipality) -> Cvr:
        for extra in range(10):
            cvr = Cvr.from_body(f"29{m.code}{extra}")
            if cvr is not None:
                return cvr
        raise PopulationError(f"no CVR number for {m.code}")  # pragma: no cover - 10 tries suffice

    def add_unit(self, unit: OrgUnit) -> OrgUnit:
        self.population.org_units.append(unit)
        return unit

    def municipal_unit(self, m: Municipality, kind: UnitKind, name: str) -> OrgUnit:
        fk_org_uuid = self.new_id()
        return self.add_unit(
            OrgUnit(
                id=fk_org_uuid,
                kind=kind,
                name=f"{name}, {m.name} Kommune",
                municipality_code=m.code,
                region=m.region.value,
                cvr=self.municipal_cvr(m),
                fk_org_uuid=fk_org_uuid,
                phone=self.phone(),
                email=f"{kind.value.replace('_', '')}@{_slug(m.name)}.kommune.example",
            )
        )

    def institution(self, m: Municipality, kind: UnitKind, name: str) -> OrgUnit:
        number = f"{self.next_number('inst', 900001):06d}"
        return self.add_unit(
            OrgUnit(
                id=unit_id_for_institution(number),
                kind=kind,
                name=f"{name} ({m.name})",
                municipality_code=m.code,
                region=m.region.value,
                institution_number=InstitutionNumber(number),
                phone=None if self.chance(UNITS_WITHOUT_PHONE) else self.phone(),
            )
        )

    def health_unit(self, kind: UnitKind, name: str, m: Municipality) -> OrgUnit:
        sor = self.sor()
        return self.add_unit(
            OrgUnit(
                id=unit_id_for_sor(sor.value),
                kind=kind,
                name=name,
                municipality_code=m.code,
                region=m.region.value,
                sor=sor,
                gln=self.gln(),
                phone=self.phone(),
            )
        )

    def build_units(self, children_per_municipality: dict[str, int]) -> dict[str, _Units]:
        units: dict[str, _Units] = {}
        for m in MUNICIPALITIES:
            n = children_per_municipality[m.code]
            child_family = self.municipal_unit(m, UnitKind.CHILD_FAMILY, "Børn og Familie")
            ppr = self.municipal_unit(m, UnitKind.PPR, "Pædagogisk Psykologisk Rådgivning")
            clinics = [
                self.health_unit(UnitKind.GP, f"Lægehuset {stem}vej, {m.name}", m)
                for stem in self.stems(names.SCHOOL_STEMS, max(1, round(n / CHILDREN_PER_CLINIC)))
            ]
            schools = [
                self.institution(m, UnitKind.SCHOOL, f"{stem}skolen")
                for stem in self.stems(names.SCHOOL_STEMS, max(1, round(n / CHILDREN_PER_SCHOOL)))
            ]
            daycares = [
                self.institution(m, UnitKind.DAYCARE, f"Børnehuset {stem}")
                for stem in self.stems(
                    names.DAYCARE_STEMS, max(1, round(n / 3 / CHILDREN_PER_DAYCARE))
                )
            ]
            units[m.code] = _Units(child_family, ppr, clinics, schools, daycares)
        return units

    def stems(self, stems: Sequence[str], count: int) -> list[str]:
        """`count` distinct-looking names from `stems`, numbered once the stems run out."""
        result = []
        for i in range(count):
            stem = stems[i % len(stems)]
            result.append(stem if i < len(stems) else f"{stem} {i // len(stems) + 1}.")
        return result

    def build_bup(self) -> dict[Region, list[OrgUnit]]:
        by_name = {m.name: m for m in MUNICIPALITIES}
        bup: dict[Region, list[OrgUnit]] = {}
        for region, sites in BUP_SITES.items():
            bup[region] = [
                self.health_unit(
                    UnitKind.BUP,
                    f"Børne- og Ungdomspsykiatrien {site}, {region.danish_name}",
                    by_name.get(site) or next(m for m in MUNICIPALITIES if m.region is region),
                )
                for site in sites
            ]
        return bup

    # -- staff -----------------------------------------------------------------------------

    def staff_member(
        self, unit: OrgUnit, function: EmployeeFunction, *, demo_username: str | None = None
    ) -> StaffMember:
        female = self.chance(0.7)
        first = self.pick(names.WOMEN if female else names.MEN)
        full_name = f"{first} {self.pick(names.SURNAMES)}"
        number = self.next_number("staff")
        username = demo_username or f"{_slug(first)}.{number}"
        member = StaffMember(
            id=self.new_id(),
            username=username,
            full_name=full_name,
            function=function,
            unit_id=unit.id,
            email=f"{username}@{_slug(unit.name.split(',')[0])}.example",
            phone=self.phone(),
            is_demo=demo_username is not None,
            restrictions=_restrictions(unit, function),
        )
        self.population.staff.append(member)
        return member

    def build_staff(
        self, units: dict[str, _Units], bup: dict[Region, list[OrgUnit]]
    ) -> dict[uuid.UUID, list[StaffMember]]:
        staff: dict[uuid.UUID, list[StaffMember]] = {}
        demo = units[DEMO_MUNICIPALITY]
        demo_region = Region.NORDJYLLAND
        demos = {
            demo.child_family.id: ("socialraadgiver", EmployeeFunction.SOCIALRAADGIVER),
            demo.ppr.id: ("psykolog", EmployeeFunction.PPR_PSYKOLOG),
            bup[demo_region][0].id: ("bup-laege", EmployeeFunction.BUP_LAEGE),
            demo.clinics[0].id: ("praktiserende-laege", EmployeeFunction.PRAKTISERENDE_LAEGE),
        }
        plan: list[tuple[OrgUnit, EmployeeFunction, int]] = []
        for u in units.values():
            plan.append((u.child_family, EmployeeFunction.SOCIALRAADGIVER, 4))
            plan.append((u.ppr, EmployeeFunction.PPR_PSYKOLOG, 3))
            plan.extend((c, EmployeeFunction.PRAKTISERENDE_LAEGE, 2) for c in u.clinics)
        for sites in bup.values():
            for site in sites:
                plan.append((site, EmployeeFunction.BUP_LAEGE, 3))
                plan.append((site, EmployeeFunction.BUP_PSYKOLOG, 3))
                plan.append((site, EmployeeFunction.BUP_SOCIALRAADGIVER, 2))
        for unit, function, count in plan:
            members = staff.setdefault(unit.id, [])
            demo_entry = demos.get(unit.id)
            plain = count
            if demo_entry and demo_entry[1] is function:
                members.append(self.staff_member(unit, function, demo_username=demo_entry[0]))
                plain -= 1
            members.extend(self.staff_member(unit, function) for _ in range(plain))
        with self.drawing_from(self.later):
            self.build_support_staff(units, bup)
        # Added after the later stream: a stream of its own leaves every other draw as it was.
        with self.drawing_from(random.Random(f"{self.population.seed}:drift")):
            self.staff_member(
                units[DEMO_MUNICIPALITY].child_family, EmployeeFunction.DRIFT, demo_username="drift"
            )
        return staff

    def build_support_staff(
        self, units: dict[str, _Units], bup: dict[Region, list[OrgUnit]]
    ) -> None:
        """Caseworkers, BUP secretaries and clinic staff: they hold functions the access rules
        tell apart, but handle no case in the generated world."""
        plan: list[tuple[OrgUnit, EmployeeFunction, int]] = []
        for u in units.values():
            plan.append((u.child_family, EmployeeFunction.SAGSBEHANDLER, 2))
            plan.extend((c, EmployeeFunction.KLINIKPERSONALE, 1) for c in u.clinics)
        for sites in bup.values():
            plan.extend((site, EmployeeFunction.BUP_SEKRETAER, 2) for site in sites)
        for unit, function, count in plan:
            for _ in range(count):
                self.staff_member(unit, function)

    # -- children --------------------------------------------------------------------------

    def spread_children(self) -> list[Municipality]:
        """Each child's municipality, drawn by size; every municipality gets at least one."""
        weights = list(accumulate(m.population_k for m in MUNICIPALITIES))
        extra = max(0, self.n_children - len(MUNICIPALITIES))
        drawn = self.rng.choices(MUNICIPALITIES, cum_weights=weights, k=extra)
        return list(MUNICIPALITIES[: self.n_children]) + drawn

    def birth_date(self) -> date:
        earliest = _add_years(self.as_of, -18) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randrange((self.as_of - earliest).days + 1))

    def custody(self, child_born: date, surname: str) -> tuple[CustodyHolder, ...]:
        def parent(role: CustodyRole, lives_with_child: bool) -> CustodyHolder:
            sex = Sex.FEMALE if role is CustodyRole.MOTHER else Sex.MALE
            if role is CustodyRole.OTHER:
                sex = self.pick((Sex.FEMALE, Sex.MALE))
            age = self.rng.randrange(22, 43)
            born = _add_years(child_born, -age) - timedelta(days=self.rng.randrange(365))
            first = self.pick(names.WOMEN if sex is Sex.FEMALE else names.MEN)
            return CustodyHolder(self.cpr(born, sex), f"{first} {surname}", role, lives_with_child)

        draw = self.rng.random()
        if draw < 0.70:  # parents living together, joint custody
            return (parent(CustodyRole.MOTHER, True), parent(CustodyRole.FATHER, True))
        if draw < 0.92:  # split custody: joint, the child lives with one of them
            with_mother = self.chance(0.7)
            return (
                parent(CustodyRole.MOTHER, with_mother),
                parent(CustodyRole.FATHER, not with_mother),
            )
        if draw < 0.98:  # sole custody
            role = CustodyRole.MOTHER if self.chance(0.75) else CustodyRole.FATHER
            return (parent(role, True),)
        return (parent(CustodyRole.OTHER, False),)  # e.g. a child placed outside the home

    def address_protection(self) -> AddressProtection | None:
        if not self.chance(PROTECTED_SHARE):
            return None
        since = self.as_of - timedelta(days=self.rng.randrange(1, 330))
        years = self.pick((1, 1, 5))
        return AddressProtection(since=since, until=_add_years(since, years))

    def move(self, born: date, m: Municipality) -> dict[str, Any]:
        """CPR's record of a recent move into `m`, for a few children."""
        if not self.chance(MOVED_SHARE):
            return {}
        moved = max(born, self.as_of - timedelta(days=self.rng.randrange(1, 730)))
        previous = self.pick([other for other in MUNICIPALITIES if other.code != m.code])
        return {"moved_in_on": moved, "previous_municipality_code": previous.code}

    def address(self, m: Municipality) -> Address:
        """An invented street in a real post town of the municipality."""
        postcode, city = self.pick(names.POSTAL_AREAS[m.code])
        number = f"{self.rng.randrange(1, 150)}{self.pick(('', '', '', '', 'A', 'B'))}"
        line = f"{self.pick(names.STREETS)} {number}"
        if self.chance(APARTMENT_SHARE):
            floor = self.pick(("st.", "1.", "2.", "3.", "4."))
            line += f", {floor} {self.pick(('th.', 'tv.', 'mf.'))}"
        return Address(line, postcode, city)

    def gp_history(
        self,
        born: date,
        m: Municipality,
        clinic: OrgUnit,
        move: dict[str, Any],
        units: dict[str, _Units],
    ) -> dict[str, Any]:
        """Since when the child is listed with `clinic`, and the clinic before it."""
        moved_in: date | None = move.get("moved_in_on")
        if moved_in is not None:
            since = min(self.as_of, moved_in + timedelta(days=self.rng.randrange(15)))
            before = units[move["previous_municipality_code"]].clinics
        elif self.chance(GP_CHANGED_LAST_MONTH):
            since = self.as_of - timedelta(days=self.rng.randrange(30))
            before = self.other_clinics(m, clinic, units)
        elif self.chance(GP_CHANGED_EARLIER):
            since = self.as_of - timedelta(days=self.rng.randrange(30, 5 * 365))
            before = self.other_clinics(m, clinic, units)
        else:
            return {"gp_since": born}
        if since <= born:  # the child's first clinic: there was none before
            return {"gp_since": born}
        return {"gp_since": since, "previous_gp_sor": self.pick(before).sor}

    @staticmethod
    def other_clinics(m: Municipality, clinic: OrgUnit, units: dict[str, _Units]) -> list[OrgUnit]:
        """The municipality's other clinics, or its region's when it has only the one."""
        near = [c for c in units[m.code].clinics if c.id != clinic.id]
        if near:
            return near
        region = [units[o.code] for o in MUNICIPALITIES if o.region is m.region]
        return [c for u in region for c in u.clinics if c.id != clinic.id]

    def enrollment(self, cpr: Cpr, age: int, units: _Units) -> Enrollment | None:
        if age == 0 or (age == 17 and self.chance(0.5)):
            return None
        if age <= 5:
            place = self.pick(units.daycares)
            kind, group, grade = InstitutionType.DAYCARE, None, "DT"
        else:
            place = self.pick(units.schools)
            draw = self.rng.random()
            kind = (
                InstitutionType.FOLKESKOLE
                if draw < 0.8
                else InstitutionType.FRISKOLE
                if draw < 0.95
                else InstitutionType.SPECIALSKOLE
            )
            grade = str(min(age - 6, 10))
            group = f"{grade}.{self.pick('ABCD')}"
        assert place.institution_number is not None  # noqa: S101 - institutions always have one
        since = self.as_of - timedelta(days=self.rng.randrange(30, 700))
        return Enrollment(
            cpr,
            place.institution_number,
            place.name,
            kind,
            group,
            grade,
            max(since, cpr.birth_date),
        )

    def build_children(
        self,
        homes: list[Municipality],
        units: dict[str, _Units],
        bup: dict[Region, list[OrgUnit]],
        staff: dict[uuid.UUID, list[StaffMember]],
    ) -> None:
        for done, m in enumerate(homes, start=1):
            if done % 1000 == 0 or done == len(homes):
                self.progress(done)
            u = units[m.code]
            born = self.birth_date()
            sex = self.pick((Sex.FEMALE, Sex.MALE))
            cpr = self.cpr(born, sex)
            surname = self.pick(names.SURNAMES)
            first = self.pick(names.GIRLS if sex is Sex.FEMALE else names.BOYS)
            custody = self.custody(born, surname)
            protection = self.address_protection()
            move = self.move(born, m)
            clinic = self.pick(u.clinics)
            with self.drawing_from(self.later):
                address = self.address(m)
                gp_history = self.gp_history(born, m, clinic, move, units)
            child = Child(
                cpr=cpr,
                name=f"{first} {surname}",
                municipality_code=m.code,
                custody=custody,
                address_protection=protection,
                **move,
                address=address,
                **gp_history,
            )
            self.population.children.append(child)
            self.population.gp_of[cpr.value] = clinic.id
            age = child.age_on(self.as_of)
            enrollment = self.enrollment(cpr, age, u)
            if enrollment is not None:
                self.population.enrollments.append(enrollment)
            self.build_course(child, age, m, u, clinic, enrollment, bup, staff)

    # -- the course: cases, appointments, involvement -------------------------------------

    def build_course(
        self,
        child: Child,
        age: int,
        m: Municipality,
        u: _Units,
        clinic: OrgUnit,
        enrollment: Enrollment | None,
        bup: dict[Region, list[OrgUnit]],
        staff: dict[uuid.UUID, list[StaffMember]],
    ) -> None:
        in_bup = self.chance(BUP_SHARE_SCHOOL_AGE if age >= 4 else BUP_SHARE_UNDER_FOUR)
        has_ppr = age >= 2 and self.chance(0.7 if in_bup else PPR_SHARE)
        has_child_family = self.chance(0.4 if in_bup else CHILD_FAMILY_SHARE)
        if has_ppr:
            self.municipal_case(child, m, u.ppr, PPR_KLE, staff, UnitKind.PPR)
        if has_child_family:
            self.municipal_case(
                child, m, u.child_family, CHILD_FAMILY_KLE, staff, UnitKind.CHILD_FAMILY
            )
        if not in_bup:
            return
        site = self.pick(bup[m.region])
        # Most referrals to BUP come from the GP; the appointments then name the GP as
        # requester. The others come from PPR or the municipality, which APD-DK does not name.
        requester = clinic.sor if self.chance(0.6) else None
        self.bup_course(child, site, m.region, requester)

    def municipal_case(
        self,
        child: Child,
        m: Municipality,
        unit: OrgUnit,
        subjects: Sequence[tuple[str, str]],
        staff: dict[uuid.UUID, list[StaffMember]],
        kind: UnitKind,
    ) -> None:
        kle, real_title = self.pick(subjects)
        status = self.rng.choices(list(CaseStatus), weights=(15, 25, 45, 15))[0]
        if kind is UnitKind.CHILD_FAMILY:
            sensitivity = self.rng.choices(list(Sensitivity), weights=(0, 15, 83, 2))[0]
            source = "DUBU"
        else:
            sensitivity = self.rng.choices(list(Sensitivity), weights=(5, 60, 35, 0))[0]
            source = self.pick(("JOSA", "JOSA", "SBSYS"))
        opened = max(child.birth_date, self.as_of - timedelta(days=self.rng.randrange(20, 3 * 365)))
        year = opened.year
        number = self.next_number(f"case-{m.code}-{year}")
        parties = (
            CaseParty(child.cpr, PartyRole.PRIMARY),
            *(CaseParty(h.cpr, PartyRole.SECONDARY) for h in child.custody),
        )
        assert unit.cvr is not None  # noqa: S101 - municipal units always carry the CVR
        case = Case(
            id=self.new_id(),
            case_number=f"{source}-{year}-{number:05d}",
            title="Sag vedrørende barn" if kind is UnitKind.CHILD_FAMILY else "PPR-sag",
            non_public_title=real_title,
            kle=KleNumber(kle),
            status=status,
            sensitivity=sensitivity,
            owner_cvr=unit.cvr,
            responsible_unit_id=unit.id,
            source_system=source,
            opened_at=self.workday_time(opened),
            primary_handler=self.pick(staff[unit.id]).full_name,
            parties=parties,
        )
        self.population.cases.append(case)

    def bup_course(
        self, child: Child, site: OrgUnit, region: Region, requester: Sor | None
    ) -> None:
        """The appointments of one course in BUP."""
        stage = self.rng.choices(list(CourseStage), weights=(20, 35, 30, 15))[0]
        held = {
            CourseStage.REFERRAL: 0,
            CourseStage.ASSESSMENT: self.rng.randrange(1, 4),
            CourseStage.TREATMENT: self.rng.randrange(4, 10),
            CourseStage.COMPLETION: self.rng.randrange(3, 8),
        }[stage]
        booked = 0 if stage is CourseStage.COMPLETION else self.rng.randrange(1, 3)
        spacing = 21
        referred = max(
            child.birth_date,
            self.as_of - timedelta(days=held * spacing + self.rng.randrange(14, 90)),
        )
        marking = self.marking(region)
        if self.chance(BLOCKED_SHARING):
            self.population.appointment_sharing_blocked.add(child.cpr.value)
        day = referred + timedelta(days=self.rng.randrange(7, 21))
        for i in range(held + booked):
            in_past = i < held
            visit_stage = self._stage_of_visit(i, held, stage)
            start = self.workday_time(day)
            status = AppointmentStatus.HELD if in_past else AppointmentStatus.BOOKED
            if start <= datetime.combine(self.as_of, time(16), tzinfo=COPENHAGEN) and not in_past:
                start = self.workday_time(self.as_of + timedelta(days=1))
            if self.chance(0.07):
                status = AppointmentStatus.CANCELLED
            self.appointment(child, site, marking, start, status, visit_stage, requester)
            if self.chance(0.05):
                moved_to = self.workday_time(
                    start.date() + timedelta(days=self.rng.randrange(2, 9))
                )
                original = self.population.appointments.pop()
                self.population.appointments.append(_with_status(original, AppointmentStatus.MOVED))
                new_status = (
                    AppointmentStatus.HELD
                    if moved_to.date() < self.as_of
                    else AppointmentStatus.BOOKED
                )
                self.appointment(
                    child, site, marking, moved_to, new_status, visit_stage, requester, original.id
                )
            day = start.date() + timedelta(days=spacing + self.rng.randrange(-5, 6))

    def marking(self, region: Region) -> AppointmentMarking:
        """How the region marked the course's appointments: correctly, not at all, or
        inconsistently (facility and practice setting disagree, or the episode label is
        missing)."""
        if not self.chance(MARKING_QUALITY[region]):
            return AppointmentMarking(None, None, None)
        if self.chance(INCONSISTENT_MARKING):
            return self.pick(
                (
                    AppointmentMarking(
                        PRACTICE_SETTING_PSYCHIATRY, FACILITY_PSYCHIATRIC_UNIT, None
                    ),
                    AppointmentMarking(PRACTICE_SETTING_CHILD_PSYCHIATRY, None, None),
                )
            )
        return AppointmentMarking(
            PRACTICE_SETTING_CHILD_PSYCHIATRY,
            FACILITY_PSYCHIATRIC_UNIT,
            EPISODE_LABEL_MENTAL_DISORDERS,
        )

    @staticmethod
    def _stage_of_visit(i: int, held: int, stage: CourseStage) -> CourseStage:
        if i == 0:
            return CourseStage.REFERRAL
        if stage is CourseStage.COMPLETION and i == held - 1:
            return CourseStage.COMPLETION
        if stage in (CourseStage.TREATMENT, CourseStage.COMPLETION) and i >= 3:
            return CourseStage.TREATMENT
        return CourseStage.ASSESSMENT if stage is not CourseStage.REFERRAL else CourseStage.REFERRAL

    def appointment(
        self,
        child: Child,
        site: OrgUnit,
        marking: AppointmentMarking,
        start: datetime,
        status: AppointmentStatus,
        stage: CourseStage,
        requester: Sor | None,
        replaces: uuid.UUID | None = None,
    ) -> None:
        assert site.sor is not None  # noqa: S101 - BUP units always have a SOR code
        self.population.appointments.append(
            Appointment(
                id=self.new_id(),
                document_id=self.new_id(),
                patient_cpr=child.cpr,
                start=start,
                end=start + timedelta(minutes=self.pick((45, 60, 90))),
                performer_sor=site.sor,
                performer_name=site.name,
                location_sor=site.sor,
                location_name=f"Lokale {self.rng.randrange(1, 4)}.{self.rng.randrange(1, 30):02d}",
                reason=self.pick(APPOINTMENT_REASONS[stage]),
                marking=marking,
                status=status,
                stage=stage,
                replaces_id=replaces,
                requester_sor=requester,
            )
        )

    # -- all of it -------------------------------------------------------------------------

    def run(self) -> Population:
        homes = self.spread_children()
        per_municipality = {m.code: 0 for m in MUNICIPALITIES}
        for m in homes:
            per_municipality[m.code] += 1
        units = self.build_units(per_municipality)
        bup = self.build_bup()
        staff = self.build_staff(units, bup)
        self.rng.shuffle(homes)
        self.build_children(homes, units, bup, staff)
        self.population.involvements = derive_population_involvements(self.population)
        return self.population


def generate(
    children: int, seed: int, as_of: date, progress: Callable[[int], None] | None = None
) -> Population:
    """The synthetic population of `children` children for `seed`, as it stands on `as_of`.
    `progress` is told how many children are done, every thousand."""
    return _Generator(children, seed, as_of, progress).run()


def derive_population_involvements(population: Population) -> list[Involvement]:
    """Who is involved with each child, by the same rules the platform applies to ingested
    data, from what the sources deliver (blocked appointments are never delivered)."""
    kinds = {u.id: u.kind for u in population.org_units}
    schools = {
        u.institution_number.value: u.id
        for u in population.org_units
        if u.institution_number is not None and u.kind is UnitKind.SCHOOL
    }
    cases: dict[str, list[tuple[Case, UnitKind]]] = {}
    for case in population.cases:
        primary = case.primary_party
        if primary is not None:
            cases.setdefault(primary.cpr.value, []).append((case, kinds[case.responsible_unit_id]))
    appointments: dict[str, list[Appointment]] = {}
    for a in population.appointments:
        if a.patient_cpr.value not in population.appointment_sharing_blocked:
            appointments.setdefault(a.patient_cpr.value, []).append(a)
    enrolled = {
        e.child_cpr.value: schools.get(e.institution_number.value) for e in population.enrollments
    }
    involvements: list[Involvement] = []
    for child in population.children:
        key = child.cpr.value
        if key not in cases and key not in appointments:
            continue
        facts = ChildFacts(
            child.cpr,
            tuple(cases.get(key, ())),
            tuple(appointments.get(key, ())),
            enrolled.get(key),
        )
        involvements.extend(derive_involvements(facts, population.as_of))
    return involvements


def _restrictions(unit: OrgUnit, function: EmployeeFunction) -> DataRestrictions | None:
    """What the login of a municipal employee grants (MUNICIPAL_GRANTS); None for others."""
    grant = MUNICIPAL_GRANTS.get(function)
    if grant is None or unit.cvr is None:
        return None
    patterns, highest = grant
    return DataRestrictions(unit.cvr, patterns, highest)


def _with_status(appointment: Appointment, status: AppointmentStatus) -> Appointment:
    from dataclasses import replace  # noqa: PLC0415 - only needed here

    return replace(appointment, status=status)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", " ": "-", ".": ""})
    return text.lower().translate(table)
