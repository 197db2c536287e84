"""String parameters: starts-with by default, ``:exact`` and ``:contains``.

Index rows carry ``value`` (normalised: lower case, no diacritics) and ``exact`` (as written), so
``name=nguyen van anh`` finds "Nguyễn Văn Ánh" and ``name=Đỗ`` finds "Do".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from ..text import normalize
from .query import unescape
from .sql import Context, contains, starts_with

MODIFIERS = frozenset({"exact", "contains"})


def condition(t: Any, value: str, modifier: str | None, ctx: Context) -> ColumnElement[bool]:
    raw = unescape(value)
    if modifier == "exact":
        return t.c.exact == raw
    norm = normalize(raw)
    if modifier == "contains":
        return contains(t.c.value, norm, ctx.dialect)
    return starts_with(t.c.value, norm, ctx.dialect)
