"""The `fremsoeg` operation of KOMBIT's SagDokumentIndeksService v6 (SF1470), as both the
adapter and the simulator speak it: namespaces, the relation role and type UUIDs, times, the
request, SOAP faults, a safe XML parser, and the public XSDs.

Everything here follows the WSDL and XSDs in `schemas/` (copied unchanged from KOMBIT's own
sample client) and KOMBIT's "Anvendelse af Sagsobjektet" (anvisninger v1.7). Where neither
says how the index behaves, the choice is ours and `docs/sources/case_index.md` says so.
"""

from __future__ import annotations

import functools
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree

# -- namespaces (elementFormDefault is "qualified" in every schema) --------------------------

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
HEADER: Final = "http://kombit.dk/xml/schemas/RequestHeader/1/"
SDI: Final = "urn:oio:sts:sagdok:sagdokumentindeks:6"
SAG: Final = "urn:oio:sts:sagdok:sag:6"
SI: Final = "urn:oio:sts:sagdok:sagindeks:6"
SD: Final = "urn:oio:sagdok:3.0.0"
GD: Final = "urn:oio:sts:generelledefinitioner:6"
GO: Final = "urn:oio:sts:generelleoperationer:6"

NSMAP: Final = {
    "soap": SOAP_ENV,
    "h": HEADER,
    "sdi": SDI,
    "sag": SAG,
    "si": SI,
    "sd": SD,
    "gd": GD,
    "go": GO,
}
# Declared once on the envelope; lxml re-declares what a serialized snapshot uses.
NS_DECLARATIONS: Final = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NSMAP.items())

ENDPOINT_PATH: Final = "/sagdokumentindeks/6"
SOAP_ACTION: Final = "http://kombit.dk/sts/sagdokumentindeks/fremsoeg"
XML_MEDIA_TYPE: Final = "application/xml"
SOAP_MEDIA_TYPE: Final = "text/xml; charset=utf-8"
# StandardRetur/StatusKode: the STS services answer 20 for success.
STATUS_OK: Final = 20

# The parts of a case `Filter/SagVis/Vis` can ask for; the adapter asks for these.
SAG_PARTS: Final = (
    "egenskaber",
    "fremdrift",
    "sagsklasse",
    "sagsaktoer",
    "sagspart",
    "itsystem",
)
SORT_ELEMENTS: Final = ("StsRegistreringstidspunkt", "Registreringstidspunkt")
DEFAULT_PAGE_SIZE: Final = 500
MAX_PAGE_SIZE: Final = 5000  # the simulator's cap; the real index's is not published


class Rolle:
    """Relation roles: UUIDs of classes in Fælleskommunalt Klassifikationssystem, as KOMBIT's
    sample client (`client.properties`) gives them."""

    EJER: Final = "9e979b84-b846-4472-8622-58007dc63c7e"
    ANSVARLIG: Final = "a1263342-d348-44ba-a566-233f37c4cb67"
    PRIMAER_BEHANDLER: Final = "bf1f93ed-9441-4af4-835b-baeb201f3076"
    PRIMAER_PART: Final = "d839f26a-d4d1-4441-b2d6-3dbbb12a9404"
    PRIMAER_KLASSE: Final = "a86c6581-ec85-412d-a655-31a1f1d5b14f"
    HANDLINGSKLASSE: Final = "05ef7011-11a7-4e4c-a46b-3de6aa457fc3"
    MASTER: Final = "251c24fd-57b0-4afc-9d73-b063d1957eb3"
    AFSENDER: Final = "1b3c6a6d-e977-4491-9bf8-b41ee6999f39"
    # PLACEHOLDERS: no public source gives these two UUIDs. They are uuid5 values of ours; a
    # deployment must replace them with the classes' UUIDs from FK Klassifikation.
    SEKUNDAER_PART: Final = "10f03be8-9612-538c-95e6-f119bf8150d7"
    YDELSESMODTAGER: Final = "f38f2d61-d677-5b8c-a86e-042569431a62"


class Objekttype:
    """Relation types (the kind of object referred to), from the same sample client."""

    ORGANISATION: Final = "bc6972cd-8f2b-4b9d-8d37-62916d6a71aa"
    ORGENHED: Final = "c5fc3b3b-5197-49ee-92e6-ae6ba1957174"
    BRUGER: Final = "85d65133-4b00-460d-992e-3984857b5768"
    PERSON: Final = "c189ba35-de4b-4363-a8b7-67f1456cf56f"
    KLASSE: Final = "267235ea-526d-4a18-8001-f2a0e563eba1"
    IT_SYSTEM: Final = "29fe1da2-897a-46cd-b635-b9be8e0bffd6"


CPR_URN_PREFIX: Final = "urn:oio:cpr-nr:"
CVR_URN_PREFIX: Final = "urn:oio:cvr-nr:"
IT_SYSTEM_URN_PREFIX: Final = "urn:oio:it-system-uuid:"

# Identifiers the simulator needs but no public source gives (FK Klassifikation class UUIDs of
# KLE subjects, Administrationsmodul UUIDs of it-systems): stable uuid5 values of ours.
_PLACEHOLDER_NAMESPACE: Final = uuid.UUID("2926e7d9-d672-558b-8796-d40d340eff01")


def placeholder_uuid(name: str) -> str:
    return str(uuid.uuid5(_PLACEHOLDER_NAMESPACE, name))


# -- times ---------------------------------------------------------------------------------


class InvalidTime(ValueError):
    pass


def format_time(moment: datetime) -> str:
    """xs:dateTime with microseconds and the offset; the index's times are compared exactly."""
    if moment.tzinfo is None:
        raise InvalidTime("times must carry a time zone")
    return moment.isoformat(timespec="microseconds")


def parse_time(text: str | None) -> datetime:
    """An xs:dateTime with a time zone (a time without one names no instant)."""
    if not text:
        raise InvalidTime("time is empty")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidTime(f"not an xs:dateTime: {text!r}") from exc
    if moment.tzinfo is None:
        raise InvalidTime(f"time has no time zone: {text!r}")
    return moment


# -- XML -----------------------------------------------------------------------------------

_parsers = threading.local()


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML: no entity expansion, no DTD loading, no network. lxml parsers must
    not be shared between threads, so each thread gets its own."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        _parsers.parser = parser
    return etree.fromstring(data, parser)


def qname(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def escape(text: str) -> str:
    """Text content for XML (no attributes are written, so quotes need no escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SCHEMA_DIR: Final = Path(__file__).resolve().parent / "schemas"
_XSD_DIR: Final = SCHEMA_DIR / "wsdl" / "xsd"


@functools.cache
def fremsoeg_schema() -> etree.XMLSchema:
    """The v6 XSDs, reached the way the WSDL imports them: `FremsoegSagDokumentIndeksInput`,
    `…Output` and `RequestHeader` validate against it. Loaded once; local files only."""
    operations = (_XSD_DIR / "6.0.STS-0" / "SagDokumentIndeksOperationer.xsd").as_uri()
    header = (_XSD_DIR / "common" / "RequestHeader.xsd").as_uri()
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="{SDI}" schemaLocation="{operations}"/>'
        f'<xs:import namespace="{HEADER}" schemaLocation="{header}"/>'
        "</xs:schema>"
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), parser))


# -- the request -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FremsoegQuery:
    """One `fremsoeg` call: a time window on the index's registration time (StsTidspunkt),
    a page of it, and the parts of each case to return."""

    sts_from: datetime | None = None  # SoegStsFraTidspunkt: from and including
    sts_to: datetime | None = None  # SoegStsTilTidspunkt: up to, not including
    first: int = 0  # FoersteResultatReference: 0-based position in the ordered result
    max_results: int = DEFAULT_PAGE_SIZE  # MaksimalAntalKvantitet
    parts: tuple[str, ...] = SAG_PARTS


def _window_bound(name: str, moment: datetime | None) -> str:
    if moment is None:
        return ""
    stamp = f"<sd:TidsstempelDatoTid>{format_time(moment)}</sd:TidsstempelDatoTid>"
    return f"<go:{name}>{stamp}</go:{name}>"


def build_request(query: FremsoegQuery, transaction_id: uuid.UUID) -> bytes:
    """The SOAP 1.1 envelope of a `fremsoeg` call, valid against the v6 XSDs."""
    vis = "".join(f"<sdi:SagVis><sdi:Vis>{part}</sdi:Vis></sdi:SagVis>" for part in query.parts)
    return (
        f"<soap:Envelope {NS_DECLARATIONS}>"
        "<soap:Header><h:RequestHeader>"
        f"<h:TransactionUUID>{transaction_id}</h:TransactionUUID>"
        "</h:RequestHeader></soap:Header>"
        "<soap:Body><sdi:FremsoegSagDokumentIndeksInput>"
        "<sdi:SoegUdtryk><sdi:SoegSag>"
        f"<sd:FoersteResultatReference>{query.first}</sd:FoersteResultatReference>"
        f"<sd:MaksimalAntalKvantitet>{query.max_results}</sd:MaksimalAntalKvantitet>"
        f"{_window_bound('SoegStsFraTidspunkt', query.sts_from)}"
        f"{_window_bound('SoegStsTilTidspunkt', query.sts_to)}"
        "<sag:AttributListe/><sag:TilstandListe/><sag:RelationListe/>"
        "</sdi:SoegSag></sdi:SoegUdtryk>"
        f"<sdi:Filter>{vis}</sdi:Filter>"
        "<sdi:Sortering><sdi:SagSortering>"
        "<sdi:Element>StsRegistreringstidspunkt</sdi:Element>"
        "<sdi:Retning>Stigende</sdi:Retning><sdi:Prioritet>1</sdi:Prioritet>"
        "</sdi:SagSortering></sdi:Sortering>"
        "</sdi:FremsoegSagDokumentIndeksInput></soap:Body></soap:Envelope>"
    ).encode()


def soap_fault(message: str, code: str = "soap:Client") -> bytes:
    """A SOAP 1.1 fault; `soap:Client` when the request was wrong, `soap:Server` otherwise."""
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def fault_text(body: bytes) -> str | None:
    """The faultstring of a SOAP fault, or None when the body is not one."""
    try:
        root = parse_xml(body)
    except etree.XMLSyntaxError:
        return None
    text = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultstring")
    return str(text) if text is not None else None
