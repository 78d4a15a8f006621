"""FHIR JSON helpers shared by the CareCommunication and Acknowledgement code.

Bundles are plain JSON dicts here, not fhir.resources models: the store keeps JSON, and
building a message must not pay for model validation (about 3 ms a bundle). Tests validate
every built bundle with fhir.resources' R4B models instead.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeAlias

from paatvaers.domain.clock import DANISH_TIME
from paatvaers.domain.identifiers import GLN_SYSTEM, SOR_SYSTEM, Gln, InvalidIdentifier, Sor
from paatvaers.medcom.codes import PROFILE_ORGANIZATION
from paatvaers.medcom.errors import MalformedMessage
from paatvaers.medcom.model import Party

JsonDict: TypeAlias = dict[str, Any]

# dk-core 3.4.0, which CareCommunication 5.0.2 builds on, spells the GLN system
# `https://www.gs1.org/gln` and we write that; dk-core 3.5.0+ writes `http://…` and old
# MedCom material the OID, so all three are read.
GLN_SYSTEMS_READ = frozenset({GLN_SYSTEM, "http://www.gs1.org/gln", "urn:oid:1.3.88"})


def new_id() -> str:
    return str(uuid.uuid4())


def new_urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def now() -> datetime:
    return datetime.now(DANISH_TIME)


def fhir_datetime(moment: datetime) -> str:
    """A FHIR dateTime with seconds and the moment's own UTC offset, as MedCom's examples."""
    if moment.tzinfo is None:
        raise ValueError("MedCom timestamps need a time zone")
    return moment.isoformat(timespec="seconds")


def parse_datetime(text: object, where: str) -> datetime:
    if not isinstance(text, str):
        raise MalformedMessage(f"{where}: missing date-time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedMessage(f"{where}: not a date-time: {text!r}") from exc
    if moment.tzinfo is None:
        raise MalformedMessage(f"{where}: date-time without time zone: {text!r}")
    return moment


def reference(resource_type: str, resource_id: str) -> JsonDict:
    return {"reference": f"{resource_type}/{resource_id}"}


def meta(profile: str) -> JsonDict:
    return {"profile": [profile]}


def entry(base: str, resource: JsonDict) -> JsonDict:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}


def narrative(title: str, *lines: str) -> JsonDict:
    """A short generated narrative; MedCom requires `text` on every resource. Line ends become
    line feeds, as an XML parser would make them in the embedded XHTML."""
    paragraphs = "".join(f"<p>{_xhtml_text(line)}</p>" for line in lines if line)
    div = (
        '<div xmlns="http://www.w3.org/1999/xhtml">'
        f"<p><b>{_xhtml_text(title)}</b></p>{paragraphs}</div>"
    )
    return {"status": "generated", "div": div}


def _xhtml_text(text: str) -> str:
    return html.escape(text.replace("\r\n", "\n").replace("\r", "\n"), quote=False)


def organization(party: Party, resource_id: str) -> JsonDict:
    resource: JsonDict = {
        "resourceType": "Organization",
        "id": resource_id,
        "meta": meta(PROFILE_ORGANIZATION),
        "text": narrative(party.name or "Organisation", f"SOR {party.sor}, GLN {party.gln}"),
        "identifier": [
            {"system": GLN_SYSTEM, "value": party.gln.value},
            {"system": SOR_SYSTEM, "value": party.sor.value},
        ],
    }
    if party.name:
        resource["name"] = party.name
    return resource


def party_from_organization(resource: JsonDict) -> Party:
    """The organisation an Organization resource names, by its SOR code and GLN."""
    where = f"Organization/{resource.get('id')}"
    sor = gln = None
    for identifier in resource.get("identifier", []):
        system, value = identifier.get("system"), identifier.get("value")
        if system == SOR_SYSTEM:
            sor = value
        elif system in GLN_SYSTEMS_READ:
            gln = value
    if sor is None or gln is None:
        raise MalformedMessage(f"{where}: needs both a SOR and a GLN (EAN) identifier")
    try:
        return Party(resource.get("name"), Sor(sor), Gln(gln))
    except InvalidIdentifier as exc:
        raise MalformedMessage(f"{where}: {exc}") from exc


class BundleIndex:
    """The resources of a received bundle, found by the references that point to them."""

    def __init__(self, bundle: JsonDict) -> None:
        if bundle.get("resourceType") != "Bundle":
            raise MalformedMessage("not a FHIR Bundle")
        self.resources: list[JsonDict] = []
        self._by_key: dict[str, JsonDict] = {}
        for item in bundle.get("entry", []):
            resource = item.get("resource")
            if not isinstance(resource, dict):
                raise MalformedMessage("Bundle.entry without a resource")
            self.resources.append(resource)
            self._by_key[f"{resource.get('resourceType')}/{resource.get('id')}"] = resource
            if full_url := item.get("fullUrl"):
                self._by_key[full_url] = resource

    def of_type(self, resource_type: str) -> Iterator[JsonDict]:
        return (r for r in self.resources if r.get("resourceType") == resource_type)

    def one(self, resource_type: str) -> JsonDict:
        found = list(self.of_type(resource_type))
        if len(found) != 1:
            raise MalformedMessage(f"expected one {resource_type}, found {len(found)}")
        return found[0]

    def resolve(self, ref: object, where: str) -> JsonDict:
        """The resource a Reference points to; relative (`Type/id`), full URL or urn:uuid."""
        target = ref.get("reference") if isinstance(ref, dict) else None
        if not isinstance(target, str):
            raise MalformedMessage(f"{where}: missing reference")
        found = self._by_key.get(target) or self._by_key.get("/".join(target.split("/")[-2:]))
        if found is None:
            raise MalformedMessage(f"{where}: {target} is not in the bundle")
        return found

    def party(self, ref: object, where: str) -> Party:
        resource = self.resolve(ref, where)
        if resource.get("resourceType") != "Organization":
            raise MalformedMessage(f"{where}: expected an Organization reference")
        return party_from_organization(resource)


def extension_value(element: JsonDict, url: str, value_key: str) -> object:
    """The value of the first extension with `url`, or None."""
    for extension in element.get("extension", []):
        if extension.get("url") == url:
            return extension.get(value_key)
    return None


def extension_object(element: JsonDict, url: str, value_key: str) -> JsonDict:
    """A complex extension value (valueCoding, valueIdentifier, …), or {} if absent."""
    value = extension_value(element, url, value_key)
    return value if isinstance(value, dict) else {}


def message_header(bundle: JsonDict) -> JsonDict:
    """The MessageHeader, which MedCom's messages put first (invariant medcom-messaging-1)."""
    entries = bundle.get("entry") or [{}]
    header: JsonDict = entries[0].get("resource") or {}
    if header.get("resourceType") != "MessageHeader":
        raise MalformedMessage("the first entry of the bundle is not a MessageHeader")
    return header
