"""The type codes our STIL shape uses, shared by the adapter and the simulator.

`INST_TYPE_NR` is the institution register's 4-digit type (1012 folkeskoler, 1013 friskoler
og private grundskoler, 1015 specialskoler; research: kombit-infrastructure.md §6). Daycares:
whether they carry an institution number at all is not known (their data reaches Unilogin
from the municipality's pladsanvisning); our shape gives them one, with the type `DT`, the
code wsiinst uses for the daycare group level (gruppetrin DT). `DT` is ours, not STIL's.
"""

from __future__ import annotations

from paatvaers.domain.enrollment import InstitutionType

DAYCARE_CODE = "DT"
TYPE_BY_CODE = {
    InstitutionType.FOLKESKOLE.value: InstitutionType.FOLKESKOLE,
    InstitutionType.FRISKOLE.value: InstitutionType.FRISKOLE,
    InstitutionType.SPECIALSKOLE.value: InstitutionType.SPECIALSKOLE,
    DAYCARE_CODE: InstitutionType.DAYCARE,
}
CODE_BY_TYPE = {kind: code for code, kind in TYPE_BY_CODE.items()}
TYPE_NAMES = {
    "1012": "Folkeskoler",
    "1013": "Friskoler og private grundskoler",
    "1015": "Specialskoler for børn",
    DAYCARE_CODE: "Dagtilbud",
}
GRADES = frozenset({*(str(n) for n in range(11)), DAYCARE_CODE})
ROLE_PUPIL = "Elev"
ROLE_CHILD = "Barn"  # a child in daycare
