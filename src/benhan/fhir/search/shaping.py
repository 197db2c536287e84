"""``_summary`` and ``_elements``: return a subset of each resource, marked SUBSETTED.

``_summary=true`` keeps the elements the definitions flag isSummary plus the mandatory ones,
``text`` keeps text, id, meta and the mandatory elements, ``data`` drops text, ``count`` returns
no entries. ``_elements`` keeps resourceType, id, meta, the mandatory elements and those listed
(it applies to the matched resources; included resources are returned whole, as R4 leaves it to
the server). Subsetted resources get the ``SUBSETTED`` tag so nobody writes them back as if whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import definitions
from .problems import bad_value

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED",
             "display": "Resource encoded in summary mode"}
SUMMARY_VALUES = frozenset({"true", "text", "data", "count", "false"})
_ALWAYS = frozenset({"resourceType", "id", "meta"})


@dataclass(frozen=True, slots=True)
class Shape:
    summary: str | None = None
    elements: frozenset[str] | None = None
    # Whole resources go into the Bundle as their stored JSON text (orjson.Fragment), never parsed: for a
    # Bundle that is only serialized (an HTTP response), not read by Python code.
    as_stored: bool = False

    @property
    def is_whole(self) -> bool:
        """True when resources are returned exactly as stored (the fast path)."""
        return self.summary in (None, "false", "count") and self.elements is None

    def apply(self, resource: dict[str, Any], *, match: bool = True) -> dict[str, Any]:
        rtype = resource.get("resourceType", "")
        if self.summary in ("true", "text", "data"):
            return _summary(resource, rtype, self.summary)
        if self.elements is not None and match:
            keep = _ALWAYS | self.elements | _mandatory(rtype)
            return _subset(resource, rtype, keep)
        return resource


def parse_shape(params: list[tuple[str, str]], *, as_stored: bool = False) -> Shape:
    summary: str | None = None
    elements: set[str] | None = None
    for name, value in params:
        if name == "_summary":
            if value not in SUMMARY_VALUES:
                raise bad_value("_summary", value, "chỉ nhận true, text, data, count, false",
                                "expected one of true, text, data, count, false")
            summary = value
        elif name == "_elements":
            elements = elements or set()
            for item in value.split(","):
                item = item.strip()
                if item:
                    elements.add(item.rpartition(".")[2] if "." in item else item)
    if summary not in (None, "false"):
        elements = None  # _summary wins; the two are not meant to be combined
    return Shape(summary, frozenset(elements) if elements is not None else None, as_stored)


def shape_resource(resource: dict[str, Any], params: list[tuple[str, str]]) -> dict[str, Any]:
    """Apply ``_summary``/``_elements`` from ``params`` to one resource (used by read, too)."""
    return parse_shape(params).apply(resource)


def _mandatory(rtype: str) -> frozenset[str]:
    try:
        return definitions.mandatory_elements(rtype)
    except KeyError:
        return frozenset()


def _summary(resource: dict[str, Any], rtype: str, mode: str) -> dict[str, Any]:
    if mode == "data":
        out = {k: v for k, v in resource.items() if k != "text"}
        return _tag(out) if "text" in resource else out
    if mode == "text":
        return _subset(resource, rtype, _ALWAYS | {"text"} | _mandatory(rtype))
    try:
        summary = definitions.summary_elements(rtype)
    except KeyError:
        summary = frozenset()
    return _subset(resource, rtype, _ALWAYS | summary | _mandatory(rtype))


def _choice_bases(rtype: str) -> frozenset[str]:
    try:
        elements = definitions.type_definition(rtype).elements
    except KeyError:
        return frozenset()
    return frozenset(p[:-3] for p in elements if p.endswith("[x]") and "." not in p)


def _subset(resource: dict[str, Any], rtype: str, keep: frozenset[str] | set[str]) -> dict[str, Any]:
    choices = _choice_bases(rtype) & set(keep)
    out: dict[str, Any] = {}
    for key, value in resource.items():
        name = key[1:] if key.startswith("_") else key
        if name in keep or any(name.startswith(c) and name[len(c):][:1].isupper() for c in choices):
            out[key] = value
    return _tag(out)


def _tag(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = list(meta.get("tag") or [])
    if not any(t.get("system") == SUBSETTED["system"] and t.get("code") == "SUBSETTED" for t in tags):
        tags.append(dict(SUBSETTED))
    meta["tag"] = tags
    return {**resource, "meta": meta}
