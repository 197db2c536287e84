"""Terminology-aware token modifiers: ``:below``, ``:above``, ``:in``, ``:not-in`` (R4 search.html#token).

Each value becomes a condition on the token index row (``system = S AND code IN (<sub-select>)``); the
sub-selects walk the concept index in SQL (:mod:`benhan.terminology.subsumption`), so a value set or a
hierarchy is never expanded in Python. Looking up what a value names (the code system's loaded versions, a
stored ValueSet) costs one small statement per value, while the query is built.

Anything the service cannot answer exactly is a 400, never an empty or widened result: an unknown value
set, a code system that is not loaded or has no hierarchy, a code it does not hold, a compose filter we do
not evaluate.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, not_, or_, select

from benhan.db import schema as s
from benhan.terminology import subsumption as sub

from ..definitions import value_set_codes
from ..errors import FhirError
from .query import split_escaped, unescape
from .sql import Context, any_of

MODIFIERS = frozenset({"in", "not-in", "below", "above"})
MAX_NESTING = 5  # ValueSet.compose.include.valueSet may nest value sets; cycles stop here
_FHIR_VERSION = "4.0.1"


def _fail(raw: str, value: str, vi: str, en: str, code: str = "not-supported") -> FhirError:
    return FhirError.one(400, code, f"Tham số '{raw}' = '{value}': {vi}", f"Search parameter '{raw}' = '{value}': {en}",
                         raw)


def condition(ctx: Context, t: Any, value: str, modifier: str, raw: str) -> ColumnElement[bool]:
    """The index-row condition of one value (for ``:not-in`` the same as ``:in``; the caller negates)."""
    if modifier in ("below", "above"):
        return _subsumption(ctx, t, value, modifier, raw)
    return _membership(ctx, t, _resolve(ctx, value, raw), value, raw, 0)


def _subsumption(ctx: Context, t: Any, value: str, modifier: str, raw: str) -> ColumnElement[bool]:
    parts = [unescape(p) for p in split_escaped(value, "|")]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise _fail(raw, value, f"cần dạng hệ-mã|mã cho :{modifier}", f":{modifier} needs the form system|code",
                    "invalid")
    system, code = parts
    found = _hierarchy(ctx, system, code, raw, value)
    name = ctx.alias_name(modifier)
    codes = (sub.descendants_or_self(found.pks, code, name) if modifier == "below"
             else sub.ancestors_or_self(found.pks, code, name))
    return and_(_system(t, system), t.c.code.in_(codes))


def _system(t: Any, system: str) -> ColumnElement[bool]:
    """Rows of ``system``, or rows without one: a primitive ``code`` element (``Patient.gender``) is
    indexed without a system, its system being implied by the element's binding (R4 search.html#token)."""
    return or_(t.c.system == system, t.c.system.is_(None))


def _hierarchy(ctx: Context, system: str, code: str, raw: str, value: str,
               version: str | None = None) -> sub.Loaded:
    """The loaded versions of ``system``, checked to have a hierarchy holding ``code``."""
    found = sub.loaded(_conn(ctx), system, version=version, code=code)
    if not found.pks:
        raise _fail(raw, value, f"hệ mã {system} chưa được nạp vào dịch vụ thuật ngữ",
                    f"the code system {system} is not loaded in the terminology service")
    if not found.hierarchical:
        raise _fail(raw, value, f"hệ mã {system} không có phân cấp (quan hệ cha-con)",
                    f"the code system {system} has no hierarchy (no subsumption)")
    if not found.has_code:
        raise _fail(raw, value, f"mã '{code}' không có trong hệ mã {system}",
                    f"the code '{code}' is not in the code system {system}", "not-found")
    return found


def _conn(ctx: Context) -> Any:
    if ctx.conn is None:  # pragma: no cover - every engine entry point passes its connection
        raise RuntimeError("terminology modifiers need the search connection")
    return ctx.conn


# --- value sets -------------------------------------------------------------------------------------


def _resolve(ctx: Context, value: str, raw: str) -> dict[str, Any]:
    """The ValueSet a ``:in`` value names: a literal reference (``ValueSet/id``, or an absolute URL on this
    server) first, else a canonical URL (``url`` or ``url|version``) of a stored ValueSet, else one of the
    FHIR R4 value sets the validator carries (their 4.0.1 expansions)."""
    parts = [unescape(p) for p in split_escaped(value, "|")]
    ref, version = parts[0], (parts[1] if len(parts) == 2 else None)
    if len(parts) > 2 or not ref:
        raise _fail(raw, value, "cần URL của tập giá trị (ValueSet)", "expected a ValueSet URL", "invalid")
    local = ref[len(ctx.base_url) + 1:] if ctx.base_url and ref.startswith(ctx.base_url + "/") else ref
    r = s.resource.alias(ctx.alias_name("vs"))
    if local.startswith("ValueSet/") and "://" not in local:
        rid = local.split("/")[1]
        row = _conn(ctx).execute(select(r.c.content).where(r.c.type == "ValueSet", r.c.id == rid,
                                                           r.c.deleted.is_(False),
                                                           *ctx.visible(r, "ValueSet"))).first()
        if row is None:
            raise _unknown(raw, value)
        return dict(orjson.loads(row[0]))
    u = s.idx_uri.alias(ctx.alias_name("vsu"))
    rows = _conn(ctx).execute(
        select(r.c.content).select_from(r.join(u, u.c.res_pk == r.c.pk))
        .where(u.c.res_type == "ValueSet", u.c.param == "url", u.c.uri == ref, r.c.type == "ValueSet",
               r.c.deleted.is_(False), *ctx.visible(r, "ValueSet"))
        .order_by(r.c.last_updated.desc(), r.c.pk.desc())).all()
    for (content,) in rows:
        vs = dict(orjson.loads(content))
        if version is None or vs.get("version") == version:
            return vs
    core = value_set_codes(ref) if version in (None, _FHIR_VERSION) else None
    if core is not None:
        return {"resourceType": "ValueSet", "url": ref,
                "compose": {"include": [{"system": system, "concept": [{"code": c} for c in sorted(codes)]}
                                        for system, codes in core.items()]}}
    raise _unknown(raw, value)


def _unknown(raw: str, value: str) -> FhirError:
    return _fail(raw, value, "không tìm thấy tập giá trị (ValueSet) này", "unknown value set", "not-found")


def _membership(ctx: Context, t: Any, vs: dict[str, Any], value: str, raw: str, depth: int) -> ColumnElement[bool]:
    """Index row ``t`` holds a code of ``vs``: its compose (includes minus excludes), else its expansion."""
    if depth > MAX_NESTING:
        raise _fail(raw, value, f"tập giá trị lồng nhau quá {MAX_NESTING} cấp",
                    f"value sets nest more than {MAX_NESTING} levels deep")
    compose = vs.get("compose")
    if isinstance(compose, dict) and compose.get("include"):
        included = any_of([_include(ctx, t, item, value, raw, depth) for item in compose["include"]])
        excluded = [_include(ctx, t, item, value, raw, depth) for item in compose.get("exclude") or []]
        return and_(included, not_(or_(*excluded))) if excluded else included
    contains = (vs.get("expansion") or {}).get("contains")
    if contains:
        by_system: dict[str, set[str]] = {}
        _flatten(contains, by_system)
        return any_of([and_(_system(t, system), t.c.code.in_(sorted(codes)))
                       for system, codes in sorted(by_system.items())])
    raise _fail(raw, value, "tập giá trị không có compose hay expansion để đối chiếu",
                "the value set has neither a compose nor an expansion to test against")


def _flatten(contains: list[dict[str, Any]], out: dict[str, set[str]]) -> None:
    for item in contains:
        if item.get("system") and item.get("code") and not item.get("abstract"):
            out.setdefault(item["system"], set()).add(item["code"])
        _flatten(item.get("contains") or [], out)


def _include(ctx: Context, t: Any, item: dict[str, Any], value: str, raw: str, depth: int) -> ColumnElement[bool]:
    """One ``compose.include`` (or ``exclude``): its system part ANDed with every value set it names."""
    conds: list[ColumnElement[bool]] = []
    system, version = item.get("system"), item.get("version")
    if system:
        conds.append(_system(t, system))
        if item.get("concept"):
            conds.append(t.c.code.in_(sorted({c["code"] for c in item["concept"] if c.get("code")})))
        for f in item.get("filter") or []:
            conds.append(_filter(ctx, t, system, version, f, value, raw))
        if not item.get("concept") and not item.get("filter"):
            found = sub.loaded(_conn(ctx), system, version=version)
            if not found.pks:
                raise _fail(raw, value, f"tập giá trị gồm mọi mã của {system}, hệ mã chưa được nạp",
                            f"the value set includes all of {system}, which is not loaded in the terminology service")
            conds.append(t.c.code.in_(sub.all_codes(found.pks)))
    for url in item.get("valueSet") or []:
        nested = _resolve(ctx, url, raw)
        conds.append(_membership(ctx, t, nested, value, raw, depth + 1))
    if not conds:
        raise _fail(raw, value, "một phần include/exclude của tập giá trị không có system hay valueSet",
                    "a value set include/exclude has neither a system nor a valueSet")
    return and_(*conds)


_FILTER_OPS = frozenset({"=", "in", "is-a", "descendent-of", "generalizes", "is-not-a"})


def _filter(ctx: Context, t: Any, system: str, version: str | None, f: dict[str, Any], value: str,
            raw: str) -> ColumnElement[bool]:
    """``compose.include.filter`` on the ``concept`` property (hierarchy and code lists)."""
    op, prop, target = f.get("op"), f.get("property"), str(f.get("value") or "")
    if prop != "concept" or op not in _FILTER_OPS or not target:
        raise _fail(raw, value, f"bộ lọc '{prop} {op} {target}' của tập giá trị chưa được hỗ trợ",
                    f"the value set filter '{prop} {op} {target}' is not supported")
    if op == "=":
        return t.c.code == target
    if op == "in":
        return t.c.code.in_([c.strip() for c in target.split(",") if c.strip()])
    found = _hierarchy(ctx, system, target, raw, value, version)
    name = ctx.alias_name("vsf")
    if op == "is-a":
        return t.c.code.in_(sub.descendants_or_self(found.pks, target, name))
    if op == "descendent-of":
        return t.c.code.in_(sub.strict_descendants(found.pks, target, name))
    if op == "generalizes":
        return t.c.code.in_(sub.ancestors_or_self(found.pks, target, name))
    below = sub.descendants_or_self(found.pks, target, name)
    return and_(t.c.code.in_(sub.all_codes(found.pks)), t.c.code.not_in(below))
