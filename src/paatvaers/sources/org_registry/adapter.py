"""Read municipal units and their staff from FK Organisation's GraphQL service.

One request per municipality (CVR) and page lists the units responsible for the child/family
and PPR KLE subjects, each with the users who work in it, nested (so the platform never reads
the thousands of other users a municipality has). Every unit and every user becomes one
record, keyed by its UUID (the ids ingestion deletes by; the payload tells which kind).

The schema has no change-since argument, so an incremental pass reads every active unit and
user again; ingestion's content hashing makes the unchanged ones cheap. What the schema does
carry is each object's state (`tilstand`) with the time it took effect: an incremental pass
also lists the INAKTIV units and users of each municipality and reports those deactivated
after `since` as deletions. The high-water mark is the latest state change seen.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2

from paatvaers.domain.geography import MUNICIPALITIES, is_municipality_code, municipality
from paatvaers.domain.identifiers import Cvr, InvalidIdentifier
from paatvaers.domain.organisations import OrgUnit, StaffMember, UnitKind
from paatvaers.sources.base import (
    Entity,
    Page,
    PassOptions,
    RawRecord,
    RecordRejected,
    SourceName,
    SourceUnavailable,
)
from paatvaers.sources.org_registry import vocabulary as v

ENDPOINT = "/organisation/organisationhent/1"
MEDIA_TYPE = "application/json"

_ADDRESS_FIELDS = "adresseTekst klassifikation { rolle }"
_STATE_FIELDS = "tilstand { status fraTidspunkt tilTidspunkt }"
_USER_FIELDS = f"""
  uuid brugernavn {_STATE_FIELDS}
  person {{ navn }}
  adresser(rolle: $brugerAdresseRoller) {{ {_ADDRESS_FIELDS} }}
  harMedlemskab(rolle: $medlemskabsRoller) {{
    medlemskabRolleTitel funktionsTypeUuid medlemAf {{ uuid }}
  }}
"""
UNITS_QUERY = f"""
query Enheder($cvr: CVR!, $first: Int!, $after: Cursor, $opgaver: KleFilter,
              $enhedAdresseRoller: [UUID!], $brugerAdresseRoller: [UUID!],
              $medlemskabsRoller: [UUID!]) {{
  organisationEnhedListe(cvr: $cvr, status: AKTIV, opgaver: $opgaver,
                         first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{
      uuid enhedsnavn {_STATE_FIELDS}
      tilhoerer {{ myndighed {{ myndighedskode }} virksomhed {{ cvrNummerTekst }} }}
      adresser(rolle: $enhedAdresseRoller) {{ {_ADDRESS_FIELDS} }}
      opgaver {{ kleEmneNummer opgaveRolleTitel klassifikation {{ rolle }} }}
      medlemskaber(rolle: $medlemskabsRoller) {{ bruger {{ {_USER_FIELDS} }} }}
    }} }}
  }}
}}
"""
INACTIVE_UNITS_QUERY = f"""
query InaktiveEnheder($cvr: CVR!, $first: Int!, $after: Cursor, $opgaver: KleFilter) {{
  organisationEnhedListe(cvr: $cvr, status: INAKTIV, opgaver: $opgaver,
                         first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ uuid {_STATE_FIELDS} }} }}
  }}
}}
"""
INACTIVE_USERS_QUERY = f"""
query InaktiveBrugere($cvr: CVR!, $first: Int!, $after: Cursor) {{
  brugerListe(cvr: $cvr, status: INAKTIV, first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ uuid {_STATE_FIELDS} }} }}
  }}
}}
"""

TokenSource = str | Callable[[str], str]


def simulated_municipality_cvrs() -> tuple[str, ...]:
    """The CVR numbers the synthetic population gives the 98 municipalities ("29" + the
    municipality code + the first digit that admits a check digit). A deployment passes the
    participating municipalities' real CVR numbers instead."""
    cvrs = []
    for m in MUNICIPALITIES:
        found = (Cvr.from_body(f"29{m.code}{extra}") for extra in range(10))
        cvr = next(c for c in found if c is not None)
        cvrs.append(cvr.value)
    return tuple(cvrs)


@dataclass(frozen=True, slots=True)
class _Step:
    """One listing of a pass: a query for one municipality, paged through."""

    cvr: str
    kind: str  # "units" | "inactive_units" | "inactive_users"


@dataclass(frozen=True, slots=True)
class _Position:
    step: int
    cvr: str
    after: str | None  # the GraphQL cursor within the step's listing
    mark: str | None  # the high-water mark so far

    def encode(self) -> str:
        raw = json.dumps([self.step, self.cvr, self.after, self.mark]).encode()
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def decode(cls, cursor: str) -> _Position:
        try:
            step, cvr, after, mark = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise ValueError(f"not a cursor of the FK Organisation adapter: {cursor!r}") from exc
        return cls(int(step), str(cvr), after, mark)


class OrgRegistryAdapter:
    """FK Organisation `OrganisationHent` (GraphQL). `cvrs` names the municipalities to read;
    `token` is a bearer token, or a function giving the token for a municipality's CVR
    (KOMBIT issues one per anvenderkontekst)."""

    name = SourceName.ORG_REGISTRY

    def __init__(
        self,
        base_url: str | None = None,
        *,
        client: httpx2.Client | None = None,
        options: PassOptions | None = None,
        cvrs: Sequence[str] | None = None,
        token: TokenSource | None = None,
    ) -> None:
        self.base_url = (base_url or self.name.default_url).rstrip("/")
        self.options = options or PassOptions()
        self._client = client  # None: each pass opens (and closes) its own
        self.cvrs = tuple(cvrs) if cvrs is not None else simulated_municipality_cvrs()
        self._token = token

    def close(self) -> None:
        """Nothing stays open between passes (each pass closes the client it opened); a
        client handed in belongs to whoever handed it in."""

    def __enter__(self) -> OrgRegistryAdapter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the pass ------------------------------------------------------------------------------

    def _steps(self, incremental: bool) -> list[_Step]:
        kinds = ("units", "inactive_units", "inactive_users") if incremental else ("units",)
        return [_Step(cvr, kind) for cvr in self.cvrs for kind in kinds]

    def pages(self, since: str | None, cursor: str | None) -> Iterator[Page]:
        if self._client is not None:
            yield from self._pages(self._client, since, cursor)
            return
        # A client of the pass's own, closed when the pass ends: no connection outlives it.
        with httpx2.Client(timeout=self.options.timeout_seconds) as client:
            yield from self._pages(client, since, cursor)

    def _pages(
        self, client: httpx2.Client, since: str | None, cursor: str | None
    ) -> Iterator[Page]:
        steps = self._steps(incremental=since is not None)
        since_at = datetime.fromisoformat(since) if since is not None else None
        if not steps:
            yield Page(records=(), high_water_mark=since)
            return
        position = _Position.decode(cursor) if cursor else _Position(0, steps[0].cvr, None, since)
        if position.step >= len(steps) or steps[position.step].cvr != position.cvr:
            raise ValueError("the cursor belongs to a pass over other municipalities")
        while True:
            step = steps[position.step]
            connection = self._list(client, step, position.after)
            records, deleted, mark = _content(step, connection, since_at, position.mark)
            following = _advance(steps, position.step, connection, mark)
            if following is None:
                yield Page(records, deleted, None, mark)
                return
            if records or deleted:  # pages without news are not worth a checkpoint
                yield Page(records, deleted, following.encode(), mark)
            position = following

    def _list(self, client: httpx2.Client, step: _Step, after: str | None) -> Mapping[str, Any]:
        variables: dict[str, Any] = {
            "cvr": step.cvr,
            "first": self.options.page_size,
            "after": after,
        }
        task_filter = {"rolle": str(v.TASK_RESPONSIBLE), "kleNummer": list(v.KLE_FILTER)}
        if step.kind == "units":
            query = UNITS_QUERY
            variables |= {
                "opgaver": task_filter,
                "enhedAdresseRoller": [str(r) for r in v.UNIT_ADDRESS_ROLES],
                "brugerAdresseRoller": [str(r) for r in v.USER_ADDRESS_ROLES],
                "medlemskabsRoller": [str(v.WORKS_IN)],
            }
            field = "organisationEnhedListe"
        elif step.kind == "inactive_units":
            query, field = INACTIVE_UNITS_QUERY, "organisationEnhedListe"
            variables["opgaver"] = task_filter
        else:
            query, field = INACTIVE_USERS_QUERY, "brugerListe"
        data = self._post(client, query, variables, step.cvr)
        connection = data.get(field)
        return connection if isinstance(connection, Mapping) else {}

    def _headers(self, cvr: str) -> dict[str, str]:
        headers = dict(self.options.extra_headers)
        headers["x-TransaktionsId"] = str(uuid.uuid4())
        headers["x-TransaktionsTid"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        if self._token is not None:
            token = self._token(cvr) if callable(self._token) else self._token
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _post(
        self, client: httpx2.Client, query: str, variables: Mapping[str, Any], cvr: str
    ) -> Mapping[str, Any]:
        url = self.base_url + ENDPOINT
        try:
            response = client.post(
                url, json={"query": query, "variables": variables}, headers=self._headers(cvr)
            )
        except httpx2.HTTPError as exc:
            raise SourceUnavailable(
                f"FK Organisation at {url} could not be reached: {exc}"
            ) from exc
        if response.status_code != 200:
            raise SourceUnavailable(
                f"FK Organisation at {url} answered HTTP {response.status_code}: "
                f"{response.text[:300]}"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceUnavailable(f"FK Organisation at {url} answered with no JSON") from exc
        if not isinstance(body, dict):
            raise SourceUnavailable(f"FK Organisation at {url} answered with no GraphQL result")
        if body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
            raise SourceUnavailable(f"FK Organisation answered with GraphQL errors: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise SourceUnavailable("FK Organisation answered without data")
        return data

    # -- parsing -------------------------------------------------------------------------------

    def parse(self, record: RawRecord) -> Sequence[Entity]:
        node = _load(record.payload)
        # A unit has an enhedsnavn and a user a brugernavn, whatever else is wrong with them.
        if "enhedsnavn" in node:
            return [parse_unit(node)]
        if "brugernavn" in node:
            member = parse_user(node)
            return [member] if member is not None else []
        raise RecordRejected(f"record {record.key} is neither an OrganisationEnhed nor a Bruger")


# -- the pass, page by page --------------------------------------------------------------------


def _content(
    step: _Step, connection: Mapping[str, Any], since: datetime | None, mark: str | None
) -> tuple[list[RawRecord], list[str], str | None]:
    """The records and deletions of one GraphQL page, and the high-water mark after it."""
    records: list[RawRecord] = []
    deleted: list[str] = []
    seen_users: set[str] = set()
    latest = _later(mark, None)
    for node in _nodes(connection):
        latest = _later(latest, node)
        if step.kind == "inactive_units":
            if _deactivated_after(node, since):
                deleted.append(str(node.get("uuid")))
            continue
        if step.kind == "inactive_users":
            if _deactivated_after(node, since):
                deleted.append(str(node.get("uuid")))
            continue
        unit = {name: value for name, value in node.items() if name != "medlemskaber"}
        records.append(RawRecord(str(node.get("uuid")), _dump(unit), MEDIA_TYPE))
        for membership in node.get("medlemskaber") or []:
            user = (membership or {}).get("bruger")
            if not isinstance(user, dict) or str(user.get("uuid")) in seen_users:
                continue
            seen_users.add(str(user.get("uuid")))
            latest = _later(latest, user)
            key = str(user.get("uuid"))
            if _status(user) == "INAKTIV":
                deleted.append(key)
            else:
                records.append(RawRecord(key, _dump(user), MEDIA_TYPE))
    return records, deleted, (latest.isoformat() if latest else mark)


def _advance(
    steps: list[_Step], index: int, connection: Mapping[str, Any], mark: str | None
) -> _Position | None:
    info = connection.get("pageInfo") or {}
    if info.get("hasNextPage") and info.get("endCursor"):
        return _Position(index, steps[index].cvr, str(info["endCursor"]), mark)
    if index + 1 < len(steps):
        return _Position(index + 1, steps[index + 1].cvr, None, mark)
    return None


def _nodes(connection: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for edge in connection.get("edges") or []:
        node = (edge or {}).get("node")
        if isinstance(node, dict):
            yield node


def _status(node: Mapping[str, Any]) -> object:
    return (node.get("tilstand") or {}).get("status")


def _state_since(node: Mapping[str, Any]) -> datetime | None:
    text = (node.get("tilstand") or {}).get("fraTidspunkt")
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _deactivated_after(node: Mapping[str, Any], since: datetime | None) -> bool:
    at = _state_since(node)
    return _status(node) == "INAKTIV" and (since is None or at is None or at > since)


def _later(mark: str | datetime | None, node: Mapping[str, Any] | None) -> datetime | None:
    current = datetime.fromisoformat(mark) if isinstance(mark, str) else mark
    candidate = _state_since(node) if node is not None else None
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def _dump(node: Mapping[str, Any]) -> bytes:
    return json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode()


# -- strict reading of one unit or user --------------------------------------------------------


def _load(payload: bytes) -> dict[str, Any]:
    try:
        node = json.loads(payload)
    except ValueError as exc:
        raise RecordRejected(f"the record is not JSON: {exc}") from exc
    if not isinstance(node, dict):
        raise RecordRejected("the record is not a JSON object")
    return node


def _uuid(value: object, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise RecordRejected(f"{what} is not a UUID: {value!r}") from None


def _text(node: Mapping[str, Any], name: str, where: str) -> str:
    value = node.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RecordRejected(f"{where} has no {name}")
    return value.strip()


def _object(node: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = node.get(name)
    if not isinstance(value, dict):
        raise RecordRejected(f"{where} has no {name}")
    return value


def _require_active(node: Mapping[str, Any], where: str) -> None:
    status = _object(node, "tilstand", where).get("status")
    if status != "AKTIV":
        raise RecordRejected(f"{where} has state {status!r}; only AKTIV objects are read")


def _addresses(node: Mapping[str, Any], where: str) -> dict[str, str]:
    """The first address text for each role; FK Organisation may index several."""
    found: dict[str, str] = {}
    for address in node.get("adresser") or []:
        if not isinstance(address, dict):
            raise RecordRejected(f"{where} has an address that is not an object")
        role = str((address.get("klassifikation") or {}).get("rolle", "")).lower()
        text = address.get("adresseTekst")
        if not isinstance(text, str) or not text.strip():
            raise RecordRejected(f"{where} has an address with no text (role {role})")
        found.setdefault(role, text.strip())
    return found


def _unit_kind(node: Mapping[str, Any], where: str) -> UnitKind:
    """A unit's kind from the KLE subjects it is responsible for: 27.xx child/family,
    17.xx PPR (vocabulary.KLE_FILTER)."""
    numbers = []
    for task in node.get("opgaver") or []:
        role = str(((task or {}).get("klassifikation") or {}).get("rolle", "")).lower()
        number = (task or {}).get("kleEmneNummer")
        if (
            role == str(v.TASK_RESPONSIBLE)
            and isinstance(number, str)
            and any(v.kle_matches(pattern, number) for pattern in v.KLE_FILTER)
        ):
            numbers.append(number)
    kinds = {v.KIND_BY_KLE_MAIN_GROUP[n[:2]] for n in numbers if n[:2] in v.KIND_BY_KLE_MAIN_GROUP}
    if not kinds:
        raise RecordRejected(
            f"{where} is Ansvarlig for no child/family (27) or PPR (17.13) KLE subject, "
            "so its kind is unknown"
        )
    if len(kinds) > 1:
        raise RecordRejected(
            f"{where} is Ansvarlig for both child/family and PPR subjects "
            f"({', '.join(sorted(numbers))}), so its kind is ambiguous"
        )
    return kinds.pop()


def _municipality_code(owner: Mapping[str, Any], where: str) -> str:
    authority = owner.get("myndighed")
    code = authority.get("myndighedskode") if isinstance(authority, dict) else None
    if not isinstance(code, str) or not code.isdigit() or not 3 <= len(code) <= 4:
        raise RecordRejected(f"{where}: the organisation has no myndighedskode of 3-4 digits")
    if not is_municipality_code(code):
        raise RecordRejected(f"{where}: myndighedskode {code} is no Danish municipality")
    return code.zfill(4)


def parse_unit(node: Mapping[str, Any]) -> OrgUnit:
    unit_id = _uuid(node.get("uuid"), "OrganisationEnhed uuid")
    where = f"OrganisationEnhed {unit_id}"
    name = _text(node, "enhedsnavn", where)
    _require_active(node, where)
    owner = _object(node, "tilhoerer", where)
    company = owner.get("virksomhed")
    cvr_text = company.get("cvrNummerTekst") if isinstance(company, dict) else None
    try:
        cvr = Cvr(str(cvr_text))
    except InvalidIdentifier as exc:
        raise RecordRejected(f"{where}: the organisation's {exc}") from None
    code = _municipality_code(owner, where)
    kind = _unit_kind(node, where)
    addresses = _addresses(node, where)
    return OrgUnit(
        id=unit_id,
        kind=kind,
        name=name,
        municipality_code=code,
        region=municipality(code).region.value,
        cvr=cvr,
        fk_org_uuid=unit_id,
        # The landline is the unit's switchboard; DUBU registers mobile numbers too.
        phone=addresses.get(str(v.UNIT_LANDLINE)) or addresses.get(str(v.UNIT_MOBILE)),
        email=addresses.get(str(v.UNIT_EMAIL)),
    )


def parse_user(node: Mapping[str, Any]) -> StaffMember | None:
    """A user, or None when the user's job title is no function the platform serves (a
    secretary in a PPR unit, say): such users are not the platform's, and no rule is broken."""
    user_id = _uuid(node.get("uuid"), "Bruger uuid")
    where = f"Bruger {user_id}"
    username = _text(node, "brugernavn", where)
    where = f"Bruger {user_id} ({username})"
    _require_active(node, where)
    person = _object(node, "person", where)
    full_name = person.get("navn")
    if not isinstance(full_name, str) or not full_name.strip():
        raise RecordRejected(f"{where} has no person name (the token needs the SeNavn right)")
    works_in = [
        m
        for m in node.get("harMedlemskab") or []
        if isinstance(m, dict) and str(m.get("funktionsTypeUuid", "")).lower() == str(v.WORKS_IN)
    ]
    if not works_in:
        raise RecordRejected(f"{where} has no 'Arbejder i' membership, so no unit")
    if len(works_in) > 1:
        raise RecordRejected(
            f"{where} works in {len(works_in)} units; the platform keeps one unit per person"
        )
    unit = works_in[0].get("medlemAf")
    if not isinstance(unit, dict):
        raise RecordRejected(f"{where}: the 'Arbejder i' membership names no unit")
    unit_id = _uuid(unit.get("uuid"), f"{where}: the unit's uuid")
    function = v.FUNCTION_BY_TITLE.get(str(works_in[0].get("medlemskabRolleTitel")))
    if function is None:
        return None
    addresses = _addresses(node, where)
    return StaffMember(
        id=user_id,
        username=username,
        full_name=full_name.strip(),
        function=function,
        unit_id=unit_id,
        email=addresses.get(str(v.USER_EMAIL)),
        phone=addresses.get(str(v.USER_MOBILE)) or addresses.get(str(v.USER_LANDLINE)),
    )
