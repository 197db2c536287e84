"""A compiler from the FHIRPath used by search parameters to plain Python closures.

Every write indexes the resource with ~30-60 FHIRPath expressions, so a tree-walking interpreter
(``fhirpathpy``) would dominate ingestion time. This compiler handles the subset the R4
SearchParameters use — paths (with choice types), ``|``, ``ofType``/``as``/``is``, ``where`` with
``resolve() is T`` or comparisons, ``exists``/``empty``/``not``/``first``/``last``/``count``,
``[n]``, ``extension(url)``, ``and``/``or``, ``=``/``!=``, ``%resource`` — and falls back to
``fhirpathpy`` (compiled once) for anything else.

The compiled form is a list of :class:`Stream`: closures that each yield values of one known FHIR
type (``Observation.value`` becomes one stream per choice type). The indexer needs those types —
a HumanName is indexed differently from a string — which JSON alone does not carry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from benhan.fhir.fhirpath_model import TypeModel, r4_model, reference_type
from benhan.fhir.fhirpath_parser import Node, parse

Step = Callable[[list[Any], Any], list[Any]]
"""(input collection, root resource) -> output collection."""

_NON_DOMAIN = frozenset({"Bundle", "Binary", "Parameters"})


class Unsupported(Exception):
    """The expression uses FHIRPath this compiler does not implement (-> fhirpathpy)."""


@dataclass(frozen=True, slots=True)
class Stream:
    """Values of one FHIR type (``type`` None = unknown) produced by ``step`` from the input."""

    step: Step
    type: str | None
    path: str | None  # model path to look children up under (a type name or a backbone path)
    keys: tuple[str, ...] | None = None  # set when ``step`` only walks these keys (fused on compile)


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A compiled expression. ``streams`` are for callers that need types; ``evaluate`` for values."""

    expression: str
    streams: tuple[Stream, ...]
    fallback: bool  # True when evaluated by fhirpathpy
    distinct: bool  # the expression is a union: duplicates are removed (FHIRPath ``|``)

    def evaluate(self, resource: Any, root: Any = None) -> list[Any]:
        """The expression's result on ``resource`` (``root`` is %resource, default ``resource``)."""
        if root is None:
            root = resource
        out: list[Any] = []
        for stream in self.streams:
            out.extend(stream.step([resource], root))
        if self.distinct and len(out) > 1:
            unique: list[Any] = []
            for value in out:
                if not any(_equal(value, seen) for seen in unique):
                    unique.append(value)
            return unique
        return out


def _identity(items: list[Any], root: Any) -> list[Any]:
    return items


def _then(first: Step, second: Step) -> Step:
    if first is _identity:
        return second

    def step(items: list[Any], root: Any) -> list[Any]:
        return second(first(items, root), root)

    return step


def _children(items: list[Any], key: str) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item.__class__ is dict:
            value = item.get(key)
            if value is not None:
                if value.__class__ is list:
                    for element in value:
                        if element is not None:
                            out.append(element)
                else:
                    out.append(value)
    return out


def _walk(keys: tuple[str, ...]) -> Step:
    """One step for a chain of member names (``name.given``): fewer calls than one step per name."""
    if len(keys) == 1:
        key = keys[0]

        def one(items: list[Any], root: Any) -> list[Any]:
            if len(items) == 1:  # the common case: one resource or element in, a key out
                item = items[0]
                value = item.get(key) if item.__class__ is dict else None
                if value is None:
                    return []
                if value.__class__ is list:
                    return [element for element in value if element is not None]
                return [value]
            return _children(items, key)

        return one

    def walk(items: list[Any], root: Any) -> list[Any]:
        for key in keys:
            items = _children(items, key)
            if not items:
                break
        return items

    return walk


def _equal(left: Any, right: Any) -> bool:
    """FHIRPath equality of two JSON values: no bool/number confusion, numbers by value."""
    left_bool, right_bool = left.__class__ is bool, right.__class__ is bool
    if left_bool or right_bool:
        return left_bool and right_bool and left == right
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return Decimal(str(left)) == Decimal(str(right))
    return bool(left.__class__ is right.__class__ and left == right)


def _python_type(value: Any) -> str | None:
    if value.__class__ is bool:
        return "boolean"
    if value.__class__ is int:
        return "integer"
    if value.__class__ in (float, Decimal):
        return "decimal"
    if value.__class__ is str:
        return "string"
    if value.__class__ is dict:
        return value.get("resourceType")
    return None


def _singleton_bool(values: list[Any]) -> bool | None:
    """FHIRPath singleton evaluation of a collection as a Boolean (empty -> None).

    Several values are an error in FHIRPath; here they count as empty, so that one odd resource
    cannot make a write fail in the middle of indexing.
    """
    if len(values) != 1:
        return None
    value = values[0]
    return value if value.__class__ is bool else True


class _Compiler:
    def __init__(self, model: TypeModel, resource_type: str | None) -> None:
        self.model = model
        self.resource_type = resource_type
        self.distinct = False

    def compile(self, node: Node, inputs: list[Stream], at_root: bool) -> list[Stream]:
        kind = node[0]
        if kind == "ident":
            return self.member(node[1], inputs, at_root)
        if kind == "dot":
            left = self.compile(node[1], inputs, at_root)
            return self.compile(node[2], left, False)
        if kind == "func":
            return self.function(node[1], node[2], inputs)
        if kind == "lit":
            value = node[1]
            return [Stream(lambda items, root, v=value: [v], _python_type(value), None)]
        if kind == "empty":
            return []
        if kind == "var":
            return self.variable(node[1], inputs)
        if kind == "index":
            return self.index(node[1], node[2], inputs, at_root)
        if kind == "type":
            return self.type_operator(node[1], self.compile(node[2], inputs, at_root), node[3])
        if kind == "op":
            return self.operator(node[1], node[2], node[3], inputs, at_root)
        raise Unsupported(kind)

    # -- navigation ----------------------------------------------------------------------------

    def member(self, name: str, inputs: list[Stream], at_root: bool) -> list[Stream]:
        if at_root and name[0].isupper() and name in self.model.resource_types:
            return [self.type_filter(stream, name) for stream in inputs]
        out: list[Stream] = []
        for stream in inputs:
            for key, fhir_type, path in self.model.children(stream.path, name):
                if stream.keys is not None:
                    keys = (*stream.keys, key)
                    out.append(Stream(_walk(keys), fhir_type, path, keys))
                else:
                    out.append(Stream(_then(stream.step, _walk((key,))), fhir_type, path))
        return out

    def type_filter(self, stream: Stream, name: str) -> Stream:
        """The leading ``Patient`` of ``Patient.name``: keep resources of that type.

        When the context type is known (``base``) the test is made here, once: the caller has
        promised to evaluate only resources of that type.
        """
        if stream.type is not None and stream.keys == ():
            if self.model.is_subtype(stream.type, name):
                return Stream(stream.step, stream.type, stream.path, ())
            return Stream(lambda items, root: [], stream.type, stream.path)
        if name == "Resource":
            def keep(item: Any) -> bool:
                return item.__class__ is dict and "resourceType" in item
        elif name == "DomainResource":
            def keep(item: Any) -> bool:
                return item.__class__ is dict and item.get("resourceType", "Bundle") not in _NON_DOMAIN
        else:
            def keep(item: Any) -> bool:
                return item.__class__ is dict and item.get("resourceType") == name

        def step(items: list[Any], root: Any) -> list[Any]:
            return [item for item in items if keep(item)]

        path = name if name not in ("Resource", "DomainResource") else (self.resource_type or name)
        return Stream(_then(stream.step, step), path, path)

    def variable(self, name: str, inputs: list[Stream]) -> list[Stream]:
        if name in ("%resource", "%rootResource"):
            rtype = self.resource_type
            return [Stream(lambda items, root: [root], rtype, rtype)]
        if name == "$this":
            return inputs
        raise Unsupported(name)

    def index(self, target: Node, index: Node, inputs: list[Stream], at_root: bool) -> list[Stream]:
        if index[0] != "lit" or index[1].__class__ is not int:
            raise Unsupported("computed index")
        return self.slice(self.compile(target, inputs, at_root), index[1], index[1] + 1)

    def slice(self, streams: list[Stream], start: int, stop: int | None) -> list[Stream]:
        """``[n]``, ``first()``, ``last()``: order across several streams is not kept, so refuse."""
        if len(streams) > 1:
            raise Unsupported("positional function over several types")
        if not streams:
            return []
        stream = streams[0]

        def step(items: list[Any], root: Any) -> list[Any]:
            return items[start:stop]

        return [Stream(_then(stream.step, step), stream.type, stream.path)]

    # -- functions -----------------------------------------------------------------------------

    def function(self, name: str, args: tuple[Node, ...], inputs: list[Stream]) -> list[Stream]:
        if name in ("ofType", "as") and len(args) == 1 and args[0][0] == "ident":
            return self.type_operator("as", inputs, args[0][1])
        if name == "is" and len(args) == 1 and args[0][0] == "ident":
            return self.type_operator("is", inputs, args[0][1])
        if name == "where" and len(args) == 1:
            return [self.where(stream, args[0]) for stream in inputs]
        if name == "exists" and len(args) <= 1:
            streams = [self.where(s, args[0]) for s in inputs] if args else inputs
            return [self.aggregate(streams, lambda values: [bool(values)])]
        if name == "empty" and not args:
            return [self.aggregate(inputs, lambda values: [not values])]
        if name == "not" and not args:
            return [self.aggregate(inputs, _not)]
        if name == "count" and not args:
            if len(inputs) > 1:
                raise Unsupported("count over several types")  # a union would need its duplicates removed
            return [self.aggregate(inputs, lambda values: [len(values)], "integer")]
        if name == "first" and not args:
            return self.slice(inputs, 0, 1)
        if name == "last" and not args:
            return self.slice(inputs, -1, None)
        if name == "extension" and len(args) == 1 and args[0][0] == "lit" and args[0][1].__class__ is str:
            return [self.extension(stream, args[0][1]) for stream in inputs]
        if name == "resolve" and not args:
            return [Stream(_then(stream.step, _resolve), "Resource", None) for stream in inputs]
        raise Unsupported(f"{name}()")

    def aggregate(self, streams: list[Stream], combine: Callable[[list[Any]], list[Any]],
                  result_type: str = "boolean") -> Stream:
        steps = [stream.step for stream in streams]

        def step(items: list[Any], root: Any) -> list[Any]:
            values: list[Any] = []
            for part in steps:
                values.extend(part(items, root))
            return combine(values)

        return Stream(step, result_type, None)

    def where(self, stream: Stream, criteria: Node) -> Stream:
        inner = _Compiler(self.model, self.resource_type)
        condition = inner.compile(criteria, [Stream(_identity, stream.type, stream.path, ())], False)
        tests = [part.step for part in condition]

        def step(items: list[Any], root: Any) -> list[Any]:
            out = []
            for item in items:
                single = [item]
                result: list[Any] = []
                for test in tests:
                    result.extend(test(single, root))
                if len(result) == 1 and result[0] is True:
                    out.append(item)
            return out

        return Stream(_then(stream.step, step), stream.type, stream.path)

    def extension(self, stream: Stream, url: str) -> Stream:
        def step(items: list[Any], root: Any) -> list[Any]:
            out = []
            for item in items:
                if item.__class__ is dict:
                    out.extend(
                        ext for ext in item.get("extension") or ()
                        if ext.__class__ is dict and ext.get("url") == url
                    )
            return out

        return Stream(_then(stream.step, step), "Extension", "Extension")

    # -- types and operators -------------------------------------------------------------------

    def type_operator(self, operator: str, streams: list[Stream], type_name: str) -> list[Stream]:
        name = type_name.removeprefix("FHIR.").removeprefix("System.")
        if not self.model.is_type_name(name):
            raise Unsupported(f"unknown type {type_name}")
        kept: list[Stream] = []
        for stream in streams:
            if stream.type is not None and stream.type != "Resource":
                if self.model.is_subtype(stream.type, name):
                    kept.append(stream)
                continue

            def step(items: list[Any], root: Any, name: str = name) -> list[Any]:
                return [item for item in items if self.model.is_subtype(_python_type(item), name)]

            kept.append(Stream(_then(stream.step, step), stream.type, stream.path))
        if operator == "as":
            return kept
        # ``x is T``: a Boolean for a single input item, empty for none.
        everything = self.aggregate(streams, lambda values: values)
        typed = self.aggregate(kept, lambda values: values)

        def check(items: list[Any], root: Any) -> list[Any]:
            values = everything.step(items, root)
            if len(values) != 1:  # several values: an error in FHIRPath, empty here (see _singleton_bool)
                return []
            return [len(typed.step(items, root)) == 1]

        return [Stream(check, "boolean", None)]

    def operator(self, symbol: str, left: Node, right: Node, inputs: list[Stream],
                 at_root: bool) -> list[Stream]:
        if symbol == "|":
            self.distinct = True
            return self.compile(left, inputs, at_root) + self.compile(right, inputs, at_root)
        left_streams = self.compile(left, inputs, at_root)
        right_streams = self.compile(right, inputs, at_root)
        left_all = self.aggregate(left_streams, lambda values: values).step
        right_all = self.aggregate(right_streams, lambda values: values).step
        if symbol in ("=", "!="):
            negate = symbol == "!="

            def compare(items: list[Any], root: Any) -> list[Any]:
                a, b = left_all(items, root), right_all(items, root)
                if not a or not b:
                    return []
                same = len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
                return [same != negate]

            return [Stream(compare, "boolean", None)]
        if symbol in ("and", "or", "xor", "implies"):
            logic = _LOGIC[symbol]

            def combine(items: list[Any], root: Any) -> list[Any]:
                result = logic(_singleton_bool(left_all(items, root)), _singleton_bool(right_all(items, root)))
                return [] if result is None else [result]

            return [Stream(combine, "boolean", None)]
        raise Unsupported(symbol)


def _not(values: list[Any]) -> list[Any]:
    value = _singleton_bool(values)
    return [] if value is None else [not value]


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _xor(a: bool | None, b: bool | None) -> bool | None:
    return None if a is None or b is None else a != b


def _implies(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is True:
        return True
    return None if a is None or b is None else False


_LOGIC = {"and": _and, "or": _or, "xor": _xor, "implies": _implies}


def _resolve(items: list[Any], root: Any) -> list[Any]:
    """References -> stand-ins carrying only the target's type (enough for ``resolve() is T``).

    No database is at hand while indexing; the type comes from the reference itself (``Type/id``,
    a contained ``#id``, or ``Reference.type``), as in :func:`reference_type`.
    """
    out: list[Any] = []
    for item in items:
        target = reference_type(item, root)
        if target is not None:
            out.append({"resourceType": target})
    return out


def _fallback(expression: str, base: str | None) -> Stream:
    """Evaluate with fhirpathpy (compiled once), for what the compiler cannot handle."""
    from benhan.fhir.fhirpath_fallback import fhirpathpy_step

    return Stream(fhirpathpy_step(expression, base), None, None)


@lru_cache(maxsize=8192)
def compile_path(expression: str, base: str | None = None) -> CompiledPath:
    """Compile ``expression`` for evaluation on a resource (or, with ``base``, on an element).

    ``base`` is the model path of the context: a resource type (``Observation``) or a backbone
    path (``Observation.component``); relative expressions such as composite components need it
    to know choice types. Expressions that do not compile fall back to fhirpathpy.
    """
    model = r4_model()
    root_type = base.split(".", 1)[0] if base else None
    compiler = _Compiler(model, root_type if root_type in model.resource_types else None)
    try:
        tree = parse(expression)
        base_type = "BackboneElement" if base and "." in base else base
        streams = compiler.compile(tree, [Stream(_identity, base_type, base, ())], True)
    except Unsupported:
        return CompiledPath(expression, (_fallback(expression, base),), True, False)
    return CompiledPath(expression, tuple(streams), False, compiler.distinct)
