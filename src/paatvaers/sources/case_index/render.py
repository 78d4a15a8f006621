"""A domain `Case` as the index's `SagFiltreretOejebliksbillede`, written as text.

The simulator renders hundreds of thousands of cases per pass, so this builds strings
directly rather than element trees; the tests validate the result against the public XSDs.
Element order and namespaces follow `Sag.xsd`, `SagIndeks.xsd`, `GenerelleDefinitioner.xsd`
and `SagDokObjekt.xsd`; what goes in each element follows KOMBIT's anvisninger v1.7.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from paatvaers.domain.cases import Case, CaseParty, PartyRole
from paatvaers.sources.case_index.protocol import (
    CPR_URN_PREFIX,
    CVR_URN_PREFIX,
    IT_SYSTEM_URN_PREFIX,
    NS_DECLARATIONS,
    SAG_PARTS,
    Objekttype,
    Rolle,
    escape,
    format_time,
    placeholder_uuid,
)

# Offentlighedsloven § 30, nr. 1: information on individuals' private affairs is exempt.
PUBLICITY_EXEMPTION: Final = "Offentlighedslovens § 30, nr. 1"
KLE_FACET: Final = "KLE Emneplan"
ACTION_FACET: Final = "KLE - handlingsfacet"
GENERAL_CASES: Final = ("G01", "Generelle sager")  # the KLE action facet of a plain case

_PARTY_ROLES: Final = {
    PartyRole.PRIMARY: Rolle.PRIMAER_PART,
    PartyRole.SECONDARY: Rolle.SEKUNDAER_PART,
    PartyRole.BENEFICIARY: Rolle.YDELSESMODTAGER,
}


@dataclass(frozen=True, slots=True)
class CaseNames:
    """What the index holds about a case beyond the domain object: the actors' names and
    ids, which the sending system looks up in FK Organisation and CPR."""

    owner_name: str  # Ejer/FuldtNavn, e.g. "Aarhus Kommune"
    owner_key: str  # Ejer/BrugervendtNoegle (municipality code); required for a URN reference
    unit_name: str  # Ansvarlig/FuldtNavn
    handler_id: str | None = None  # Primær behandler: the Bruger UUID in FK Organisation
    party_names: Mapping[str, str] = field(default_factory=dict)  # CPR number → full name


def it_system_uuid(source_system: str) -> str:
    """The Administrationsmodul UUID of a sending system (a placeholder of ours)."""
    return placeholder_uuid(f"it-system:{source_system}")


def kle_class_uuid(number: str) -> str:
    """The FK Klassifikation UUID of a KLE class (a placeholder of ours)."""
    return placeholder_uuid(f"kle:{number}")


def _uuid(value: str) -> str:
    return f"<sd:UUIDIdentifikator>{value}</sd:UUIDIdentifikator>"


def _urn(value: str) -> str:
    return f"<sd:URNIdentifikator>{escape(value)}</sd:URNIdentifikator>"


def _virkning(prefix: str, start: str, actor: str) -> str:
    """Valid from `start` with no end (GraenseIndikator: +∞), changed by the sending system."""
    return (
        f"<{prefix}:Virkning>"
        f"<sd:FraTidspunkt><sd:TidsstempelDatoTid>{start}</sd:TidsstempelDatoTid></sd:FraTidspunkt>"
        "<sd:TilTidspunkt><sd:GraenseIndikator>true</sd:GraenseIndikator></sd:TilTidspunkt>"
        f"<sd:AktoerRef>{actor}</sd:AktoerRef><sd:AktoerTypeKode>ItSystem</sd:AktoerTypeKode>"
        f"</{prefix}:Virkning>"
    )


def _relation(
    element: str, virkning: str, rolle: str, objekttype: str, reference: str, extension: str
) -> str:
    extension_list = f"<gd:LokalUdvidelseListe>{extension}</gd:LokalUdvidelseListe>"
    return (
        f"<{element}>{virkning}<gd:Rolle>{_uuid(rolle)}</gd:Rolle>"
        f"<gd:Type>{_uuid(objekttype)}</gd:Type><gd:ReferenceID>{reference}</gd:ReferenceID>"
        f"{extension_list if extension else ''}</{element}>"
    )


def _actor_extension(name: str, cvr: str, key: str | None = None) -> str:
    key_xml = f"<si:BrugervendtNoegle>{escape(key)}</si:BrugervendtNoegle>" if key else ""
    return (
        f"<si:SagsaktoerLokalUdvidelse>{key_xml}<si:FuldtNavn>{escape(name)}</si:FuldtNavn>"
        f"<si:CVR-Nummer>{cvr}</si:CVR-Nummer></si:SagsaktoerLokalUdvidelse>"
    )


def _class_extension(facet: str, key: str, title: str | None = None) -> str:
    title_xml = f"<si:Klassetitel>{escape(title)}</si:Klassetitel>" if title else ""
    return (
        f"<si:SagsklasseLokalUdvidelse><si:Facettitel>{facet}</si:Facettitel>{title_xml}"
        f"<si:BrugervendtNoegle>{escape(key)}</si:BrugervendtNoegle></si:SagsklasseLokalUdvidelse>"
    )


def _attributes(case: Case, virkning: str, gd_virkning: str, opened: str) -> str:
    exempt = (
        "<sag:OffentlighedUndtaget>"
        f"<sd:TitelAlternativTekst>{escape(case.non_public_title)}</sd:TitelAlternativTekst>"
        f"<sd:OffentlighedUndtagetHjemmelTekst>{PUBLICITY_EXEMPTION}"
        "</sd:OffentlighedUndtagetHjemmelTekst></sag:OffentlighedUndtaget>"
        if case.non_public_title is not None
        else ""
    )
    number = escape(case.case_number)
    index_properties = (
        f"<si:SagIndeksEgenskaber>{gd_virkning}"
        f"<si:Foelsomhed>{case.sensitivity.value}</si:Foelsomhed>"
        f"<si:OprettetTidspunkt>{opened}</si:OprettetTidspunkt></si:SagIndeksEgenskaber>"
    )
    return (
        f"<sag:Egenskaber>{virkning}<sag:BrugervendtNoegle>{number}</sag:BrugervendtNoegle>"
        f"{exempt}<sag:Sagsnummer>{number}</sag:Sagsnummer>"
        f"<sag:Titel>{escape(case.title)}</sag:Titel></sag:Egenskaber>"
        f"<gd:LokalUdvidelseListe>{index_properties}</gd:LokalUdvidelseListe>"
    )


def _actors(case: Case, names: CaseNames, virkning: str) -> str:
    cvr = case.owner_cvr.value
    owner = _relation(
        "sag:Sagsaktoer",
        virkning,
        Rolle.EJER,
        Objekttype.ORGANISATION,
        _urn(f"{CVR_URN_PREFIX}{cvr}"),
        _actor_extension(names.owner_name, cvr, names.owner_key),
    )
    responsible = _relation(
        "sag:Sagsaktoer",
        virkning,
        Rolle.ANSVARLIG,
        Objekttype.ORGENHED,
        _uuid(str(case.responsible_unit_id)),
        _actor_extension(names.unit_name, cvr),
    )
    if case.primary_handler is None:
        return owner + responsible
    # A handler FK Organisation does not know still has a name; give it a stable id.
    handler_id = names.handler_id or placeholder_uuid(
        f"bruger:{case.responsible_unit_id}:{case.primary_handler}"
    )
    handler = _relation(
        "sag:Sagsaktoer",
        virkning,
        Rolle.PRIMAER_BEHANDLER,
        Objekttype.BRUGER,
        _uuid(handler_id),
        _actor_extension(case.primary_handler, cvr),
    )
    return owner + responsible + handler


def _classes(case: Case, virkning: str) -> str:
    subject = case.kle.value
    action_key, action_title = GENERAL_CASES
    return _relation(
        "sag:Sagsklasse",
        virkning,
        Rolle.PRIMAER_KLASSE,
        Objekttype.KLASSE,
        _uuid(kle_class_uuid(subject)),
        _class_extension(KLE_FACET, subject),
    ) + _relation(
        "sag:Sagsklasse",
        virkning,
        Rolle.HANDLINGSKLASSE,
        Objekttype.KLASSE,
        _uuid(kle_class_uuid(action_key)),
        _class_extension(ACTION_FACET, action_key, action_title),
    )


def _party(party: CaseParty, names: CaseNames, virkning: str) -> str:
    name = names.party_names.get(party.cpr.value)
    extension = (
        f"<si:SagspartLokalUdvidelse><si:FuldtNavn>{escape(name)}</si:FuldtNavn>"
        "</si:SagspartLokalUdvidelse>"
        if name
        else ""
    )
    return _relation(
        "sag:Sagspart",
        virkning,
        _PARTY_ROLES[party.role],
        Objekttype.PERSON,
        _urn(f"{CPR_URN_PREFIX}{party.cpr.value}"),
        extension,
    )


def _it_systems(case: Case, virkning: str) -> str:
    system_id = it_system_uuid(case.source_system)
    name = escape(case.source_system)
    return "".join(
        f"<si:SagsitsystemRelation>{virkning}<gd:Rolle>{_uuid(rolle)}</gd:Rolle>"
        f"<gd:Type>{_uuid(Objekttype.IT_SYSTEM)}</gd:Type>"
        f"<gd:ReferenceID>{_uuid(system_id)}</gd:ReferenceID>"
        f"<si:SystemNavn>{name}</si:SystemNavn></si:SagsitsystemRelation>"
        for rolle in (Rolle.MASTER, Rolle.AFSENDER)
    )


def _relations(case: Case, names: CaseNames, gd_virkning: str, parts: Collection[str]) -> str:
    actors = _actors(case, names, gd_virkning) if "sagsaktoer" in parts else ""
    classes = _classes(case, gd_virkning) if "sagsklasse" in parts else ""
    parties = (
        "".join(_party(p, names, gd_virkning) for p in case.parties) if "sagspart" in parts else ""
    )
    systems = (
        f"<gd:LokalUdvidelseListe>{_it_systems(case, gd_virkning)}</gd:LokalUdvidelseListe>"
        if "itsystem" in parts
        else ""
    )
    return actors + classes + parties + systems


def _registration(registered: datetime, actor: str, livscyklus: str) -> str:
    stamp = format_time(registered)
    return (
        f"<sd:Tidspunkt>{stamp}</sd:Tidspunkt><sd:LivscyklusKode>{livscyklus}</sd:LivscyklusKode>"
        f"<sd:BrugerRef>{actor}</sd:BrugerRef><gd:StsTidspunkt>{stamp}</gd:StsTidspunkt>"
    )


def _open(declare: bool) -> str:
    if declare:
        return f"<sdi:SagFiltreretOejebliksbillede {NS_DECLARATIONS}>"
    return "<sdi:SagFiltreretOejebliksbillede>"


def snapshot(
    case: Case,
    registered: datetime,
    names: CaseNames,
    parts: Collection[str] = SAG_PARTS,
    *,
    declare_namespaces: bool = False,
) -> str:
    """The case's current registration, with the parts the request's Filter asked for.
    `registered` is both the sending system's time (Tidspunkt) and the index's (StsTidspunkt):
    the simulator indexes a change the moment it happens."""
    opened = format_time(case.opened_at)
    actor = _urn(f"{IT_SYSTEM_URN_PREFIX}{it_system_uuid(case.source_system)}")
    virkning = _virkning("sag", opened, actor)
    gd_virkning = _virkning("gd", opened, actor)
    attributes = _attributes(case, virkning, gd_virkning, opened) if "egenskaber" in parts else ""
    progress = (
        f"<sag:Fremdrift>{virkning}"
        f"<sag:FremdriftStatusKode>{case.status.value}</sag:FremdriftStatusKode></sag:Fremdrift>"
        if "fremdrift" in parts
        else ""
    )
    return (
        f"{_open(declare_namespaces)}"
        f"<sag:ObjektType>{_uuid(str(case.id))}</sag:ObjektType><sag:Registrering>"
        f"{_registration(registered, actor, 'Importeret')}"
        f"<sag:AttributListe>{attributes}</sag:AttributListe>"
        f"<sag:TilstandListe>{progress}</sag:TilstandListe>"
        f"<sag:RelationListe>{_relations(case, names, gd_virkning, parts)}</sag:RelationListe>"
        "</sag:Registrering></sdi:SagFiltreretOejebliksbillede>"
    )


def tombstone(case_id: str, removed: datetime) -> str:
    """A removed case: its last registration says `Slettet` and holds nothing else. This is
    the simulator's way of reporting a removal; see docs/sources/case_index.md."""
    actor = _urn(f"{IT_SYSTEM_URN_PREFIX}{placeholder_uuid('it-system:sagsindeks')}")
    return (
        f"<sdi:SagFiltreretOejebliksbillede><sag:ObjektType>{_uuid(case_id)}</sag:ObjektType>"
        f"<sag:Registrering>{_registration(removed, actor, 'Slettet')}"
        "<sag:AttributListe/><sag:TilstandListe/><sag:RelationListe/>"
        "</sag:Registrering></sdi:SagFiltreretOejebliksbillede>"
    )
