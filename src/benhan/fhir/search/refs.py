"""Reference parameters, plain values: ``Type/id``, ``id``, absolute and canonical URLs.

A URL under our own base is a local reference; any other absolute URL (or canonical) matches the
``url`` column as written. The ``:Type`` modifier restricts the target type; ``:identifier``
searches ``Reference.identifier`` (indexed as tokens under ``<code>:identifier``); chains and
``_has`` are in :mod:`chain`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from ..definitions import is_resource_type
from ..references import parse_local
from .query import unescape
from .sql import Context, starts_with

#: Modifiers other than a resource type name that apply to references.
MODIFIERS = frozenset({"identifier"})
UNSUPPORTED = frozenset({"above", "below", "text"})


def is_local(t: Any, base_url: str, dialect: str) -> ColumnElement[bool]:
    """The row points at a resource on this server: a relative reference (no ``url``), or an
    absolute one under our base. The indexer also fills the target columns for other servers'
    ``.../Type/id`` URLs, which must not match (nor join to) our own ``Type/id``."""
    if not base_url:
        return t.c.url.is_(None)
    return or_(t.c.url.is_(None), starts_with(t.c.url, base_url + "/", dialect))


def conditions(t: Any, values: list[str], type_modifier: str | None, ctx: Context) -> list[ColumnElement[bool]]:
    """One condition per value, except that plain local ``Type/id`` values of one type share a single
    ``target_id IN (...)`` (``encounter=E1,...,E20`` is one indexed lookup, and one cached statement shape)."""
    out: list[ColumnElement[bool]] = []
    ids_by_type: dict[str, list[str]] = {}
    for value in values:
        local = parse_local(unescape(value), ctx.base_url)
        if local is not None and is_resource_type(local[0]) and local[2] is None and type_modifier in (None, local[0]):
            ids_by_type.setdefault(local[0], []).append(local[1])
        else:
            out.append(condition(t, value, type_modifier, ctx))
    for rtype, ids in ids_by_type.items():
        same = t.c.target_id == ids[0] if len(ids) == 1 else t.c.target_id.in_(ids)
        out.append(and_(t.c.target_type == rtype, same, is_local(t, ctx.base_url, ctx.dialect)))
    return out


def condition(t: Any, value: str, type_modifier: str | None, ctx: Context) -> ColumnElement[bool]:
    ref = unescape(value)
    local = parse_local(ref, ctx.base_url)
    if local is not None and is_resource_type(local[0]):
        rtype, rid, version = local
        if type_modifier is not None and type_modifier != rtype:
            return false()
        conds = [t.c.target_type == rtype, t.c.target_id == rid, is_local(t, ctx.base_url, ctx.dialect)]
        if version is not None:
            conds.append(t.c.target_version == version)
        return and_(*conds)
    if "/" not in ref and ":" not in ref and "|" not in ref:  # a bare id
        conds = [t.c.target_id == ref, is_local(t, ctx.base_url, ctx.dialect)]
        if type_modifier is not None:
            conds.insert(0, t.c.target_type == type_modifier)
        return and_(*conds)
    if "|" in ref:  # canonical with a version: url|version
        url, _, version = ref.partition("|")
        return and_(t.c.url == url, t.c.target_version == version) if version else t.c.url == url
    return t.c.url == ref
