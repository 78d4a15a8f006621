"""The few places where the validator accepts what real MedCom traffic sends.

Each tolerance is narrow: one rule, named values, reported as a warning so nothing passes
silently. Everything not listed here is checked as the profiles say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paatvaers.medcom.validation.definitions import Definitions

GLN_PROFILE = "http://hl7.dk/fhir/core/StructureDefinition/dk-core-gln-identifier"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class UriAlias:
    """Other URIs accepted on read where a profile fixes `canonical`."""

    canonical: str
    accepted: frozenset[str]
    rule: str
    reason: str


# The GLN (EAN location number) system: dk-core 3.4.0, on which CareCommunication 5.0.2 and
# the shipped profiles build, fixes https://www.gs1.org/gln. dk-core 3.5.0 changed it to
# http://www.gs1.org/gln, and older MedCom documents use the GS1 OID urn:oid:1.3.88. Senders
# on other versions use those, so they are accepted on read; we emit only the fixed one.
URI_ALIASES = (
    UriAlias(
        canonical="https://www.gs1.org/gln",
        accepted=frozenset({"http://www.gs1.org/gln", "urn:oid:1.3.88"}),
        rule="tolerance gln-system",
        reason="the GLN system of another dk-core version or of older MedCom documents",
    ),
)


def uri_alias(expected: str, actual: str) -> UriAlias | None:
    """The tolerance that accepts `actual` where a profile fixes `expected`, if any."""
    for alias in URI_ALIASES:
        if alias.canonical == expected and actual in alias.accepted:
            return alias
    return None


def gln_system(definitions: Definitions) -> str:
    """The GLN system to emit: the one the shipped dk-core GLN identifier profile fixes."""
    profile = definitions.profile(GLN_PROFILE)
    system = profile.root.children["system"].fixed if profile else None
    if system is None:
        raise LookupError(f"{GLN_PROFILE} is not shipped or fixes no system")
    return str(system[1])


def bundle_id_problem(bundle_id: object) -> str | None:
    """MedCom's governance asks for a new UUID as Bundle.id on every send (none of the shipped
    profiles checks it). Test examples use ids such as `S-A-new-<uuid>` or `gfd00bc2-...`, so
    this is a warning only, never an error."""
    if isinstance(bundle_id, str) and UUID.fullmatch(bundle_id):
        return None
    return f"Bundle.id {bundle_id!r} is not a UUID; MedCom expects a new UUID on every send"
