"""A fast evaluator for the FHIRPath of the published invariants, with fhirpathpy's meaning.

fhirpathpy interprets its parse tree anew on every evaluation, wrapping every value on the
way; a message holds a hundred or so invariants to evaluate, and that dominated the time to
validate it. This module compiles fhirpathpy's own parse tree (so the grammar is the same)
into Python closures over the message's JSON, for the part of FHIRPath the published
invariants use: navigation (choice types and `_element` companions as fhirpathpy treats
them), `where`, `select`, `all`, `exists`, `empty`, `count`, `not`, `first`, indexers,
`ofType`, `is`, `iif`, `extension()`, the string functions, `toInteger`, `isDistinct`, the
boolean operators, `=`, `!=`, comparison and integer arithmetic, `%resource`, and the
functions fhirpath.py supplies (`resolve()`, `conformsTo()`, `hasValue()`, `htmlChecks()`).

Everything else, and every case in which fhirpathpy's result could differ from what is
computed here (a collection where it compares only first items, a type test that depends on
its global model, a decimal, a date, a malformed value), raises `Defer` when it is reached,
and the caller evaluates the invariant with fhirpathpy instead. So the result is always
fhirpathpy's; tests run every invariant of the published examples and of the broken variants
through both and compare them (`fhirpath.cross_checking`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhirpathpy.models import models
from fhirpathpy.parser import parse

_R4 = models["r4"]
_ELSEWHERE: dict[str, str] = _R4["pathsDefinedElsewhere"]
_CHOICES: dict[str, list[str]] = _R4["choiceTypePaths"]
_PATH2TYPE: dict[str, str] = _R4["path2Type"]
_TYPE2PARENT: dict[str, str] = _R4["type2Parent"]

Node = tuple[Any, str | None]  # a JSON value and its FHIR type path; None: a bare value
Collection = list[Node]
Compiled = Callable[[Collection, "Env"], Collection]
AstNode = dict[str, Any]


class Defer(Exception):
    """Outside what is evaluated here exactly as fhirpathpy would: let fhirpathpy do it."""


@dataclass(frozen=True, slots=True)
class UserFunction:
    """A function fhirpathpy gets in its `userInvocationTable`: called with the input values
    (and a string argument when `takes_string`), returning a list of values."""

    function: Callable[..., list[Any]]
    takes_string: bool = False


@dataclass(frozen=True, slots=True)
class Env:
    resource: dict[str, Any]  # %resource and %rootResource


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression: `holds(focus, type_path, resource)` as fhirpath.evaluate."""

    run: Compiled

    def holds(self, focus: object, type_path: str, resource: dict[str, Any]) -> bool:
        if isinstance(focus, float):
            raise Defer("a decimal focus")
        typed = isinstance(focus, dict) and "resourceType" not in focus
        result = self.run([(focus, type_path if typed else None)], Env(resource))
        # fhirpathpy's result drops the `_element` companions that hold only extensions
        values = [
            v for v, _ in result if not (isinstance(v, dict) and list(v.keys()) == ["extension"])
        ]
        if len(values) == 1 and isinstance(values[0], bool):
            return values[0]
        return bool(values)


def compile_expression(expression: str, functions: Mapping[str, UserFunction]) -> Expression:
    """The compiled expression; parts outside the subset defer when they are reached."""
    try:
        tree = parse(expression)  # type: ignore[no-untyped-call]
    except Exception:  # the ANTLR parser raises bare Exceptions; fhirpathpy reports it
        return Expression(_defer("fhirpathpy cannot parse it"))
    return Expression(_Compiler(functions).expression(tree["children"][0]))


def _defer(reason: str) -> Compiled:
    def run(_coll: Collection, _env: Env) -> Collection:
        raise Defer(reason)

    return run


# --- values ----------------------------------------------------------------------------------

_TRUE: Collection = [(True, None)]
_FALSE: Collection = [(False, None)]


def _bool(value: bool) -> Collection:
    return _TRUE if value else _FALSE


def _node(value: object, type_path: str) -> Node:
    """fhirpathpy's ResourceNode: a resource's type path is its resourceType."""
    if type(value) is dict and "resourceType" in value:
        return value, _resource_type(value)
    if value is None:
        raise Defer("a null in an array")
    return value, type_path


def _truthy(node: Node) -> bool:
    """How fhirpathpy's where() reads the first result: a ResourceNode object is true."""
    value, path = node
    return True if path is not None else bool(value)


def _is_true(coll: Collection) -> bool:
    return len(coll) == 1 and coll[0][0] == True  # noqa: E712 -- fhirpathpy's is_true


def _string_singleton(coll: Collection) -> str:
    if len(coll) != 1 or not isinstance(coll[0][0], str):
        raise Defer("fhirpathpy expects one string")
    value: str = coll[0][0]
    return value


def _integer(value: object) -> int:
    if type(value) is not int:
        raise Defer("not an integer")
    return value


# --- navigation ------------------------------------------------------------------------------


def _plan(path: str | None, key: str) -> tuple[str, tuple[str, ...], str]:
    """fhirpathpy's child path of `key` under `path`: the path, the types of a choice
    element, and the type path of a value (for a choice: add the type's suffix)."""
    child = f"{path}.{key}" if path else f"_.{key}"
    child = _ELSEWHERE.get(child, child)
    types = tuple(_CHOICES.get(child) or ())
    if not types and key == "extension":
        child = "Extension"
    return child, types, _PATH2TYPE.get(child, child)


def _resource_type(data: dict[str, Any]) -> str:
    resource_type = data["resourceType"]
    if not isinstance(resource_type, str):
        raise Defer("a resourceType that is not a string")
    return resource_type


_TYPE_ORDER: dict[tuple[str, ...], dict[str, int]] = {}


def _choice(
    data: dict[str, Any], key: str, child: str, types: tuple[str, ...]
) -> tuple[object, object, str]:
    """A choice element's value and companion: fhirpathpy takes the first of its types (in
    the model's order) with a value or a companion. Only the object's own keys are looked
    at: `Extension.value` has fifty types."""
    order = _TYPE_ORDER.get(types)
    if order is None:
        order = _TYPE_ORDER[types] = {suffix: index for index, suffix in enumerate(types)}
    chosen: str | None = None
    for name, present in data.items():
        if present is None:
            continue
        bare = name[1:] if name[:1] == "_" else name
        if not bare.startswith(key):
            continue
        suffix = bare[len(key) :]
        if suffix in order and (chosen is None or order[suffix] < order[chosen]):
            chosen = suffix
    if chosen is None:
        return None, None, child
    return (
        data.get(key + chosen),
        data.get(f"_{key}{chosen}"),
        _PATH2TYPE.get(child + chosen, child + chosen),
    )


def _add(out: Collection, value: object, type_path: str) -> None:
    if value is None:
        return
    if type(value) is list:
        for item in value:
            out.append(_node(item, type_path))
    else:
        out.append(_node(value, type_path))


def _member(key: str) -> Compiled:
    capitalised = key[:1] == key[:1].upper() and key[:1] != ""
    companion_key = f"_{key}"
    plans: dict[str | None, tuple[str, tuple[str, ...], str]] = {}

    def navigate(coll: Collection) -> Collection:
        out: Collection = []
        for data, path in coll:
            if type(data) is not dict:
                if key == "length":
                    raise Defer("length of a primitive")
                continue
            parent = _resource_type(data) if "resourceType" in data else path
            plan = plans.get(parent)
            if plan is None:
                plan = plans[parent] = _plan(parent, key)
            child, types, type_path = plan
            if types:
                value, companion, type_path = _choice(data, key, child, types)
            else:
                value, companion = data.get(key), data.get(companion_key)
            _add(out, value, type_path)
            _add(out, companion, type_path)
        return out

    def run(coll: Collection, _env: Env) -> Collection:
        if capitalised:  # fhirpathpy first reads `Patient.` as a filter on bare resources
            filtered: Collection = []
            for data, path in coll:
                if path is not None or type(data) is not dict:
                    break  # fhirpathpy's TypeError: it navigates instead
                if "resourceType" not in data:
                    raise Defer("a bare object without resourceType")
                if data["resourceType"] == key:
                    filtered.append((data, key))
            else:
                return filtered
        return navigate(coll)

    return run


# --- types -----------------------------------------------------------------------------------

_SYSTEM_NAMES: dict[type, str] = {
    bool: "Boolean",
    int: "Integer",
    float: "Decimal",
    Decimal: "Decimal",
    str: "String",
    dict: "Object",
}


def _type_spec(text: str) -> tuple[str | None, str]:
    parts = text.replace("`", "").split(".")
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 1:
        return None, parts[0]
    raise Defer(f"type specifier {text}")


_DESCENDS: dict[tuple[str, str], bool] = {}


def _spec(text: str) -> Callable[[], tuple[str | None, str]]:
    """The type specifier, read once; a malformed one defers when it is used, as
    fhirpathpy fails only then."""
    try:
        parsed = _type_spec(text)
    except Defer as reason:
        problem = reason

        def deferring() -> tuple[str | None, str]:
            raise Defer(str(problem))

        return deferring
    return lambda: parsed


def _descends(name: str, ancestor: str) -> bool:
    found = _DESCENDS.get((name, ancestor))
    if found is None:
        found = _DESCENDS[(name, ancestor)] = _walk_up(name, ancestor)
    return found


def _walk_up(name: str, ancestor: str) -> bool:
    current: str | None = name
    for _ in range(64):
        if not current:
            return False
        if current == ancestor:
            return True
        current = _TYPE2PARENT.get(current) or _PATH2TYPE.get(current)
    raise Defer("a type hierarchy without end")


def _is(node: Node, spec: tuple[str | None, str]) -> bool:
    data, path = node
    if path is None:
        namespace, name = "System", _SYSTEM_NAMES.get(type(data))
        if name is None:
            raise Defer(f"type of {type(data).__name__}")
    elif path.startswith("System."):
        namespace, name = "System", path[len("System.") :]
    elif "." not in path:
        namespace, name = "FHIR", path
    else:
        raise Defer("the type of a backbone element depends on fhirpathpy's global model")
    other_namespace, other_name = spec
    if other_namespace and namespace != other_namespace:
        return False
    if namespace == "FHIR" and name != other_name and _descends(name, other_name):
        raise Defer("a subtype test depends on fhirpathpy's global model")
    return name == other_name


# --- operators -------------------------------------------------------------------------------

_EMPTY = None  # an operand of a boolean operator that is the empty collection


def _boolean_operand(coll: Collection) -> bool | None:
    if not coll:
        return _EMPTY
    if len(coll) > 1 or not isinstance(coll[0][0], bool):
        raise Defer("fhirpathpy expects a boolean")
    value: bool = coll[0][0]
    return value


def _or(a: bool | None, b: bool | None) -> Collection:
    if b is None:
        return _TRUE if a is True else []
    if a is None:
        return _TRUE if b is True else []
    return _bool(a or b)


def _and(a: bool | None, b: bool | None) -> Collection:
    if b is None:
        return _FALSE if a is False else []
    if a is None:
        return [] if b is True else _FALSE
    return _bool(a and b)


def _xor(a: bool | None, b: bool | None) -> Collection:
    if a is None or b is None:
        return []
    return _bool(a != b)


def _implies(a: bool | None, b: bool | None) -> Collection:
    if b is None:
        return _TRUE if a is False else []
    if a is None:
        return _TRUE if b is True else []
    return _bool(not a or b)


_LOGIC = {"or": _or, "and": _and, "xor": _xor, "implies": _implies}


def _equal(a: Collection, b: Collection) -> bool:
    if len(a) != len(b):
        return False
    if len(a) > 1:
        raise Defer("fhirpathpy compares only the first items of collections")
    (x, x_path), (y, y_path) = a[0], b[0]
    if x_path == "Quantity" or y_path == "Quantity":
        raise Defer("fhirpathpy compares quantities by unit")
    return bool(x == y)


def _number(coll: Collection) -> int | None:
    """An operand of * or mod; None when empty. fhirpathpy checks each operand before it
    looks for an empty one."""
    if not coll:
        return None
    if len(coll) > 1:
        raise Defer("fhirpathpy expects one number")
    return _integer(coll[0][0])


def _arithmetic_operand(coll: Collection) -> int | str:
    if len(coll) != 1:
        raise Defer("fhirpathpy expects one value")
    value, path = coll[0]
    if path in ("date", "dateTime", "time") or not (type(value) is int or isinstance(value, str)):
        raise Defer("arithmetic on other than integers and strings")
    result: int | str = value
    return result


def _plus(a: Collection, b: Collection) -> Collection:
    x, y = _arithmetic_operand(a), _arithmetic_operand(b)
    if isinstance(x, str) and isinstance(y, str):
        return [(x + y, None)]
    if isinstance(x, int) and isinstance(y, int):
        return [(x + y, None)]
    raise Defer("+ of a string and a number")


def _minus(a: Collection, b: Collection) -> Collection:
    x, y = _arithmetic_operand(a), _arithmetic_operand(b)
    if isinstance(x, int) and isinstance(y, int):
        return [(x - y, None)]
    raise Defer("- of strings")


def _times(a: Collection, b: Collection) -> Collection:
    x, y = _number(a), _number(b)
    return [] if x is None or y is None else [(x * y, None)]


def _mod(a: Collection, b: Collection) -> Collection:
    x, y = _number(a), _number(b)
    return [] if x is None or y is None or y == 0 else [(x % y, None)]


def _compare(op: str) -> Callable[[Collection, Collection], Collection]:
    order: Callable[[Any, Any], bool] = {
        "<": operator.lt,
        ">": operator.gt,
        "<=": operator.le,
        ">=": operator.ge,
    }[op]

    def compare(a: Collection, b: Collection) -> Collection:
        if len(a) != 1 or len(b) != 1:
            raise Defer("fhirpathpy compares single values")
        x, y = a[0][0], b[0][0]
        if (type(x) is int and type(y) is int) or (isinstance(x, str) and isinstance(y, str)):
            return _bool(order(x, y))
        raise Defer("comparison of other than integers or strings")

    return compare


def _amp_operand(coll: Collection) -> str:
    if not coll:
        return ""
    return _string_singleton(coll)


# --- the compiler ----------------------------------------------------------------------------


def _identifier(node: AstNode) -> str:
    text: str = node.get("text") or ""
    return re.sub(r'(^"|"$)', "", text)


def _string_literal(text: str) -> str:
    """fhirpathpy's unescaping of a string literal."""
    value = re.sub(r"^['\"]|['\"]$", "", text)
    for escaped, plain in (
        ("\\'", "'"),
        ("\\`", "`"),
        ('\\"', '"'),
        ("\\r", "\r"),
        ("\\n", "\n"),
        ("\\t", "\t"),
        ("\\f", "\f"),
        ("\\\\", "\\"),
    ):
        value = value.replace(escaped, plain)
    return re.sub(r"\\(u\d{4})", lambda m: chr(int(m.group(1)[1:], 16)), value)


def _literal(node: AstNode) -> object:
    """The value of a literal argument (a string or an integer), else Defer's marker."""
    while node.get("type") in ("TermExpression", "LiteralTerm") and node.get("children"):
        node = node["children"][0]
    if node.get("type") == "StringLiteral":
        return _string_literal(str(node["text"]))
    if node.get("type") == "NumberLiteral":
        number = Decimal(str(node["text"]))
        if number == int(number):
            return int(number)
    return _NOT_LITERAL


_NOT_LITERAL = object()


class _Compiler:
    def __init__(self, functions: Mapping[str, UserFunction]) -> None:
        self.functions = functions

    def expression(self, node: AstNode) -> Compiled:  # noqa: PLR0911 -- one case per node type
        kind = node.get("type")
        children: list[AstNode] = node.get("children") or []
        if kind == "TermExpression":
            return self.term(children[0])
        if kind == "InvocationExpression":
            return self.chain(self.expression(children[0]), self.invocation(children[1]))
        if kind == "IndexerExpression":
            return self.indexer(self.expression(children[0]), _literal(children[1]))
        operator = (node.get("terminalNodeText") or [""])[0]
        if kind in ("AndExpression", "OrExpression", "XorExpression", "ImpliesExpression"):
            return self.logic(operator, children)
        if kind == "EqualityExpression" and operator in ("=", "!="):
            return self.equality(operator, children)
        if kind == "TypeExpression" and operator == "is":
            return self.is_operator(children)
        if kind == "MultiplicativeExpression" and operator in ("*", "mod"):
            return self.binary(_times if operator == "*" else _mod, children)
        binary = self.binary_operator(kind, operator)
        if binary is not None:
            return self.nullable_binary(binary, children)
        if kind == "AdditiveExpression" and operator == "&":
            return self.concatenation(children)
        return _defer(f"{kind} {operator}")

    @staticmethod
    def binary_operator(
        kind: object, operator: str
    ) -> Callable[[Collection, Collection], Collection] | None:
        if kind == "AdditiveExpression":
            return {"+": _plus, "-": _minus}.get(operator)
        if kind == "InequalityExpression" and operator in ("<", ">", "<=", ">="):
            return _compare(operator)
        return None

    def term(self, node: AstNode) -> Compiled:
        kind = node.get("type")
        children: list[AstNode] = node.get("children") or []
        if kind == "InvocationTerm":
            return self.invocation(children[0])
        if kind == "ParenthesizedTerm":
            return self.expression(children[0])
        if kind == "LiteralTerm":
            return self.literal(children[0])
        if kind == "ExternalConstantTerm":
            constant = children[0]["children"][0]
            name = _identifier(constant).replace("`", "")
            if constant.get("type") == "Identifier" and name in ("resource", "rootResource"):
                return lambda _coll, env: [(env.resource, None)]
            return _defer(f"%{name}")
        return _defer(str(kind))

    @staticmethod
    def literal(node: AstNode) -> Compiled:
        kind = node.get("type")
        text = str(node.get("text"))
        value: Any
        if kind == "StringLiteral":
            value = _string_literal(text)
        elif kind == "BooleanLiteral":
            value = text == "true"
        elif kind == "NumberLiteral":
            number = Decimal(text)
            if number != int(number):
                return _defer("a decimal literal")
            value = int(number)
        elif kind == "NullLiteral":
            return lambda _coll, _env: []
        else:
            return _defer(str(kind))
        constant: Collection = [(value, None)]
        return lambda _coll, _env: list(constant)

    def invocation(self, node: AstNode) -> Compiled:
        kind = node.get("type")
        if kind == "MemberInvocation":
            return _member(_identifier(node["children"][0]).replace("`", ""))
        if kind == "FunctionInvocation":
            function = node["children"][0]
            parts: list[AstNode] = function.get("children") or []
            name = _identifier(parts[0])
            params: list[AstNode] = (parts[1].get("children") or []) if len(parts) > 1 else []
            return self.function(name, params)
        return _defer(str(kind))

    @staticmethod
    def chain(first: Compiled, then: Compiled) -> Compiled:
        return lambda coll, env: then(first(coll, env), env)

    @staticmethod
    def indexer(collection: Compiled, index: object) -> Compiled:
        if type(index) is not int:
            return _defer("an index that is not an integer literal")
        position: int = index

        def run(coll: Collection, env: Env) -> Collection:
            items = collection(coll, env)
            return [items[position]] if 0 <= position < len(items) else []

        return run

    def logic(self, operator: str, children: list[AstNode]) -> Compiled:
        combine = _LOGIC.get(operator)
        if combine is None:
            return _defer(operator)
        left, right = self.expression(children[0]), self.expression(children[1])

        def run(coll: Collection, env: Env) -> Collection:
            a = _boolean_operand(left(coll, env))
            b = _boolean_operand(right(coll, env))  # fhirpathpy evaluates both sides
            return combine(a, b)

        return run

    def equality(self, operator: str, children: list[AstNode]) -> Compiled:
        left, right = self.expression(children[0]), self.expression(children[1])
        negate = operator == "!="

        def run(coll: Collection, env: Env) -> Collection:
            a, b = left(coll, env), right(coll, env)
            if not a or not b:
                return []
            return _bool(_equal(a, b) != negate)

        return run

    def nullable_binary(
        self, operation: Callable[[Collection, Collection], Collection], children: list[AstNode]
    ) -> Compiled:
        left, right = self.expression(children[0]), self.expression(children[1])

        def run(coll: Collection, env: Env) -> Collection:
            a, b = left(coll, env), right(coll, env)
            if not a or not b:
                return []
            return operation(a, b)

        return run

    def binary(
        self, operation: Callable[[Collection, Collection], Collection], children: list[AstNode]
    ) -> Compiled:
        left, right = self.expression(children[0]), self.expression(children[1])
        return lambda coll, env: operation(left(coll, env), right(coll, env))

    def concatenation(self, children: list[AstNode]) -> Compiled:
        left, right = self.expression(children[0]), self.expression(children[1])

        def run(coll: Collection, env: Env) -> Collection:
            a, b = _amp_operand(left(coll, env)), _amp_operand(right(coll, env))
            return [(a + b, None)]

        return run

    def is_operator(self, children: list[AstNode]) -> Compiled:
        left = self.expression(children[0])
        spec = _spec(str(children[1].get("text")))

        def run(coll: Collection, env: Env) -> Collection:
            return self.is_function(left(coll, env), spec())

        return run

    @staticmethod
    def is_function(items: Collection, spec: tuple[str | None, str]) -> Collection:
        if not items:
            return []
        if len(items) > 1:
            raise Defer("is() of a collection")
        return _bool(_is(items[0], spec))

    # --- functions ---------------------------------------------------------------------------

    def function(self, name: str, params: list[AstNode]) -> Compiled:
        if name in self.functions:
            return self.user_function(self.functions[name], params)
        if name == "trace":
            params = params[:1]  # fhirpathpy passes trace() its label only
        build = _FUNCTIONS.get((name, len(params)))
        if build is None:
            return _defer(f"{name}() with {len(params)} argument(s)")
        return build(self, params)

    def user_function(self, user: UserFunction, params: list[AstNode]) -> Compiled:
        function = user.function
        if not user.takes_string:
            if params:
                return _defer("arguments to a function that takes none")
            return lambda coll, _env: [(v, None) for v in function([d for d, _ in coll])]
        argument = _literal(params[0]) if len(params) == 1 else _NOT_LITERAL
        if not isinstance(argument, str):
            return _defer("a function argument that is not a string literal")
        return lambda coll, _env: [(v, None) for v in function([d for d, _ in coll], argument)]

    def criterion(self, params: list[AstNode]) -> Compiled:
        return self.expression(params[0])

    def where(self, params: list[AstNode]) -> Compiled:
        criterion = self.criterion(params)

        def run(coll: Collection, env: Env) -> Collection:
            kept = []
            for item in coll:
                result = criterion([item], env)
                if result and _truthy(result[0]):
                    kept.append(item)
            return kept

        return run

    def exists_where(self, params: list[AstNode]) -> Compiled:
        where = self.where(params)
        return lambda coll, env: _bool(bool(where(coll, env)))

    def select(self, params: list[AstNode]) -> Compiled:
        criterion = self.criterion(params)

        def run(coll: Collection, env: Env) -> Collection:
            selected: Collection = []
            for item in coll:
                selected.extend(criterion([item], env))
            return selected

        return run

    def all(self, params: list[AstNode]) -> Compiled:
        criterion = self.criterion(params)

        def run(coll: Collection, env: Env) -> Collection:
            for item in coll:
                if not _is_true(criterion([item], env)):
                    return _FALSE
            return _TRUE

        return run

    def iif(self, params: list[AstNode]) -> Compiled:
        condition, then = self.expression(params[0]), self.expression(params[1])
        otherwise = self.expression(params[2]) if len(params) == 3 else None

        def run(coll: Collection, env: Env) -> Collection:
            if _is_true(condition(coll, env)):
                return then(coll, env)
            return otherwise(coll, env) if otherwise is not None else []

        return run

    def of_type(self, params: list[AstNode]) -> Compiled:
        spec = _spec(str(params[0].get("text")))

        def run(coll: Collection, _env: Env) -> Collection:
            wanted = spec()
            return [n for n in coll if _is(n, wanted)]

        return run

    def is_call(self, params: list[AstNode]) -> Compiled:
        spec = _spec(str(params[0].get("text")))
        return lambda coll, _env: self.is_function(coll, spec())

    def trace(self, params: list[AstNode]) -> Compiled:
        if params and not isinstance(_literal(params[0]), str):
            return _defer("a trace label that is not a string literal")
        return lambda coll, _env: coll

    @staticmethod
    def string_function(params: list[AstNode], apply: Callable[[str, str], Collection]) -> Compiled:
        argument = _literal(params[0])
        if not isinstance(argument, str):
            return _defer("an argument that is not a string literal")

        def run(coll: Collection, _env: Env) -> Collection:
            if not coll:
                return []  # fhirpathpy: nullable input
            return apply(_string_singleton(coll), argument)

        return run

    def starts_with(self, params: list[AstNode]) -> Compiled:
        return self.string_function(
            params, lambda s, prefix: _bool(bool(s) and s.startswith(prefix))
        )

    def contains(self, params: list[AstNode]) -> Compiled:
        return self.string_function(params, lambda s, part: _bool(part in s))

    def matches(self, params: list[AstNode]) -> Compiled:
        argument = _literal(params[0])
        if not isinstance(argument, str):
            return _defer("a pattern that is not a string literal")
        if not argument:
            return lambda _coll, _env: []
        try:
            pattern = re.compile(argument, re.DOTALL)
        except re.error:
            return _defer("a pattern Python cannot compile")

        def run(coll: Collection, _env: Env) -> Collection:
            if not coll:
                return []
            return _bool(pattern.search(_string_singleton(coll)) is not None)

        return run

    def substring(self, params: list[AstNode]) -> Compiled:
        start = _literal(params[0])
        length = _literal(params[1]) if len(params) == 2 else None
        if type(start) is not int or (length is not None and type(length) is not int):
            return _defer("substring() bounds that are not integer literals")

        def run(coll: Collection, _env: Env) -> Collection:
            if not coll:
                return []
            string = _string_singleton(coll)
            if start < 0 or start >= len(string):
                return []
            return [(string[start:] if length is None else string[start : start + length], None)]

        return run

    def extension(self, params: list[AstNode]) -> Compiled:
        url = _literal(params[0])
        if not isinstance(url, str):
            return _defer("an extension url that is not a string literal")

        def run(coll: Collection, _env: Env) -> Collection:
            found: Collection = []
            for data, _ in coll:
                if type(data) is not dict:
                    continue
                extensions = data.get("extension", [])
                if type(extensions) is not list or not all(
                    type(e) is dict and "url" in e for e in extensions
                ):
                    raise Defer("malformed extensions")
                matching = [e for e in extensions if e["url"] == url]
                if matching:
                    found.append((matching[0], "Extension"))
            return found

        return run


def _no_arguments(run: Callable[[Collection], Collection]) -> Callable[[_Compiler, Any], Compiled]:
    return lambda _compiler, _params: lambda coll, _env: run(coll)


def _not(coll: Collection) -> Collection:
    if len(coll) != 1:
        return []
    value = coll[0][0]
    return _bool(not value) if isinstance(value, bool) else _FALSE


def _to_integer(coll: Collection) -> Collection:
    if len(coll) != 1:
        return []
    value = coll[0][0]
    if isinstance(value, bool):
        return [(int(value), None)]
    if type(value) is int:
        return [(value, None)]
    if isinstance(value, str):
        return [(int(value), None)] if re.match(r"^[+-]?\d+$", value) else []
    raise Defer("toInteger() of other than a string, integer or boolean")


def _is_distinct(coll: Collection) -> Collection:
    if all(path is None and isinstance(v, str | int) for v, path in coll):
        values = [(type(v), v) for v, _ in coll]  # fhirpathpy: distinct by JSON text
        return _bool(len(values) == len(set(values)))
    raise Defer("isDistinct() of other than strings and integers")


_FUNCTIONS: dict[tuple[str, int], Callable[[_Compiler, list[AstNode]], Compiled]] = {
    ("exists", 0): _no_arguments(lambda coll: _bool(bool(coll))),
    ("exists", 1): _Compiler.exists_where,
    ("empty", 0): _no_arguments(lambda coll: _bool(not coll)),
    ("count", 0): _no_arguments(lambda coll: [(len(coll), None)]),
    ("not", 0): _no_arguments(_not),
    ("first", 0): _no_arguments(lambda coll: coll[:1]),
    ("toInteger", 0): _no_arguments(_to_integer),
    ("isDistinct", 0): _no_arguments(_is_distinct),
    ("where", 1): _Compiler.where,
    ("select", 1): _Compiler.select,
    ("all", 1): _Compiler.all,
    ("iif", 2): _Compiler.iif,
    ("iif", 3): _Compiler.iif,
    ("ofType", 1): _Compiler.of_type,
    ("is", 1): _Compiler.is_call,
    ("trace", 0): _Compiler.trace,
    ("trace", 1): _Compiler.trace,
    ("startsWith", 1): _Compiler.starts_with,
    ("contains", 1): _Compiler.contains,
    ("matches", 1): _Compiler.matches,
    ("substring", 1): _Compiler.substring,
    ("substring", 2): _Compiler.substring,
    ("extension", 1): _Compiler.extension,
}
