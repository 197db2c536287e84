"""Paging: ``_count``, offset pages inside a snapshot, and the Bundle's navigation links.

Pages are ``_offset`` positions in the sorted result, bounded by ``_snapshot`` = the highest
resource ``pk`` when the first page was read: resources created afterwards (higher pks) cannot
shift later pages. Updated resources keep their pk, so they stay where the sort puts them. Links
repeat the original query (minus paging parameters) under ``base_url``, so they are stateless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .problems import bad_value

PAGING_PARAMS = frozenset({"_count", "_offset", "_snapshot"})
_MAX_INT = 2**62


@dataclass(frozen=True, slots=True)
class Page:
    count: int
    offset: int = 0
    snapshot: int | None = None


def _int(name: str, value: str, minimum: int | None = 0) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise bad_value(name, value, "không phải số nguyên", "not an integer") from exc
    if minimum is not None and number < minimum:
        raise bad_value(name, value, f"phải ≥ {minimum}", f"must be at least {minimum}")
    if abs(number) > _MAX_INT:  # beyond the databases' 64-bit integers: a 400, not a driver overflow
        raise bad_value(name, value, "quá lớn", "too large")
    return number


def parse_page(params: list[tuple[str, str]], default_count: int, max_count: int) -> Page:
    count, offset, snapshot = default_count, 0, None
    for name, value in params:
        if name == "_count":
            count = _int(name, value)
        elif name == "_offset":
            offset = _int(name, value)
        elif name == "_snapshot":
            snapshot = _int(name, value, None)
    return Page(min(count, max_count), offset, snapshot)


def links(url: str, params: list[tuple[str, str]], page: Page, *, has_next: bool,
          snapshot: int | None) -> list[dict[str, Any]]:
    """``self``, ``first``, ``previous`` and ``next`` links (absolute URLs)."""
    keep = [(k, v) for k, v in params if k not in PAGING_PARAMS]

    def link(relation: str, offset: int) -> dict[str, Any]:
        query = [*keep, ("_count", str(page.count))]
        if offset:
            query.append(("_offset", str(offset)))
        if snapshot is not None:
            query.append(("_snapshot", str(snapshot)))
        return {"relation": relation, "url": f"{url}?{urlencode(query)}"}

    out = [link("self", page.offset), link("first", 0)]
    if page.offset > 0 and page.count > 0:
        out.append(link("previous", max(page.offset - page.count, 0)))
    if has_next and page.count > 0:
        out.append(link("next", page.offset + page.count))
    return out
