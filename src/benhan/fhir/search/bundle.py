"""Building the searchset Bundle: entries with ``fullUrl`` and ``search.mode``, links, outcome."""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import Issue, operation_outcome
from .includes import Row
from .shaping import Shape


def entries(base_url: str, rows: list[Row], mode: str, shape: Shape) -> list[dict[str, Any]]:
    """Parse each stored JSON text once, and shape it when ``_summary``/``_elements`` ask for it; with
    ``shape.as_stored`` a whole resource keeps its stored text, spliced unparsed into the serialized Bundle."""
    whole = shape.is_whole
    out = []
    for row in rows:
        resource: Any
        if whole and shape.as_stored:
            resource = orjson.Fragment(row.content)
        else:
            resource = orjson.loads(row.content)
            if not whole:
                resource = shape.apply(resource, match=mode == "match")
        url = row.url or f"{base_url}/{row.type}/{row.id}"
        out.append({"fullUrl": url, "resource": resource, "search": {"mode": mode}})
    return out


def outcome_entry(warnings: list[Issue]) -> dict[str, Any]:
    return {"resource": operation_outcome(warnings), "search": {"mode": "outcome"}}


def searchset(*, total: int | None, links: list[dict[str, Any]], entry: list[dict[str, Any]],
              warnings: list[Issue]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    all_entries = [*entry, outcome_entry(warnings)] if warnings else entry
    if all_entries:
        bundle["entry"] = all_entries
    return bundle
