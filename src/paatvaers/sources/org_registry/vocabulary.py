"""The classification UUIDs and conventions that the adapter and the simulator share.

The UUIDs are KOMBIT's, as published in "Anvisninger til anvendelse af STS-Organisation"
v1.2.3 and copied into OS2sync's `UUIDConstants.cs` (research: kombit-infrastructure.md §3).
"""

from __future__ import annotations

import uuid

from paatvaers.domain.organisations import EmployeeFunction, UnitKind

# Address roles (`Adresse.klassifikation.rolle`), for units and for users.
UNIT_EMAIL = uuid.UUID("2b670843-ce42-411a-8fb5-311dfdd5caf0")
UNIT_MOBILE = uuid.UUID("8dcfa714-5ed3-4000-b551-2ba520e7d8ad")
UNIT_LANDLINE = uuid.UUID("02826f64-5613-468e-ace5-3f089cb3ed20")
USER_EMAIL = uuid.UUID("5d13e891-162a-456b-abf2-fd9b864df96d")
USER_MOBILE = uuid.UUID("5ef6be2d-59f4-4652-a680-585929924ba9")
USER_LANDLINE = uuid.UUID("47c05422-5379-4c27-9ddf-e02b52b3d961")
UNIT_ADDRESS_ROLES = (UNIT_EMAIL, UNIT_MOBILE, UNIT_LANDLINE)
USER_ADDRESS_ROLES = (USER_EMAIL, USER_MOBILE, USER_LANDLINE)

# Relation types of addresses (`Adresse.klassifikation.type`).
UNIT_ADDRESS_TYPE = uuid.UUID("9b33c0a0-a566-4ec0-8200-325cb1e5bb9a")
USER_ADDRESS_TYPE = uuid.UUID("71a08d28-3af7-4bb4-9964-bc2b76b93d64")

# OrganisationFunktion type "Enhedsrolle" ("Arbejder i"): the user works in the unit.
WORKS_IN = uuid.UUID("02e61900-33e0-407f-a2a7-22f70221f003")
WORKS_IN_TITLE = "Arbejder i"

# Task role "Ansvarlig": the unit is responsible for the KLE subject (opgavefordeling).
TASK_RESPONSIBLE = uuid.UUID("2a5f38d8-7092-4b3f-85cc-7e272c3c4bb0")
TASK_RESPONSIBLE_TITLE = "Ansvarlig"

USER_TYPE_INTERNAL = uuid.UUID("fe5bec29-0709-4b45-b935-2748ff554c7a")

# Which units the platform reads: those responsible for the child/family subjects of KLE
# main group 27 (social service) or the special-needs education subjects of group 17, where
# PPR cases are journalised. The research confirms the 27 numbers (OS2bos mapping of SEL
# paragraphs); PPR's KLE number is not confirmed, so 17.13 is our documented choice.
KLE_FILTER = ("27.12.*", "27.24.*", "27.27.*", "17.13.*")
KIND_BY_KLE_MAIN_GROUP = {"27": UnitKind.CHILD_FAMILY, "17": UnitKind.PPR}

# The job title of the "Arbejder i" membership (`medlemskabRolleTitel`) names the function.
# Municipalities name job titles freely; these are the titles the simulator writes and a
# deployment maps its municipalities' titles onto (docs/sources/org_registry.md).
FUNCTION_BY_TITLE = {function.danish_title: function for function in EmployeeFunction}


def kle_matches(pattern: str, number: str) -> bool:
    """FK Organisation's KLE filter: "xx", "xx.xx" or "xx.xx.xx", with right-padded `*`
    wildcards. A shorter number covers the subjects below it."""
    stem = pattern.rstrip("*").rstrip(".")
    return number == stem or number.startswith(stem + ".")
