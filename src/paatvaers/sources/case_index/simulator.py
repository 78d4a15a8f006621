"""A simulator of the SF1470 SagDokumentIndeksService v6 `fremsoeg` operation over SOAP 1.1,
answering from `world.cases`.

It supports what the adapter needs and says so with a SOAP fault for anything else: one
`SoegSag` with a window on the index's registration time (`SoegStsFraTidspunkt` from and
including, `SoegStsTilTidspunkt` up to), paging (`FoersteResultatReference`,
`MaksimalAntalKvantitet`), ascending order by registration time, and `Filter/SagVis`.
Requests are validated against the public XSDs, as a real SOAP stack would.

Removed cases are answered as registrations with `LivscyklusKode` `Slettet` (see
`docs/sources/case_index.md` for why, and why the real index most likely does not);
`create_app(world, report_deletions=False)` answers as the real index is documented to.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from lxml import etree
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paatvaers.domain.cases import Case
from paatvaers.domain.geography import is_municipality_code, municipality
from paatvaers.sources.case_index.protocol import (
    DEFAULT_PAGE_SIZE,
    ENDPOINT_PATH,
    GD,
    GO,
    HEADER,
    MAX_PAGE_SIZE,
    NS_DECLARATIONS,
    SAG,
    SAG_PARTS,
    SD,
    SDI,
    SI,
    SOAP_ACTION,
    SOAP_ENV,
    SOAP_MEDIA_TYPE,
    SORT_ELEMENTS,
    STATUS_OK,
    InvalidTime,
    Rolle,
    fremsoeg_schema,
    parse_time,
    parse_xml,
    qname,
    soap_fault,
)
from paatvaers.sources.case_index.render import CaseNames, snapshot, tombstone
from paatvaers.sources.simulation.world import Malformed, World

_EARLIEST: Final = datetime.min.replace(tzinfo=UTC)
_TICK: Final = timedelta(milliseconds=1)  # the world clock's step (see Clock)
_CRITERIA: Final = ("AttributListe", "TilstandListe", "RelationListe")


class BadRequest(Exception):
    """The request breaks the schema or asks for what the simulator does not support."""


@dataclass(frozen=True, slots=True)
class _Query:
    transaction_id: str
    sts_from: datetime | None
    sts_to: datetime | None
    first: int
    max_results: int
    parts: frozenset[str]


# -- reading the request -------------------------------------------------------------------


def _child(parent: etree._Element, namespace: str, local: str) -> etree._Element | None:
    return parent.find(qname(namespace, local))


def _envelope_parts(body: bytes) -> tuple[etree._Element, etree._Element]:
    try:
        root = parse_xml(body)
    except etree.XMLSyntaxError as exc:
        raise BadRequest(f"the request is not well-formed XML: {exc}") from None
    if root.tag != qname(SOAP_ENV, "Envelope"):
        raise BadRequest("the request is not a SOAP 1.1 envelope")
    header = root.find(f"{{{SOAP_ENV}}}Header/{{{HEADER}}}RequestHeader")
    soap_body = _child(root, SOAP_ENV, "Body")
    if header is None:
        raise BadRequest("the SOAP header has no RequestHeader")
    if soap_body is None or len(soap_body) != 1:
        raise BadRequest("the SOAP body must hold exactly one element")
    return header, soap_body[0]


def _validate(element: etree._Element) -> None:
    schema = fremsoeg_schema()
    if not schema.validate(etree.ElementTree(copy.deepcopy(element))):
        error = schema.error_log.last_error
        raise BadRequest(f"the request breaks the v6 schema: {error.message}")


def _bound(soeg: etree._Element, local: str) -> datetime | None:
    """A window bound; GraenseIndikator (an open end) is the same as no bound."""
    bound = _child(soeg, GO, local)
    if bound is None:
        return None
    stamp = bound.findtext(qname(SD, "TidsstempelDatoTid"))
    if stamp is None:
        return None
    try:
        return parse_time(stamp)
    except InvalidTime as exc:
        raise BadRequest(f"{local}: {exc}") from None


def _paging(soeg: etree._Element) -> tuple[int, int]:
    first = int(soeg.findtext(qname(SD, "FoersteResultatReference"), default="0"))
    wanted = int(soeg.findtext(qname(SD, "MaksimalAntalKvantitet"), default=DEFAULT_PAGE_SIZE))
    if first < 0 or wanted < 1:
        raise BadRequest("FoersteResultatReference must be ≥ 0 and MaksimalAntalKvantitet ≥ 1")
    return first, min(wanted, MAX_PAGE_SIZE)


def _search(request: etree._Element) -> etree._Element:
    """The one SoegSag the simulator supports, with no criteria but the time window."""
    for lookup in ("SagUuid", "DokumentUuid"):
        if _child(request, SDI, lookup) is not None:
            raise BadRequest(f"the simulator does not support look-up by {lookup}")
    expression = _child(request, SDI, "SoegUdtryk")
    terms = [] if expression is None else list(expression)
    terms = [term for term in terms if term.tag != qname(SDI, "operation")]
    if len(terms) != 1 or terms[0].tag != qname(SDI, "SoegSag"):
        raise BadRequest("the simulator supports a SoegUdtryk of exactly one SoegSag")
    soeg = terms[0]
    for unsupported in ("SoegRegistrering", "SoegVirkning"):
        if _child(soeg, SD, unsupported) is not None:
            raise BadRequest(f"the simulator does not support {unsupported}")
    if any(len(soeg.find(qname(SAG, name))) for name in _CRITERIA):
        raise BadRequest("the simulator supports no search criteria besides the time window")
    return soeg


def _parts(request: etree._Element) -> frozenset[str]:
    """Filter/SagVis; without a Filter every part is returned."""
    filter_ = _child(request, SDI, "Filter")
    if filter_ is None:
        return frozenset(SAG_PARTS)
    return frozenset(str(v.text) for v in filter_.findall(f"{{{SDI}}}SagVis/{{{SDI}}}Vis"))


def _check_sorting(request: etree._Element) -> None:
    sorting = _child(request, SDI, "Sortering")
    for order in () if sorting is None else sorting:
        element = order.findtext(qname(SDI, "Element"))
        direction = order.findtext(qname(SDI, "Retning"))
        if order.tag != qname(SDI, "SagSortering") or element not in SORT_ELEMENTS:
            raise BadRequest("the simulator sorts cases by registration time only")
        if direction != "Stigende":
            raise BadRequest("the simulator sorts ascending (Stigende) only")


def _read_request(body: bytes, soap_action: str | None) -> _Query:
    if soap_action is None or soap_action.strip('"') != SOAP_ACTION:
        raise BadRequest(f"the simulator serves only SOAPAction {SOAP_ACTION}")
    header, request = _envelope_parts(body)
    if request.tag != qname(SDI, "FremsoegSagDokumentIndeksInput"):
        raise BadRequest("the SOAP body must hold FremsoegSagDokumentIndeksInput")
    _validate(header)
    _validate(request)
    soeg = _search(request)
    _check_sorting(request)
    first, max_results = _paging(soeg)
    return _Query(
        transaction_id=str(header.findtext(qname(HEADER, "TransactionUUID"))),
        sts_from=_bound(soeg, "SoegStsFraTidspunkt"),
        sts_to=_bound(soeg, "SoegStsTilTidspunkt"),
        first=first,
        max_results=max_results,
        parts=_parts(request),
    )


# -- answering -------------------------------------------------------------------------------

# One row of the ordered answer: registration time, case UUID, and the case (None: removed).
_Row = tuple[datetime, str, Case | Malformed | None]


def _select(world: World, query: _Query, with_removals: bool) -> list[_Row]:
    """The page of the answer: cases (and removals) registered in the window, ordered by
    registration time then UUID, from position `first`."""
    # SourceStore filters `changed_at > since`; one microsecond earlier includes the bound.
    since = None if query.sts_from is None else query.sts_from - timedelta(microseconds=1)
    wanted = query.first + query.max_results
    entries, _ = world.cases.page(since, None, wanted)
    rows: list[_Row] = [(e.changed_at, e.key, e.value) for e in entries]
    if with_removals:
        removed = world.cases.deleted_since(since or _EARLIEST)
        rows.extend((moment, key, None) for key, moment in removed)
        rows.sort(key=lambda row: (row[0], row[1]))
    if query.sts_to is not None:
        rows = [row for row in rows if row[0] < query.sts_to]
    return rows[query.first : wanted]


class _Handlers:
    """FK Organisation Bruger UUIDs of caseworkers, by unit and full name (a case names its
    Primær behandler by name only)."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._ids: dict[tuple[uuid.UUID, str], str] = {}

    def rebuild(self) -> None:
        self._ids = {(s.unit_id, s.full_name): str(s.id) for s in self._world.users.values()}

    def get(self, unit_id: uuid.UUID, name: str) -> str | None:
        return self._ids.get((unit_id, name))


class _Names:
    """For one request: the names and ids a sending system adds from FK Organisation and
    CPR. A caseworker missing from the index rebuilds it once (the world may have changed)."""

    def __init__(self, world: World, handlers: _Handlers) -> None:
        self._world = world
        self._handlers = handlers
        self._rebuilt = False

    def of(self, case: Case) -> CaseNames:
        unit = self._world.org_units.get(str(case.responsible_unit_id))
        code = unit.municipality_code if unit is not None else None
        owner = municipality(code) if code and is_municipality_code(code) else None
        return CaseNames(
            owner_name=f"{owner.name} Kommune" if owner else f"CVR {case.owner_cvr.value}",
            owner_key=owner.code if owner else case.owner_cvr.value,
            unit_name=unit.name if unit is not None else "Ansvarlig enhed",
            handler_id=self._handler(case),
            party_names=self._party_names(case),
        )

    def _handler(self, case: Case) -> str | None:
        if case.primary_handler is None:
            return None
        found = self._handlers.get(case.responsible_unit_id, case.primary_handler)
        if found is None and not self._rebuilt:
            self._rebuilt = True
            self._handlers.rebuild()
            found = self._handlers.get(case.responsible_unit_id, case.primary_handler)
        return found

    def _party_names(self, case: Case) -> dict[str, str]:
        """The child's and the custody holders' names, as CPR gives them."""
        primary = case.primary_party
        person = self._world.persons.get(primary.cpr.value) if primary is not None else None
        if person is None:
            return {}
        child = person.child
        return {child.cpr.value: child.name} | {h.cpr.value: h.name for h in child.custody}


def _snapshots(rows: list[_Row], names: _Names, parts: frozenset[str]) -> Iterator[bytes]:
    for moment, key, value in rows:
        if value is None:
            yield tombstone(key, moment).encode()
        elif isinstance(value, Malformed):
            yield value.payload  # served verbatim, as the source system delivered it
        else:
            yield snapshot(value, moment, names.of(value), parts).encode()


def _render_response(query: _Query, rows: list[_Row], names: _Names) -> bytes:
    head = (
        f"<soap:Envelope {NS_DECLARATIONS}><soap:Header><h:RequestHeader>"
        f"<h:TransactionUUID>{query.transaction_id}</h:TransactionUUID>"
        "</h:RequestHeader></soap:Header><soap:Body><sdi:FremsoegSagDokumentIndeksOutput>"
        f"<sd:StandardRetur><sd:StatusKode>{STATUS_OK}</sd:StatusKode>"
        "<sd:FejlbeskedTekst>OK</sd:FejlbeskedTekst></sd:StandardRetur>"
        f"<sdi:Antal><sdi:Element>sager</sdi:Element><sdi:Antal>{len(rows)}</sdi:Antal>"
        "<sdi:Paginering>"
        f"<sd:FoersteResultatReference>{query.first}</sd:FoersteResultatReference>"
        f"<sd:MaksimalAntalKvantitet>{query.max_results}</sd:MaksimalAntalKvantitet>"
        "</sdi:Paginering></sdi:Antal>"
    )
    tail = "</sdi:FremsoegSagDokumentIndeksOutput></soap:Body></soap:Envelope>"
    return b"".join([head.encode(), *_snapshots(rows, names, query.parts), tail.encode()])


def create_app(world: World, *, report_deletions: bool = True) -> Starlette:
    """The index's SOAP endpoint at `ENDPOINT_PATH`. With `report_deletions=False` removed
    cases simply disappear, as KOMBIT documents the real index."""
    handlers = _Handlers(world)

    def answer(query: _Query) -> bytes:
        rows = _select(world, query, report_deletions)
        return _render_response(query, rows, _Names(world, handlers))

    async def fremsoeg(request: Request) -> Response:
        try:
            query = _read_request(await request.body(), request.headers.get("soapaction"))
        except BadRequest as exc:
            return Response(soap_fault(str(exc)), status_code=500, media_type=SOAP_MEDIA_TYPE)
        body = await run_in_threadpool(answer, query)
        return Response(body, media_type=SOAP_MEDIA_TYPE)

    return Starlette(routes=[Route(ENDPOINT_PATH, fremsoeg, methods=["POST"])])


# -- broken records ------------------------------------------------------------------------

_MALFORMED_NAMESPACE: Final = uuid.UUID("7d8c1b52-3f0e-4a36-9f55-3e1c2b7a9d40")
_BAD_CVR: Final = "12345678"  # eight digits whose weighted sum is 114: not divisible by 11


def _standalone(case: Case, registered: datetime, world: World) -> etree._Element:
    names = _Names(world, _Handlers(world)).of(case)
    text = snapshot(case, registered, names, declare_namespaces=True)
    return parse_xml(text.encode())


def _relation_with_role(root: etree._Element, rolle: str) -> etree._Element:
    path = f".//{{{GD}}}Rolle/{{{SD}}}UUIDIdentifikator"
    return next(e for e in root.iterfind(path) if e.text == rolle).getparent().getparent()


def _break_owner_cvr(root: etree._Element) -> None:
    owner = _relation_with_role(root, Rolle.EJER)
    owner.find(f"{{{GD}}}ReferenceID/{{{SD}}}URNIdentifikator").text = f"urn:oio:cvr-nr:{_BAD_CVR}"
    owner.find(f".//{{{SI}}}CVR-Nummer").text = _BAD_CVR


def _drop_responsible(root: etree._Element) -> None:
    responsible = _relation_with_role(root, Rolle.ANSVARLIG)
    responsible.getparent().remove(responsible)


def _break_kle(root: etree._Element) -> None:
    subject = _relation_with_role(root, Rolle.PRIMAER_KLASSE)
    subject.find(f".//{{{SI}}}BrugervendtNoegle").text = "27.24.3"  # one digit short


_BREAKAGES: Final[dict[str, Callable[[etree._Element], None]]] = {
    "owner-cvr-fails-modulus-11": _break_owner_cvr,
    "no-responsible-unit": _drop_responsible,
    "kle-number-malformed": _break_kle,
}


def add_malformed_examples(world: World) -> None:
    """Three snapshots a sending system got wrong, each breaking one rule the index does not
    enforce (so the response still validates against the XSDs): an Ejer CVR failing the
    modulus-11 check, no Ansvarlig, and a KLE number that is not xx.xx.xx."""
    template = next(iter(world.cases.values()), None)
    if template is None:
        return
    for name, breakage in _BREAKAGES.items():
        case_id = uuid.uuid5(_MALFORMED_NAMESPACE, name)
        case = replace(template, id=case_id, case_number=f"FEJL-{name[:40]}")
        # Hold the lock so the clock's next tick is the registration time written inside.
        with world.lock:
            registered = world.clock.now + _TICK
            root = _standalone(case, registered, world)
            breakage(root)
            world.cases.put(
                str(case_id),
                Malformed(etree.tostring(root, encoding="utf-8", xml_declaration=False)),
            )
