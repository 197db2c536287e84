"""The registry of search parameters: the official R4 SearchParameter definitions, per resource type.

Loaded once from ``definitions/search-parameters.json.gz`` (built by
``tools/build_search_parameters.py``). A definition whose ``base`` lists several types carries one
FHIRPath union for all of them (``AllergyIntolerance.patient | CarePlan.subject.where(...) | ...``);
here each type gets only its own branches, so indexing an Observation never evaluates the
CarePlan branch.

Not supported (``supported=False``; the search engine should refuse them): ``_query`` (no FHIRPath
expression in R4). ``_text``, ``_content`` (no expression either) and ``near`` (type special) have
indexes of their own (:data:`SPECIAL_PARAMS`). ``_id`` and ``_lastUpdated`` are answered from the
``resource`` table: they are in the registry with their types but have no index rows (see
:data:`RESOURCE_TABLE_PARAMS`).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from benhan.fhir.fhirpath_parser import split_union

RESOURCE_TABLE_PARAMS = frozenset({"_id", "_lastUpdated"})
"""Parameters the search engine answers from the ``resource`` table rather than ``idx_*`` rows."""

SPECIAL_PARAMS = frozenset({"_text", "_content", "near"})
"""Supported without a FHIRPath-driven index: ``idx_text`` and ``idx_position`` (fhir/special_tables.py)."""

_LEADING_NAME = re.compile(r"[\s(]*([A-Za-z]+)")


@dataclass(frozen=True, slots=True)
class SearchParam:
    """One search parameter as it applies to one resource type."""

    code: str
    type: str  # number|date|string|token|reference|composite|quantity|uri|special
    url: str
    expression: str | None  # FHIRPath, only this type's branches
    base: tuple[str, ...]  # as defined (may list several types)
    target: tuple[str, ...]  # reference targets
    components: tuple[tuple[str, str], ...]  # composite: (component param code, relative expression)
    component_types: tuple[str, ...] = ()  # composite: the search type of each component
    multiple_or: bool = True
    multiple_and: bool = True
    modifiers: tuple[str, ...] = ()
    comparators: tuple[str, ...] = ()
    supported: bool = True  # False: the server cannot evaluate it (see module docstring)


@dataclass(frozen=True, slots=True)
class _Registry:
    resource_types: frozenset[str]
    by_type: Mapping[str, Mapping[str, SearchParam]]
    compartments: Mapping[str, Mapping[str, tuple[str, ...]]]


def _read_definitions() -> tuple[dict[str, Any], dict[str, list[str]]]:
    folder = resources.files("benhan.fhir").joinpath("definitions")
    with folder.joinpath("search-parameters.json.gz").open("rb") as raw:
        registry = json.loads(gzip.decompress(raw.read()))
    compartment = json.loads(folder.joinpath("compartment-patient.json").read_text(encoding="utf-8"))
    return registry, compartment


def _branch_root(branch: str) -> str:
    match = _LEADING_NAME.match(branch)
    return match.group(1) if match else ""


def expression_for(expression: str | None, resource_type: str, all_types: frozenset[str]) -> str | None:
    """The branches of ``expression`` that apply to ``resource_type``.

    A branch applies if it starts with that type, with ``Resource``/``DomainResource``, or with
    no type at all (a relative path such as ``name | alias``).
    """
    if expression is None:
        return None
    branches = split_union(expression)
    if len(branches) == 1:
        return expression
    own = [
        branch for branch in branches
        if (root := _branch_root(branch)) == resource_type
        or root in ("Resource", "DomainResource")
        or root not in all_types
    ]
    return " | ".join(own) if own else None


def _params_for(
    definition: dict[str, Any], resource_type: str, all_types: frozenset[str]
) -> SearchParam:
    expression = expression_for(definition.get("expression"), resource_type, all_types)
    components = definition.get("component", [])
    supported = definition["type"] != "special" and definition.get("expression") is not None
    if definition["code"] in SPECIAL_PARAMS:
        return SearchParam(code=definition["code"], type=definition["type"], url=definition["url"], expression=None,
                           base=tuple(definition["base"]), target=(), components=())
    return SearchParam(
        code=definition["code"],
        type=definition["type"],
        url=definition["url"],
        expression=expression,
        base=tuple(definition["base"]),
        target=tuple(definition.get("target", ())),
        components=tuple((code, expr) for code, expr, _ in components),
        component_types=tuple(kind for _, _, kind in components),
        multiple_or=definition.get("multipleOr", True),
        multiple_and=definition.get("multipleAnd", True),
        modifiers=tuple(definition.get("modifier", ())),
        comparators=tuple(definition.get("comparator", ())),
        supported=supported and expression is not None,
    )


@cache
def _registry() -> _Registry:
    data, compartment = _read_definitions()
    every = frozenset(data["resourceTypes"])
    domain = frozenset(data["domainResourceTypes"])
    by_type: dict[str, dict[str, SearchParam]] = {name: {} for name in sorted(every)}
    for definition in data["params"]:
        for base in definition["base"]:
            targets = every if base == "Resource" else domain if base == "DomainResource" else {base}
            for resource_type in targets & every:
                by_type[resource_type][definition["code"]] = _params_for(definition, resource_type, every)
    return _Registry(
        resource_types=every,
        by_type=MappingProxyType({name: MappingProxyType(params) for name, params in by_type.items()}),
        compartments=MappingProxyType(
            {"Patient": MappingProxyType({name: tuple(codes) for name, codes in compartment.items()})}
        ),
    )


def resource_types() -> frozenset[str]:
    """Every concrete R4 resource type."""
    return _registry().resource_types


def search_params(resource_type: str) -> Mapping[str, SearchParam]:
    """All parameters usable on ``resource_type`` (its own and those of Resource/DomainResource)."""
    return _registry().by_type.get(resource_type, MappingProxyType({}))


def search_param(resource_type: str, code: str) -> SearchParam | None:
    return search_params(resource_type).get(code)


_SHARED_ROW_TYPES = frozenset({"string", "token"})


@cache
def row_params(resource_type: str, code: str) -> tuple[str, ...]:
    """The parameters whose index rows answer ``code`` on ``resource_type``: ``(code,)`` unless it shares.

    A string or token parameter whose expression is exactly another's (``Patient.phonetic`` is
    ``Patient.name``) or exactly a union of others' (``Observation.combo-code`` is ``Observation.code |
    Observation.component.code``) writes no rows of its own: its rows would repeat theirs (a fifth of an
    Observation's token rows were ``combo-code``). Every reader of the index rows asks this first. Of two
    identical ones, the one with the smaller code keeps the rows.
    """
    param = search_param(resource_type, code)
    if param is None or param.type not in _SHARED_ROW_TYPES or not param.supported or not param.expression:
        return (code,)
    by_expression: dict[str, str] = {}
    for other in sorted(search_params(resource_type).values(), key=lambda p: p.code):
        if other.type == param.type and other.supported and other.expression:
            by_expression.setdefault(other.expression.strip(), other.code)
    own = param.expression.strip()
    if by_expression.get(own, code) != code:
        return row_params(resource_type, by_expression[own])
    parts = [part.strip() for part in split_union(own)]
    if len(parts) > 1 and all(by_expression.get(part, code) != code for part in parts):
        return tuple(dict.fromkeys(name for part in parts for name in row_params(resource_type, by_expression[part])))
    return (code,)


def compartment_params(resource_type: str, compartment: str = "Patient") -> tuple[str, ...]:
    """The parameters whose references put a ``resource_type`` resource in a ``compartment``.

    Only the Patient compartment is shipped; asking for another raises ``ValueError``.
    """
    definitions = _registry().compartments.get(compartment)
    if definitions is None:
        raise ValueError(f"compartment {compartment!r} is not defined (only Patient is)")
    return definitions.get(resource_type, ())
