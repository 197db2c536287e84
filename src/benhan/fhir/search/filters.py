"""Compile parsed criteria into SQL conditions on a resource row (one EXISTS per criterion).

Each criterion becomes ``EXISTS (SELECT 1 FROM idx_<type> WHERE res_pk = resource.pk AND
res_type = ... AND param = ... AND (<value 1> OR <value 2> ...))``: the leading ``res_type, param``
columns let the typed indexes of schema.py serve the lookup, and both engines turn the correlated
EXISTS into a semi-join. Criteria are ANDed by the caller. ``_filter`` expressions (filter_expr.py) come
back here with an operator on the parameter name (``_operator`` below); ``_list`` is in lists.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_, select, true

from benhan.db import schema as s

from .. import composites
from ..definitions import is_resource_type
from ..errors import FhirError
from ..text import normalize
from . import chain, datetimes, filter_expr, lists, near, numbers, refs, strings, terminology, textsearch, tokens, uris
from .budget import check_depth
from .named import apply as named_query
from .problems import bad_modifier, bad_value, unknown_param, unsupported_param
from .query import Name, split_escaped, unescape
from .registry import lookup
from .sql import Context, any_of, like_escape, one_list, param_rows, rows_of


def compile_criteria(ctx: Context, criteria: list[tuple[str, Name, list[str]]]) -> list[ColumnElement[bool]]:
    """The ANDed conditions for ``(raw name, parsed name, OR-ed values)`` triples; ignored ones are
    reported in ``ctx.warnings``. A named query (``_query``) adds its own conditions (named/). On SQLite,
    one top-level criterion drives the search and the others probe (:func:`.sql.one_list`)."""
    criteria, out = named_query(ctx, criteria, criterion)
    for raw, name, values in criteria:
        pred = criterion(ctx, name, values, raw)
        if pred is not None:
            out.append(pred)
    return one_list(ctx, out)


def criterion(ctx: Context, name: Name, values: list[str], raw: str) -> ColumnElement[bool] | None:
    """One parameter with its OR-ed values, or None when the parameter is ignored."""
    if name.code == "_filter" and name.has is None and name.op is None:
        if name.modifier is not None:
            raise bad_modifier(raw, name.modifier)
        if name.chain is not None:
            raise bad_value(raw, ",".join(values), "_filter không nối chuỗi được", "_filter cannot be chained")
        text = ",".join(values)  # commas are not ORs in a filter: the value as sent
        return filter_expr.condition(ctx, text, criterion) if text.strip() else None
    values = [v for v in values if v != ""]
    if not values:
        return None  # an empty value does not restrict the search
    check_depth(ctx, name, raw)
    if name.has is not None:
        return chain.reverse_chain(ctx, name.has, values, raw, criterion)
    code = name.code
    if code == "_list" and name.op is None:
        return lists.condition(ctx, name, values, raw)
    if code == "_query":  # the search's own named query is taken out by compile_criteria
        raise FhirError.one(400, "not-supported", "Truy vấn đặt tên (_query) không dùng được trong chuỗi hay _filter",
                            "A named query (_query) cannot be used in a chain, _has or _filter", raw)
    sp = lookup(ctx.rtype, code)
    if sp is None:
        unknown_param(ctx, raw, ctx.rtype)
        return None
    if not getattr(sp, "supported", True):
        unsupported_param(ctx, raw)
        return None
    if name.chain is not None:
        if sp.type != "reference":
            raise bad_value(raw, ",".join(values), "chỉ tham số kiểu reference mới nối chuỗi được",
                            "only reference parameters can be chained")
        return chain.forward_chain(ctx, sp, name, values, raw, criterion)
    if name.op is not None:
        return _operator(ctx, sp, name.op, values[0], raw)
    modifier = name.modifier
    if modifier == "missing":
        return _missing(ctx, sp, values, raw)
    if code in textsearch.PARAMS:  # _text, _content: full text (textsearch.py)
        return textsearch.condition(ctx, code, modifier, values, raw)
    if code == "near" and sp.type == "special":  # Location.position (near.py)
        return near.condition(ctx, modifier, values, raw)
    if code == "_id":
        return _ids(ctx, modifier, values, raw)
    if code == "_lastUpdated":
        if modifier is not None:
            raise bad_modifier(raw, modifier)
        return any_of([_last_updated(ctx, raw, v) for v in values])
    return _by_type(ctx, sp, modifier, values, raw)


def _base(ctx: Context, t: Any, param: str) -> list[ColumnElement[bool]]:
    """Leading ``res_type, param`` conditions: the prefix of every typed index (a parameter that repeats
    others reads their rows: :func:`benhan.fhir.searchparams.row_params`)."""
    if ctx.rtype is None:
        return [t.c.param == param]
    return [t.c.res_type == ctx.rtype, param_rows(t.c.param, ctx.rtype, param)]


def _rows(ctx: Context, t: Any, *conds: ColumnElement[bool], source: Any = None) -> ColumnElement[bool]:
    """The current resource has index rows in ``t`` (or the join ``source``) matching ``conds``."""
    return rows_of(ctx, source if source is not None else t, t.c.res_pk, *conds)


def _table(ctx: Context, kind: str) -> Any:
    return s.INDEX_TABLES[kind].alias(ctx.alias_name(kind[:3]))


def _by_type(ctx: Context, sp: Any, modifier: str | None, values: list[str], raw: str) -> ColumnElement[bool] | None:
    kind = sp.type
    if kind == "composite":
        if modifier is not None:
            raise bad_modifier(raw, modifier)
        return _composite(ctx, sp, values, raw)
    if kind == "reference":
        if modifier == "identifier":
            t = _table(ctx, "token")
            conds = [tokens.condition(t, v, None, ctx, raw) for v in values]
            return _rows(ctx, t, *_base(ctx, t, f"{sp.code}:identifier"), any_of(conds))
        if modifier is not None and (modifier in refs.UNSUPPORTED or not is_resource_type(modifier)):
            raise bad_modifier(raw, modifier)
        if modifier is not None and sp.target and modifier not in sp.target:
            raise bad_value(raw, ",".join(values), f"{sp.code} không trỏ tới {modifier}",
                            f"{sp.code} cannot refer to {modifier}")
        t = _table(ctx, "reference")
        conds = refs.conditions(t, values, modifier, ctx)
        return _rows(ctx, t, *_base(ctx, t, sp.code), any_of(conds))
    if kind not in s.INDEX_TABLES:
        unsupported_param(ctx, raw)  # a "special" parameter without an index of its own
        return None
    negate = False
    if kind == "token" and modifier in terminology.MODIFIERS:
        t = _table(ctx, kind)
        conds = [terminology.condition(ctx, t, v, modifier or "", raw) for v in values]
        found = _rows(ctx, t, *_base(ctx, t, sp.code), any_of(conds))
        return not_(found) if modifier == "not-in" else found
    allowed = {"string": strings.MODIFIERS, "token": tokens.MODIFIERS, "uri": uris.MODIFIERS}.get(kind, frozenset())
    if modifier is not None and modifier not in allowed:
        raise bad_modifier(raw, modifier)
    if modifier == "not":
        negate, modifier = True, None
    t = _table(ctx, kind)
    conds = [_value_condition(ctx, kind, t, v, modifier, raw) for v in values]
    found = _rows(ctx, t, *_base(ctx, t, sp.code), any_of(conds))
    if kind == "string" and not negate and ctx.depth == 0:
        ctx.drivers[id(found)] = select(t.c.res_pk).where(*_base(ctx, t, sp.code), any_of(conds))
    if kind in ("number", "quantity"):
        return or_(found, _ranges(ctx, sp.code, kind, values, raw))
    return not_(found) if negate else found


def _ranges(ctx: Context, code: str, kind: str, values: list[str], raw: str) -> ColumnElement[bool]:
    """Range values are indexed as ``<code>:low``/``<code>:high`` row pairs sharing a ``grp``."""
    low, high = _table(ctx, kind), _table(ctx, kind)
    joined = low.join(high, and_(high.c.res_pk == low.c.res_pk, high.c.grp == low.c.grp))
    build = numbers.number_range_condition if kind == "number" else numbers.quantity_range_condition
    conds = [build(low, high, v, raw) for v in values]
    return _rows(ctx, low, *_base(ctx, low, f"{code}:low"), high.c.param == f"{code}:high", any_of(conds),
                 source=joined)


def _value_condition(ctx: Context, kind: str, t: Any, value: str, modifier: str | None,
                     raw: str) -> ColumnElement[bool]:
    if kind == "string":
        return strings.condition(t, value, modifier, ctx)
    if kind == "token":
        return tokens.condition(t, value, modifier, ctx, raw)
    if kind == "uri":
        return uris.condition(t, value, modifier, ctx)
    if kind == "number":
        return numbers.number_condition(t, value, raw)
    if kind == "quantity":
        return numbers.quantity_condition(t, value, raw)
    if kind == "date":
        prefix, lo, hi = datetimes.parse(raw, value)
        return datetimes.condition(t.c.low, t.c.high, prefix, lo, hi, ctx.now)
    if kind == "reference":
        return refs.condition(t, value, None, ctx)
    raise bad_value(raw, value, f"kiểu {kind} không dùng được ở đây", f"type {kind} is not usable here")


def _composite(ctx: Context, sp: Any, values: list[str], raw: str) -> ColumnElement[bool] | None:
    """Every component must match within one element of a root: the same composite group (``res_pk`` and
    ``grp``) of the composite whose rows answer it, or, where the root is the resource itself, each
    component as its own ordinary parameter on the same resource (:mod:`benhan.fhir.composites`)."""
    roots = composites.roots(ctx.rtype, sp.code) if ctx.rtype else ()
    kinds = tuple(getattr(sp, "component_types", ()) or ())
    if not roots or any(kind not in s.INDEX_TABLES for kind in kinds):
        unsupported_param(ctx, raw)
        return None
    grouped = list(dict.fromkeys(root.composite for root in roots if root.composite is not None))
    alternatives = []
    for value in values:
        parts = split_escaped(value, "$")
        if len(parts) != len(kinds):
            raise bad_value(raw, value, f"cần {len(kinds)} thành phần cách nhau bởi '$'",
                            f"expected {len(kinds)} components separated by '$'")
        alternatives += [_grouped(ctx, composite, kinds, parts, raw) for composite in grouped]
        for root in roots:
            if root.params:
                each = [_by_type(ctx, lookup(ctx.rtype, code), None, [part], raw)
                        for code, part in zip(root.params, parts, strict=True)]
                alternatives.append(and_(*each))
    return any_of(alternatives)


def _grouped(ctx: Context, composite: str, kinds: tuple[str, ...], parts: list[str], raw: str) -> ColumnElement[bool]:
    """Rows ``<composite>$<i>`` of one group match part ``i`` each."""
    tables = [_table(ctx, kind) for kind in kinds]
    first = tables[0]
    joined = first
    for t in tables[1:]:
        joined = joined.join(t, and_(t.c.res_pk == first.c.res_pk, t.c.grp == first.c.grp))
    conds = _base(ctx, first, f"{composite}$0")
    for index, (kind, t, part) in enumerate(zip(kinds, tables, parts, strict=True)):
        if t is not first:
            conds += [t.c.res_type == ctx.rtype, t.c.param == f"{composite}${index}"]
        conds.append(_value_condition(ctx, kind, t, part, None, raw))
    return _rows(ctx, first, *conds, source=joined)


def _missing(ctx: Context, sp: Any, values: list[str], raw: str) -> ColumnElement[bool]:
    if sp.code in ("_id", "_lastUpdated"):
        present: ColumnElement[bool] = true()
    elif sp.code in textsearch.PARAMS:
        present = textsearch.present(ctx, sp.code)
    elif sp.code == "near" and sp.type == "special":
        present = near.present(ctx)
    elif sp.type == "composite":
        roots = composites.roots(ctx.rtype, sp.code) if ctx.rtype else ()
        if not roots:
            raise bad_modifier(raw, "missing")
        kind = sp.component_types[0]
        found = []
        for root in roots:
            if root.params:  # the resource is the root: every component has a value
                found.append(and_(*(_missing(ctx, lookup(ctx.rtype, code), ["false"], raw) for code in root.params)))
            else:
                t = _table(ctx, kind)
                found.append(_rows(ctx, t, *_base(ctx, t, f"{root.composite}$0")))
        present = any_of(found)
    elif sp.type == "reference":
        t, tok = _table(ctx, "reference"), _table(ctx, "token")
        present = or_(_rows(ctx, t, *_base(ctx, t, sp.code)),
                      _rows(ctx, tok, *_base(ctx, tok, f"{sp.code}:identifier")))
    elif sp.type in ("number", "quantity"):
        t = _table(ctx, sp.type)
        present = _rows(ctx, t, *_base(ctx, t, sp.code)[:-1], t.c.param.in_([sp.code, f"{sp.code}:low"]))
    elif sp.type in s.INDEX_TABLES:
        t = _table(ctx, sp.type)
        present = _rows(ctx, t, *_base(ctx, t, sp.code))
    else:
        raise bad_modifier(raw, "missing")
    out = []
    for v in values:
        flag = unescape(v)
        if flag not in ("true", "false"):
            raise bad_value(raw, v, "chỉ nhận true hoặc false", "expected true or false")
        out.append(not_(present) if flag == "true" else present)
    return any_of(out)


def _ids(ctx: Context, modifier: str | None, values: list[str], raw: str) -> ColumnElement[bool]:
    ids = [unescape(v) for v in values]
    if modifier is None:
        return ctx.res.c.id.in_(ids) if len(ids) > 1 else ctx.res.c.id == ids[0]
    if modifier == "not":
        return ctx.res.c.id.not_in(ids)
    raise bad_modifier(raw, modifier)


def _last_updated(ctx: Context, raw: str, value: str) -> ColumnElement[bool]:
    prefix, lo, hi = datetimes.parse(raw, value)
    col = ctx.res.c.last_updated
    return datetimes.condition(col, col, prefix, lo, hi, ctx.now)


# ---- _filter operators ------------------------------------------------------------------------
# What each operator of a ``_filter`` comparison means for each parameter type, as the ordinary
# modifier or prefix where one exists (``co`` = ``:contains``, ``ge`` = the ``ge`` prefix, ``pr`` =
# ``:missing`` negated, ``ss`` = ``:below``...). Anything else is a 400 naming operator and type.
_PREFIX_OPS = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"})
_TOKEN_OPS = {"eq": None, "ne": "not", "in": "in", "ni": "not-in", "ss": "below", "sb": "above"}
_URI_OPS = {"eq": None, "ss": "below", "sb": "above"}


def _filter_value(value: str, *, keep_bar: bool) -> str:
    """A literal filter value in the escaped form the value builders unescape (``|`` stays a separator
    where the type has one: token ``system|code``, quantity ``value|system|code``, ``url|version``)."""
    out = value.replace("\\", "\\\\").replace(",", "\\,").replace("$", "\\$")
    return out if keep_bar else out.replace("|", "\\|")


def _unsupported_op(op: str, kind: str, raw: str) -> FhirError:
    return FhirError.one(400, "not-supported",
                         f"Toán tử '{op}' không dùng được với tham số '{raw}' (kiểu {kind})",
                         f"The operator '{op}' is not supported for the {kind} parameter '{raw}'", raw)


def _operator(ctx: Context, sp: Any, op: str, value: str, raw: str) -> ColumnElement[bool] | None:
    """A ``_filter`` comparison ``<sp> <op> <value>`` on the current resource."""
    kind = "date" if sp.code == "_lastUpdated" else sp.type
    if op == "pr":
        flag = value.lower()
        if flag not in ("true", "false"):
            raise bad_value(raw, value, "pr chỉ nhận true hoặc false", "pr expects true or false")
        return _missing(ctx, sp, ["false" if flag == "true" else "true"], raw)
    if sp.code == "_id":
        if op not in ("eq", "ne"):
            raise _unsupported_op(op, "token", raw)
        return _ids(ctx, "not" if op == "ne" else None, [_filter_value(value, keep_bar=False)], raw)
    if kind == "string":
        v = _filter_value(value, keep_bar=False)
        if op in ("co", "sw"):
            return _by_type(ctx, sp, "contains" if op == "co" else None, [v], raw)
        if op in ("eq", "ne", "ew"):
            norm = normalize(value)
            t = _table(ctx, "string")
            test = t.c.value == norm if op != "ew" else t.c.value.like("%" + like_escape(norm), escape="\\")
            found = _rows(ctx, t, *_base(ctx, t, sp.code), test)
            return not_(found) if op == "ne" else found
        raise _unsupported_op(op, kind, raw)
    if kind == "token":
        if op not in _TOKEN_OPS:
            raise _unsupported_op(op, kind, raw)
        return _by_type(ctx, sp, _TOKEN_OPS[op], [_filter_value(value, keep_bar=True)], raw)
    if kind == "uri":
        if op == "ne":
            found = _by_type(ctx, sp, None, [_filter_value(value, keep_bar=False)], raw)
            return None if found is None else not_(found)
        if op not in _URI_OPS:
            raise _unsupported_op(op, kind, raw)
        return _by_type(ctx, sp, _URI_OPS[op], [_filter_value(value, keep_bar=False)], raw)
    if kind == "reference":
        if op not in ("eq", "re", "ne"):
            raise _unsupported_op(op, kind, raw)
        found = _by_type(ctx, sp, None, [_filter_value(value, keep_bar=True)], raw)
        return not_(found) if op == "ne" and found is not None else found
    if kind == "date":
        if op == "po":
            return _overlaps(ctx, sp, value, raw)
        if op not in _PREFIX_OPS:
            raise _unsupported_op(op, kind, raw)
        v = op + _filter_value(value, keep_bar=False)
        if sp.code == "_lastUpdated":
            return _last_updated(ctx, raw, v)
        return _by_type(ctx, sp, None, [v], raw)
    if kind in ("number", "quantity"):
        if op not in _PREFIX_OPS:
            raise _unsupported_op(op, kind, raw)
        return _by_type(ctx, sp, None, [op + _filter_value(value, keep_bar=kind == "quantity")], raw)
    raise _unsupported_op(op, kind, raw)  # composite, special: only pr


def _overlaps(ctx: Context, sp: Any, value: str, raw: str) -> ColumnElement[bool]:
    """``po``: some indexed date range overlaps the range of ``value`` (its precision)."""
    prefix, lo, hi = datetimes.parse(raw, _filter_value(value, keep_bar=False))
    if value[:2] == prefix:  # "po ge2024": a prefix is not part of a filter value
        raise bad_value(raw, value, "giá trị của po không có tiền tố", "a po value takes no prefix")
    if sp.code == "_lastUpdated":
        col = ctx.res.c.last_updated
        return and_(col <= hi, col >= lo)
    t = _table(ctx, "date")
    return _rows(ctx, t, *_base(ctx, t, sp.code), t.c.low <= hi, t.c.high >= lo)
