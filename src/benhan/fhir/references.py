"""Finding and rewriting the literal references inside a resource.

Referential integrity and transaction processing both need every ``Reference.reference`` in a
resource, wherever it is nested, with a FHIRPath-like location for error messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_RELATIVE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/([A-Za-z0-9\-.]{1,64}))?$")


@dataclass(frozen=True, slots=True)
class LocalRef:
    """A reference to a resource on this server."""

    type: str
    id: str
    version: str | None
    expression: str


def iter_references(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(reference string, location)`` for every Reference.reference in ``resource``.

    Contained resources are walked too: their references must resolve like the container's.
    """
    found: list[tuple[str, Any]] = []
    _collect(resource, (resource.get("resourceType", "Resource"),), found)
    for ref, where in found:
        yield ref, _location(where) + ".reference"


# A location is built only for the references found: a chain of (parent location, key[, index]) tuples,
# since most of a resource's elements hold no reference (this walk runs on every write).
def _collect(node: dict[str, Any], where: tuple[Any, ...], found: list[tuple[str, Any]]) -> None:
    ref = node.get("reference")
    if ref.__class__ is str:
        found.append((ref, where))
    for key, value in node.items():
        cls = value.__class__
        if cls is dict:
            _collect(value, (where, key), found)
        elif cls is list and value and value[0].__class__ is dict:
            for index, item in enumerate(value):
                if item.__class__ is dict:
                    _collect(item, (where, key, index), found)


def _location(where: tuple[Any, ...]) -> str:
    parts: list[str] = []
    while len(where) > 1:
        parts.append(f"{where[1]}[{where[2]}]" if len(where) == 3 else where[1])
        where = where[0]
    parts.append(where[0])
    return ".".join(reversed(parts))


def parse_local(reference: str, base_url: str = "") -> tuple[str, str, str | None] | None:
    """``Type/id[/_history/v]`` (relative, or absolute under our own base) -> (type, id, version)."""
    if base_url and reference.startswith(base_url + "/"):
        reference = reference[len(base_url) + 1:]
    match = _RELATIVE.match(reference)
    if not match:
        return None
    return match.group(1), match.group(2), match.group(3)


def local_references(resource: dict[str, Any], base_url: str, is_type: Callable[[str], bool]) -> list[LocalRef]:
    """All references in ``resource`` that point at resources on this server."""
    found: list[LocalRef] = []
    for ref, where in iter_references(resource):
        if ref.startswith("#"):
            continue
        parsed = parse_local(ref, base_url)
        if parsed and is_type(parsed[0]):
            found.append(LocalRef(parsed[0], parsed[1], parsed[2], where))
    return found


def rewrite_references(resource: Any, mapping: dict[str, str]) -> set[str]:
    """Replace reference strings found in ``mapping`` (e.g. ``urn:uuid:...`` -> ``Patient/42``) in place.

    Returns the conditional references (``Type?query``) met on the way, so a transaction can resolve
    them without walking the resource a second time.
    """
    conditional: set[str] = set()
    if resource.__class__ is dict:
        _rewrite(resource, mapping, conditional)
    elif resource.__class__ is list:
        _rewrite({"": resource}, mapping, conditional)
    return conditional


def _rewrite(node: dict[str, Any], mapping: dict[str, str], conditional: set[str]) -> None:
    ref = node.get("reference")
    if ref.__class__ is str:
        if ref in mapping:
            node["reference"] = mapping[ref]
        elif "?" in ref and not ref.startswith("#"):
            conditional.add(ref)
    for value in node.values():
        cls = value.__class__
        if cls is dict:
            _rewrite(value, mapping, conditional)
        elif cls is list:
            for item in value:
                if item.__class__ is dict:
                    _rewrite(item, mapping, conditional)
                elif item.__class__ is list:
                    _rewrite({"": item}, mapping, conditional)
