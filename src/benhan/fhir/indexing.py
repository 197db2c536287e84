"""Search-index rows for a resource, computed on every write (``idx_*`` tables and ``compartment``).

For each resource type an *indexing plan* is built once: every supported search parameter's
FHIRPath compiled (:mod:`benhan.fhir.fhirpath`) into typed streams, each paired with the emitter
for its FHIR type (:mod:`benhan.fhir.indexing_rows`). Extraction then just runs the plan.

Layout of the rows (the search engine's contract; columns as in :mod:`benhan.db.schema`):

* ordinary rows have ``grp`` 0;
* a composite parameter writes, for each instance of its root expression whose components all
  have a value, each component's rows with ``param = "<code>$<i>"`` (i = component index) and one
  ``grp`` number (1, 2, … unique within the resource); only for the roots that other rows do not
  answer already (the resource's own rows, or another composite's: :mod:`benhan.fhir.composites`);
* a Range (quantity/number) is two rows ``<code>:low``/``<code>:high`` sharing a fresh ``grp``
  (inside a composite: the composite's ``grp``), see :mod:`benhan.fhir.indexing_rows`;
* ``Reference.identifier`` goes to the *token* table under ``param = "<code>:identifier"``, for the
  ``:identifier`` modifier;
* a string or token parameter that repeats others (``phonetic`` = ``name``, ``combo-code`` = ``code |
  component-code``: :func:`benhan.fhir.searchparams.row_params`) has no rows: the search reads theirs;
* ``_id`` and ``_lastUpdated`` have no rows (the ``resource`` table answers them); ``_query`` is not
  supported.
* ``_text``/``_content`` and ``near`` are not per-value rows: :attr:`IndexRows.text` (the documents of
  :mod:`benhan.fhir.textindex`) and :attr:`IndexRows.position` (:mod:`benhan.fhir.geo`) become one row
  each of ``idx_text`` and ``idx_position`` (:mod:`benhan.fhir.special_tables`).

Patient compartments come from relative references only (``Patient/123``): an absolute URL may
name another server's patient, and compartments decide who may see a record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from benhan.fhir.composites import own_branches
from benhan.fhir.fhirpath import Step, compile_path
from benhan.fhir.geo import position_row
from benhan.fhir.indexing_rows import (
    REFERENCE_TYPES,
    Emit,
    Sink,
    canonical_row,
    emitter,
    identifier_rows,
    range_rows,
    reference_row,
)
from benhan.fhir.searchparams import (
    RESOURCE_TABLE_PARAMS,
    compartment_params,
    resource_types,
    row_params,
    search_params,
)
from benhan.fhir.textindex import text_row

COLUMNS: dict[str, tuple[str, ...]] = {
    "string": ("param", "grp", "value", "exact"),
    "token": ("param", "grp", "system", "code", "text", "type_system", "type_code"),
    "date": ("param", "grp", "low", "high"),
    "number": ("param", "grp", "value"),
    "quantity": ("param", "grp", "value", "system", "code", "unit"),
    "uri": ("param", "grp", "uri"),
    "reference": ("param", "grp", "target_type", "target_id", "target_version", "url"),
}
"""The columns of each ``idx_*`` table that :class:`IndexRows` fills (all but res_pk/res_type)."""

# Row tuples -> column dicts (IndexRows.rows), written out per table: faster than dict(zip(columns, row)).
_AS_DICT: dict[str, Callable[[tuple[Any, ...]], dict[str, Any]]] = {
    "string": lambda r: {"param": r[0], "grp": r[1], "value": r[2], "exact": r[3]},
    "token": lambda r: {"param": r[0], "grp": r[1], "system": r[2], "code": r[3], "text": r[4],
                        "type_system": r[5], "type_code": r[6]},
    "date": lambda r: {"param": r[0], "grp": r[1], "low": r[2], "high": r[3]},
    "number": lambda r: {"param": r[0], "grp": r[1], "value": r[2]},
    "quantity": lambda r: {"param": r[0], "grp": r[1], "value": r[2], "system": r[3], "code": r[4],
                           "unit": r[5]},
    "uri": lambda r: {"param": r[0], "grp": r[1], "uri": r[2]},
    "reference": lambda r: {"param": r[0], "grp": r[1], "target_type": r[2], "target_id": r[3],
                            "target_version": r[4], "url": r[5]},
}
_MAX_GRP = 32767  # SmallInteger
_EMIT, _RANGE, _REFERENCE = 0, 1, 2


@dataclass(slots=True)
class IndexRows:
    """What one resource contributes to the search index.

    ``tuples`` holds, per kind, row tuples in :data:`COLUMNS` order (without ``res_pk``/``res_type``):
    the write path copies them to the database as they are, with no per-row dict.
    """

    tuples: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    compartments: list[tuple[str, str]] = field(default_factory=list)
    text: tuple[str | None, str] | None = None  # (narrative, content) documents, for _text and _content
    position: tuple[float, ...] | None = None  # Location.position (latitude, longitude, x, y, z), for near

    @property
    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The same rows as column dicts, every kind present (for tests and readers)."""
        return {kind: list(map(_AS_DICT[kind], self.tuples.get(kind, ()))) for kind in COLUMNS}


# A field: (stream step, mode, emitter) — how to turn one typed stream into rows.
_Field = tuple[Step, int, Emit | None]


@dataclass(frozen=True, slots=True)
class _Param:
    code: str
    kind: str
    fields: tuple[_Field, ...]
    # The top-level keys one of which the resource must have for any field to give a value (None: unknown,
    # always run). Most of a type's parameters find nothing in a given resource: this skips them cheaply.
    gate: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class _Composite:
    code: str
    # per root stream: (root step, per component: (param name, kind, fields, gate as in _Param))
    roots: tuple[tuple[Step, tuple[tuple[str, str, tuple[_Field, ...], frozenset[str] | None], ...]], ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    params: tuple[_Param, ...]
    composites: tuple[_Composite, ...]
    compartment_params: frozenset[str]
    resource_types: frozenset[str]


@cache
def _fields_and_gate(kind: str, expression: str, base: str | None) -> tuple[tuple[_Field, ...],
                                                                          frozenset[str] | None]:
    """The fields of a parameter, and the first keys their streams walk (None if one is not a plain path)."""
    fields: list[_Field] = []
    first_keys: set[str] | None = set()
    for stream in compile_path(expression, base).streams:
        if kind == "reference":
            if stream.type not in REFERENCE_TYPES:
                continue
            fields.append((stream.step, _REFERENCE, None))
        elif kind in ("quantity", "number") and stream.type in ("Range", None):
            fields.append((stream.step, _RANGE, emitter(kind, None)))
        elif (emit := emitter(kind, stream.type)) is not None:
            fields.append((stream.step, _EMIT, emit))
        else:
            continue
        if first_keys is not None and stream.keys:
            first_keys.add(stream.keys[0])
        else:
            first_keys = None
    return tuple(fields), frozenset(first_keys) if first_keys is not None else None


@cache
def _plan(resource_type: str) -> _Plan:
    params: list[_Param] = []
    composites: list[_Composite] = []
    for code, param in search_params(resource_type).items():
        if not param.supported or param.expression is None or code in RESOURCE_TABLE_PARAMS:
            continue
        if row_params(resource_type, code) != (code,):  # answered by other parameters' rows
            continue
        if param.type != "composite":
            fields, gate = _fields_and_gate(param.type, param.expression, resource_type)
            if fields:
                params.append(_Param(code, param.type, fields, gate))
            continue
        roots = []
        branches = own_branches(resource_type, code)  # the others are answered by other rows (composites.py)
        streams = [stream for branch in branches for stream in compile_path(branch, resource_type).streams]
        for stream in streams:
            components = tuple(
                (f"{code}${index}", kind, *_fields_and_gate(kind, expression, stream.path or resource_type))
                for index, ((_, expression), kind) in enumerate(
                    zip(param.components, param.component_types, strict=True)
                )
            )
            if all(fields for _, _, fields, _ in components):
                roots.append((stream.step, components))
        if roots:
            composites.append(_Composite(code, tuple(roots)))
    return _Plan(tuple(params), tuple(composites), frozenset(compartment_params(resource_type)),
                 resource_types())


class _Extraction:
    """The mutable state of one extraction: the row sets and the next free ``grp``."""

    __slots__ = ("components", "grp", "sinks", "types")

    def __init__(self, types: frozenset[str]) -> None:
        self.sinks: dict[str, Sink] = {kind: {} for kind in COLUMNS}
        self.components: dict[tuple[int, int], tuple[Any, list[tuple[str, tuple[Any, ...]]]]] = {}
        self.grp = 0
        self.types = types

    def next_grp(self) -> int | None:
        if self.grp >= _MAX_GRP:
            return None
        self.grp += 1
        return self.grp

    def run(self, kind: str, param: str, grp: int, fields: tuple[_Field, ...], item: Any, root: Any,
            sinks: dict[str, Sink]) -> None:
        single = [item]
        for step, mode, emit in fields:
            values = step(single, root)
            if not values:
                continue
            if mode == _EMIT:
                sink = sinks[kind]
                for value in values:
                    emit(sink, param, grp, value)  # type: ignore[misc]
            elif mode == _REFERENCE:
                for value in values:
                    self.reference(sinks, param, grp, value)
            else:
                for value in values:
                    self.number_or_range(sinks[kind], kind, param, grp, value, emit)

    def number_or_range(self, sink: Sink, kind: str, param: str, grp: int, value: Any,
                        emit: Emit | None) -> None:
        if value.__class__ is dict and ("low" in value or "high" in value):
            range_grp = grp or self.next_grp()
            if range_grp is not None:
                range_rows(sink, param, range_grp, value, quantity=kind == "quantity")
        elif emit is not None:
            emit(sink, param, grp, value)

    def reference(self, sinks: dict[str, Sink], param: str, grp: int, value: Any) -> None:
        row: tuple[Any, ...] | None = None
        if value.__class__ is str:
            row = canonical_row(value)
        elif value.__class__ is dict:
            if "resourceType" in value:  # a resource in place of a reference (Bundle.entry[0].resource)
                rid = value.get("id")
                if rid.__class__ is str and len(rid) <= 64:
                    row = (value["resourceType"], rid, None, None)
            else:
                reference = value.get("reference")
                if reference.__class__ is str:
                    row = reference_row(reference, self.types)
                identifier = value.get("identifier")
                if identifier is not None:
                    identifier_rows(sinks["token"], param + ":identifier", grp, identifier)
        if row is not None:
            sinks["reference"][(param, grp, *row)] = None


def extract_index(resource: dict[str, Any]) -> IndexRows:
    """The search-index rows and Patient compartments of ``resource`` (see the module docstring)."""
    resource_type = resource.get("resourceType")
    if resource_type.__class__ is not str or resource_type not in resource_types():
        return IndexRows({}, [])
    plan = _plan(resource_type)
    state = _Extraction(plan.resource_types)
    sinks = state.sinks
    present = set(resource)
    for param in plan.params:
        gate = param.gate
        if gate is not None and gate.isdisjoint(present):
            continue
        state.run(param.kind, param.code, 0, param.fields, resource, resource, sinks)
    for composite in plan.composites:
        _composite(state, composite, resource)
    return IndexRows(
        tuples={kind: list(sink) for kind, sink in sinks.items() if sink},
        compartments=_compartments(resource, sinks["reference"], plan.compartment_params),
        text=text_row(resource),
        position=position_row(resource) if resource_type == "Location" else None,
    )


def _composite(state: _Extraction, composite: _Composite, resource: dict[str, Any]) -> None:
    cache = state.components
    for root_step, components in composite.roots:
        for item in root_step([resource], resource):
            found: list[tuple[str, list[tuple[str, tuple[Any, ...]]]]] = []
            for name, kind, fields, gate in components:
                if gate is not None and item.__class__ is dict and gate.isdisjoint(item):
                    break  # the element lacks every key the component reads (valueQuantity, ...)
                # Composites share components (Observation's ``code`` is in six of them): evaluate
                # each component once per element, with a blank param that is filled in below.
                key = (id(item), id(fields))
                cached = cache.get(key)
                if cached is not None and cached[0] is item:  # the item is kept, so its id is not reused
                    rows = cached[1]
                else:
                    local: dict[str, Sink] = {kind: {}, "token": {}, "reference": {}}
                    state.run(kind, "", -1, fields, item, resource, local)
                    rows = _component_rows(local)
                    cache[key] = (item, rows)
                if not rows:
                    break  # a component without a value: no composite search can match this element
                found.append((name, rows))
            else:
                grp = state.next_grp()
                if grp is None:
                    return
                sinks = state.sinks
                for name, rows in found:
                    for table, row in rows:
                        sinks[table][(name + row[0], grp, *row[2:])] = None


_BLANK_TOKEN = ("", -1, None, None, None, None, None)


def _component_rows(sinks: dict[str, Sink]) -> list[tuple[str, tuple[Any, ...]]]:
    """One component's rows, with token rows stripped of their text.

    No composite search reads a component's text (``:text`` is not allowed there), so it is left
    NULL (out of the partial ``ix_idx_token_text``), and a text-only row (CodeableConcept.text) is
    dropped when the component has other rows. Kept alone, it still marks the component as present.
    """
    rows: list[tuple[str, tuple[Any, ...]]] = []
    for table, sink in sinks.items():
        if not sink:
            continue
        if table != "token":
            rows += [(table, row) for row in sink]
            continue
        tokens: Sink = {}
        for row in sink:
            if row[4] is not None:
                row = (row[0], row[1], row[2], row[3], None, row[5], row[6])
            tokens[row] = None
        if len(tokens) > 1:
            tokens.pop(_BLANK_TOKEN, None)
        rows += [(table, row) for row in tokens]
    return rows


def _compartments(resource: dict[str, Any], references: Sink, params: frozenset[str]) -> list[tuple[str, str]]:
    found: dict[tuple[str, str], None] = {}
    if resource.get("resourceType") == "Patient" and resource.get("id").__class__ is str:
        found[("Patient", resource["id"])] = None
    if params:
        for param, _grp, target_type, target_id, _version, url in references:
            if target_type == "Patient" and url is None and param in params:
                found[("Patient", target_id)] = None
    return list(found)
