"""Token parameters: ``code``, ``system|code``, ``|code``, ``system|``, ``:text``, ``:of-type``.

``:not`` is applied by the compiler around the OR of the plain conditions (a resource matches when
it has *no* matching token, including when it has none at all).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from ..text import normalize
from .problems import bad_value
from .query import split_escaped, unescape
from .sql import Context, starts_with

MODIFIERS = frozenset({"not", "text", "of-type"})
# The terminology-aware modifiers (:in, :not-in, :below, :above) are in terminology.py.


def _no_system(t: Any) -> ColumnElement[bool]:
    return or_(t.c.system.is_(None), t.c.system == "")


def condition(t: Any, value: str, modifier: str | None, ctx: Context, param: str) -> ColumnElement[bool]:
    if modifier == "text":
        return starts_with(t.c.text, normalize(unescape(value)), ctx.dialect)
    parts = [unescape(p) for p in split_escaped(value, "|")]
    if modifier == "of-type":
        if len(parts) != 3 or not all(parts):
            raise bad_value(param, value, "cần dạng hệ-thống-loại|mã-loại|giá-trị",
                            "expected type-system|type-code|value")
        return and_(t.c.type_system == parts[0], t.c.type_code == parts[1], t.c.code == parts[2])
    if len(parts) == 1:
        return t.c.code == parts[0]
    if len(parts) != 2:
        raise bad_value(param, value, "quá nhiều dấu '|' (dùng \\| nếu là một phần của mã)",
                        "too many '|' separators (escape a literal one as \\|)")
    system, code = parts
    if not system and not code:
        raise bad_value(param, value, "thiếu cả hệ thống mã lẫn mã", "neither system nor code given")
    if not system:
        return and_(t.c.code == code, _no_system(t))
    if not code:
        return t.c.system == system
    return and_(t.c.system == system, t.c.code == code)
