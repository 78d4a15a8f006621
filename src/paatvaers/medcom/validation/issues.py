"""What the validator reports: issues with a path and the rule that was broken."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: `path` is FHIRPath-like, `rule` names the rule, e.g. `cardinality 1..1`."""

    severity: Severity
    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: [{self.rule}] {self.message}"


@dataclass(slots=True)
class ValidationReport:
    """The issues of one message; `profile` is the message profile it was validated against."""

    profile: str | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]


class IssueSink:
    """Collects issues once each: the same element can be reached through a slice and its base."""

    def __init__(self) -> None:
        self._issues: dict[Issue, None] = {}

    def add(self, severity: Severity, path: str, rule: str, message: str) -> None:
        self._issues[Issue(severity, path, rule, message)] = None

    def error(self, path: str, rule: str, message: str) -> None:
        self.add(Severity.ERROR, path, rule, message)

    def warning(self, path: str, rule: str, message: str) -> None:
        self.add(Severity.WARNING, path, rule, message)

    def info(self, path: str, rule: str, message: str) -> None:
        self.add(Severity.INFORMATION, path, rule, message)

    @property
    def has_errors(self) -> bool:
        return any(i.severity is Severity.ERROR for i in self._issues)

    def issues(self) -> list[Issue]:
        return list(self._issues)
