"""Strict reading of one `SagFiltreretOejebliksbillede` into a domain `Case`.

The structure is checked by hand instead of against the XSDs: a full load reads over a
million snapshots, and the rules that matter (exactly one Ejer with a valid CVR, one Ansvarlig
OrgEnhed, a KLE number, the enumerations, the parties' CPR numbers) are not in the XSDs
anyway. Every rule is checked before a `Case` is returned; a broken rule raises
`RecordRejected` with one readable line. Elements are read by walking each one's children
once, which is several times faster than lxml path searches.

Of attribute groups, states and relations only the current ones count: those whose Virkning
has no end (`TilTidspunkt` absent or `GraenseIndikator`). Ended ones are history the sending
system delivered (usage pattern AM-01 in KOMBIT's anvisninger).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from lxml import etree

from paatvaers.domain.cases import (
    Case,
    CaseParty,
    CaseStatus,
    InvalidKle,
    KleNumber,
    PartyRole,
    Sensitivity,
)
from paatvaers.domain.cpr import Cpr, InvalidCpr
from paatvaers.domain.identifiers import Cvr, InvalidIdentifier
from paatvaers.sources.base import RecordRejected
from paatvaers.sources.case_index.protocol import (
    CPR_URN_PREFIX,
    CVR_URN_PREFIX,
    GD,
    SAG,
    SD,
    SDI,
    SI,
    InvalidTime,
    Objekttype,
    Rolle,
    parse_time,
    parse_xml,
    qname,
)

_SNAPSHOT: Final = qname(SDI, "SagFiltreretOejebliksbillede")
_OBJECT_TYPE: Final = qname(SAG, "ObjektType")
_REGISTRATION: Final = qname(SAG, "Registrering")
_VIRKNING: Final = frozenset({qname(SAG, "Virkning"), qname(GD, "Virkning")})
_FROM: Final = qname(SD, "FraTidspunkt")
_TO: Final = qname(SD, "TilTidspunkt")
_STAMP: Final = qname(SD, "TidsstempelDatoTid")
_UUID: Final = qname(SD, "UUIDIdentifikator")
_URN: Final = qname(SD, "URNIdentifikator")
_EXTENSIONS: Final = qname(GD, "LokalUdvidelseListe")
_ROLLE: Final = qname(GD, "Rolle")
_TYPE: Final = qname(GD, "Type")
_REFERENCE: Final = qname(GD, "ReferenceID")
_SYSTEM_NAME: Final = qname(SI, "SystemNavn")
_ACTOR: Final = qname(SAG, "Sagsaktoer")
_CLASS: Final = qname(SAG, "Sagsklasse")
_PART: Final = qname(SAG, "Sagspart")
_IT_SYSTEM: Final = qname(SI, "SagsitsystemRelation")

_LIVE_LIFECYCLES: Final = frozenset({"Importeret", "Opstaaet"})
_STATUSES: Final = {s.value: s for s in CaseStatus}
_SENSITIVITIES: Final = {s.value: s for s in Sensitivity}
_PARTY_ROLES: Final = {
    Rolle.PRIMAER_PART: PartyRole.PRIMARY,
    Rolle.SEKUNDAER_PART: PartyRole.SECONDARY,
    Rolle.YDELSESMODTAGER: PartyRole.BENEFICIARY,
}
_CPR_DIGITS: Final = re.compile(r"[0-9]{10}")
_MAX_NUMBER, _MAX_TEXT = 50, 255


def parse_snapshot(payload: bytes, key: str) -> Case:
    """The case in one snapshot; `key` is the UUID the page named it by."""
    root = _root(payload)
    case_id = _case_id(root, key)
    registration = _fields(_registration(root))
    attributes = _required(registration, SAG, "AttributListe")
    number, title, hidden_title = _properties(attributes)
    sensitivity, created = _index_properties(attributes)
    status, first_state = _progress(_required(registration, SAG, "TilstandListe"))
    relations = _Relations.read(_required(registration, SAG, "RelationListe"))
    opened = created or first_state
    if opened is None:
        raise RecordRejected("neither OprettetTidspunkt nor a Fremdrift start gives the open date")
    try:
        return Case(
            id=case_id,
            case_number=number,
            title=title,
            kle=relations.subject(),
            status=status,
            sensitivity=sensitivity,
            owner_cvr=relations.owner(),
            responsible_unit_id=relations.responsible(),
            source_system=relations.master_system(),
            opened_at=opened,
            non_public_title=hidden_title,
            primary_handler=relations.handler(),
            parties=relations.parties(),
            registered_at=_registered(registration),
        )
    except ValueError as exc:  # the domain's own rules, should a check here have missed one
        raise RecordRejected(f"the case breaks a domain rule: {exc}") from exc


# -- structure -------------------------------------------------------------------------------


def _root(payload: bytes) -> etree._Element:
    try:
        root = parse_xml(payload)
    except etree.XMLSyntaxError as exc:
        raise RecordRejected(f"the snapshot is not well-formed XML: {exc}") from None
    if root.tag != _SNAPSHOT:
        raise RecordRejected(f"expected a SagFiltreretOejebliksbillede, got {root.tag}")
    return root


def _case_id(root: etree._Element, key: str) -> uuid.UUID:
    object_type = root.find(_OBJECT_TYPE)
    text = None if object_type is None else _text(object_type.find(_UUID))
    case_id = _parse_uuid(text, "ObjektType/UUIDIdentifikator")
    if str(case_id) != key.strip().lower():
        raise RecordRejected(f"the snapshot is case {case_id}, but the page named it {key}")
    return case_id


def _registration(root: etree._Element) -> etree._Element:
    """The latest registration (the last one, as the index lists them oldest first)."""
    registrations = root.findall(_REGISTRATION)
    if not registrations:
        raise RecordRejected("the snapshot has no Registrering")
    latest = registrations[-1]
    lifecycle = _text(latest.find(qname(SD, "LivscyklusKode")))
    if lifecycle is not None and lifecycle not in _LIVE_LIFECYCLES:
        raise RecordRejected(f"the registration's LivscyklusKode is {lifecycle}, not Importeret")
    return latest


def _registered(registration: dict[str, etree._Element]) -> datetime | None:
    """The index's registration time (StsTidspunkt) of the latest registration."""
    text = _child_text(registration, GD, "StsTidspunkt")
    return None if text is None else _time(text, "Registrering/StsTidspunkt")


def _fields(element: etree._Element) -> dict[str, etree._Element]:
    """Children by tag, for elements whose children occur once each."""
    return {child.tag: child for child in element}


def _required(fields: dict[str, etree._Element], namespace: str, local: str) -> etree._Element:
    element = fields.get(qname(namespace, local))
    if element is None:
        raise RecordRejected(f"{local} is missing")
    return element


def _text(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return str(element.text).strip()


def _child_text(fields: dict[str, etree._Element], namespace: str, local: str) -> str | None:
    return _text(fields.get(qname(namespace, local)))


def _parse_uuid(text: str | None, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise RecordRejected(f"{what} is not a UUID: {text!r}") from None


def _virkning(element: etree._Element) -> etree._Element | None:
    return next((child for child in element if child.tag in _VIRKNING), None)


def _is_current(element: etree._Element) -> bool:
    """No Virkning, or one whose TilTidspunkt is absent or GraenseIndikator (+∞)."""
    virkning = _virkning(element)
    return virkning is None or not _has_ended(virkning)


def _start(element: etree._Element) -> str | None:
    virkning = _virkning(element)
    start = None if virkning is None else virkning.find(_FROM)
    return None if start is None else _text(start.find(_STAMP))


def _exactly_one(elements: list[etree._Element], what: str) -> etree._Element:
    if len(elements) != 1:
        raise RecordRejected(f"expected exactly one current {what}, found {len(elements)}")
    return elements[0]


def _sized(text: str | None, what: str, limit: int) -> str:
    if not text:
        raise RecordRejected(f"{what} is missing or empty")
    if len(text) > limit:
        raise RecordRejected(f"{what} has {len(text)} characters; at most {limit} are allowed")
    return text


def _time(text: str, what: str) -> datetime:
    try:
        return parse_time(text)
    except InvalidTime as exc:
        raise RecordRejected(f"{what}: {exc}") from None


# -- attributes and state ----------------------------------------------------------------------


def _properties(attributes: etree._Element) -> tuple[str, str, str | None]:
    """Sagsnummer (= BrugervendtNoegle), Titel, and TitelAlternativTekst when exempt."""
    groups = attributes.findall(qname(SAG, "Egenskaber"))
    properties = _fields(_exactly_one([g for g in groups if _is_current(g)], "Egenskaber"))
    number = _child_text(properties, SAG, "Sagsnummer")
    key = _child_text(properties, SAG, "BrugervendtNoegle")
    if number and key and number != key:
        raise RecordRejected(f"Sagsnummer {number!r} differs from BrugervendtNoegle {key!r}")
    number = _sized(number or key, "Sagsnummer", _MAX_NUMBER)
    title = _sized(_child_text(properties, SAG, "Titel"), "Titel", _MAX_TEXT)
    exemption = properties.get(qname(SAG, "OffentlighedUndtaget"))
    if exemption is None:
        return number, title, None
    hidden = _text(exemption.find(qname(SD, "TitelAlternativTekst")))
    return number, title, _sized(hidden, "OffentlighedUndtaget/TitelAlternativTekst", _MAX_TEXT)


def _index_properties(attributes: etree._Element) -> tuple[Sensitivity, datetime | None]:
    """SagIndeksEgenskaber: Foelsomhed (required) and OprettetTidspunkt."""
    extensions = attributes.find(_EXTENSIONS)
    groups = [] if extensions is None else extensions.findall(qname(SI, "SagIndeksEgenskaber"))
    properties = _fields(_exactly_one([g for g in groups if _is_current(g)], "SagIndeksEgenskaber"))
    level = _child_text(properties, SI, "Foelsomhed")
    sensitivity = _SENSITIVITIES.get(level or "")
    if sensitivity is None:
        raise RecordRejected(f"Foelsomhed {level!r} is not one of {', '.join(_SENSITIVITIES)}")
    created = _child_text(properties, SI, "OprettetTidspunkt")
    return sensitivity, None if created is None else _time(created, "OprettetTidspunkt")


def _progress(states: etree._Element) -> tuple[CaseStatus, datetime | None]:
    """The current FremdriftStatusKode, and when the first Fremdrift began."""
    all_progress = states.findall(qname(SAG, "Fremdrift"))
    current = _exactly_one([p for p in all_progress if _is_current(p)], "Fremdrift")
    code = _text(current.find(qname(SAG, "FremdriftStatusKode")))
    status = _STATUSES.get(code or "")
    if status is None:
        raise RecordRejected(f"FremdriftStatusKode {code!r} is not one of {', '.join(_STATUSES)}")
    starts = [
        _time(text, "Fremdrift/Virkning/FraTidspunkt")
        for element in all_progress
        if (text := _start(element)) is not None
    ]
    return status, min(starts, default=None)


# -- relations -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Relation:
    """One current relation, read in a single walk over its children."""

    role: str = ""
    kind: str = ""
    reference_uuid: str | None = None
    reference_urn: str | None = None
    extension: dict[str, etree._Element] = field(default_factory=dict)  # its fields
    system_name: str | None = None

    @classmethod
    def read(cls, element: etree._Element) -> _Relation | None:
        """The relation, or None when its Virkning has ended. Each child is looked at once,
        by position rather than by path search: this runs ten times per case."""
        relation = cls()
        for child in element:
            tag = child.tag
            if tag in _VIRKNING:
                if _has_ended(child):
                    return None
            elif tag == _ROLLE:
                relation.role = _first_text(child).lower()
            elif tag == _TYPE:
                relation.kind = _first_text(child).lower()
            elif tag == _REFERENCE and len(child):
                if child[0].tag == _UUID:
                    relation.reference_uuid = _first_text(child)
                else:
                    relation.reference_urn = _first_text(child)
            elif tag == _EXTENSIONS and len(child):
                relation.extension = _fields(child[0])
            elif tag == _SYSTEM_NAME:
                relation.system_name = _text(child)
        return relation

    def extension_text(self, local: str) -> str | None:
        return _child_text(self.extension, SI, local)


@dataclass(slots=True)
class _Relations:
    """The current relations of a registration, by kind and role."""

    actors: dict[str, list[_Relation]] = field(default_factory=dict)
    classes: dict[str, list[_Relation]] = field(default_factory=dict)
    parts: list[_Relation] = field(default_factory=list)
    systems: dict[str, list[_Relation]] = field(default_factory=dict)

    @classmethod
    def read(cls, relation_list: etree._Element) -> _Relations:
        relations = cls()
        for tag, relation in _walk(relation_list):
            if tag == _ACTOR:
                relations.actors.setdefault(relation.role, []).append(relation)
            elif tag == _CLASS:
                relations.classes.setdefault(relation.role, []).append(relation)
            elif tag == _PART:
                relations.parts.append(relation)
            elif tag == _IT_SYSTEM:
                relations.systems.setdefault(relation.role, []).append(relation)
        return relations

    def owner(self) -> Cvr:
        """Ejer: the authority, by CVR-Nummer (required: it is the index's primary data
        restriction); a urn:oio:cvr-nr: reference must name the same number."""
        owner = _one(self.actors, Rolle.EJER, "Sagsaktør with role Ejer")
        cvr = owner.extension_text("CVR-Nummer")
        if not cvr:
            raise RecordRejected("Ejer has no CVR-Nummer")
        try:
            valid = Cvr(cvr)
        except InvalidIdentifier as exc:
            reason = "fails the modulus-11 check" if "modulus" in str(exc) else "is not 8 digits"
            raise RecordRejected(f"Ejer CVR {cvr} {reason}") from None
        urn = owner.reference_urn
        if urn is not None and urn != f"{CVR_URN_PREFIX}{cvr}":
            raise RecordRejected(f"Ejer ReferenceID {urn!r} does not name CVR {cvr}")
        if urn is None and owner.reference_uuid is None:
            raise RecordRejected("Ejer has no ReferenceID")
        return valid

    def responsible(self) -> uuid.UUID:
        """Ansvarlig: exactly one OrgEnhed, by its FK Organisation UUID."""
        unit = _one(self.actors, Rolle.ANSVARLIG, "Sagsaktør with role Ansvarlig")
        if unit.kind != Objekttype.ORGENHED:
            raise RecordRejected(f"Ansvarlig has type {unit.kind!r}, not OrgEnhed")
        if unit.reference_uuid is None:
            urn = unit.reference_urn
            raise RecordRejected(f"Ansvarlig must name an FK Organisation UUID, not {urn!r}")
        return _parse_uuid(unit.reference_uuid, "Ansvarlig ReferenceID")

    def handler(self) -> str | None:
        """Primær behandler (0..1): its name is what the platform shows."""
        handlers = self.actors.get(Rolle.PRIMAER_BEHANDLER, [])
        if len(handlers) > 1:
            raise RecordRejected(f"expected at most one Primær behandler, found {len(handlers)}")
        if not handlers:
            return None
        name = handlers[0].extension_text("FuldtNavn")
        return _sized(name, "Primær behandler FuldtNavn", _MAX_TEXT)

    def subject(self) -> KleNumber:
        primary = _one(self.classes, Rolle.PRIMAER_KLASSE, "Sagsklasse with role Primær klasse")
        number = primary.extension_text("BrugervendtNoegle")
        try:
            return KleNumber(number or "")
        except InvalidKle:
            raise RecordRejected(f"Primær klasse KLE number {number!r} is not xx.xx.xx") from None

    def parties(self) -> tuple[CaseParty, ...]:
        """Sagspart with a CPR number. Parties named otherwise (CVR, PersonID, a name) are
        legal in the index but are not persons the platform can place, so they are left out."""
        parties: list[CaseParty] = []
        for part in self.parts:
            role = _PARTY_ROLES.get(part.role)
            if role is None:
                raise RecordRejected(f"Sagspart role {part.role!r} is not a known part role")
            reference = part.reference_urn or ""
            if reference.startswith(CPR_URN_PREFIX):
                parties.append(CaseParty(_party_cpr(reference), role))
        for role in (PartyRole.PRIMARY, PartyRole.BENEFICIARY):
            if sum(p.role is role for p in parties) > 1:
                raise RecordRejected(f"more than one Sagspart with role {role.value}")
        return tuple(parties)

    def master_system(self) -> str:
        """The sending system: SystemNavn of the IT-system relation with role Master."""
        master = _one(self.systems, Rolle.MASTER, "IT-system with role Master")
        return _sized(master.system_name, "Master SystemNavn", _MAX_TEXT)


def _walk(relation_list: etree._Element) -> Iterator[tuple[str, _Relation]]:
    """Current relations in document order; the IT-system relations sit in the list's own
    LokalUdvidelseListe."""
    for child in relation_list:
        members = child if child.tag == _EXTENSIONS else (child,)
        for member in members:
            relation = _Relation.read(member)
            if relation is not None:
                yield member.tag, relation


def _has_ended(virkning: etree._Element) -> bool:
    """Whether a Virkning's TilTidspunkt is a time (rather than absent or +∞)."""
    for part in virkning:
        if part.tag == _TO:
            return len(part) > 0 and part[0].tag == _STAMP
    return False


def _first_text(element: etree._Element) -> str:
    """The text of an element's first child: the UUID or URN inside a UnikIdType."""
    return (_text(element[0]) or "") if len(element) else ""


def _one(by_role: dict[str, list[_Relation]], role: str, what: str) -> _Relation:
    found = by_role.get(role, [])
    if len(found) != 1:
        raise RecordRejected(f"expected exactly one current {what}, found {len(found)}")
    return found[0]


def _party_cpr(reference: str) -> Cpr:
    digits = reference.removeprefix(CPR_URN_PREFIX)
    try:
        if not _CPR_DIGITS.fullmatch(digits):
            raise InvalidCpr(digits)
        return Cpr.parse(digits)
    except InvalidCpr:
        raise RecordRejected(f"Sagspart {reference!r} does not hold a valid CPR number") from None
