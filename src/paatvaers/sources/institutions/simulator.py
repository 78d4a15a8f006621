"""STIL's institution register and enrollments in our documented JSON shape
(docs/sources/institutions.md).

Endpoints, both in the paging convention of `sources/cpr/paging.py`:

* `GET /stil/institutioner?antal=&efter=[&siden=]`: the institution register, with the
  register's extract variable names (`INST_NR`, `INST_NAVN`, `INST_TYPE_NR`, `KOMMUNE_NR`,
  `TLF_NR`, …). Without `siden` it is the full extract (as WS-17 "fuld myndighed"); with it,
  the institutions changed after that time and, on the first page, those removed.
* `GET /stil/elever?antal=&efter=[&siden=]`: each child's enrollment, shaped as wsiinst's
  `InstBruger.elev` (rolle, hovedgruppenavn, elevtrin) with the child's CPR number and the
  institution's own fields (`Institution`: instnr, instnavn, type, kommunenr, telefonnr…),
  so that one record says everything about one enrollment.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paatvaers.domain.enrollment import Enrollment, InstitutionType
from paatvaers.domain.organisations import OrgUnit, UnitKind
from paatvaers.sources import json_paging as paging
from paatvaers.sources.institutions import codes
from paatvaers.sources.simulation.world import Entry, Malformed, SourceStore, World

MEDIA_TYPE = "application/json"
# The register has no school type per unit in our world (the population draws it per
# enrollment); the institution register serves every school as a folkeskole.
SCHOOL_CODE = InstitutionType.FOLKESKOLE.value
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _stil_municipality(code: str | None) -> str | None:
    """STIL writes municipality numbers without the leading zero ("101", "851")."""
    return str(int(code)) if code else None


def institution_record(unit: OrgUnit) -> dict[str, Any]:
    code = codes.DAYCARE_CODE if unit.kind is UnitKind.DAYCARE else SCHOOL_CODE
    return {
        "INST_NR": unit.institution_number.value if unit.institution_number else None,
        "INST_NAVN": unit.name,
        "INST_TYPE_NR": code,
        "INST_TYPE_NAVN": codes.TYPE_NAMES[code],
        "KOMMUNE_NR": _stil_municipality(unit.municipality_code),
        "TLF_NR": unit.phone,
        "E_MAIL": unit.email,
    }


def enrollment_record(enrollment: Enrollment, institution: OrgUnit | None) -> dict[str, Any]:
    code = codes.CODE_BY_TYPE[enrollment.institution_type]
    daycare = enrollment.is_daycare
    return {
        "cpr": enrollment.child_cpr.value,
        "institution": {
            "instnr": enrollment.institution_number.value,
            "instnavn": enrollment.institution_name,
            "type": code,
            "typenavn": codes.TYPE_NAMES[code],
            "kommunenr": _stil_municipality(institution.municipality_code if institution else None),
            "telefonnr": institution.phone if institution else None,
            "mailadresse": institution.email if institution else None,
        },
        "elev": {
            "rolle": codes.ROLE_CHILD if daycare else codes.ROLE_PUPIL,
            "hovedgruppenavn": enrollment.main_group,
            "elevtrin": enrollment.grade,
        },
        "fradato": enrollment.since.isoformat(),
    }


def _bytes(value: dict[str, Any]) -> bytes:
    return _ENCODER.encode(value).encode()


def create_app(world: World) -> Starlette:
    def institution_bytes(entry: Entry[OrgUnit]) -> bytes:
        if isinstance(entry.value, Malformed):
            return entry.value.payload
        return _bytes(institution_record(entry.value))

    def enrollment_bytes(entry: Entry[Enrollment]) -> bytes:
        if isinstance(entry.value, Malformed):
            return entry.value.payload
        institution = world.institutions.get(entry.value.institution_number.value)
        return _bytes(enrollment_record(entry.value, institution))

    def listing(
        store: SourceStore[Any],
        list_name: str,
        key_name: str,
        render: Callable[[Entry[Any]], bytes],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                since = paging.since(request, required=False)
                gone = paging.removed(store, since, key_name) if since is not None else []
                body = paging.page_body(
                    store, request, since, list_name, gone, render, world.clock.now
                )
            except paging.BadRequest as exc:
                return JSONResponse({"fejl": str(exc)}, status_code=400)
            return Response(body, media_type=MEDIA_TYPE)

        return endpoint

    return Starlette(
        routes=[
            Route(
                "/stil/institutioner",
                listing(world.institutions, "institutioner", "INST_NR", institution_bytes),
            ),
            Route("/stil/elever", listing(world.enrollments, "elever", "cpr", enrollment_bytes)),
        ]
    )


# -- broken records ----------------------------------------------------------------------------


def add_malformed_examples(world: World) -> None:
    """Three broken records: an institution number of five digits, an institution type code
    the register does not have, and an enrollment whose CPR number is no CPR number."""
    institutions = sorted(world.institutions.values(), key=lambda u: str(u.institution_number))
    enrollments = sorted(world.enrollments.values(), key=lambda e: e.child_cpr.value)
    if not institutions or not enrollments:
        return
    short = institution_record(institutions[0])
    short["INST_NR"] = short["INST_NR"][1:]
    world.institutions.put(short["INST_NR"], Malformed(_bytes(short)))

    taken = {e.key for e in world.institutions.page(None, None, len(world.institutions) + 1)[0]}
    odd_type = institution_record(institutions[-1])
    odd_type["INST_NR"] = next(f"{n:06d}" for n in range(999999, 0, -1) if f"{n:06d}" not in taken)
    odd_type["INST_TYPE_NR"], odd_type["INST_TYPE_NAVN"] = "9999", "Ukendt institutionstype"
    world.institutions.put(odd_type["INST_NR"], Malformed(_bytes(odd_type)))

    model = enrollments[0]
    bad_cpr = enrollment_record(model, world.institutions.get(model.institution_number.value))
    bad_cpr["cpr"] = "3102129901"  # 31 February: no such birth date
    world.enrollments.put(bad_cpr["cpr"], Malformed(_bytes(bad_cpr)))
