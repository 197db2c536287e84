"""Chained parameters (``subject:Patient.name=an``, to any depth) and reverse chaining (``_has``).

A chain is an EXISTS over the reference rows of the current resource joined to the referenced
resource, with the rest of the chain compiled against that resource; ``_has`` is the mirror image,
joining the reference rows that point *at* the current resource. Both recurse through the
compiler's ``criterion`` function, passed in to keep the modules acyclic.

Local references (``#id``) reach resources contained in the same container (:mod:`local_refs`): each
link of a chain also tries that target, so ``medication.code`` looks at a stored or a contained
Medication. The resources *doing* the referring in ``_has`` are stand-alone ones only, as everywhere
outside ``_contained`` searches; on a contained row ``_has`` asks its container (the only resource that
can name it, as ``#id``).

Every target a link tries and every ``_has`` is one branch of the search's budget (:mod:`budget`), counted
before the rest of the chain is compiled under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select, union_all
from sqlalchemy.sql import literal

from benhan.db import schema as s

from ..definitions import is_resource_type
from . import budget, local_refs
from .problems import bad_modifier, bad_value, unknown_param
from .query import Has, Name
from .refs import is_local
from .registry import lookup
from .sql import Context, correlate

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
    chained = name.chain

    def build(sub: Context) -> ColumnElement[bool] | None:
        budget.spend_branch(ctx, raw)  # each target compiles the rest of the chain: counted before it does
        return criterion(sub, chained, values, raw)

    branches: list[Select[Any]] = []
    held = local_refs.contained_types(ctx, types)
    for rtype in types:
        branches += _stored_targets(ctx, sp.code, rtype, build)
        # "#id": a resource contained in the same container (R4 search.html, "Contained resources")
        branches += local_refs.chain_branches(ctx, sp.code, rtype, build, contained=held is None or rtype in held)
    if not branches:
        return None
    return _one_of(ctx, branches)


def _one_of(ctx: Context, branches: list[Select[Any]]) -> ColumnElement[bool]:
    """The current row's key is among those of ``branches``, as ONE condition: PostgreSQL plans an EXISTS
    over their ``UNION ALL`` as one semi-join (an OR of several EXISTS cannot be one, and made it test
    resource rows one by one); SQLite takes the compound select in ``IN`` as it is (a subquery in FROM per
    link would overflow its parser stack at six links)."""
    if len(branches) == 1:  # the plain shape: a correlated EXISTS (PostgreSQL), IN (SQLite); see sql.correlate
        only = branches[0]
        if ctx.dialect == "sqlite":
            return ctx.res.c.pk.in_(only)
        return only.where(only.selected_columns[0] == ctx.res.c.pk).exists()
    keys = union_all(*branches)
    if ctx.dialect == "sqlite":
        return ctx.res.c.pk.in_(keys)
    found = keys.subquery(ctx.alias_name("chain"))
    return correlate(ctx.dialect, found, found.c.res_pk, ctx.res.c.pk)


def _stored_targets(ctx: Context, code: str, rtype: str, build: local_refs.Build) -> list[Select[Any]]:
    """The keys of rows referring through ``code`` to a stored ``rtype`` (``Type/id``) that ``build`` accepts."""
    ref = s.idx_reference.alias(ctx.alias_name("chain_ref"))
    res = s.resource.alias(ctx.alias_name("chain_res"))
    inner = build(ctx.nested(res, rtype))
    if inner is None:
        return []
    joined = ref.join(res, and_(res.c.type == ref.c.target_type, res.c.id == ref.c.target_id))
    return [select(ref.c.res_pk).select_from(joined).where(
        *local_refs.written_by(ctx, ref, code), ref.c.target_type == rtype, is_local(ref, ctx.base_url, ctx.dialect),
        res.c.deleted.is_(False), inner, *ctx.visible(res, rtype))]  # a hidden resource must not decide


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
    budget.spend_branch(ctx, raw)
    if local_refs.holder(ctx.res) is not None:  # a contained resource is referred to only by its container
        return local_refs.referred_by_container(ctx, has.type, has.ref,
                                                lambda sub: criterion(sub, has.name, values, raw))
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
