"""A consent service in our documented JSON shape (docs/sources/consent.md), standing in for
Digitalt Samtykke, whose API is not public.

Endpoints:

* `GET /samtykke/v1/skabeloner`: the templates;
* `GET /samtykke/v1/samtykker?omfattetPerson=<cpr>[&skabelon=<id>]`: every record about the
  person (of the template), in any state, each with its history;
* `GET /samtykke/v1/samtykker/{id}`: one record;
* `POST /samtykke/v1/samtykker`: give a consent or an objection; 201 with the record;
* `POST /samtykke/v1/samtykker/{id}/tilbagekald`: withdraw it; the history gains an event.

Times come from the world's clock, so tests can move time on. Refusals are 4xx with
`{"fejl": "<reason>"}`; with `world.consents.out_of_service` every call answers 503.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from paatvaers.domain.consent import CONSENT_TEMPLATES, ConsentKind, ConsentRecord
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.sources.simulation.world import AlreadyWithdrawn, ConsentStore, World

MEDIA_TYPE = "application/json"
BASE = "/samtykke/v1"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

Handler = Callable[[Request], Awaitable[Response]]


class Refused(Exception):
    """A request the service refuses; `status` is the HTTP status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def record_json(record: ConsentRecord, now: datetime) -> dict[str, Any]:
    """A record as our shape writes it; `status` is its state at the service's time `now`."""
    return {
        "id": str(record.id),
        "type": record.kind.value,
        "skabelon": record.template,
        "omfattetPerson": record.subject_cpr.value,
        "afgivetAf": record.giver_cpr.value,
        "afgivet": record.given_at.isoformat(),
        "gyldigTil": record.valid_until.isoformat() if record.valid_until else None,
        "tilbagekaldt": _time(record.withdrawn_at),
        "status": record.state_at(now).value,
        "historik": [
            {"tidspunkt": e.at.isoformat(), "haendelse": e.state.value, "udfoertAf": e.by_cpr.value}
            for e in record.history
        ],
    }


def _template_json(template_id: str) -> dict[str, Any]:
    template = CONSENT_TEMPLATES[template_id]
    return {
        "id": template.id,
        "titel": template.title,
        "beskrivelse": template.description,
        "typer": [kind.value for kind in ConsentKind],
    }


# -- reading requests ---------------------------------------------------------------------------


def _cpr(value: object, field: str) -> Cpr:
    if not isinstance(value, str):
        raise Refused(400, f"{field} mangler")
    try:
        return Cpr.parse(value)
    except InvalidCpr:
        raise Refused(400, f"{field} er ikke et gyldigt personnummer: {value!r}") from None


def _template(value: object) -> str:
    if not isinstance(value, str) or value not in CONSENT_TEMPLATES:
        known = ", ".join(sorted(CONSENT_TEMPLATES))
        raise Refused(400, f"ukendt skabelon {value!r}; kendte skabeloner: {known}")
    return value


def _kind(value: object) -> ConsentKind:
    try:
        return ConsentKind(str(value))
    except ValueError:
        raise Refused(400, f"type skal være samtykke eller frabedelse, ikke {value!r}") from None


def _valid_until(value: object, today: date) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        raise Refused(400, f"gyldigTil er ikke en dato: {value!r}") from None
    if day < today:
        raise Refused(400, f"gyldigTil {day} ligger før i dag ({today})")
    return day


def _record_id(request: Request) -> uuid.UUID:
    text = request.path_params["id"]
    try:
        return uuid.UUID(text)
    except ValueError:
        raise Refused(404, f"intet samtykke med id {text!r}") from None


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise Refused(400, "forespørgslen er ikke JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "forespørgslen er ikke et JSON-objekt")
    return body


# -- answers ----------------------------------------------------------------------------------


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_ENCODER.encode(data), status, headers, MEDIA_TYPE)


def _listing(records: list[ConsentRecord], broken: list[bytes], now: datetime) -> Response:
    """The records, with broken ones spliced in exactly as they were planted."""
    parts = [_ENCODER.encode(record_json(r, now)).encode() for r in records] + broken
    tail = _ENCODER.encode({"tidspunkt": now.isoformat()}).encode()
    return Response(b'{"samtykker":[' + b",".join(parts) + b"]," + tail[1:], 200, None, MEDIA_TYPE)


def _guarded(store: ConsentStore, handler: Handler) -> Handler:
    """Refusals as 4xx JSON; 503 for every call while the service is out of service."""

    async def guarded(request: Request) -> Response:
        if store.out_of_service:
            return JSONResponse({"fejl": "tjenesten er midlertidigt utilgængelig"}, 503)
        try:
            return await handler(request)
        except Refused as exc:
            return JSONResponse({"fejl": exc.reason}, exc.status)

    return guarded


def create_app(world: World) -> Starlette:
    store = world.consents

    async def templates(_request: Request) -> Response:
        return _json({"skabeloner": [_template_json(t) for t in CONSENT_TEMPLATES]})

    async def listing(request: Request) -> Response:
        subject = _cpr(request.query_params.get("omfattetPerson"), "omfattetPerson")
        wanted = request.query_params.get("skabelon")
        template = _template(wanted) if wanted is not None else None
        with world.lock:
            records, broken = store.concerning(subject.value, template)
            return _listing(records, broken, world.clock.now)

    async def one(request: Request) -> Response:
        record_id = _record_id(request)
        with world.lock:
            record = store.get(record_id)
            if record is None:
                raise Refused(404, f"intet samtykke med id {record_id}")
            return _json(record_json(record, world.clock.now))

    async def give(request: Request) -> Response:
        body = await _body(request)
        kind = _kind(body.get("type"))
        template = _template(body.get("skabelon"))
        subject = _cpr(body.get("omfattetPerson"), "omfattetPerson")
        giver = _cpr(body.get("afgivetAf"), "afgivetAf")
        with world.lock:
            valid_until = _valid_until(body.get("gyldigTil"), world.clock.now.date())
            record = store.give(kind, template, subject, giver, valid_until)
            location = f"{BASE}/samtykker/{record.id}"
            return _json(record_json(record, world.clock.now), 201, {"Location": location})

    async def withdraw(request: Request) -> Response:
        record_id = _record_id(request)
        by = _cpr((await _body(request)).get("udfoertAf"), "udfoertAf")
        with world.lock:
            try:
                record = store.withdraw(record_id, by)
            except KeyError:
                raise Refused(404, f"intet samtykke med id {record_id}") from None
            except AlreadyWithdrawn as exc:
                raise Refused(409, str(exc)) from None
            return _json(record_json(record, world.clock.now))

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(BASE + path, _guarded(store, handler), methods=[method])

    return Starlette(
        routes=[
            route("/skabeloner", templates, "GET"),
            route("/samtykker", listing, "GET"),
            route("/samtykker", give, "POST"),
            route("/samtykker/{id}", one, "GET"),
            route("/samtykker/{id}/tilbagekald", withdraw, "POST"),
        ]
    )


def add_malformed_examples(world: World) -> None:
    """None by default. Consent is asked live about one child at a time, and a broken record
    makes every decision about that child fail closed; tests plant one where they need it
    (`world.consents.put_malformed`), and the demo's children are left answerable."""
