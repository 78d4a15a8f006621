"""Read children from a CPR replica in our documented JSON shape (docs/sources/cpr.md).

A full pass pages through `GET /cpr/personer`; an incremental pass through
`GET /cpr/aendringer?siden=<high-water mark>`, which also lists the persons removed since
then. A person whose CPR status says they are no longer an active resident (dead,
emigrated, missing, number annulled or changed) is a deletion as well. Each person is one
record, keyed by the personnummer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import httpx2

from paatvaers.domain.children import (
    Address,
    AddressProtection,
    Child,
    CustodyHolder,
    CustodyRole,
)
from paatvaers.domain.cpr import Cpr, InvalidCpr, Sex
from paatvaers.domain.geography import is_municipality_code, municipality
from paatvaers.domain.identifiers import Gln, InvalidIdentifier, Sor
from paatvaers.domain.organisations import OrgUnit, UnitKind, unit_id_for_sor
from paatvaers.sources import json_paging as paging
from paatvaers.sources.base import (
    Entity,
    Page,
    PersonWithGp,
    RawRecord,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)

MEDIA_TYPE = "application/json"

# CPR's person status codes (CPR-kontoret's record description).
STATUS_NAMES = {
    "01": "aktiv, bopæl i dansk folkeregister",
    "03": "aktiv, speciel vejkode i dansk folkeregister",
    "05": "aktiv, bopæl i grønlandsk folkeregister",
    "07": "aktiv, speciel vejkode i grønlandsk folkeregister",
    "20": "inaktiv, uden bopæl, personnummer af skattehensyn",
    "30": "inaktiv, annulleret personnummer",
    "50": "inaktiv, slettet personnummer ved dobbeltnummer",
    "60": "inaktiv, ændret personnummer",
    "70": "inaktiv, forsvundet",
    "80": "inaktiv, udrejst",
    "90": "inaktiv, død",
}
# Living in a Danish municipality: the platform's children. Every other known status means
# the person has left the platform's population, which a pass reports as a deletion.
RESIDENT_STATUSES = frozenset({"01", "03"})
GONE_STATUSES = frozenset(STATUS_NAMES) - RESIDENT_STATUSES
# Status 01 is a residence at an address; 03 is a special road code (no fixed address).
HAS_ADDRESS_STATUS = "01"
MAX_ADDRESS_LINE = 200  # what the store keeps; CPR's own standard address is 34 characters
MAX_POST_TOWN = 100
ROLES = {"mor": CustodyRole.MOTHER, "far": CustodyRole.FATHER, "anden": CustodyRole.OTHER}
SEX_CODES = {"K": Sex.FEMALE, "M": Sex.MALE}
MAX_CUSTODY_HOLDERS = 2  # forældremyndighed has at most two holders
# One encoder for every record: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class CprAdapter(paging.JsonPassAdapter):
    name = SourceName.CPR

    def _pages(
        self, client: httpx2.Client, since: str | None, cursor: str | None
    ) -> Iterator[Page]:
        path = "/cpr/personer" if since is None else "/cpr/aendringer"
        token = cursor
        while True:
            params = self._params(since, token)
            envelope = paging.fetch_page(
                client,
                self.base_url + path,
                params,
                self.options.extra_headers,
                "personer",
                "CPR",
            )
            records, deleted = _split(envelope["personer"])
            deleted.extend(
                str(r.get("personnummer")) for r in envelope["fjernede"] if isinstance(r, dict)
            )
            token = envelope["naeste"]
            yield Page(records, deleted, token, envelope["hoejvandsmaerke"])
            if token is None:
                return

    def lookup(self, cpr: str) -> RawRecord | None:
        """One person by personnummer, or None when CPR has no such person."""
        url = f"{self.base_url}/cpr/personer/{cpr}"
        try:
            with paging.session(self._client, self.options.timeout_seconds) as client:
                response = client.get(url, headers=self.options.extra_headers)
        except httpx2.HTTPError as exc:
            raise SourceUnavailable(f"CPR at {url} could not be reached: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SourceUnavailable(f"CPR at {url} answered HTTP {response.status_code}")
        return RawRecord(cpr, response.content, MEDIA_TYPE)

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        try:
            data = json.loads(record.payload)
        except ValueError as exc:
            raise RecordRejected(f"the record is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RecordRejected("the record is not a JSON object")
        return [parse_person(data)]


def _split(persons: list[Any]) -> tuple[list[RawRecord], list[str]]:
    """Records of the persons still resident; the keys of those CPR says have gone."""
    records: list[RawRecord] = []
    gone: list[str] = []
    for person in persons:
        key = str(person.get("personnummer")) if isinstance(person, dict) else "?"
        if isinstance(person, dict) and person.get("status") in GONE_STATUSES:
            gone.append(key)
            continue
        payload = _ENCODER.encode(person).encode()
        records.append(RawRecord(key, payload, MEDIA_TYPE))
    return records, gone


# -- strict reading of one person --------------------------------------------------------------


def _cpr(value: object) -> Cpr:
    if not isinstance(value, str):
        raise RecordRejected("the person has no personnummer")
    try:
        return Cpr.parse(value)
    except InvalidCpr:
        raise RecordRejected(f"personnummer {value!r} is not a valid CPR number") from None


# The error texts are only built when a rule is broken: parsing runs a million times a pass.


def _date(value: object, where: str, what: str) -> date:
    if not isinstance(value, str):
        raise RecordRejected(f"{where}: {what} is missing")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecordRejected(f"{where}: {what} is not a date: {value!r}") from None


def _optional_date(value: object, where: str, what: str) -> date | None:
    return None if value is None else _date(value, where, what)


def _municipality(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.isdigit() or not is_municipality_code(value):
        raise RecordRejected(f"{where}: {what} {value!r} is no Danish municipality code")
    return value.zfill(4)


def _name(value: object, where: str) -> str:
    if not isinstance(value, dict):
        raise RecordRejected(f"{where} has no navn")
    parts = [value.get("fornavne"), value.get("mellemnavn"), value.get("efternavn")]
    if not all(part is None or isinstance(part, str) for part in parts):
        raise RecordRejected(f"{where}: navn holds something other than text")
    name = " ".join(part.strip() for part in parts if part and part.strip())
    if not name:
        raise RecordRejected(f"{where} has an empty navn")
    return name


def _identity(data: Mapping[str, Any], cpr: Cpr, where: str) -> date:
    """Status, birth date and sex must agree with the personnummer; the birth date."""
    status = data.get("status")
    if status not in RESIDENT_STATUSES:
        meaning = STATUS_NAMES.get(str(status), "unknown status")
        raise RecordRejected(f"{where} has CPR status {status!r} ({meaning}); not a resident")
    born = _date(data.get("foedselsdato"), where, "foedselsdato")
    if born != cpr.birth_date:
        raise RecordRejected(f"{where}: foedselsdato {born} disagrees with the personnummer")
    sex = SEX_CODES.get(str(data.get("koen")))
    if cpr.sex is not None and sex is not cpr.sex:
        raise RecordRejected(f"{where}: koen {data.get('koen')!r} disagrees with the personnummer")
    return born


def _move(
    residence: Mapping[str, Any], code: str, born: date, where: str
) -> tuple[date | None, str | None]:
    moved_in = _optional_date(residence.get("tilflytningsdato"), where, "tilflytningsdato")
    previous = residence.get("fraflytningskommunekode")
    if moved_in is None and previous is None:
        return None, None
    if moved_in is None or previous is None:
        raise RecordRejected(
            f"{where}: a move needs both tilflytningsdato and fraflytningskommunekode"
        )
    previous_code = _municipality(previous, where, "fraflytningskommunekode")
    if previous_code == code:
        raise RecordRejected(f"{where} moved into {code} from the same municipality")
    if moved_in < born:
        raise RecordRejected(f"{where}: tilflytningsdato {moved_in} is before the birth")
    return moved_in, previous_code


def _address(value: object, status: object, where: str) -> Address | None:
    """The address CPR holds: required for a residence at an address (status 01)."""
    if value is None:
        if status == HAS_ADDRESS_STATUS:
            raise RecordRejected(f"{where} lives at an address (status 01) but has no adresse")
        return None
    if not isinstance(value, dict):
        raise RecordRejected(f"{where}: bopael adresse is not an object")
    line = _text(value.get("standardadresse"), MAX_ADDRESS_LINE, where, "standardadresse")
    postcode = value.get("postnummer")
    if not (
        isinstance(postcode, str)
        and len(postcode) == 4
        and postcode.isascii()
        and postcode.isdigit()
    ):
        raise RecordRejected(f"{where}: adresse postnummer {postcode!r} is not four digits")
    city = _text(value.get("postdistrikt"), MAX_POST_TOWN, where, "postdistrikt")
    return Address(line, postcode, city)


def _text(value: object, limit: int, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordRejected(f"{where}: adresse {what} is missing")
    text = value.strip()
    if len(text) > limit:
        raise RecordRejected(f"{where}: adresse {what} is longer than {limit} characters")
    return text


def _protection(value: object, where: str) -> AddressProtection | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RecordRejected(f"{where}: adressebeskyttelse is not an object")
    start = _date(value.get("startdato"), where, "adressebeskyttelse startdato")
    end = _optional_date(value.get("slutdato"), where, "adressebeskyttelse slutdato")
    if end is not None and end < start:
        raise RecordRejected(f"{where}: adressebeskyttelse ends ({end}) before it starts ({start})")
    return AddressProtection(start, end)


def _holder(value: object, child: Cpr, where: str) -> CustodyHolder:
    if not isinstance(value, dict) or not isinstance(value.get("foraeldremyndighedshaver"), dict):
        raise RecordRejected(f"{where}: a foraeldremyndighed entry names no holder")
    holder = value["foraeldremyndighedshaver"]
    name = holder.get("navn")
    number = holder.get("personnummer")
    if not isinstance(number, str):
        raise RecordRejected(f"{where}: custody holder {name!r} has no personnummer")
    try:
        cpr = Cpr.parse(number)
    except InvalidCpr:
        raise RecordRejected(
            f"{where}: custody holder {name!r}: {number!r} is not a valid CPR number"
        ) from None
    if cpr == child:
        raise RecordRejected(f"{where} holds custody over itself")
    if not isinstance(name, str) or not name.strip():
        raise RecordRejected(f"{where}: custody holder {cpr.value} has no name")
    role = ROLES.get(str(value.get("foraeldremyndighedsindehaverrolle")))
    if role is None:
        raise RecordRejected(
            f"{where}: custody holder {cpr.value} has role"
            f" {value.get('foraeldremyndighedsindehaverrolle')!r};"
            " known roles are mor, far, anden"
        )
    same_address = value.get("sammeAdresse")
    if not isinstance(same_address, bool):
        raise RecordRejected(f"{where}: custody holder {cpr.value}: sammeAdresse must be a boolean")
    return CustodyHolder(cpr, name.strip(), role, same_address)


def _custody(value: object, child: Cpr, where: str) -> tuple[CustodyHolder, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordRejected(f"{where}: foraeldremyndighed is not a list")
    holders = tuple(_holder(entry, child, where) for entry in value)
    if len(holders) > MAX_CUSTODY_HOLDERS:
        raise RecordRejected(f"{where} has {len(holders)} custody holders; the law allows two")
    if len({h.cpr for h in holders}) != len(holders):
        raise RecordRejected(f"{where} names the same custody holder twice")
    return holders


def _gp(value: object, born: date, where: str) -> tuple[OrgUnit | None, date | None, Sor | None]:
    """The GP choice (lægevalg, from the health insurance register): the clinic the child is
    listed with, since when, and the clinic chosen before it."""
    if value is None:
        return None, None, None
    if not isinstance(value, dict):
        raise RecordRejected(f"{where}: laegevalg is not an object")
    clinic = _listed_clinic(value, where)
    since = _date(value.get("ikraftDato"), where, "laegevalg ikraftDato")
    if since < born:
        raise RecordRejected(f"{where}: laegevalg ikraftDato {since} is before the birth")
    return clinic, since, _previous_clinic(value.get("forrigeSorKode"), clinic, where)


def _previous_clinic(value: object, clinic: OrgUnit, where: str) -> Sor | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordRejected(f"{where}: laegevalg forrigeSorKode is not text")
    try:
        previous = Sor(value)
    except InvalidIdentifier as exc:
        raise RecordRejected(f"{where}: laegevalg forrigeSorKode: {exc}") from None
    if previous == clinic.sor:
        raise RecordRejected(f"{where}: laegevalg names the current clinic as the previous one")
    return previous


def _listed_clinic(value: Mapping[str, Any], where: str) -> OrgUnit:
    fields = (
        value.get("navn"),
        value.get("sorKode"),
        value.get("eanLokationsnummer"),
        value.get("telefon"),
        value.get("kommunekode"),
    )
    if not all(field is None or isinstance(field, str) for field in fields):
        raise RecordRejected(f"{where}: laegevalg holds something other than text")
    try:
        return _clinic(*fields)
    except RecordRejected as exc:
        raise RecordRejected(f"{where}: the GP clinic's {exc.reason}") from None


@lru_cache(maxsize=8192)
def _clinic(
    name: str | None, sor: str | None, gln: str | None, phone: str | None, code: str | None
) -> OrgUnit:
    """A clinic is listed by hundreds of children: it is read once (failures are not kept)."""
    if not name or not name.strip():
        raise RecordRejected("navn is missing")
    try:
        sor_code = Sor(str(sor))
        gln_number = Gln(gln) if gln else None
    except InvalidIdentifier as exc:
        raise RecordRejected(str(exc)) from None
    municipality_code = _municipality(code, "laegevalg", "kommunekode") if code else None
    return OrgUnit(
        id=unit_id_for_sor(sor_code.value),
        kind=UnitKind.GP,
        name=name.strip(),
        municipality_code=municipality_code,
        region=municipality(municipality_code).region.value if municipality_code else None,
        sor=sor_code,
        gln=gln_number,
        phone=(phone.strip() or None) if phone else None,
    )


def parse_person(data: Mapping[str, Any]) -> PersonWithGp:
    """One person, read whole: every rule is checked before anything is returned."""
    cpr = _cpr(data.get("personnummer"))
    where = f"person {cpr.value}"
    born = _identity(data, cpr, where)
    name = _name(data.get("navn"), where)
    residence = data.get("bopael")
    if not isinstance(residence, dict):
        raise RecordRejected(f"{where} has no bopael")
    code = _municipality(residence.get("kommunekode"), where, "bopael kommunekode")
    moved_in, previous = _move(residence, code, born, where)
    address = _address(residence.get("adresse"), data.get("status"), where)
    gp, gp_since, previous_gp = _gp(data.get("laegevalg"), born, where)
    child = Child(
        cpr=cpr,
        name=name,
        municipality_code=code,
        custody=_custody(data.get("foraeldremyndighed"), cpr, where),
        address_protection=_protection(data.get("adressebeskyttelse"), where),
        moved_in_on=moved_in,
        previous_municipality_code=previous,
        address=address,
        gp_since=gp_since,
        previous_gp_sor=previous_gp,
    )
    return PersonWithGp(child, gp)
