"""Denmark's 5 regions and 98 municipalities.

Codes and names are those of the dk-core CodeSystem `dk-core-municipality-codes` (3.4.0), less
Christiansø (0411), which is no municipality. `population_k` is the approximate number of
inhabitants in thousands; it only spreads the synthetic population roughly by real size.
A test checks these codes and names against the published CodeSystem.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MUNICIPALITY_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"


class Region(StrEnum):
    """The five regions, with their ISO 3166-2 codes (dk-core ≥ 3.5 uses these)."""

    NORDJYLLAND = "DK-81"
    MIDTJYLLAND = "DK-82"
    SYDDANMARK = "DK-83"
    HOVEDSTADEN = "DK-84"
    SJAELLAND = "DK-85"

    @property
    def danish_name(self) -> str:
        return _REGION_NAMES[self]


_REGION_NAMES = {
    Region.NORDJYLLAND: "Region Nordjylland",
    Region.MIDTJYLLAND: "Region Midtjylland",
    Region.SYDDANMARK: "Region Syddanmark",
    Region.HOVEDSTADEN: "Region Hovedstaden",
    Region.SJAELLAND: "Region Sjælland",
}


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str  # 4 digits with a leading zero, as dk-core writes it
    name: str
    region: Region
    population_k: float


_N, _M, _S, _H, _Z = (
    Region.NORDJYLLAND,
    Region.MIDTJYLLAND,
    Region.SYDDANMARK,
    Region.HOVEDSTADEN,
    Region.SJAELLAND,
)

MUNICIPALITIES: tuple[Municipality, ...] = tuple(
    Municipality(code, name, region, pop)
    for code, name, region, pop in [
        ("0101", "København", _H, 660),
        ("0147", "Frederiksberg", _H, 105),
        ("0151", "Ballerup", _H, 52),
        ("0153", "Brøndby", _H, 39),
        ("0155", "Dragør", _H, 15),
        ("0157", "Gentofte", _H, 75),
        ("0159", "Gladsaxe", _H, 70),
        ("0161", "Glostrup", _H, 24),
        ("0163", "Herlev", _H, 30),
        ("0165", "Albertslund", _H, 28),
        ("0167", "Hvidovre", _H, 55),
        ("0169", "Høje-Taastrup", _H, 58),
        ("0173", "Lyngby-Taarbæk", _H, 57),
        ("0175", "Rødovre", _H, 41),
        ("0183", "Ishøj", _H, 24),
        ("0185", "Tårnby", _H, 44),
        ("0187", "Vallensbæk", _H, 17),
        ("0190", "Furesø", _H, 41),
        ("0201", "Allerød", _H, 26),
        ("0210", "Fredensborg", _H, 41),
        ("0217", "Helsingør", _H, 64),
        ("0219", "Hillerød", _H, 54),
        ("0223", "Hørsholm", _H, 25),
        ("0230", "Rudersdal", _H, 57),
        ("0240", "Egedal", _H, 44),
        ("0250", "Frederikssund", _H, 46),
        ("0253", "Greve", _Z, 51),
        ("0259", "Køge", _Z, 62),
        ("0260", "Halsnæs", _H, 32),
        ("0265", "Roskilde", _Z, 90),
        ("0269", "Solrød", _Z, 24),
        ("0270", "Gribskov", _H, 42),
        ("0306", "Odsherred", _Z, 33),
        ("0316", "Holbæk", _Z, 73),
        ("0320", "Faxe", _Z, 37),
        ("0326", "Kalundborg", _Z, 49),
        ("0329", "Ringsted", _Z, 36),
        ("0330", "Slagelse", _Z, 80),
        ("0336", "Stevns", _Z, 23),
        ("0340", "Sorø", _Z, 30),
        ("0350", "Lejre", _Z, 29),
        ("0360", "Lolland", _Z, 40),
        ("0370", "Næstved", _Z, 84),
        ("0376", "Guldborgsund", _Z, 60),
        ("0390", "Vordingborg", _Z, 46),
        ("0400", "Bornholm", _H, 39),
        ("0410", "Middelfart", _S, 40),
        ("0420", "Assens", _S, 41),
        ("0430", "Faaborg-Midtfyn", _S, 52),
        ("0440", "Kerteminde", _S, 24),
        ("0450", "Nyborg", _S, 32),
        ("0461", "Odense", _S, 210),
        ("0479", "Svendborg", _S, 59),
        ("0480", "Nordfyns", _S, 30),
        ("0482", "Langeland", _S, 12),
        ("0492", "Ærø", _S, 6),
        ("0510", "Haderslev", _S, 56),
        ("0530", "Billund", _S, 27),
        ("0540", "Sønderborg", _S, 74),
        ("0550", "Tønder", _S, 37),
        ("0561", "Esbjerg", _S, 116),
        ("0563", "Fanø", _S, 3.5),
        ("0573", "Varde", _S, 50),
        ("0575", "Vejen", _S, 43),
        ("0580", "Aabenraa", _S, 59),
        ("0607", "Fredericia", _S, 52),
        ("0615", "Horsens", _M, 97),
        ("0621", "Kolding", _S, 95),
        ("0630", "Vejle", _S, 120),
        ("0657", "Herning", _M, 90),
        ("0661", "Holstebro", _M, 59),
        ("0665", "Lemvig", _M, 19),
        ("0671", "Struer", _M, 21),
        ("0706", "Syddjurs", _M, 44),
        ("0707", "Norddjurs", _M, 37),
        ("0710", "Favrskov", _M, 50),
        ("0727", "Odder", _M, 23),
        ("0730", "Randers", _M, 99),
        ("0740", "Silkeborg", _M, 100),
        ("0741", "Samsø", _M, 3.7),
        ("0746", "Skanderborg", _M, 64),
        ("0751", "Aarhus", _M, 365),
        ("0756", "Ikast-Brande", _M, 42),
        ("0760", "Ringkøbing-Skjern", _M, 56),
        ("0766", "Hedensted", _M, 48),
        ("0773", "Morsø", _N, 20),
        ("0779", "Skive", _M, 46),
        ("0787", "Thisted", _N, 43),
        ("0791", "Viborg", _M, 98),
        ("0810", "Brønderslev", _N, 36),
        ("0813", "Frederikshavn", _N, 59),
        ("0820", "Vesthimmerland", _N, 36),
        ("0825", "Læsø", _N, 1.7),
        ("0840", "Rebild", _N, 31),
        ("0846", "Mariagerfjord", _N, 41),
        ("0849", "Jammerbugt", _N, 38),
        ("0851", "Aalborg", _N, 222),
        ("0860", "Hjørring", _N, 64),
    ]
)

_BY_CODE = {m.code: m for m in MUNICIPALITIES}


class UnknownMunicipality(ValueError):
    pass


def municipality(code: str) -> Municipality:
    """Look up by the 4-digit code; a 3-digit code (as CPR and STIL write it) is accepted."""
    try:
        return _BY_CODE[code.zfill(4)]
    except KeyError:
        raise UnknownMunicipality(f"no Danish municipality has code {code!r}") from None


def is_municipality_code(code: str) -> bool:
    return code.zfill(4) in _BY_CODE
