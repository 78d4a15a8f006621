"""What a generated population looks like, in numbers a reader can check against reality."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

from paatvaers.domain.geography import Region, municipality
from paatvaers.domain.involvement import Involvement, involved_kinds
from paatvaers.domain.target_group import TargetGroupRule
from paatvaers.population.generator import Population


@dataclass(frozen=True)
class PopulationReport:
    children: int
    cpr_set_hash: str
    children_per_region: dict[str, int]
    target_group: int
    protected: int
    split_custody: int
    cases: int
    appointments: int
    org_units: int

    @property
    def target_group_share(self) -> float:
        return self.target_group / self.children

    @property
    def protected_share(self) -> float:
        return self.protected / self.children

    def as_dict(self) -> dict[str, object]:
        return {
            "children": self.children,
            "cpr_set_hash": self.cpr_set_hash,
            "children_per_region": self.children_per_region,
            "target_group": self.target_group,
            "target_group_share": round(self.target_group_share, 4),
            "protected": self.protected,
            "protected_share": round(self.protected_share, 4),
            "split_custody": self.split_custody,
            "cases": self.cases,
            "appointments": self.appointments,
            "org_units": self.org_units,
        }


def cpr_set_hash(cprs: list[str]) -> str:
    """SHA-256 of the sorted CPR numbers, one per line: equal hashes mean equal sets."""
    return hashlib.sha256("\n".join(sorted(cprs)).encode()).hexdigest()


def report(population: Population, rule: TargetGroupRule | None = None) -> PopulationReport:
    rule = rule or TargetGroupRule()
    day = population.as_of
    by_child: dict[str, list[Involvement]] = defaultdict(list)
    for involvement in population.involvements:
        by_child[involvement.child_cpr.value].append(involvement)
    regions = Counter(municipality(c.municipality_code).region for c in population.children)
    target = sum(
        rule.evaluate(c.birth_date, involved_kinds(by_child[c.cpr.value], day), day).included
        for c in population.children
    )
    return PopulationReport(
        children=len(population.children),
        cpr_set_hash=cpr_set_hash([c.cpr.value for c in population.children]),
        children_per_region={r.danish_name: regions.get(r, 0) for r in Region},
        target_group=target,
        protected=sum(c.is_protected_on(day) for c in population.children),
        split_custody=sum(c.has_split_custody for c in population.children),
        cases=len(population.cases),
        appointments=len(population.appointments),
        org_units=len(population.org_units),
    )
