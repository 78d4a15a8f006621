"""A small dictionary-based translation layer: Danish first, English second.

The product name is a proper noun and is never translated.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from paatvaers.domain.organisations import EmployeeFunction

PRODUCT_NAME = "På Tværs – Børn & Unge"


class Language(StrEnum):
    DA = "da"
    EN = "en"

    @classmethod
    def parse(cls, value: str | None) -> Language:
        """The requested language; anything unknown falls back to Danish rather than failing."""
        try:
            return cls((value or "").strip().lower())
        except ValueError:
            return cls.DA


MESSAGES: dict[Language, dict[str, str]] = {
    Language.DA: {
        "skip_to_content": "Spring til indholdet",
        "language_nav": "Sprog",
        "lead": (
            "På Tværs – Børn & Unge samler fagpersonerne omkring et barn eller en ung i "
            "mistrivsel: kommunens børne- og familieafdeling, PPR, børne- og "
            "ungdomspsykiatrien og den praktiserende læge. Her kan de se, hvem der ellers er "
            "involveret, og skrive sammen på tværs af sektorerne."
        ),
        "synthetic_label": "Bemærk:",
        "synthetic_note": "Dette er en demonstration. Alle personer og CPR-numre er syntetiske.",
        "demo_heading": "Demobrugere",
        "demo_intro": (
            "Demoen har en bruger for hver faggruppe, så du kan se platformen, som hver "
            "fagperson ser den."
        ),
        "demo_caption": "Demobrugere ordnet efter rolle",
        "col_role": "Rolle",
        "col_name": "Navn",
        "col_username": "Brugernavn",
        "col_unit": "Enhed",
        "demo_empty": (
            "Der er ingen demobrugere i databasen endnu. Indlæs den syntetiske population først."
        ),
        "footer": "En demonstration med syntetiske data – brug ikke rigtige personoplysninger.",
    },
    Language.EN: {
        "skip_to_content": "Skip to content",
        "language_nav": "Language",
        "lead": (
            "På Tværs – Børn & Unge brings together the professionals around a child or young "
            "person who is struggling: the municipal children and families department, the "
            "educational psychology service (PPR), child and adolescent psychiatry and the "
            "family doctor. Here they can see who else is involved and write to each other "
            "across sectors."
        ),
        "synthetic_label": "Please note:",
        "synthetic_note": "This is a demonstration. All people and CPR numbers are synthetic.",
        "demo_heading": "Demo users",
        "demo_intro": (
            "The demo has one user for each profession, so you can see the platform as each "
            "professional sees it."
        ),
        "demo_caption": "Demo users by role",
        "col_role": "Role",
        "col_name": "Name",
        "col_username": "Username",
        "col_unit": "Unit",
        "demo_empty": (
            "There are no demo users in the database yet. Load the synthetic population first."
        ),
        "footer": "A demonstration with synthetic data – do not enter real personal data.",
    },
}

# The Danish titles are the official ones (EmployeeFunction.danish_title); these only gloss them.
ENGLISH_TITLES: dict[EmployeeFunction, str] = {
    EmployeeFunction.SOCIALRAADGIVER: "Social worker, children and families department",
    EmployeeFunction.PPR_PSYKOLOG: "Psychologist, educational psychology service (PPR)",
    EmployeeFunction.BUP_LAEGE: "Physician, child and adolescent psychiatry",
    EmployeeFunction.BUP_PSYKOLOG: "Psychologist, child and adolescent psychiatry",
    EmployeeFunction.BUP_SOCIALRAADGIVER: "Social worker, child and adolescent psychiatry",
    EmployeeFunction.BUP_SEKRETAER: "Medical secretary, child and adolescent psychiatry",
    EmployeeFunction.SAGSBEHANDLER: "Caseworker, children and families department",
    EmployeeFunction.PRAKTISERENDE_LAEGE: "General practitioner",
    EmployeeFunction.KLINIKPERSONALE: "Clinic staff, general practice",
}


def translator(language: Language) -> Callable[[str], str]:
    """A `t(key)` function for templates; an unknown key fails loudly instead of showing blank."""
    return MESSAGES[language].__getitem__


def english_title(function: EmployeeFunction) -> str:
    return ENGLISH_TITLES[function]
