"""FK Organisation's GraphQL service `OrganisationHent`, answered from the world.

The schema is KOMBIT's own SDL (`schemas/schemaOrganisationV1.gql`), made executable with
graphql-core: any valid query against the real schema works, and invalid ones get GraphQL
errors. The world's units and users become FK Organisation objects:

* each municipality is an `Organisation` with its `Virksomhed` (CVR) and `Myndighed`
  (myndighedskode = the municipality code), and a root unit "<name> Kommune";
* each child/family or PPR unit is an `OrganisationEnhed` under the root, `Ansvarlig` for the
  KLE subjects of its kind, with e-mail and landline addresses;
* each staff member is a `Bruger` with a `Person` (name), e-mail and mobile addresses, and one
  "Arbejder i" membership whose job title is the function's Danish title.

FK Organisation does not delete objects; it ends their state. A unit or user deleted from the
world is therefore served with `tilstand.status = INAKTIV` from the time of the deletion, as
long as the simulator has seen it. A broken record (`Malformed`) is a unit or user object in
JSON, served as it is: units are filed under the municipality their `myndighedskode` names,
users under the unit their membership names, or else the first unit.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLFieldMap,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paatvaers.domain.geography import municipality
from paatvaers.domain.identifiers import cvr_is_valid
from paatvaers.domain.organisations import OrgUnit, StaffMember, UnitKind
from paatvaers.population.generator import CHILD_FAMILY_KLE, PPR_KLE
from paatvaers.sources.org_registry import vocabulary as v
from paatvaers.sources.simulation.world import Malformed, SourceStore, World

SCHEMA_PATH = Path(__file__).parent / "schemas" / "schemaOrganisationV1.gql"
ENDPOINT = "/organisation/organisationhent/1"

Node = dict[str, Any]
Position = tuple[datetime, str]

# Ids the simulator derives for objects the world does not hold (organisations, root units,
# persons, memberships, addresses), stable across runs.
_NS = uuid.UUID("3f0b7c52-4a3e-5d0b-9a61-6f726773696d")
# FK Klassifikation's relation type of a unit's tasks is not in the research; ours.
_TASK_TYPE = uuid.uuid5(_NS, "opgave-relationstype")
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_TASKS = {UnitKind.CHILD_FAMILY: CHILD_FAMILY_KLE, UnitKind.PPR: PPR_KLE}
_ROLE_TITLES = {
    v.UNIT_EMAIL: "Email",
    v.UNIT_MOBILE: "Telefon",
    v.UNIT_LANDLINE: "FastnetTelefon",
    v.USER_EMAIL: "Email",
    v.USER_MOBILE: "Telefon",
    v.USER_LANDLINE: "FastnetTelefon",
}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _address(owner: uuid.UUID, text: str, role: uuid.UUID, kind: uuid.UUID, index: int) -> Node:
    return {
        "uuid": str(uuid.uuid5(_NS, f"adresse:{owner}:{role}")),
        "adresseTekst": text,
        "brugervendtNoegle": None,
        "adresseRolleTitel": _ROLE_TITLES[role],
        "klassifikation": {"type": str(kind), "rolle": str(role), "indeks": str(index)},
    }


def _addresses(
    owner: uuid.UUID, kind: uuid.UUID, values: Iterable[tuple[uuid.UUID, str | None]]
) -> list[Node]:
    present = [(role, text) for role, text in values if text is not None]
    return [_address(owner, text, role, kind, i) for i, (role, text) in enumerate(present, 1)]


def _tilstand(status: str, since: datetime) -> Node:
    return {"status": status, "fraTidspunkt": _iso(since), "tilTidspunkt": None}


def _task(kle: str, title: str, index: int) -> Node:
    return {
        "uuid": str(uuid.uuid5(_NS, f"opgave:{kle}")),
        "kleEmneNummer": kle,
        "kleEmneTitel": title,
        "opgaveRolleTitel": v.TASK_RESPONSIBLE_TITLE,
        "klassifikation": {
            "type": str(_TASK_TYPE),
            "rolle": str(v.TASK_RESPONSIBLE),
            "indeks": str(index),
        },
    }


def _organisation_record(cvr: str, code: str) -> Node:
    """The municipality as an Organisation, without its root unit (linked in the index)."""
    name = f"{municipality(code).name} Kommune"
    return {
        "uuid": str(uuid.uuid5(_NS, f"organisation:{cvr}")),
        "organisationsnavn": name,
        "brugervendtNoegle": name,
        # FK Organisation writes the myndighedskode without leading zeros ("101", "851").
        "myndighed": {
            "uuid": str(uuid.uuid5(_NS, f"myndighed:{code}")),
            "myndighedskode": str(int(code)),
        },
        "virksomhed": {"uuid": str(uuid.uuid5(_NS, f"virksomhed:{cvr}")), "cvrNummerTekst": cvr},
    }


def unit_record(unit: OrgUnit, status: str, since: datetime) -> Node:
    """A unit as FK Organisation returns it, as a JSON tree (links left out)."""
    cvr = unit.cvr.value if unit.cvr else ""
    code = unit.municipality_code or "0000"
    tasks = _TASKS.get(unit.kind, ())
    return {
        "uuid": str(unit.id),
        "enhedsnavn": unit.name,
        "brugervendtNoegle": None,
        "tilstand": _tilstand(status, since),
        "tilhoerer": _organisation_record(cvr, code),
        "overordnetEnhed": None,
        "underliggendeEnheder": [],
        "adresser": _addresses(
            unit.id,
            v.UNIT_ADDRESS_TYPE,
            ((v.UNIT_EMAIL, unit.email), (v.UNIT_LANDLINE, unit.phone)),
        ),
        "opgaver": [_task(kle, title, i) for i, (kle, title) in enumerate(tasks, 1)],
        "itSystemer": [],
        "henvendelsessteder": [],
        "medlemskaber": [],
    }


def _membership(user_id: str, title: str | None, unit: Node | None) -> Node:
    return {
        "uuid": str(uuid.uuid5(_NS, f"funktion:{user_id}")),
        "medlemskabRolleTitel": title,
        "brugervendtNoegle": None,
        "funktionsTypeUuid": str(v.WORKS_IN),
        "funktionsTypeTitel": v.WORKS_IN_TITLE,
        "start": None,
        "slut": None,
        "medlemAf": unit,
    }


def user_record(member: StaffMember, status: str, since: datetime) -> Node:
    """A user as FK Organisation returns it, as a JSON tree; the membership names its unit
    by uuid only (the index links the whole unit)."""
    return {
        "uuid": str(member.id),
        "brugernavn": member.username,
        "brugervendtNoegle": member.username,
        "brugerTypeUuid": str(v.USER_TYPE_INTERNAL),
        "brugerTypeTitel": "Intern bruger",
        "tilstand": _tilstand(status, since),
        "person": {
            "uuid": str(uuid.uuid5(_NS, f"person:{member.id}")),
            "navn": member.full_name,
            "brugervendtNoegle": None,
            "cpr": None,
        },
        "adresser": _addresses(
            member.id,
            v.USER_ADDRESS_TYPE,
            ((v.USER_EMAIL, member.email), (v.USER_MOBILE, member.phone)),
        ),
        "harMedlemskab": [
            _membership(str(member.id), member.function.danish_title, {"uuid": str(member.unit_id)})
        ],
    }


# -- the world as FK Organisation objects -----------------------------------------------------


@dataclass
class _Listing:
    position: Position
    node: Node


@dataclass
class _Index:
    organisations: dict[str, Node] = field(default_factory=dict)  # by CVR
    code_by_cvr: dict[str, str] = field(default_factory=dict)
    roots: dict[str, Node] = field(default_factory=dict)  # by municipality code
    units: dict[str, Node] = field(default_factory=dict)  # by uuid, every state
    users: dict[str, Node] = field(default_factory=dict)
    # by municipality code and state: (code, "AKTIV" | "INAKTIV") -> listings in change order
    unit_listings: dict[tuple[str, str], list[_Listing]] = field(default_factory=dict)
    user_listings: dict[tuple[str, str], list[_Listing]] = field(default_factory=dict)


class _Directory:
    """Builds the index from the world when the world has changed, and remembers units and
    users the world deleted so they can be served as INAKTIV."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._lock = threading.Lock()
        self._key: tuple[object, ...] = ()
        self._index = _Index()
        self._seen_units: dict[str, OrgUnit | Malformed] = {}
        self._seen_users: dict[str, StaffMember | Malformed] = {}
        self.current()

    def current(self) -> _Index:
        units, users = self.world.org_units, self.world.users
        key = (units.high_water_mark(), users.high_water_mark(), len(units), len(users))
        with self._lock:
            if key != self._key:
                self._index = self._build()
                self._key = key
            return self._index

    def _build(self) -> _Index:
        index = _Index()
        unit_entries = _entries(self.world.org_units)
        user_entries = _entries(self.world.users)
        self._seen_units.update((key, value) for key, value, _ in unit_entries)
        self._seen_users.update((key, value) for key, value, _ in user_entries)
        self._add_organisations(index)
        for key, value, changed_at in unit_entries:
            self._add_unit(index, key, value, "AKTIV", changed_at)
        for key, deleted_at in self.world.org_units.deleted_since(_EARLIEST):
            seen = self._seen_units.get(key)
            if seen is not None:
                self._add_unit(index, key, seen, "INAKTIV", deleted_at)
        for key, value, changed_at in user_entries:
            self._add_user(index, key, value, "AKTIV", changed_at)
        for key, deleted_at in self.world.users.deleted_since(_EARLIEST):
            seen_user = self._seen_users.get(key)
            if seen_user is not None:
                self._add_user(index, key, seen_user, "INAKTIV", deleted_at)
        for listings in (*index.unit_listings.values(), *index.user_listings.values()):
            listings.sort(key=lambda listing: listing.position)
        return index

    def _add_organisations(self, index: _Index) -> None:
        for unit in self._seen_units.values():
            if isinstance(unit, Malformed) or unit.cvr is None or unit.municipality_code is None:
                continue
            cvr, code = unit.cvr.value, unit.municipality_code
            if cvr in index.organisations:
                continue
            organisation = _organisation_record(cvr, code)
            root = {
                "uuid": str(uuid.uuid5(_NS, f"rod:{cvr}")),
                "enhedsnavn": organisation["organisationsnavn"],
                "brugervendtNoegle": None,
                "tilstand": _tilstand(
                    "AKTIV", datetime.combine(self.world.as_of, datetime.min.time(), UTC)
                ),
                "tilhoerer": organisation,
                "overordnetEnhed": None,
                "underliggendeEnheder": [],
                "adresser": [],
                "opgaver": [],
                "itSystemer": [],
                "henvendelsessteder": [],
                "medlemskaber": [],
            }
            organisation["organisationEnhed"] = root
            index.organisations[cvr] = organisation
            index.code_by_cvr[cvr] = code
            index.roots[code] = root
            index.units[root["uuid"]] = root

    def _add_unit(
        self, index: _Index, key: str, value: OrgUnit | Malformed, status: str, at: datetime
    ) -> None:
        if isinstance(value, Malformed):
            node = json.loads(value.payload)
            node.setdefault("medlemskaber", [])
            code = _code_of_record(node)
        else:
            node = unit_record(value, status, at)
            code = value.municipality_code
            organisation = index.organisations.get(value.cvr.value if value.cvr else "")
            if organisation is not None:  # share the organisation and hang under its root
                node["tilhoerer"] = organisation
                root = organisation["organisationEnhed"]
                node["overordnetEnhed"] = root
                if status == "AKTIV":
                    root["underliggendeEnheder"].append(node)
        if code is None:
            return  # nowhere to file it
        index.units[key] = node
        index.unit_listings.setdefault((code, status), []).append(_Listing((at, key), node))

    def _add_user(
        self, index: _Index, key: str, value: StaffMember | Malformed, status: str, at: datetime
    ) -> None:
        if isinstance(value, Malformed):
            node = json.loads(value.payload)
            unit = _unit_named_by(index, node) or _first_active_unit(index)
            title = _first_title(node)
        else:
            node = user_record(value, status, at)
            unit = index.units.get(str(value.unit_id))
            title = value.function.danish_title
            node["harMedlemskab"][0]["medlemAf"] = unit
        if unit is None:
            return
        if status == "AKTIV" and unit["tilstand"]["status"] == "AKTIV":
            membership = _membership(key, title, None)
            membership["bruger"] = node
            unit["medlemskaber"].append(membership)
        index.users[key] = node
        code = _code_of_record(unit)
        if code is not None:
            listing = _Listing((at, key), node)
            index.user_listings.setdefault((code, status), []).append(listing)


def _entries(store: SourceStore[Any]) -> list[tuple[str, Any, datetime]]:
    entries, _ = store.page(None, None, len(store) + 1)
    return [(e.key, e.value, e.changed_at) for e in entries]


def _code_of_record(node: Node) -> str | None:
    """The municipality code of a unit object: its organisation's myndighedskode."""
    try:
        return str(node["tilhoerer"]["myndighed"]["myndighedskode"]).zfill(4)
    except (KeyError, TypeError):
        return None


def _unit_named_by(index: _Index, user: Node) -> Node | None:
    for membership in user.get("harMedlemskab") or []:
        unit = (membership or {}).get("medlemAf") or {}
        found = index.units.get(str(unit.get("uuid")))
        if found is not None:
            return found
    return None


def _first_active_unit(index: _Index) -> Node | None:
    active = [
        listing.node
        for (_, status), listings in index.unit_listings.items()
        if status == "AKTIV"
        for listing in listings
    ]
    return min(active, key=lambda node: str(node["uuid"]), default=None)


def _first_title(user: Node) -> str | None:
    memberships = user.get("harMedlemskab") or []
    return memberships[0].get("medlemskabRolleTitel") if memberships else None


# -- Relay connections -------------------------------------------------------------------------


def encode_cursor(position: Position) -> str:
    raw = json.dumps([_iso(position[0]), position[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> Position:
    try:
        moment, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(moment), str(key)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise GraphQLError(f"Invalid cursor: {cursor!r}") from exc


def _connection(listings: list[_Listing], args: Mapping[str, Any]) -> Node:
    items = listings
    if args.get("after") is not None:
        after = _decode_cursor(args["after"])
        items = [item for item in items if item.position > after]
    if args.get("before") is not None:
        before = _decode_cursor(args["before"])
        items = [item for item in items if item.position < before]
    has_next = has_previous = False
    first, last = args.get("first"), args.get("last")
    if (first is not None and first < 0) or (last is not None and last < 0):
        raise GraphQLError("Arguments 'first' and 'last' must not be negative")
    if first is not None:
        has_next = len(items) > first
        items = items[:first]
    if last is not None:
        has_previous = len(items) > last
        items = items[len(items) - last :]
    edges = [{"cursor": encode_cursor(item.position), "node": item.node} for item in items]
    return {
        "edges": edges,
        "pageInfo": {
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
        },
    }


# -- resolvers ---------------------------------------------------------------------------------


def _has_task(node: Node, task_filter: Mapping[str, Any] | None) -> bool:
    if task_filter is None:
        return True
    role = task_filter.get("rolle")
    patterns = task_filter.get("kleNummer") or []
    for task in node.get("opgaver") or []:
        task_role = (task.get("klassifikation") or {}).get("rolle")
        number = task.get("kleEmneNummer") or ""
        if role is not None and str(task_role) != str(role):
            continue
        if any(v.kle_matches(pattern, number) for pattern in patterns):
            return True
    return False


def _uses_systems(node: Node, systems: list[str] | None) -> bool:
    if systems is None:
        return True
    wanted = {str(s) for s in systems}
    return any(str(s.get("uuid")) in wanted for s in node.get("itSystemer") or [])


def _user_matches(node: Node, user_filter: Mapping[str, Any] | None) -> bool:
    if not user_filter:
        return True
    username = user_filter.get("brugernavn")
    if username is not None and node.get("brugernavn") != username:
        return False
    user_type = user_filter.get("brugerTypeUuid")
    if user_type is not None and str(node.get("brugerTypeUuid")) != str(user_type):
        return False
    address = user_filter.get("adresseRolleFilter")
    if address is not None and not any(
        str(a["klassifikation"]["rolle"]) == str(address["rolle"])
        and a["adresseTekst"] == address["tekst"]
        for a in node.get("adresser") or []
    ):
        return False
    person_filter = user_filter.get("personFilter") or {}
    person = node.get("person") or {}
    return all(person.get(name) == value for name, value in person_filter.items() if value)


def _by_role(field_name: str, role_of: Callable[[Node], object]) -> Callable[..., Any]:
    """A list field with a `rolle: [UUID!]` argument: keep the items with one of the roles."""

    def resolve(source: Node, _info: object, rolle: list[str] | None = None) -> list[Node]:
        items: list[Node] = source.get(field_name) or []
        if rolle is None:
            return items
        wanted = {str(role).lower() for role in rolle}
        return [item for item in items if str(role_of(item)).lower() in wanted]

    return resolve


def _address_role(item: Node) -> object:
    return (item.get("klassifikation") or {}).get("rolle")


def _function_type(item: Node) -> object:
    return item.get("funktionsTypeUuid")


def executable_schema(directory: _Directory) -> GraphQLSchema:
    """KOMBIT's schema with resolvers that read the world."""
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    query = schema.query_type
    assert query is not None  # noqa: S101 - the SDL defines Query

    def organisation(_root: None, _info: object, cvr: str) -> Node | None:
        return directory.current().organisations.get(cvr)

    def unit_list(_root: None, _info: object, **given: object) -> Node:
        args: Mapping[str, Any] = given
        index = directory.current()
        code = index.code_by_cvr.get(args["cvr"])
        status = args["status"]
        listings = index.unit_listings.get((code or "", status), [])
        root = index.roots.get(code or "")
        if root is not None and status == "AKTIV":
            listings = [_Listing((_EARLIEST, ""), root), *listings]  # the root comes first
        kept = [
            item
            for item in listings
            if _has_task(item.node, args.get("opgaver"))
            and _uses_systems(item.node, args.get("itSystemer"))
        ]
        return _connection(kept, args)

    def units(_root: None, _info: object, uuid: list[str]) -> list[Node | None]:
        index = directory.current()
        return [index.units.get(str(u).lower()) for u in uuid]

    def users(_root: None, _info: object, uuid: list[str]) -> list[Node | None]:
        index = directory.current()
        return [index.users.get(str(u).lower()) for u in uuid]

    def user_list(_root: None, _info: object, **given: object) -> Node:
        args: Mapping[str, Any] = given
        index = directory.current()
        code = index.code_by_cvr.get(args["cvr"], "")
        listings = index.user_listings.get((code, args["status"]), [])
        kept = [item for item in listings if _user_matches(item.node, args.get("brugerFilter"))]
        return _connection(kept, args)

    query.fields["organisation"].resolve = organisation
    query.fields["organisationEnhedListe"].resolve = unit_list
    query.fields["organisationEnhed"].resolve = units
    query.fields["bruger"].resolve = users
    query.fields["brugerListe"].resolve = user_list
    _type_fields(schema, "OrganisationEnhed")["adresser"].resolve = _by_role(
        "adresser", _address_role
    )
    _type_fields(schema, "Bruger")["adresser"].resolve = _by_role("adresser", _address_role)
    _type_fields(schema, "OrganisationEnhed")["medlemskaber"].resolve = _by_role(
        "medlemskaber", _function_type
    )
    _type_fields(schema, "Bruger")["harMedlemskab"].resolve = _by_role(
        "harMedlemskab", _function_type
    )
    return schema


def _type_fields(schema: GraphQLSchema, name: str) -> GraphQLFieldMap:
    named = schema.get_type(name)
    assert isinstance(named, GraphQLObjectType)  # noqa: S101 - the SDL defines it
    fields: GraphQLFieldMap = named.fields
    return fields


# -- HTTP --------------------------------------------------------------------------------------


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


def _header_problem(request: Request) -> str | None:
    """The service's required headers: a transaction id (UUID) and time on every call."""
    transaction_id = request.headers.get("x-transaktionsid")
    if transaction_id is None or request.headers.get("x-transaktionstid") is None:
        return "Headers x-TransaktionsId and x-TransaktionsTid are required"
    try:
        uuid.UUID(transaction_id)
    except ValueError:
        return f"x-TransaktionsId must be a UUID: {transaction_id!r}"
    authorization = request.headers.get("authorization")
    if authorization is not None and not authorization.startswith("Bearer "):
        return "Authorization must be a bearer token"
    return None


def create_app(world: World) -> Starlette:
    directory = _Directory(world)
    schema = executable_schema(directory)

    @lru_cache(maxsize=64)
    def prepared(query: str) -> tuple[DocumentNode | None, tuple[str, ...]]:
        """Parse and validate a query once; the adapter sends the same few again and again."""
        try:
            document = parse(query)
        except GraphQLError as exc:
            return None, (exc.message,)
        return document, tuple(error.message for error in validate(schema, document))

    async def organisationhent(request: Request) -> JSONResponse:
        problem = _header_problem(request)
        if problem is not None:
            status = 401 if problem.startswith("Authorization") else 400
            return _problem(status, problem)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _problem(400, "The request body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _problem(400, "The request must carry a 'query' string")
        document, errors = prepared(body["query"])
        if document is None or errors:
            return JSONResponse({"errors": [{"message": e} for e in errors]}, status_code=400)
        result = execute_sync(
            schema,
            document,
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
        )
        return JSONResponse(result.formatted)

    return Starlette(routes=[Route(ENDPOINT, organisationhent, methods=["POST"])])


# -- broken records ----------------------------------------------------------------------------


def add_malformed_examples(world: World) -> None:
    """Three broken records: a unit whose organisation has a CVR failing the modulus-11
    check, a unit responsible for both child/family (27) and PPR (17) subjects, so that its
    kind cannot be told, and a user with no "Arbejder i" membership, so without a unit."""
    units = sorted(world.org_units.values(), key=lambda u: str(u.id))
    users = sorted(world.users.values(), key=lambda s: str(s.id))
    if not units or not users:
        return
    now = world.clock.now
    bad_cvr = _unit_with_bad_cvr(units[0], now)
    world.org_units.put(bad_cvr["uuid"], Malformed(json.dumps(bad_cvr).encode()))
    both = _unit_with_both_kinds(units[-1], now)
    world.org_units.put(both["uuid"], Malformed(json.dumps(both).encode()))
    orphan = user_record(users[0], "AKTIV", now)
    orphan["uuid"] = str(uuid.uuid5(_NS, "malformed:bruger-uden-enhed"))
    orphan["brugernavn"] = orphan["brugervendtNoegle"] = "uden.enhed"
    orphan["harMedlemskab"] = []
    world.users.put(orphan["uuid"], Malformed(json.dumps(orphan).encode()))


def _unit_with_bad_cvr(model: OrgUnit, now: datetime) -> Node:
    record = unit_record(model, "AKTIV", now)
    record["uuid"] = str(uuid.uuid5(_NS, "malformed:ugyldigt-cvr"))
    record["enhedsnavn"] = f"{model.name} (fejlregistreret)"
    cvr = model.cvr.value if model.cvr else "00000000"
    record["tilhoerer"]["virksomhed"]["cvrNummerTekst"] = _break_check_digit(cvr)
    return record


def _break_check_digit(cvr: str) -> str:
    """The same number with a check digit that fails the modulus-11 check."""
    return next(cvr[:7] + d for d in "0123456789" if not cvr_is_valid(cvr[:7] + d))


def _unit_with_both_kinds(model: OrgUnit, now: datetime) -> Node:
    record = unit_record(model, "AKTIV", now)
    record["uuid"] = str(uuid.uuid5(_NS, "malformed:to-slags-opgaver"))
    record["enhedsnavn"] = (
        f"Børn, Familie og PPR, {municipality(model.municipality_code or '0101').name} Kommune"
    )
    tasks = [*CHILD_FAMILY_KLE[:1], *PPR_KLE[:1]]
    record["opgaver"] = [_task(kle, title, i) for i, (kle, title) in enumerate(tasks, 1)]
    return record
