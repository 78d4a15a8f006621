"""A CPR replica serving persons in our documented JSON shape (docs/sources/cpr.md).

Endpoints:

* `GET /cpr/personer?antal=&efter=`: the full extract, in pages;
* `GET /cpr/aendringer?siden=&antal=&efter=`: persons changed after `siden`, and on the first
  page the persons removed since then (`fjernede`), as SF1320's event subscription would tell;
* `GET /cpr/personer/{personnummer}`: one person.

Pages follow our paging convention (`paging.py`): `{"personer": [...], "fjernede": [...],
"naeste": <token or null>, "hoejvandsmaerke": <ISO time>}`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paatvaers.domain.children import Address, Child, CustodyHolder, CustodyRole
from paatvaers.domain.cpr import Sex, synthetic_cpr
from paatvaers.domain.organisations import OrgUnit
from paatvaers.sources import json_paging as paging
from paatvaers.sources.base import PersonWithGp
from paatvaers.sources.simulation.world import Entry, Malformed, World

MEDIA_TYPE = "application/json"
ACTIVE_STATUS = "01"  # aktiv, bopæl i dansk folkeregister
ROLE_NAMES = {CustodyRole.MOTHER: "mor", CustodyRole.FATHER: "far", CustodyRole.OTHER: "anden"}
_SEX_CODES = {Sex.FEMALE: "K", Sex.MALE: "M"}
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _holder(holder: CustodyHolder) -> dict[str, Any]:
    return {
        "foraeldremyndighedsindehaverrolle": ROLE_NAMES[holder.role],
        "foraeldremyndighedshaver": {"personnummer": holder.cpr.value, "navn": holder.name},
        "sammeAdresse": holder.lives_with_child,
    }


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "standardadresse": address.line,
        "postnummer": address.postcode,
        "postdistrikt": address.city,
    }


def _gp(gp: OrgUnit | None, child: Child) -> dict[str, Any] | None:
    if gp is None:
        return None
    previous = child.previous_gp_sor
    return {
        "navn": gp.name,
        "sorKode": gp.sor.value if gp.sor else None,
        "eanLokationsnummer": gp.gln.value if gp.gln else None,
        "telefon": gp.phone,
        "kommunekode": gp.municipality_code,
        "ikraftDato": _day(child.gp_since),
        "forrigeSorKode": previous.value if previous else None,
    }


def person_record(person: PersonWithGp) -> dict[str, Any]:
    """A child as our CPR shape writes it."""
    child: Child = person.child
    first, _, last = child.name.rpartition(" ")
    protection = child.address_protection
    sex = child.cpr.sex
    return {
        "personnummer": child.cpr.value,
        "status": ACTIVE_STATUS,
        "foedselsdato": child.birth_date.isoformat(),
        "koen": _SEX_CODES[sex] if sex is not None else None,
        "navn": {
            "fornavne": first or last,
            "mellemnavn": None,
            "efternavn": last if first else None,
        },
        "bopael": {
            "kommunekode": child.municipality_code,
            "adresse": _address(child.address),
            "tilflytningsdato": _day(child.moved_in_on),
            "fraflytningskommunekode": child.previous_municipality_code,
        },
        "adressebeskyttelse": (
            {"startdato": _day(protection.since), "slutdato": _day(protection.until)}
            if protection is not None
            else None
        ),
        "foraeldremyndighed": [_holder(h) for h in child.custody],
        "laegevalg": _gp(person.gp, child),
    }


def _record_bytes(entry: Entry[PersonWithGp]) -> bytes:
    if isinstance(entry.value, Malformed):
        return entry.value.payload  # served as it is
    return _ENCODER.encode(person_record(entry.value)).encode()


def _answer(body: bytes) -> Response:
    return Response(body, media_type=MEDIA_TYPE)


def _bad(exc: paging.BadRequest) -> JSONResponse:
    return JSONResponse({"fejl": str(exc)}, status_code=400)


def create_app(world: World) -> Starlette:
    store = world.persons

    async def persons(request: Request) -> Response:
        try:
            return _answer(
                paging.page_body(
                    store, request, None, "personer", [], _record_bytes, world.clock.now
                )
            )
        except paging.BadRequest as exc:
            return _bad(exc)

    async def changes(request: Request) -> Response:
        try:
            since = paging.since(request, required=True)
            assert since is not None  # noqa: S101 - required
            gone = paging.removed(store, since, "personnummer")
            body = paging.page_body(
                store, request, since, "personer", gone, _record_bytes, world.clock.now
            )
        except paging.BadRequest as exc:
            return _bad(exc)
        return _answer(body)

    async def person(request: Request) -> Response:
        number = request.path_params["personnummer"]
        value = store.get(number)
        if value is not None:
            return _answer(_dump(person_record(value)))
        # Not a readable person: maybe a broken one, served as it is.
        entries, _ = store.page(None, None, len(store) + 1)
        found = next((e for e in entries if e.key == number), None)
        if found is None:
            return JSONResponse({"fejl": f"ingen person med personnummer {number}"}, 404)
        return _answer(_record_bytes(found))

    return Starlette(
        routes=[
            Route("/cpr/personer", persons),
            Route("/cpr/aendringer", changes),
            Route("/cpr/personer/{personnummer}", person),
        ]
    )


# -- broken records ----------------------------------------------------------------------------


def add_malformed_examples(world: World) -> None:
    """Five broken persons: a personnummer that is no CPR number (31 February), a
    municipality code no municipality has, a custody holder without a personnummer, an
    address with a five-digit postcode, and a GP choice dated 31 February."""
    children = sorted(world.persons.values(), key=lambda p: p.child.cpr.value)
    if not children:
        return
    taken = {e.key for e in world.persons.page(None, None, len(world.persons) + 1)[0]}
    model = person_record(children[0])

    bad_number = json.loads(json.dumps(model))
    bad_number["personnummer"] = "3102129901"  # 31 February: no such birth date
    world.persons.put(bad_number["personnummer"], Malformed(json.dumps(bad_number).encode()))

    unknown_place = _with_new_number(model, taken)
    unknown_place["bopael"]["kommunekode"] = "0999"
    world.persons.put(unknown_place["personnummer"], Malformed(_dump(unknown_place)))

    nameless_holder = _with_new_number(model, taken)
    nameless_holder["foraeldremyndighed"] = [
        {
            "foraeldremyndighedsindehaverrolle": "anden",
            "foraeldremyndighedshaver": {"personnummer": None, "navn": "Ukendt Værge"},
            "sammeAdresse": False,
        }
    ]
    world.persons.put(nameless_holder["personnummer"], Malformed(_dump(nameless_holder)))

    bad_postcode = _with_new_number(model, taken)
    bad_postcode["bopael"]["adresse"] = {
        "standardadresse": "Fiktivvej 7",
        "postnummer": "90000",
        "postdistrikt": "Aalborg",
    }
    world.persons.put(bad_postcode["personnummer"], Malformed(_dump(bad_postcode)))

    bad_gp_date = _with_new_number(model, taken)
    bad_gp_date["laegevalg"]["ikraftDato"] = "2024-02-31"  # every generated child has a GP
    world.persons.put(bad_gp_date["personnummer"], Malformed(_dump(bad_gp_date)))


def _dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def _with_new_number(model: dict[str, Any], taken: set[str]) -> dict[str, Any]:
    """A copy of the record under a synthetic CPR number no one in the world has, born on a
    fixed day, without a move and listed with its GP since birth, so that the copy breaks
    only the rule its example breaks."""
    born = date(2014, 3, 9)
    for seventh in (4, 5, 6, 7, 8, 9):
        for last in range(10):
            number = synthetic_cpr(born, seventh, last).value
            if number not in taken:
                taken.add(number)
                copy: dict[str, Any] = json.loads(json.dumps(model))
                copy["personnummer"] = number
                copy["foedselsdato"] = born.isoformat()
                copy["koen"] = "M" if last % 2 else "K"
                copy["bopael"].update(tilflytningsdato=None, fraflytningskommunekode=None)
                if copy["laegevalg"] is not None:
                    copy["laegevalg"].update(ikraftDato=born.isoformat(), forrigeSorKode=None)
                return copy
    raise RuntimeError("no synthetic CPR number left for the broken examples")  # pragma: no cover
