"""Chained parameters (``subject:Patient.name=an``, to any depth) and reverse chaining (``_has``).

A chain is an EXISTS over the reference rows of the current resource joined to the referenced
resource, with the rest of the chain compiled against that resource; ``_has`` is the mirror image,
joining the reference rows that point *at* the current resource. Both recurse through the
compiler's ``criterion`` function, passed in to keep the modules acyclic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.sql import literal

from benhan.db import schema as s

from ..definitions import is_resource_type
from .problems import bad_modifier, bad_value, unknown_param
from .query import Has, Name
from .refs import is_local
from .registry import lookup
from .sql import Context, any_of, correlate

Criterion = Callable[[Context, Name, list[str], str], ColumnElement[bool] | None]


def _knows(rtype: str, name: Name) -> bool:
    return name.has is not None or lookup(rtype, name.code) is not None


def forward_chain(ctx: Context, sp: Any, name: Name, values: list[str], raw: str,
                  criterion: Criterion) -> ColumnElement[bool] | None:
    """``ref[:Type].rest``: some referenced resource (of each possible type) matches ``rest``."""
    assert name.chain is not None
    target = name.modifier
    if target is not None:
        if not is_resource_type(target):
            raise bad_modifier(raw, target)
        if sp.target and target not in sp.target:
            raise bad_value(raw, ",".join(values), f"{sp.code} không trỏ tới {target}",
                            f"{sp.code} cannot refer to {target}")
        types = [target]
    else:
        types = sorted(sp.target or ())
    types = [t for t in types if _knows(t, name.chain)]
    if not types:
        unknown_param(ctx, raw, ctx.rtype)
        return None
    alternatives = []
    for rtype in types:
        ref = s.idx_reference.alias(ctx.alias_name("chain_ref"))
        res = s.resource.alias(ctx.alias_name("chain_res"))
        inner = criterion(ctx.nested(res, rtype), name.chain, values, raw)
        if inner is None:
            continue
        conds = [ref.c.param == sp.code, ref.c.target_type == rtype,
                 is_local(ref, ctx.base_url, ctx.dialect), res.c.deleted.is_(False), inner,
                 *ctx.visible(res, rtype)]  # a hidden resource must not decide what matches
        if ctx.rtype is not None:
            conds.insert(0, ref.c.res_type == ctx.rtype)
        joined = ref.join(res, and_(res.c.type == ref.c.target_type, res.c.id == ref.c.target_id))
        alternatives.append(correlate(ctx.dialect, joined, ref.c.res_pk, ctx.res.c.pk, *conds))
    return any_of(alternatives) if alternatives else None


def reverse_chain(ctx: Context, has: Has, values: list[str], raw: str,
                  criterion: Criterion) -> ColumnElement[bool] | None:
    """``_has:Type:ref:rest``: some ``Type`` resource refers here through ``ref`` and matches ``rest``."""
    if not is_resource_type(has.type):
        raise bad_value(raw, ",".join(values), f"{has.type} không phải loại tài nguyên",
                        f"'{has.type}' is not a resource type")
    sp = lookup(has.type, has.ref)
    if sp is None:
        unknown_param(ctx, raw, has.type)
        return None
    if sp.type != "reference":
        raise bad_value(raw, ",".join(values), f"{has.type}.{has.ref} không phải tham số reference",
                        f"{has.type}:{has.ref} is not a reference parameter")
    if ctx.rtype is not None and sp.target and ctx.rtype not in sp.target:
        raise bad_value(raw, ",".join(values), f"{has.type}.{has.ref} không trỏ tới {ctx.rtype}",
                        f"{has.type}:{has.ref} cannot refer to {ctx.rtype}")
    ref = s.idx_reference.alias(ctx.alias_name("has_ref"))
    res = s.resource.alias(ctx.alias_name("has_res"))
    inner = criterion(ctx.nested(res, has.type), has.name, values, raw)
    if inner is None:
        return None
    joined = ref.join(res, res.c.pk == ref.c.res_pk)
    conds = [ref.c.param == has.ref, ref.c.res_type == has.type, is_local(ref, ctx.base_url, ctx.dialect),
             res.c.deleted.is_(False), inner, *ctx.visible(res, has.type)]
    if ctx.rtype is None:  # system level: the type is a column of the outer row too
        return select(literal(1)).select_from(joined).where(
            ref.c.target_type == ctx.res.c.type, ref.c.target_id == ctx.res.c.id, *conds).exists()
    return correlate(ctx.dialect, joined, ref.c.target_id, ctx.res.c.id, ref.c.target_type == ctx.rtype, *conds)
