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
    root = resource.get("resourceType", "Resource")
    yield from _walk(resource, root)


def _walk(node: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    ref = node.get("reference")
    if isinstance(ref, str):
        yield ref, f"{path}.reference"
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _walk(value, f"{path}.{key}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _walk(item, f"{path}.{key}[{i}]")


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
    stack = [resource]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str):
                if ref in mapping:
                    node["reference"] = mapping[ref]
                elif "?" in ref and not ref.startswith("#"):
                    conditional.add(ref)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return conditional
