"""The search interaction: parse, compile to one SELECT, page, include, count, build the Bundle.

Statements per search, whatever the page size: one for the page (ids and content together), one
per include level, and at most one count. Without ``_total`` the total is given when it is free —
the first page holds every match, or a later page is the last — and left out otherwise: counting a
large result costs each counted match its access test (a care-relationship EXISTS), which made the
count of a doctor's ``Patient?name=ngu`` (thousands of Nguyễn, few of them the doctor's) the
costliest statement of a working day at 1 M resources (pg_stat_statements), for a number no screen
shows. ``_total=estimate`` counts up to :data:`ESTIMATE_CAP` (left out above), ``_total=accurate``
exactly, ``_total=none`` never; ``_summary=count`` and ``_count=0`` always count exactly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import ColumnElement, Connection, Select, and_, func, null, or_, select, union_all

from benhan.db import schema as s

from ..clock import system_clock
from ..definitions import is_resource_type
from ..errors import FhirError, Issue
from . import contained
from . import includes as inc
from .bundle import entries, searchset
from .filters import compile_criteria
from .paging import links, parse_page
from .problems import bad_value, ignored, unknown_param
from .query import RESULT_PARAMS, criteria
from .registry import lookup_all
from .shaping import parse_shape
from .sorting import order_by
from .sql import Context, correlate

ESTIMATE_CAP = 1000
# The request's access filter (benhan.security.guard.FhirGuard) travels with its connection, so every
# query path over resource rows (search, includes, conditional matching, $everything) applies it.
ACCESS_KEY = "benhan.access"
TOTAL_MODES = frozenset({"none", "estimate", "accurate"})
_QUIET = frozenset({"_format", "_pretty", "_type"})
_ANY_TYPE = frozenset({"_id", "_lastUpdated", "_filter", "_list"})  # valid on every type of a _type search


def _unknown_type(rtype: str) -> FhirError:
    return FhirError.one(404, "not-supported", f"Loại tài nguyên không được hỗ trợ: {rtype}",
                         f"Unknown resource type '{rtype}'")


def _types_param(params: list[tuple[str, str]]) -> list[str] | None:
    types: list[str] | None = None
    for name, value in params:
        if name != "_type":
            continue
        types = types or []
        for t in value.split(","):
            t = t.strip()
            if not is_resource_type(t):
                raise bad_value("_type", value, f"{t} không phải loại tài nguyên", f"'{t}' is not a resource type")
            if t not in types:
                types.append(t)
    return types


def build_where(conn: Connection, resource_type: str | None, params: list[tuple[str, str]], *, base_url: str,
                strict: bool, warnings: list[Issue], compartment: tuple[str, str] | None = None,
                now: int | None = None, access: Any = None, res: Any = None
                ) -> tuple[list[ColumnElement[bool]], Context, list[str] | None]:
    """WHERE conditions on ``resource`` (or ``res``, shaped like it) for the filter parameters, the
    context, and the types searched."""
    r = s.resource if res is None else res
    ctx = Context(r, resource_type, conn.dialect.name, base_url, now if now is not None else system_clock(),
                  strict, warnings, access=access, conn=conn)
    where: list[ColumnElement[bool]] = [r.c.deleted.is_(False)]
    types = _types_param(params)
    crit = [(c.raw_name, c.name, c.values) for c in criteria(params) if c.raw_name not in _QUIET]
    if resource_type is not None:
        if not is_resource_type(resource_type):
            raise _unknown_type(resource_type)
        where.append(r.c.type == resource_type)
        if types is not None:
            where.append(r.c.type.in_(types))
        conds = compile_criteria(ctx, crit)
        if len(conds) != 1 or types is not None or compartment is not None:
            ctx.drivers.clear()  # only a search's sole criterion may drive its page (see _driven_page)
        where += conds
    elif types:
        known = []
        for raw, name, values in crit:
            if name.has is None and name.code not in _ANY_TYPE and lookup_all(types, name.code) is None:
                unknown_param(ctx, raw, ",".join(types))
            else:
                known.append((raw, name, values))
        where.append(r.c.type.in_(types) if len(types) > 1 else r.c.type == types[0])
        if len(types) == 1:
            where += compile_criteria(_for_type(ctx, types[0]), known)
        elif known:
            where.append(r.c.pk.in_(union_all(*(_type_branch(ctx, t, known) for t in types))))
    else:
        where += compile_criteria(ctx, crit)
        ctx.drivers.clear()
    if compartment is not None:
        c = s.compartment
        conds = [c.c.comp_type == compartment[0], c.c.comp_id == compartment[1]]
        if resource_type is not None:
            conds.append(c.c.res_type == resource_type)
        where.append(correlate(ctx.dialect, c, c.c.res_pk, r.c.pk, *conds))
    if access is not None:
        where += access.search_conditions(r, resource_type)
    return where, ctx, types


def access_filter(conn: Connection, access: Any = None) -> Any:
    """The explicit access filter, else the one attached to the connection (None: trusted caller)."""
    return access if access is not None else conn.info.get(ACCESS_KEY)


def _for_type(ctx: Context, rtype: str) -> Context:
    return Context(ctx.res, rtype, ctx.dialect, ctx.base_url, ctx.now, ctx.strict, ctx.warnings, ctx.depth,
                   ctx.aliases, ctx.access, ctx.conn)


def _type_branch(ctx: Context, rtype: str, known: list[tuple[str, Any, list[str]]]) -> Select[tuple[int]]:
    """The pks of ``rtype`` matching the criteria, on their own alias of ``resource``.

    A ``_type`` search ORing per-type conditions (``type = A AND EXISTS ... OR type = B AND EXISTS ...``)
    cannot use the per-type indexes: PostgreSQL walked every resource row testing subplans. As one
    ``UNION ALL`` branch per type, each type's criteria drive their own index lookups, as in a single-type
    search, and the outer query reads only the matched rows.
    """
    res = s.resource.alias(ctx.alias_name("res"))
    sub = Context(res, rtype, ctx.dialect, ctx.base_url, ctx.now, ctx.strict, ctx.warnings, ctx.depth,
                  ctx.aliases, ctx.access, ctx.conn)
    return select(res.c.pk).where(res.c.type == rtype, res.c.deleted.is_(False), *compile_criteria(sub, known))


def find_ids(conn: Connection, resource_type: str, query: str) -> list[str]:
    """Ids of the resources matching ``query`` (conditional create/update/delete).

    Always strict: ignoring an unknown parameter here could update or delete the wrong resource.
    """
    params = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=True) if k != "_format"]
    for name, _ in params:  # _count, _sort, _contained...: not conditions; dropping them would widen the match
        if name in RESULT_PARAMS or name.split(":", 1)[0] in ("_include", "_revinclude"):
            raise FhirError.one(400, "not-supported", f"Tham số kết quả '{name}' không dùng làm điều kiện được",
                                f"The result parameter '{name}' cannot be used in a condition", name)
    if not any(v for _, v in params):
        raise FhirError.one(400, "invalid", "Thao tác có điều kiện cần tham số tìm kiếm có giá trị",
                            "A conditional interaction needs a search parameter with a value")
    where, _, _ = build_where(conn, resource_type, params, base_url="", strict=True, warnings=[],
                              access=access_filter(conn))
    r = s.resource
    return [row[0] for row in conn.execute(select(r.c.id).where(*where).order_by(r.c.pk))]


def search(conn: Connection, resource_type: str | None, params: list[tuple[str, str]], *, base_url: str,
           default_count: int = 20, max_count: int = 1000, strict: bool = False,
           compartment: tuple[str, str] | None = None, now: int | None = None, access: Any = None,
           as_stored: bool = False) -> dict[str, Any]:
    """A FHIR searchset Bundle for ``params`` (decoded query pairs, in order).

    ``as_stored``: whole resources stay unparsed JSON text (``orjson.Fragment``) in a Bundle that is only
    going to be serialized (the HTTP answer); callers that read the resources leave it False.
    """
    access = access_filter(conn, access)
    warnings: list[Issue] = []
    _check_result_params(params, warnings, strict)
    mode = contained.parse_mode(params)
    if not mode.plain:
        return _search_contained(conn, resource_type, params, mode, warnings, base_url=base_url,
                                 default_count=default_count, max_count=max_count, strict=strict,
                                 compartment=compartment, now=now, access=access, as_stored=as_stored)
    where, ctx, types = build_where(conn, resource_type, params, base_url=base_url, strict=strict,
                                    warnings=warnings, compartment=compartment, now=now, access=access)
    page = parse_page(params, default_count, max_count)
    shape = parse_shape(params, as_stored=as_stored)
    total_mode = _total_mode(params)
    if shape.summary == "count":
        total_mode = "accurate"  # the count is the whole answer: _total cannot take it away or cap it
    specs = inc.parse_includes(params, warnings, strict)
    sort_values = [v for k, v in params if k == "_sort"]
    sort_types = [resource_type] if resource_type else types
    r = s.resource
    if page.snapshot is not None:
        where.append(r.c.pk <= page.snapshot)

    rows: list[inc.Row] = []
    has_next = False
    snapshot = page.snapshot
    count_only = shape.summary == "count" or page.count == 0
    if not count_only:
        snap_col = select(func.max(s.resource.c.pk)).scalar_subquery() if snapshot is None else None
        cols = [r.c.pk, r.c.type, r.c.id, r.c.content] + ([snap_col] if snap_col is not None else [])
        driven = _fetch_driven(conn, ctx, where, cols, sort_values, page, snapshot)
        if driven is None:
            stmt = select(*cols).where(*where).order_by(*order_by(ctx, sort_types, sort_values))
            driven = _fetch_page(conn, stmt, page, snapshot)
        result, has_next, snapshot = driven
        rows = [inc.Row(row[0], row[1], row[2], row[3]) for row in result]

    total = _total(conn, select(r.c.pk).where(*where), total_mode, page, rows, has_next, count_only)
    return _bundle(conn, resource_type, params, rows, specs, warnings, total=total, has_next=has_next,
                   snapshot=snapshot, page=page, shape=shape, base_url=base_url, compartment=compartment,
                   access=access)


def _bundle(conn: Connection, resource_type: str | None, params: list[tuple[str, str]], rows: list[inc.Row],
            specs: list[inc.IncludeSpec], warnings: list[Issue], *, total: int | None, has_next: bool,
            snapshot: int | None, page: Any, shape: Any, base_url: str, compartment: tuple[str, str] | None,
            access: Any) -> dict[str, Any]:
    """Includes, the access filter's last word (and audit), entries and links."""
    included = inc.resolve(conn, specs, rows, warnings, base_url=base_url) if specs else []
    if access is not None:
        included = access.after_search(conn, resource_type, params, contained.audit_rows(rows), included,
                                       compartment)
    entry = [] if shape.summary == "count" else (
        entries(base_url, rows, "match", shape) + entries(base_url, included, "include", shape))
    path = _path(base_url, resource_type, compartment)
    return searchset(total=total, links=links(path, params, page, has_next=has_next, snapshot=snapshot),
                     entry=entry, warnings=warnings)


def _search_contained(conn: Connection, resource_type: str | None, params: list[tuple[str, str]],
                      mode: contained.Mode, warnings: list[Issue], *, base_url: str, default_count: int,
                      max_count: int, strict: bool, compartment: tuple[str, str] | None, now: int | None,
                      access: Any, as_stored: bool) -> dict[str, Any]:
    """``_contained=true|both``: the criteria run over contained resources (and stored ones for ``both``);
    the page holds the containers or the contained resources (``_containedType``)."""
    if resource_type is None:
        raise FhirError.one(400, "not-supported", "_contained chỉ dùng được khi tìm một loại tài nguyên",
                            "_contained needs a search on one resource type", "_contained")
    dialect = conn.dialect.name
    src = contained.source(dialect, access, compartment)
    # unknown parameters are reported once: by this pass, or by the plain one for _contained=both
    c_where, _, _ = build_where(conn, resource_type, params, base_url=base_url, strict=strict,
                                warnings=warnings if mode.scope == "true" else [], now=now, res=src)
    page = parse_page(params, default_count, max_count)
    shape = parse_shape(params, as_stored=as_stored)
    total_mode = "accurate" if shape.summary == "count" else _total_mode(params)
    specs = inc.parse_includes(params, warnings, strict)
    sort_values = [v for k, v in params if k == "_sort"]
    r = s.resource
    plain_where: list[ColumnElement[bool]] = []
    if mode.scope == "both":
        plain_where, _, _ = build_where(conn, resource_type, params, base_url=base_url, strict=strict,
                                        warnings=warnings, compartment=compartment, now=now, access=access)
    snap_max = select(func.max(r.c.pk)).scalar_subquery()
    if mode.returns == "container":
        containers = select(src.c.container_pk).where(*c_where)
        if mode.scope == "both":
            matched = or_(and_(*plain_where), r.c.pk.in_(containers))
            ctx = Context(r, resource_type, dialect, base_url, now or system_clock(), strict, warnings, access=access,
                          conn=conn)
            ordering = order_by(ctx, [resource_type], sort_values)
        else:
            matched = r.c.pk.in_(containers)
            if sort_values:
                ignored(warnings, strict, "_sort", "_sort không áp dụng cho vật chứa (_containedType=container)",
                        "_sort does not apply to containers (_containedType=container)")
            ordering = [r.c.pk.asc()]
        base = [r.c.deleted.is_(False), matched]
        cols: list[Any] = [r.c.pk, r.c.type, r.c.id, r.c.content, null(), null()]
        source_cols, snap_key = r, r.c.pk
    else:
        c_cols = [src.c.pk, src.c.type, src.c.id, src.c.content, src.c.container_type, src.c.container_id,
                  src.c.container_pk.label("snap_key")]
        union = select(*c_cols).where(*c_where)
        if mode.scope == "both":
            union = union_all(select(r.c.pk, r.c.type, r.c.id, r.c.content, null().label("container_type"),
                                     null().label("container_id"), r.c.pk.label("snap_key")).where(*plain_where),
                              union)
        u = union.subquery("matched")
        ctx = Context(u, resource_type, dialect, base_url, now or system_clock(), strict, warnings, conn=conn)
        ordering = order_by(ctx, [resource_type], sort_values)
        base = []
        cols = [u.c.pk, u.c.type, u.c.id, u.c.content, u.c.container_type, u.c.container_id]
        source_cols, snap_key = u, u.c.snap_key
    if page.snapshot is not None:
        base.append(snap_key <= page.snapshot)
    count_only = shape.summary == "count" or page.count == 0
    rows: list[inc.Row] = []
    has_next, snapshot = False, page.snapshot
    if not count_only:
        stmt = select(*cols, snap_max).select_from(source_cols).where(*base).order_by(*ordering)
        result, has_next, snapshot = _fetch_page(conn, stmt, page, snapshot)
        rows = [contained.contained_row(pk, t, i, content, ct, ci, base_url) if ct is not None
                else inc.Row(pk, t, i, content) for pk, t, i, content, ct, ci, _ in result]
    matching = select(cols[0]).select_from(source_cols).where(*base)
    total = _total(conn, matching, total_mode, page, rows, has_next, count_only)
    return _bundle(conn, resource_type, params, rows, specs, warnings, total=total, has_next=has_next,
                   snapshot=snapshot, page=page, shape=shape, base_url=base_url, compartment=compartment,
                   access=access)


def _fetch_driven(conn: Connection, ctx: Context, where: list[ColumnElement[bool]], cols: list[Any],
                  sort_values: list[str], page: Any, snapshot: int | None
                  ) -> tuple[list[Any], bool, int | None] | None:
    """The page driven by the search's only criterion, a string one (PostgreSQL), or None when the
    search has another shape.

    ``Patient?name=ngu`` matches a third of all patients (Nguyễn). As one semi-join PostgreSQL gathers
    every match, fetches each resource row and tests the access conditions (care relationship, security
    labels) on all of them, then keeps the first 21: 100-330 ms at 21,000 patients, growing with the
    hospital. Its estimate cannot warn it: the prefix is judged against the statistics of every string
    value of every parameter. Here the matching index rows are taken in ``pk`` order first, and resource
    rows and access conditions are then read in that order only.

    A first page is read from a cut of the driver: its first ``offset + count + 1`` keys, outer-joined to
    the resource rows with the other conditions in the join, so a match they drop comes back as NULLs.
    With the LIMIT inside, PostgreSQL walks the index in key order and stops early (a doctor's
    ``name=ngu`` at 1.2 M resources: 3.5 ms instead of 23 ms in EXPLAIN ANALYZE). The cut answers
    alone when every key passed or the cut held every match; otherwise (the access conditions, a deleted
    row or the paging snapshot dropped some) the page is read again from the whole driver, sorted before
    it is joined, so the answer is always exactly that of the plain search. A wider second cut was tried
    and was slower: every key of a cut is tested before the page is taken, while the whole sorted driver
    stops testing once the page is full (``ha``: 24 ms with a cut of 168, 11 ms without). Only a
    sole criterion drives: with another one beside it, PostgreSQL chooses the more selective of the two
    better than a rule here would.
    """
    if ctx.dialect != "postgresql" or sort_values or len(ctx.drivers) != 1:
        return None
    (key, driver), = ctx.drivers.items()
    r = ctx.res
    rest = [cond for cond in where if id(cond) != key]
    if len(rest) == len(where):
        return None
    pk = driver.selected_columns[0]
    ordered = driver.group_by(pk).order_by(pk)
    wanted = page.offset + page.count + 1
    if wanted <= _DRIVER_CUT_MAX:
        cut = ordered.limit(wanted).subquery("driver")
        stmt = (select(*cols).select_from(cut.outerjoin(r, and_(r.c.pk == cut.c.res_pk, *rest)))
                .order_by(cut.c.res_pk))
        rows = conn.execute(stmt).all()
        kept = [row for row in rows if row[0] is not None]  # a dropped match comes back as a row of NULLs
        if len(kept) == wanted or len(rows) < wanted:  # the page is full, or the cut held every match
            if kept and snapshot is None:
                snapshot = kept[0][-1]
            return kept[page.offset:page.offset + page.count], len(kept) == wanted, snapshot
    matches = ordered.offset(0).subquery("driver")  # OFFSET 0: sorted before joined
    stmt = (select(*cols).select_from(matches.join(r, r.c.pk == matches.c.res_pk)).where(*rest)
            .order_by(matches.c.res_pk))
    return _fetch_page(conn, stmt, page, snapshot)


_DRIVER_CUT_MAX = 101  # deeper pages sort every match at once rather than read a long cut whole


def _fetch_page(conn: Connection, stmt: Any, page: Any, snapshot: int | None) -> tuple[list[Any], bool, int | None]:
    """One page of ``stmt`` (asked for one row more, to know whether a next page exists), whether there is a
    next page, and the paging snapshot: the given one, else the last column of the first row (max pk)."""
    result = conn.execute(stmt.limit(page.count + 1).offset(page.offset)).all()
    has_next = len(result) > page.count
    result = result[:page.count]
    if result and snapshot is None:
        snapshot = result[0][-1]
    return result, has_next, snapshot


def _path(base_url: str, resource_type: str | None, compartment: tuple[str, str] | None) -> str:
    parts = [base_url]
    if compartment is not None:
        parts += [compartment[0], compartment[1]]
    if resource_type is not None:
        parts.append(resource_type)
    return "/".join(parts)


def _total_mode(params: list[tuple[str, str]]) -> str | None:
    mode = None
    for name, value in params:
        if name == "_total":
            if value not in TOTAL_MODES:
                raise bad_value("_total", value, "chỉ nhận none, estimate, accurate",
                                "expected none, estimate or accurate")
            mode = value
    return mode


def _total(conn: Connection, matching: Select[Any], mode: str | None, page: Any,
           rows: list[inc.Row], has_next: bool, count_only: bool) -> int | None:
    if mode == "none":
        return None
    if not count_only and not has_next and (rows or page.offset == 0):
        return page.offset + len(rows)  # the last page: the total is known without counting
    if mode == "accurate" or (mode is None and count_only):
        return conn.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
    if mode is None:
        return None  # a full page and no _total asked for: counting is the client's choice (see the module doc)
    cap = ESTIMATE_CAP
    counted = conn.execute(select(func.count()).select_from(matching.limit(cap + 1).subquery())).scalar_one()
    return counted if counted <= cap else None


def _check_result_params(params: list[tuple[str, str]], warnings: list[Issue], strict: bool) -> None:
    for name, value in params:
        if name.startswith("_") and name not in RESULT_PARAMS and name.split(":")[0] in (
                "_sort", "_count", "_total", "_summary", "_elements"):
            raise bad_value(name, value, "tham số kết quả không có bộ chỉnh", "result parameters take no modifier")


__all__ = ["find_ids", "search"]
