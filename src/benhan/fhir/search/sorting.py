"""``_sort``: several keys, ``-`` for descending, resources without a value last, pk tie-break.

A key on an indexed parameter is a correlated scalar subquery over the index rows of the resource
(served by the ``ix_idx_*_res`` indexes): strings by normalised value, tokens by code, numbers and
quantities by value, URIs by URI, references by ``Type/id`` (or URL), dates ascending by the
earliest ``low`` and descending by the latest ``high``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select

from benhan.db import schema as s
from benhan.fhir.searchparams import SPECIAL_PARAMS

from .problems import bad_value, unknown_param
from .registry import lookup, lookup_all
from .sql import Context, param_rows

_SORT_COLUMN = {"string": "value", "token": "code", "number": "value", "quantity": "value", "uri": "uri"}


def order_by(ctx: Context, types: list[str] | None, spec: list[str]) -> list[Any]:
    """ORDER BY clauses for the ``_sort`` values (comma lists, possibly repeated)."""
    clauses: list[Any] = []
    for item in spec:
        for key in item.split(","):
            key = key.strip()
            if not key:
                continue
            descending = key.startswith("-")
            code = key[1:] if descending else key
            expr = _key(ctx, types, code, descending, key)
            if expr is None:
                continue
            clauses.append((expr.desc() if descending else expr.asc()).nulls_last())
    clauses.append(ctx.res.c.pk.asc())  # a total order: paging never repeats or skips a resource
    return clauses


def _key(ctx: Context, types: list[str] | None, code: str, descending: bool, raw: str) -> ColumnElement[Any] | None:
    if code == "_id":
        return ctx.res.c.id
    if code == "_lastUpdated":
        return ctx.res.c.last_updated
    sp = lookup_all(types, code) if types else lookup(None, code)
    if sp is None:
        unknown_param(ctx, f"_sort={raw}", ctx.rtype)
        return None
    kind = "special" if sp.code in SPECIAL_PARAMS else sp.type  # _text/_content are "string" in R4
    agg = func.max if descending else func.min
    if kind == "date":
        t = s.idx_date.alias(ctx.alias_name("sort"))
        col: Any = t.c.high if descending else t.c.low
    elif kind == "reference":
        t = s.idx_reference.alias(ctx.alias_name("sort"))
        col = func.coalesce(t.c.target_type + "/" + t.c.target_id, t.c.url)
    elif kind in _SORT_COLUMN:
        t = s.INDEX_TABLES[kind].alias(ctx.alias_name("sort"))
        col = t.c[_SORT_COLUMN[kind]]
    else:
        raise bad_value("_sort", raw, f"không sắp xếp được theo tham số kiểu {kind}",
                        f"cannot sort by a {kind} parameter")
    return (select(agg(col)).where(t.c.res_pk == ctx.res.c.pk, param_rows(t.c.param, ctx.rtype, sp.code))
            .scalar_subquery())
