"""Local references (``#id``, ``#``): chains and ``_has`` through resources contained in one container.

R4 search.html ("Contained resources"): a chained condition is evaluated inside contained resources, so
``MedicationRequest?medication.code=PARA500`` finds a prescription whose ``medicationReference`` is ``#m1``
when its contained Medication ``m1`` has that code. Nothing extra is stored for this: the container's
``#m1`` is an ``idx_reference`` row with the text in ``url`` (no target columns), and the contained
resource has a ``contained_resource`` row (negative key, container key, type, local id) whose own index
rows the rest of the chain is compiled against. The join is "same container, ``url = '#' || id``".

Whose ``#id`` is it: a stand-alone row's ``#id`` names a resource it contains itself; a contained row's
(a ``_contained`` search, or a chain that already went inside) names a sibling in the same container, and
its ``#`` names the container (R4 references.html). No access condition is added: a contained resource is
part of its container's record, and the container here is the row being tested or the container of one,
which the caller may already see (top-level rows and chained stand-alone rows carry the access conditions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, exists, literal, select, union_all

from benhan.db import schema as s

from ..contained_tables import contained_resource
from .sql import Context, correlate

Build = Callable[[Context], ColumnElement[bool] | None]


def holder(res: Any) -> Any | None:
    """The container key column when the rows of ``res`` are contained resources (``contained_resource`` or
    the ``_contained`` source), else None: a stand-alone row is the container of its own ``#id``."""
    return res.c.container_pk if "container_pk" in res.c else None


def names(url: Any, local_id: Any) -> ColumnElement[bool]:
    """The reference text ``url`` is ``#`` followed by ``local_id``."""
    return url == literal("#", String) + local_id


def written_by(ctx: Context, ref: Any, code: str) -> list[ColumnElement[bool]]:
    """The reference rows of parameter ``code`` written by rows of the current type."""
    conds = [ref.c.param == code]
    if ctx.rtype is not None:
        conds.insert(0, ref.c.res_type == ctx.rtype)
    return conds


def contained_types(ctx: Context, types: list[str]) -> set[str] | None:
    """Which of ``types`` occur as contained resources at all: one statement of index probes, so that a
    chain compiles no ``#id`` branch (and no rest of the chain under it) for a type no container holds,
    which is every type in a database without contained resources. None without a connection: try all.

    Like the terminology look-ups, it runs while the query is built; under READ COMMITTED a container of a
    type first stored between the two statements may be missed, as if the search had run just before it.
    """
    if ctx.conn is None or not types:
        return None
    cr = contained_resource
    probes = [select(literal(t, String).label("type")).where(exists(select(cr.c.pk).where(cr.c.type == t)))
              for t in types]
    return set(ctx.conn.execute(probes[0] if len(probes) == 1 else union_all(*probes)).scalars())


def chain_branches(ctx: Context, code: str, rtype: str, build: Build, *, contained: bool = True
                   ) -> list[Select[Any]]:
    """The keys of rows referring through ``code`` to a ``rtype`` in their own container that ``build``
    accepts: a contained resource (``#id``, unless ``contained`` says none of that type exists), or from
    a contained row its container (``#``).

    Uncorrelated (a contained referring row finds its container through its own ``contained_resource``
    row), so the caller can put them beside the stored targets in one ``UNION ALL``.
    """
    out: list[Select[Any]] = []
    inside = holder(ctx.res) is not None
    cr = contained_resource.alias(ctx.alias_name("local_res")) if contained else None
    inner = build(ctx.nested(cr, rtype)) if cr is not None else None
    if cr is not None and inner is not None:
        ref = s.idx_reference.alias(ctx.alias_name("local_ref"))
        conds = [*written_by(ctx, ref, code), cr.c.type == rtype, inner]
        if inside:  # a sibling in the referring row's container
            own = contained_resource.alias(ctx.alias_name("own"))
            joined = ref.join(own, own.c.pk == ref.c.res_pk).join(
                cr, and_(cr.c.container_pk == own.c.container_pk, names(ref.c.url, cr.c.id)))
        else:  # the referring row is the container
            joined = ref.join(cr, and_(cr.c.container_pk == ref.c.res_pk, names(ref.c.url, cr.c.id)))
        out.append(select(ref.c.res_pk).select_from(joined).where(*conds))
    if inside:
        ref = s.idx_reference.alias(ctx.alias_name("local_ref"))
        own = contained_resource.alias(ctx.alias_name("own"))
        res = s.resource.alias(ctx.alias_name("container"))
        inner = build(ctx.nested(res, rtype))
        if inner is not None:
            joined = ref.join(own, own.c.pk == ref.c.res_pk).join(res, res.c.pk == own.c.container_pk)
            out.append(select(ref.c.res_pk).select_from(joined).where(
                *written_by(ctx, ref, code), ref.c.url == "#", res.c.type == rtype, res.c.deleted.is_(False), inner))
    return out


def referred_by_container(ctx: Context, rtype: str, code: str, build: Build) -> ColumnElement[bool] | None:
    """The current row, a contained resource, is referred to as ``#id`` through ``code`` by its container,
    a ``rtype`` that ``build`` accepts (``_has`` and ``_list`` on contained rows)."""
    container = holder(ctx.res)
    assert container is not None
    ref = s.idx_reference.alias(ctx.alias_name("local_ref"))
    res = s.resource.alias(ctx.alias_name("container"))
    inner = build(ctx.nested(res, rtype))
    if inner is None:
        return None
    return correlate(ctx.dialect, ref.join(res, res.c.pk == ref.c.res_pk), ref.c.res_pk, container,
                     ref.c.res_type == rtype, ref.c.param == code, names(ref.c.url, ctx.res.c.id),
                     res.c.type == rtype, res.c.deleted.is_(False), inner)
