"""The FHIR R4 (4.0.1) structure definitions the product carries, as a small typed API.

Loaded once from ``definitions/structure.json.gz`` (built by ``tools/build_structure_definitions.py``
from the official HL7 bundles; see ``definitions/SOURCE.md``). Everything here is read-only and
cached, so callers on the request path (validation, ``_summary``, ``_elements``, the
CapabilityStatement) pay for the file once per process.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFINITIONS_FILE = Path(__file__).with_name("definitions") / "structure.json.gz"
FHIR_VERSION = "4.0.1"
#: Complex types used through a profile (SimpleQuantity) are written in JSON as their base type.
_CONSTRAINED_JSON_TYPE = {"SimpleQuantity": "Quantity", "MoneyQuantity": "Quantity"}


@dataclass(frozen=True, slots=True)
class ElementDef:
    """One element of a resource or data type, as defined by its StructureDefinition."""

    path: str  # relative to the type: "name", "contact.name", "value[x]"
    types: tuple[str, ...]  # FHIR type codes; () when the element reuses another (content_reference)
    min: int
    max: int | None  # None means "*"
    summary: bool = False
    modifier: bool = False
    binding: str | None = None  # ValueSet URL of a *required* binding
    content_reference: str | None = None  # relative path whose definition this element reuses

    @property
    def name(self) -> str:
        """The element name as in the definition, e.g. ``value[x]``."""
        return self.path.rpartition(".")[2]

    @property
    def is_array(self) -> bool:
        """Whether JSON holds this element as an array (max is ``*`` or above 1)."""
        return self.max is None or self.max > 1

    @property
    def is_choice(self) -> bool:
        return self.path.endswith("[x]")


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A resource or complex data type: its elements keyed by relative path."""

    name: str
    kind: str  # "resource" | "complex-type"
    abstract: bool
    constrains: str | None  # for SimpleQuantity etc.: the type it is a profile of
    elements: Mapping[str, ElementDef]


@dataclass(frozen=True, slots=True)
class PrimitiveDef:
    """A primitive type: its JSON representation and the spec's regex (XML Schema dialect)."""

    name: str
    json: str  # "string" | "boolean" | "integer" | "number"
    regex: str | None
    max_length: int | None


@cache
def _raw() -> dict[str, Any]:
    with gzip.open(DEFINITIONS_FILE, "rb") as f:
        data: dict[str, Any] = json.load(f)
    if data.get("fhirVersion") != FHIR_VERSION:
        raise RuntimeError(f"{DEFINITIONS_FILE} is for FHIR {data.get('fhirVersion')}, not {FHIR_VERSION}")
    return data


def _element(raw: dict[str, Any]) -> ElementDef:
    maximum = raw["x"]
    return ElementDef(
        path=raw["p"], types=tuple(raw.get("t", ())), min=raw["n"],
        max=None if maximum == "*" else int(maximum), summary=bool(raw.get("s")),
        modifier=bool(raw.get("m")), binding=raw.get("b"), content_reference=raw.get("r"),
    )


@cache
def _types() -> Mapping[str, TypeDef]:
    out: dict[str, TypeDef] = {}
    for name, raw in _raw()["types"].items():
        elements = {e.path: e for e in map(_element, raw["elements"])}
        out[name] = TypeDef(name, raw["kind"], bool(raw.get("abstract")), raw.get("constrains"),
                            MappingProxyType(elements))
    return MappingProxyType(out)


@cache
def resource_types() -> frozenset[str]:
    """Every concrete R4 resource type (146; not Resource, DomainResource)."""
    return frozenset(t.name for t in _types().values() if t.kind == "resource" and not t.abstract)


def is_resource_type(name: object) -> bool:
    return isinstance(name, str) and name in resource_types()


@cache
def complex_types() -> frozenset[str]:
    """Complex data types, including abstract Element/BackboneElement and the Quantity profiles."""
    return frozenset(t.name for t in _types().values() if t.kind == "complex-type")


@cache
def primitive_types() -> Mapping[str, PrimitiveDef]:
    return MappingProxyType({
        name: PrimitiveDef(name, raw["json"], raw.get("regex"), raw.get("maxLength"))
        for name, raw in _raw()["primitives"].items()
    })


def type_definition(name: str) -> TypeDef:
    """The definition of a resource or complex type; ``KeyError`` if there is none."""
    return _types()[name]


def json_type_name(type_code: str) -> str:
    """How a type is named in a JSON choice suffix (``SimpleQuantity`` is written ``Quantity``)."""
    return _CONSTRAINED_JSON_TYPE.get(type_code, type_code)


def choice_key(element_name: str, type_code: str) -> str:
    """``value[x]`` + ``dateTime`` -> ``valueDateTime``."""
    suffix = json_type_name(type_code)
    return element_name[:-3] + suffix[0].upper() + suffix[1:]


@cache
def json_properties(type_name: str, path: str = "") -> Mapping[str, tuple[ElementDef, str]]:
    """JSON property name -> (element, its single concrete type) for the children of ``path``.

    ``path`` is relative to ``type_name`` ("" for the top level); a ``contentReference`` is
    followed, so ``json_properties("Questionnaire", "item.item")`` lists an item's children.
    """
    typedef = _types()[type_name]
    if path:
        target = typedef.elements[path]
        if target.content_reference:
            return json_properties(type_name, target.content_reference)
    prefix = f"{path}." if path else ""
    out: dict[str, tuple[ElementDef, str]] = {}
    for rel, element in typedef.elements.items():
        if not rel.startswith(prefix) or "." in rel[len(prefix):]:
            continue
        name = element.name
        if element.is_choice:
            for code in element.types:
                out[choice_key(name, code)] = (element, code)
        else:
            out[name] = (element, element.types[0] if element.types else "")
    return MappingProxyType(out)


def has_children(type_name: str, path: str) -> bool:
    """Whether ``path`` in ``type_name`` is an inline (backbone) element with its own children."""
    elements = _types()[type_name].elements
    element = elements.get(path)
    return element is not None and (element.content_reference is not None or f"{path}.id" in elements)


def element_types(type_name: str, path: str) -> tuple[str, ...]:
    """Types of a dotted JSON path, descending into data types: ``("Observation",
    "valueQuantity.value")`` -> ``("decimal",)``; ``()`` if there is no such element."""
    found = resolve(type_name, path)
    if found is None:
        return ()
    if found.content_reference:
        return _types()[type_name].elements[found.content_reference].types
    return found.types


def resolve(type_name: str, path: str) -> ElementDef | None:
    """The element a dotted JSON path leads to (choice names such as ``valueQuantity`` allowed;
    a choice comes back narrowed to the one type its name selects)."""
    owner, inner = type_name, ""
    result: ElementDef | None = None
    for step in path.split("."):
        if owner not in _types():
            return None
        element, code = json_properties(owner, inner).get(step, (None, ""))
        if element is None:
            return None
        result = element
        if has_children(owner, element.path):
            inner = element.content_reference or element.path
            continue
        owner, inner = code, ""
        if element.is_choice:
            parent = element.path.rpartition(".")[0]
            result = ElementDef(f"{parent}.{step}" if parent else step, (code,), element.min, element.max,
                                element.summary, element.modifier, element.binding)
    return result


def _top_level(resource_type: str, wanted: str) -> frozenset[str]:
    if resource_type not in _types():
        raise KeyError(resource_type)
    out: set[str] = set()
    for key, (element, _code) in json_properties(resource_type).items():
        if (wanted == "summary" and element.summary) or (wanted == "mandatory" and element.min >= 1):
            out.add(key)
    return frozenset(out)


@cache
def summary_elements(resource_type: str) -> frozenset[str]:
    """Top-level JSON names marked isSummary (choices expanded, e.g. ``effectiveDateTime``)."""
    return _top_level(resource_type, "summary")


@cache
def mandatory_elements(resource_type: str) -> frozenset[str]:
    """Top-level JSON names with min >= 1 (for a choice, every ``value[x]`` variant is listed)."""
    return _top_level(resource_type, "mandatory")


@cache
def modifier_elements(resource_type: str) -> frozenset[str]:
    """Top-level JSON names marked isModifier (a reader that ignores them may misread the data)."""
    return frozenset(k for k, (e, _c) in json_properties(resource_type).items() if e.modifier)


@cache
def value_set_codes(url: str) -> Mapping[str, frozenset[str]] | None:
    """Codes by code system of a required-binding ValueSet, or ``None`` if it cannot be checked
    offline (it draws on an external system such as MIME types, UCUM or ISO 4217)."""
    raw = _raw()["valueSets"].get(url.split("|")[0])
    if raw is None:
        return None
    return MappingProxyType({system: frozenset(codes) for system, codes in raw.items()})
