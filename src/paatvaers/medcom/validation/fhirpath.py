"""Invariants (`constraint[].expression`) evaluated as FHIRPath, with fhirpathpy's meaning.

Expressions are compiled once per process. fhirpathpy lacks four functions the published
expressions use; they are supplied here: `resolve()` (within the message Bundle),
`conformsTo()` (validation against a shipped profile), `hasValue()` and `htmlChecks()`.
The first two need the message being validated, which a context variable carries.

Each expression is evaluated by the compiled evaluator of fastpath.py first; where it
meets something it does not evaluate exactly as fhirpathpy would, it defers, and fhirpathpy
evaluates the expression. `cross_checking()` evaluates every expression both ways and
records any disagreement (the tests run all published examples and broken variants so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Protocol

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from paatvaers.medcom.validation import fastpath
from paatvaers.medcom.validation.xhtml import html_problem


class NotEvaluated(Exception):
    """An expression fhirpathpy (or a function supplied here) could not evaluate."""


class MessageScope(Protocol):
    """What `resolve()` and `conformsTo()` need from the message being validated."""

    def resolve(self, reference: str) -> dict[str, Any] | None: ...

    def conforms_to(self, resource: dict[str, Any], profile: str) -> bool: ...


current_scope: ContextVar[MessageScope | None] = ContextVar("current_scope", default=None)


def _scope() -> MessageScope:
    scope = current_scope.get()
    if scope is None:
        raise NotEvaluated("resolve() and conformsTo() need a message Bundle")
    return scope


def _resolve(inputs: list[Any]) -> list[Any]:
    scope = _scope()
    found = []
    for item in inputs:
        reference = item.get("reference") if isinstance(item, dict) else item
        if isinstance(reference, str):
            target = scope.resolve(reference)
            if target is not None:
                found.append(target)
    return found


def _conforms_to(inputs: list[Any], profile: str) -> list[bool]:
    if len(inputs) != 1 or not isinstance(inputs[0], dict):
        return []
    return [_scope().conforms_to(inputs[0], profile)]


def _has_value(inputs: list[Any]) -> list[bool]:
    return [len(inputs) == 1 and not isinstance(inputs[0], dict | list)]


def _html_checks(inputs: list[Any]) -> list[bool]:
    return [len(inputs) == 1 and isinstance(inputs[0], str) and html_problem(inputs[0]) is None]


def _ignore_trace(_label: str, _value: object) -> None:
    """dom-3 calls trace(); fhirpathpy would print to stdout."""


_OPTIONS = {
    "userInvocationTable": {
        "resolve": {"fn": _resolve},
        "conformsTo": {"fn": _conforms_to, "arity": {1: ["String"]}},
        "hasValue": {"fn": _has_value},
        "htmlChecks": {"fn": _html_checks},
    },
    "traceFn": _ignore_trace,
}


_USER_FUNCTIONS = {
    "resolve": fastpath.UserFunction(_resolve),
    "conformsTo": fastpath.UserFunction(_conforms_to, takes_string=True),
    "hasValue": fastpath.UserFunction(_has_value),
    "htmlChecks": fastpath.UserFunction(_html_checks),
}


@dataclass(slots=True)
class CrossCheck:
    """What `cross_checking()` saw: evaluations by the fast evaluator (each compared with
    fhirpathpy), evaluations it deferred, and every disagreement."""

    fast: int = 0
    deferred: int = 0
    expressions: set[str] = field(default_factory=set)
    mismatches: list[str] = field(default_factory=list)


_cross_check: ContextVar[CrossCheck | None] = ContextVar("cross_check", default=None)


@contextmanager
def cross_checking() -> Iterator[CrossCheck]:
    """Within it, every invariant is evaluated by both evaluators (for tests: slow)."""
    check = CrossCheck()
    token = _cross_check.set(check)
    _evaluate_primitive.cache_clear()
    try:
        yield check
    finally:
        _cross_check.reset(token)
        _evaluate_primitive.cache_clear()


@cache
def fast_compiled(expression: str) -> fastpath.Expression:
    return fastpath.compile_expression(expression, _USER_FUNCTIONS)


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 120 else f"{text[:117]}..."


@cache
def compiled(expression: str) -> Callable[..., list[Any]]:
    """The compiled expression; raises NotEvaluated when fhirpathpy cannot parse it."""
    try:
        return fhirpathpy.compile(expression, models["r4"], _OPTIONS)
    except Exception as error:  # the ANTLR parser raises bare Exceptions
        raise NotEvaluated(f"fhirpathpy cannot parse the expression: {_short(error)}") from error


def _depends_on_message(expression: str) -> bool:
    return "%" in expression or "resolve(" in expression or "conformsTo(" in expression


@lru_cache(maxsize=8192, typed=True)
def _evaluate_primitive(expression: str, focus: str | int | float | bool) -> bool:
    """Invariants on a primitive depend on nothing else; GLNs, SOR codes and phone numbers
    recur from message to message, so their results are kept."""
    return _evaluate(expression, focus, "", {})


def evaluate(expression: str, focus: object, type_path: str, resource: dict[str, Any]) -> bool:
    """Whether the invariant holds on `focus` (of FHIR type `type_path`) inside `resource`.

    As in the FHIR validator, a single boolean is the answer and any other non-empty
    result counts as true; an empty result fails.
    """
    if (
        isinstance(focus, str | int | float | bool)
        and not _depends_on_message(expression)
        and _cross_check.get() is None
    ):
        return _evaluate_primitive(expression, focus)
    return _evaluate(expression, focus, type_path, resource)


def _evaluate(expression: str, focus: object, type_path: str, resource: dict[str, Any]) -> bool:
    if not isinstance(focus, dict) and expression.startswith("value."):
        # In FHIR a primitive's `value` is the primitive itself (dk-core's x-ecpr and d-ecpr
        # sit on Identifier.value as `value.matches(...)`); fhirpathpy has no such member.
        expression = expression.removeprefix("value.")
    check = _cross_check.get()
    try:
        result = fast_compiled(expression).holds(focus, type_path, resource)
    except NotEvaluated:
        raise  # resolve() or conformsTo() outside a message: fhirpathpy would say the same
    except Exception as reason:  # Defer, or anything unforeseen: fhirpathpy decides
        if check is not None:
            check.deferred += 1
            if not isinstance(reason, fastpath.Defer):
                check.mismatches.append(f"{expression!r}: the fast evaluator raised {reason!r}")
        return _with_fhirpathpy(expression, focus, type_path, resource)
    if check is not None:
        check.fast += 1
        check.expressions.add(expression)
        try:
            expected: bool | str = _with_fhirpathpy(expression, focus, type_path, resource)
        except NotEvaluated as error:
            expected = f"not evaluated: {error}"
        if expected != result:
            check.mismatches.append(
                f"{expression!r} on {type_path} {focus!r:.200}: "
                f"fast {result}, fhirpathpy {expected}"
            )
    return result


def _with_fhirpathpy(
    expression: str, focus: object, type_path: str, resource: dict[str, Any]
) -> bool:
    function = compiled(expression)
    # A data type or backbone element needs its type for choice elements such as `value`;
    # a resource must stay a plain dict, or fhirpathpy cannot match `Bundle.entry...`.
    typed = isinstance(focus, dict) and "resourceType" not in focus
    # fhirpathpy's create_node carries no annotations
    node = ResourceNode.create_node(focus, type_path) if typed else focus  # type: ignore[no-untyped-call]
    try:
        result = function(node, {"resource": resource, "rootResource": resource})
    except NotEvaluated:
        raise
    except Exception as error:  # fhirpathpy signals unsupported constructs with bare Exceptions
        raise NotEvaluated(f"fhirpathpy failed: {_short(error)}") from error
    if len(result) == 1 and isinstance(result[0], bool):
        return result[0]
    return bool(result)
