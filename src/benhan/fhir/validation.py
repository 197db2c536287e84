"""Validation of every FHIR write against the official R4 structure definitions.

Checks what the StructureDefinitions say about JSON shape: known elements, JSON types, primitive
formats (the spec's regexes, plus real calendar dates), cardinality, required bindings, the
``_element`` sibling convention, contained resources and Bundle entries. FHIRPath invariants other
than ``ele-1``, ``ext-1``, ``dom-2`` and ``dom-4`` are out of scope: running a FHIRPath engine per
write would cost far more than the whole ingest budget.

Why it is built this way: validation sits on the ingest path (2,000 resources/s on two cores
*including* indexing and SQL), so the definitions are compiled once into plain dict lookups
(:class:`_Node`/:class:`_Prop`) and the walk allocates little beyond the paths of complex children.
Status 400 is for structure (unknown element, wrong JSON type, malformed or empty value), 422 for
rule violations (cardinality, required binding, invariants); 400 wins when both occur.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from benhan.fhir import definitions
from benhan.fhir.errors import FhirError, Issue

__all__ = ["prepare", "validate_resource"]

STRUCTURE = 400  # cannot be parsed as FHIR: unknown element, wrong type, malformed value
RULE = 422  # well-formed but breaks a rule: cardinality, required binding, invariant

_PRIMITIVE, _COMPLEX, _RESOURCE = 0, 1, 2
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_ANY_TEXT = "[ \\r\\n\\t\\S]+"  # string/markdown: under XML Schema regex semantics, any non-empty text
_DATE_TYPES = frozenset({"date", "dateTime", "instant"})
# R4 datatypes: strings SHALL NOT contain code points below 32 other than tab, CR and LF (and PostgreSQL
# cannot store NUL in the index's text columns: such a write was a 500 there).
_control = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]").search
_JSON_KIND_VI = {"object": "đối tượng", "array": "mảng", "string": "chuỗi", "number": "số",
                 "integer": "số nguyên", "boolean": "giá trị logic", "null": "null"}

Check = Callable[[Any], bool]
Found = tuple[int, Issue]


class _Node:
    """An object type (resource, data type or backbone element): its properties and required names."""

    __slots__ = ("is_extension", "is_resource", "props", "required", "value_keys")

    def __init__(self) -> None:
        self.props: dict[str, _Prop] = {}
        self.required: tuple[tuple[str, int, tuple[str, ...]], ...] = ()  # (name, min, JSON keys)
        self.is_resource = False
        self.is_extension = False
        self.value_keys: frozenset[str] = frozenset()  # Extension only: its value[x] keys


_LEAF = _Node()  # shared by primitives and resources, which have no fixed child properties


def _reject(value: Any) -> bool:
    return False


class _Prop:
    """One JSON property of an object: what it may hold and how to check it."""

    __slots__ = ("array", "binding", "check", "choice", "codes", "codings", "key", "kind", "max", "node",
                 "type")

    def __init__(self, key: str, element: definitions.ElementDef, type_code: str) -> None:
        self.key = key
        self.type = type_code
        self.array = element.is_array
        self.max = element.max
        self.choice = element.name if element.is_choice else None
        self.binding = element.binding
        self.kind = _COMPLEX
        self.node = _LEAF  # replaced for complex types
        self.check: Check = _reject  # replaced for primitives
        self.codes: frozenset[str] | None = None  # required binding on a code/uri/string
        self.codings: dict[str, frozenset[str]] | None = None  # required binding on Coding/CodeableConcept


def _date_check(pattern: re.Pattern[str]) -> Check:
    match = pattern.fullmatch

    def check(v: Any) -> bool:
        if type(v) is not str or match(v) is None:
            return False
        if len(v) < 10 or v[8:10] <= "28":
            return True
        return int(v[8:10]) <= calendar.monthrange(int(v[:4]), int(v[5:7]))[1]

    return check


def _primitive_check(prim: definitions.PrimitiveDef) -> Check:
    """A fast yes/no check for one primitive type; :func:`_primitive_issue` explains a 'no'."""
    name = prim.name
    if name == "boolean":
        return lambda v: v is True or v is False
    if prim.json == "integer":
        low = {"positiveInt": 1, "unsignedInt": 0}.get(name, _INT_MIN)
        return lambda v: type(v) is int and low <= v <= _INT_MAX
    if name == "decimal":
        return lambda v: type(v) is int or (type(v) is float and math.isfinite(v))
    if name == "xhtml":  # not parsed: only that it is a <div> element
        start = re.compile(r"[ \t\r\n]*<div[ \t\r\n>/]").match
        return lambda v: (type(v) is str and start(v) is not None
                          and (v.endswith(">") or v.rstrip().endswith(">")))
    if prim.regex is None or prim.regex == _ANY_TEXT:
        limit = prim.max_length or 1 << 62
        return lambda v: type(v) is str and 0 < len(v) <= limit and _control(v) is None
    # The spec's regexes use XML Schema semantics, where \s is only space, tab, CR and LF; re.ASCII
    # comes closest (it adds \f and \v, which FHIR forbids in text anyway).
    pattern = re.compile(prim.regex, re.ASCII)
    if name in _DATE_TYPES:
        return _date_check(pattern)
    match = pattern.fullmatch
    return lambda v: type(v) is str and v != "" and match(v) is not None and _control(v) is None


class _Compiler:
    """Compiles the definitions into :class:`_Node` graphs, one per resource and data type."""

    def __init__(self) -> None:
        self.checks = {name: _primitive_check(p) for name, p in definitions.primitive_types().items()}
        self.nodes: dict[tuple[str, str], _Node] = {}

    def node(self, type_name: str, path: str = "") -> _Node:
        key = (type_name, path)
        node = self.nodes.get(key)
        if node is not None:
            return node
        node = self.nodes[key] = _Node()  # registered first: types are recursive (Extension.extension)
        required: dict[str, tuple[int, list[str]]] = {}
        for json_key, (element, code) in definitions.json_properties(type_name, path).items():
            node.props[json_key] = self.prop(type_name, json_key, element, code)
            if element.min >= 1:
                required.setdefault(element.name, (element.min, []))[1].extend((json_key, "_" + json_key))
        node.required = tuple((name, low, tuple(keys)) for name, (low, keys) in required.items())
        node.is_resource = not path and type_name in definitions.resource_types()
        node.is_extension = not path and type_name == "Extension"
        node.value_keys = frozenset(k for k, p in node.props.items() if p.choice == "value[x]")
        return node

    def prop(self, owner: str, key: str, element: definitions.ElementDef, code: str) -> _Prop:
        prop = _Prop(key, element, code)
        if definitions.has_children(owner, element.path):
            prop.node = self.node(owner, element.content_reference or element.path)
        elif code in self.checks:
            prop.kind, prop.check = _PRIMITIVE, self.checks[code]
        elif code == "Resource":
            prop.kind = _RESOURCE
        else:
            prop.node = self.node(code)
        table = definitions.value_set_codes(element.binding) if element.binding else None
        if table is not None:
            if prop.kind == _PRIMITIVE:
                prop.codes = frozenset().union(*table.values())
            elif code in ("Coding", "CodeableConcept"):
                prop.codings = dict(table)
        return prop


@cache
def _schema() -> tuple[dict[str, _Node], _Node]:
    """Every resource node, compiled eagerly so no thread ever sees a half-built node."""
    compiler = _Compiler()
    resources = {name: compiler.node(name) for name in sorted(definitions.resource_types())}
    for name in definitions.complex_types():
        compiler.node(name)
    return resources, compiler.node("Element")


def prepare() -> None:
    """Compile the definitions now (about 0.15 s) so that the first write does not pay for it."""
    _schema()


def validate_resource(resource: Any, *, resource_type: str | None = None) -> None:
    """Raise :class:`FhirError` listing every problem in ``resource`` (parsed JSON), or return.

    ``resource_type`` is the type the URL names (``PUT /Patient/1``); the body must match it.
    """
    issues: list[Found] = []
    declared = resource.get("resourceType", resource_type) if type(resource) is dict else resource_type
    if resource_type is not None and declared != resource_type:
        issues.append(_issue(STRUCTURE, "invalid", "resourceType",
                             f"resourceType {declared!r} không khớp với {resource_type!r}",
                             f"resourceType {declared!r} does not match {resource_type!r}"))
    else:
        try:
            _check_resource(resource, "", issues, False)
        except RecursionError:  # hostile nesting: answer 400 rather than crash the worker
            issues.append(_issue(STRUCTURE, "structure", None, "Tài nguyên lồng nhau quá sâu",
                                 "Resource is nested too deeply"))
    if issues:
        status = STRUCTURE if any(s == STRUCTURE for s, _ in issues) else RULE
        raise FhirError(status, [issue for _, issue in issues])


def _check_resource(value: Any, path: str, issues: list[Found], contained: bool) -> None:
    """A resource at ``path`` ("" for the one being written, whose paths start with its type)."""
    if type(value) is not dict:
        issues.append(_wrong_type(path or None, "object", value))
        return
    rtype = value.get("resourceType")
    node = _schema()[0].get(rtype) if type(rtype) is str else None
    if node is None:
        where = f"{path}.resourceType" if path else "resourceType"
        if rtype is None:
            issues.append(_issue(STRUCTURE, "required", where, "Thiếu resourceType", "Missing resourceType"))
        else:
            issues.append(_issue(STRUCTURE, "structure", where, f"Loại tài nguyên không xác định: {rtype!r}",
                                 f"Unknown resource type {rtype!r}"))
        return
    _check_object(value, node, path or rtype, issues)
    if contained:
        if "contained" in value:
            issues.append(_issue(RULE, "invariant", f"{path}.contained",
                                 "Tài nguyên contained không được chứa tài nguyên khác (dom-2)",
                                 "A contained resource cannot contain resources (dom-2)"))
        meta = value.get("meta")
        if type(meta) is dict and ("versionId" in meta or "lastUpdated" in meta):
            issues.append(_issue(RULE, "invariant", f"{path}.meta",
                                 "Tài nguyên contained không được có meta.versionId/lastUpdated (dom-4)",
                                 "A contained resource cannot have meta.versionId/lastUpdated (dom-4)"))


def _check_object(obj: dict[str, Any], node: _Node, path: str, issues: list[Found]) -> None:
    props = node.props
    choices: set[str] | None = None
    for key, value in obj.items():
        prop = props.get(key)
        if prop is None:
            if key[:1] == "_":
                base = props.get(key[1:])
                if base is not None and base.kind == _PRIMITIVE:
                    _check_primitive_extension(obj, base, value, path, issues)
                    continue
            if key != "resourceType" or not node.is_resource:
                issues.append(_issue(STRUCTURE, "structure", f"{path}.{key}",
                                     f"Phần tử '{key}' không được định nghĩa trong FHIR R4",
                                     f"Unknown element '{key}'"))
            continue
        if prop.choice is not None:
            if choices is None:
                choices = {prop.choice}
            elif prop.choice in choices:
                issues.append(_too_many(f"{path}.{key}", prop.choice, 1, 2))
            else:
                choices.add(prop.choice)
        if prop.array:
            if type(value) is not list:
                issues.append(_wrong_type(f"{path}.{key}", "array", value))
            elif not value:
                issues.append(_empty(f"{path}.{key}", "array"))
            else:
                if prop.max is not None and len(value) > prop.max:
                    issues.append(_too_many(f"{path}.{key}", key, prop.max, len(value)))
                if prop.kind == _PRIMITIVE:
                    _check_primitive_array(obj, prop, value, path, issues)
                else:
                    for i, item in enumerate(value):
                        _check_complex(item, prop, f"{path}.{key}[{i}]", issues)
            continue
        if prop.kind == _PRIMITIVE:
            if not prop.check(value):
                issues.append(_primitive_issue(f"{path}.{key}", prop.type, value))
            elif prop.codes is not None and value not in prop.codes:
                issues.append(_not_in_value_set(f"{path}.{key}", prop, repr(value)))
        elif type(value) is list:
            issues.append(_wrong_type(f"{path}.{key}", "object", value))
        else:
            _check_complex(value, prop, f"{path}.{key}", issues)
        if prop.max == 0:
            issues.append(_too_many(f"{path}.{key}", key, 0, 1))
    for name, low, keys in node.required:
        for k in keys:
            if k in obj:
                break
        else:
            issues.append(_issue(RULE, "required", f"{path}.{name}",
                                 f"Thiếu phần tử bắt buộc '{name}' (tối thiểu {low})",
                                 f"Missing required element '{name}' (min {low})"))
    if node.is_extension and node.value_keys.isdisjoint(obj) == ("extension" not in obj):
        issues.append(_issue(RULE, "invariant", path,
                             "Extension phải có value[x] hoặc extension con, không được cả hai (ext-1)",
                             "An extension needs either a value[x] or nested extensions, not both (ext-1)"))


def _check_complex(value: Any, prop: _Prop, path: str, issues: list[Found]) -> None:
    if prop.kind == _RESOURCE:
        _check_resource(value, path, issues, prop.key == "contained")
    elif type(value) is not dict:
        issues.append(_wrong_type(path, "object", value))
    elif not value:
        issues.append(_empty(path, "object"))
    else:
        _check_object(value, prop.node, path, issues)
        if prop.codings is not None:
            _check_codings(value, prop, path, issues)


def _check_primitive_array(obj: dict[str, Any], prop: _Prop, values: list[Any], path: str,
                           issues: list[Found]) -> None:
    check, codes, key = prop.check, prop.codes, prop.key
    extensions = obj.get("_" + key)
    for i, v in enumerate(values):
        if v is None:  # allowed only where the aligned _key entry carries extensions
            if type(extensions) is not list or i >= len(extensions) or extensions[i] is None:
                issues.append(_wrong_type(f"{path}.{key}[{i}]", _expected_kind(prop.type), v))
        elif not check(v):
            issues.append(_primitive_issue(f"{path}.{key}[{i}]", prop.type, v))
        elif codes is not None and v not in codes:
            issues.append(_not_in_value_set(f"{path}.{key}[{i}]", prop, repr(v)))


def _check_primitive_extension(obj: dict[str, Any], prop: _Prop, value: Any, path: str,
                               issues: list[Found]) -> None:
    """``_birthDate`` / ``_given``: the id and extensions of a primitive, aligned with its values."""
    element_node = _schema()[1]
    where = f"{path}.{prop.key}"
    if not prop.array:
        if type(value) is not dict:
            issues.append(_wrong_type(f"{path}._{prop.key}", "object", value))
        elif not value:
            issues.append(_empty(f"{path}._{prop.key}", "object"))
        else:
            _check_object(value, element_node, where, issues)
        return
    if type(value) is not list:
        issues.append(_wrong_type(f"{path}._{prop.key}", "array", value))
        return
    values = obj.get(prop.key)
    if type(values) is list and len(values) != len(value):
        issues.append(_issue(STRUCTURE, "structure", f"{path}._{prop.key}",
                             f"'_{prop.key}' phải có cùng số phần tử với '{prop.key}' ({len(values)})",
                             f"'_{prop.key}' must have as many items as '{prop.key}' ({len(values)})"))
    elif not value:
        issues.append(_empty(f"{path}._{prop.key}", "array"))
    for i, item in enumerate(value):
        if item is None:
            if type(values) is not list:
                issues.append(_wrong_type(f"{path}._{prop.key}[{i}]", "object", item))
        elif type(item) is not dict:
            issues.append(_wrong_type(f"{path}._{prop.key}[{i}]", "object", item))
        elif not item:
            issues.append(_empty(f"{path}._{prop.key}[{i}]", "object"))
        else:
            _check_object(item, element_node, f"{where}[{i}]", issues)


def _coding_in(coding: Any, table: dict[str, frozenset[str]]) -> bool:
    if type(coding) is not dict:
        return False
    code, system = coding.get("code"), coding.get("system")
    if type(code) is not str:
        return False
    if system is None:
        return any(code in codes for codes in table.values())
    codes = table.get(system)
    return codes is not None and code in codes


def _check_codings(value: dict[str, Any], prop: _Prop, path: str, issues: list[Found]) -> None:
    table = prop.codings
    assert table is not None
    codings = [value] if prop.type == "Coding" else value.get("coding")
    if type(codings) is list and any(_coding_in(c, table) for c in codings):
        return
    shown = ", ".join(f"{c.get('system', '')}|{c.get('code', '')}" for c in codings or [] if type(c) is dict)
    issues.append(_not_in_value_set(path, prop, shown or "∅"))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number"}.get(type(value), type(value).__name__)


def _expected_kind(type_code: str) -> str:
    prim = definitions.primitive_types().get(type_code)
    return prim.json if prim is not None else "object"


def _issue(status: int, code: str, path: str | None, vi: str, en: str) -> Found:
    return (status, Issue(code, vi, en, path))


def _wrong_type(path: str | None, expected: str, value: Any) -> Found:
    got = _json_kind(value)
    return _issue(STRUCTURE, "structure", path,
                  f"Kiểu JSON sai: cần {_JSON_KIND_VI[expected]}, nhận {_JSON_KIND_VI.get(got, got)}",
                  f"Wrong JSON type: expected {expected}, got {got}")


def _empty(path: str, kind: str) -> Found:
    return _issue(STRUCTURE, "structure", path,
                  f"Giá trị rỗng ({_JSON_KIND_VI[kind]}) không hợp lệ trong FHIR JSON",
                  f"Empty {kind} is not allowed in FHIR JSON")


def _primitive_issue(path: str, type_code: str, value: Any) -> Found:
    """Why ``value`` failed the check of primitive ``type_code``: wrong JSON type, empty or malformed."""
    expected, got = _expected_kind(type_code), _json_kind(value)
    if got != expected and not (expected == "integer" and got == "number"):
        return _wrong_type(path, expected, value)
    if value == "":
        return _empty(path, "string")
    if type_code == "xhtml":
        return _issue(STRUCTURE, "value", path, "Narrative.div phải là XHTML bắt đầu bằng <div",
                      "Narrative div must be XHTML starting with <div")
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return _issue(STRUCTURE, "value", path, f"Giá trị {shown} không hợp lệ cho kiểu {type_code}",
                  f"Invalid {type_code} value {shown}")


def _too_many(path: str, name: str, maximum: int, count: int) -> Found:
    return _issue(RULE, "structure", path, f"Quá nhiều giá trị cho '{name}': tối đa {maximum}, có {count}",
                  f"Too many values for '{name}': at most {maximum}, got {count}")


def _not_in_value_set(path: str, prop: _Prop, shown: str) -> Found:
    allowed = sorted(prop.codes if prop.codes is not None else set().union(*(prop.codings or {}).values()))
    hint = f" ({', '.join(allowed)})" if len(allowed) <= 12 else ""
    return _issue(RULE, "code-invalid", path,
                  f"Mã {shown} không thuộc tập giá trị bắt buộc {prop.binding}{hint}",
                  f"Code {shown} is not in the required value set {prop.binding}{hint}")
