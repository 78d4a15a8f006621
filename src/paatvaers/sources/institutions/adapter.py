"""Read schools, daycares and the children's enrollments from STIL, in our documented JSON
shape (docs/sources/institutions.md).

A pass reads the institution register (`GET /stil/institutioner`), then the enrollments
(`GET /stil/elever`); an incremental pass asks both for what changed after `since` and for
what was removed. Keys are the institution number (`INST_NR`) and the child's CPR number, the
ids ingestion deletes by; the payload tells which kind a record is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import httpx2

from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.enrollment import Enrollment, InstitutionType
from paatvaers.domain.geography import is_municipality_code, municipality
from paatvaers.domain.identifiers import InstitutionNumber, InvalidIdentifier
from paatvaers.domain.organisations import OrgUnit, UnitKind, unit_id_for_institution
from paatvaers.sources import json_paging as paging
from paatvaers.sources.base import (
    EnrollmentWithInstitution,
    Entity,
    Page,
    RawRecord,
    RecordRejected,
    SourceName,
)
from paatvaers.sources.institutions import codes

MEDIA_TYPE = "application/json"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Listing:
    path: str
    list_name: str
    key_field: str


LISTINGS = (
    _Listing("/stil/institutioner", "institutioner", "INST_NR"),
    _Listing("/stil/elever", "elever", "cpr"),
)


@dataclass(frozen=True, slots=True)
class _Position:
    listing: int
    token: str | None  # the service's token within the listing
    mark: str | None  # the pass's high-water mark: the earliest the listings reported

    def encode(self) -> str:
        raw = json.dumps([self.listing, self.token, self.mark]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def decode(cls, cursor: str) -> _Position:
        try:
            listing, token, mark = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            return cls(int(listing), token, mark)
        except (ValueError, TypeError, binascii.Error) as exc:
            raise ValueError(f"not a cursor of the STIL adapter: {cursor!r}") from exc


class InstitutionsAdapter(paging.JsonPassAdapter):
    name = SourceName.INSTITUTIONS

    def _pages(
        self, client: httpx2.Client, since: str | None, cursor: str | None
    ) -> Iterator[Page]:
        position = _Position.decode(cursor) if cursor else _Position(0, None, None)
        while True:
            listing = LISTINGS[position.listing]
            params = self._params(since, position.token)
            envelope = paging.fetch_page(
                client,
                self.base_url + listing.path,
                params,
                self.options.extra_headers,
                listing.list_name,
                "STIL",
            )
            mark = _earlier(position.mark, envelope["hoejvandsmaerke"])
            records = [_record(listing, item) for item in envelope[listing.list_name]]
            deleted = [
                str(item.get(listing.key_field))
                for item in envelope["fjernede"]
                if isinstance(item, dict)
            ]
            following = _following(position.listing, envelope["naeste"], mark)
            yield Page(records, deleted, following.encode() if following else None, mark)
            if following is None:
                return
            position = following

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        try:
            data = json.loads(record.payload)
        except ValueError as exc:
            raise RecordRejected(f"the record is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RecordRejected("the record is not a JSON object")
        # A register row has INST_NR; an enrollment names the child's cpr.
        if "INST_NR" in data:
            return [parse_institution(data)]
        if "cpr" in data:
            return [parse_enrollment(data)]
        raise RecordRejected(f"record {record.key} is neither an institution nor an enrollment")


def _record(listing: _Listing, item: object) -> RawRecord:
    key = str(item.get(listing.key_field)) if isinstance(item, dict) else "?"
    return RawRecord(key, _ENCODER.encode(item).encode(), MEDIA_TYPE)


def _earlier(mark: str | None, other: str) -> str:
    if mark is None:
        return other
    return mark if datetime.fromisoformat(mark) <= datetime.fromisoformat(other) else other


def _following(listing: int, token: str | None, mark: str) -> _Position | None:
    if token is not None:
        return _Position(listing, token, mark)
    if listing + 1 < len(LISTINGS):
        return _Position(listing + 1, None, mark)
    return None


# -- strict reading ----------------------------------------------------------------------------


def _text(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordRejected(f"{where} has no {what}")
    return value.strip()


def _optional_text(value: object, where: str, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordRejected(f"{where}: {what} is not text")
    return value.strip() or None


def _institution_number(value: object, where: str) -> InstitutionNumber:
    try:
        return InstitutionNumber(str(value))
    except InvalidIdentifier as exc:
        raise RecordRejected(f"{where}: {exc}") from None


def _type(value: object, where: str) -> InstitutionType:
    kind = codes.TYPE_BY_CODE.get(str(value))
    if kind is None:
        known = ", ".join(codes.TYPE_BY_CODE)
        raise RecordRejected(f"{where} has institution type {value!r}; known types are {known}")
    return kind


def _municipality(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.isdigit() or not is_municipality_code(value):
        raise RecordRejected(f"{where}: municipality number {value!r} is no Danish municipality")
    return value.zfill(4)


@lru_cache(maxsize=8192)
def _unit(
    number: str,
    name: object,
    type_code: object,
    municipality_no: object,
    phone: object,
    mail: object,
) -> OrgUnit:
    """An institution as a unit. Hundreds of enrollments name the same one: it is read once
    (a rejection is not kept, so every broken record says why)."""
    where = f"institution {number}"
    kind = _type(type_code, where)
    code = _municipality(municipality_no, where)
    return OrgUnit(
        id=unit_id_for_institution(number),
        kind=UnitKind.DAYCARE if kind is InstitutionType.DAYCARE else UnitKind.SCHOOL,
        name=_text(name, where, "name"),
        municipality_code=code,
        region=municipality(code).region.value,
        institution_number=InstitutionNumber(number),
        phone=_optional_text(phone, where, "phone number"),
        email=_optional_text(mail, where, "e-mail address"),
    )


def _hashable(value: object) -> object:
    """Cache keys: broken records may hold lists or objects where text belongs."""
    return value if value is None or isinstance(value, str | int | float | bool) else repr(value)


def parse_institution(data: Mapping[str, Any]) -> OrgUnit:
    """An institution register row."""
    number = _institution_number(data.get("INST_NR"), "the institution")
    return _unit(
        number.value,
        *(
            _hashable(data.get(name))
            for name in ("INST_NAVN", "INST_TYPE_NR", "KOMMUNE_NR", "TLF_NR", "E_MAIL")
        ),
    )


def _pupil(elev: Mapping[str, Any], kind: InstitutionType, where: str) -> tuple[str | None, str]:
    """Main group and grade, consistent with the kind of institution: a daycare child has
    rolle Barn and trin DT; a pupil rolle Elev, a grade 0-10 and a main group."""
    role, grade = elev.get("rolle"), elev.get("elevtrin")
    group = _optional_text(elev.get("hovedgruppenavn"), where, "hovedgruppenavn")
    if grade not in codes.GRADES:
        raise RecordRejected(f"{where} has elevtrin {grade!r}; it must be 0-10 or DT")
    daycare = kind is InstitutionType.DAYCARE
    if daycare != (grade == codes.DAYCARE_CODE) or role != (
        codes.ROLE_CHILD if daycare else codes.ROLE_PUPIL
    ):
        raise RecordRejected(
            f"{where}: rolle {role!r} with elevtrin {grade!r} does not fit an institution of"
            f" type {codes.CODE_BY_TYPE[kind]}"
        )
    if not daycare and group is None:
        raise RecordRejected(f"{where}: a pupil needs a hovedgruppenavn (class)")
    return group, str(grade)


def parse_enrollment(data: Mapping[str, Any]) -> EnrollmentWithInstitution:
    """A child's enrollment, with the institution it names."""
    raw_cpr = data.get("cpr")
    try:
        cpr = Cpr.parse(raw_cpr) if isinstance(raw_cpr, str) else None
    except InvalidCpr:
        cpr = None
    if cpr is None:
        raise RecordRejected(f"the enrollment's cpr {raw_cpr!r} is not a valid CPR number")
    where = f"enrollment of {cpr.value}"
    place = data.get("institution")
    elev = data.get("elev")
    if not isinstance(place, dict) or not isinstance(elev, dict):
        raise RecordRejected(f"{where} needs both institution and elev")
    number = _institution_number(place.get("instnr"), where)
    institution = _unit(
        number.value,
        *(
            _hashable(place.get(name))
            for name in ("instnavn", "type", "kommunenr", "telefonnr", "mailadresse")
        ),
    )
    kind = codes.TYPE_BY_CODE[str(place.get("type"))]  # _unit has checked it
    group, grade = _pupil(elev, kind, where)
    since_text = data.get("fradato")
    try:
        since = date.fromisoformat(since_text) if isinstance(since_text, str) else None
    except ValueError:
        since = None
    if since is None:
        raise RecordRejected(f"{where}: fradato {since_text!r} is not a date")
    if since < cpr.birth_date:
        raise RecordRejected(f"{where} starts on {since}, before the child was born")
    enrollment = Enrollment(cpr, number, institution.name, kind, group, grade, since)
    return EnrollmentWithInstitution(enrollment, institution)
