"""URI parameters: exact match, ``:below`` (indexed URI starts with the value) and ``:above``
(the value starts with the indexed URI)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from .query import unescape
from .sql import Context, starts_with

MODIFIERS = frozenset({"below", "above"})
_MAX_ABOVE = 500  # longest value :above expands into prefixes (the uri column is 500 characters)


def condition(t: Any, value: str, modifier: str | None, ctx: Context) -> ColumnElement[bool]:
    uri = unescape(value)
    if modifier == "below":
        return starts_with(t.c.uri, uri, ctx.dialect)
    if modifier == "above":
        # Every prefix of the value, as an IN list: equality on the indexed column, no LIKE.
        return t.c.uri.in_([uri[:i] for i in range(1, min(len(uri), _MAX_ABOVE) + 1)])
    return t.c.uri == uri
