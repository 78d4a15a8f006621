"""The data flows of the mission. Each is judged on its own for legal basis and consent (R8):
what a flow may carry, to whom, on which basis and with whose consent is written in the access
policy file (`paatvaers/access/policies/data_flows.toml`), not here."""

from __future__ import annotations

from enum import StrEnum


class DataFlow(StrEnum):
    CHILD_DETAILS = "child_details"  # CPR: name, age, address, custody holders, GP
    APPOINTMENTS_TO_MUNICIPALITY = "appointments_to_municipality"  # R3, R9
    CASES_TO_HEALTH = "cases_to_health"  # R4
    CASES_IN_MUNICIPALITY = "cases_in_municipality"  # R4, R7: PPR sees the family department
    CONTACTS_TO_HEALTH = "contacts_to_health"  # R4
    SCHOOL_TO_HEALTH = "school_to_health"  # R4, R11
    CORRESPONDENCE = "correspondence"  # R5, R10
    MEETING = "meeting"  # issue #7: exchange at a convened cross-disciplinary meeting
