"""``_include`` and ``_revinclude`` (with ``:iterate``): one SQL statement per level.

Level 0 applies every spec to the matched page; each further level (at most
:data:`MAX_ITERATE`) applies only the ``:iterate`` specs to what the previous level added. The
specs of one level are a UNION of primary-key selections over ``idx_reference``, read back with
their content in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select, union

from benhan.db import schema as s
from benhan.db.values import among

from ..definitions import is_resource_type
from ..errors import Issue
from .problems import bad_value, ignored
from .refs import is_local
from .registry import lookup

MAX_ITERATE = 3
MAX_INCLUDED = 5000  # per search: beyond this the result is cut and a warning says so


@dataclass(frozen=True, slots=True)
class IncludeSpec:
    reverse: bool
    source: str | None  # None: any type (``*``)
    param: str | None  # None: every reference parameter (``*`` / ``Type:*``)
    target: str | None = None
    iterate: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    pk: int
    type: str
    id: str
    content: str
    url: str | None = None  # fullUrl when not {base}/{type}/{id}: a contained resource (container URL + #id)
    container: tuple[int, str, str] | None = None  # (pk, type, id) of a contained resource's container


def parse_includes(params: list[tuple[str, str]], warnings: list[Issue], strict: bool) -> list[IncludeSpec]:
    specs: list[IncludeSpec] = []
    for name, value in params:
        base, _, modifier = name.partition(":")
        if base not in ("_include", "_revinclude"):
            continue
        if modifier not in ("", "iterate", "recurse"):
            raise bad_value(name, value, "bộ chỉnh chỉ có thể là :iterate", "the only modifier is :iterate")
        reverse, iterate = base == "_revinclude", bool(modifier)
        for item in value.split(","):
            spec = _parse_one(name, item.strip(), reverse, iterate, warnings, strict)
            if spec is not None:
                specs.append(spec)
    return specs


def _parse_one(name: str, value: str, reverse: bool, iterate: bool, warnings: list[Issue],
               strict: bool) -> IncludeSpec | None:
    if value == "*":
        return IncludeSpec(reverse, None, None, None, iterate)
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(parts) or not is_resource_type(parts[0]):
        raise bad_value(name, value, "cần dạng Loại:tham-số[:Loại-đích]", "expected Type:parameter[:TargetType]")
    source, param = parts[0], parts[1]
    target = parts[2] if len(parts) == 3 else None
    if target is not None and not is_resource_type(target):
        raise bad_value(name, value, f"{target} không phải loại tài nguyên", f"'{target}' is not a resource type")
    if param == "*":
        return IncludeSpec(reverse, source, None, target, iterate)
    sp = lookup(source, param)
    if sp is None or sp.type != "reference":
        ignored(warnings, strict, name, f"{source} không có tham số reference '{param}' ({name}={value})",
                f"{source} has no reference parameter '{param}' ({name}={value})")
        return None
    return IncludeSpec(reverse, source, param, target, iterate)


def _forward(spec: IncludeSpec, frontier: list[Row], base_url: str, dialect: str) -> Any | None:
    pks = [r.pk for r in frontier if spec.source is None or r.type == spec.source]
    if not pks:
        return None
    ref, res = s.idx_reference.alias("inc_ref"), s.resource.alias("inc_res")
    conds = [among(ref.c.res_pk, pks, dialect), ref.c.target_type.is_not(None), is_local(ref, base_url, dialect)]
    if spec.param is not None:
        conds.append(ref.c.param == spec.param)
    if spec.target is not None:
        conds.append(ref.c.target_type == spec.target)
    joined = ref.join(res, and_(res.c.type == ref.c.target_type, res.c.id == ref.c.target_id))
    return select(res.c.pk.label("pk")).select_from(joined).where(*conds)


def _reverse(spec: IncludeSpec, frontier: list[Row], base_url: str, dialect: str) -> Any | None:
    by_type: dict[str, list[str]] = {}
    for r in frontier:  # a contained resource (pk < 0) is known by "#id" inside its container only
        if r.pk > 0 and (spec.target is None or r.type == spec.target):
            by_type.setdefault(r.type, []).append(r.id)
    if not by_type:
        return None
    ref = s.idx_reference.alias("rev_ref")
    conds = [or_(*(and_(ref.c.target_type == t, among(ref.c.target_id, ids, dialect))
                   for t, ids in sorted(by_type.items()))),
             is_local(ref, base_url, dialect)]
    if spec.source is not None:
        conds.append(ref.c.res_type == spec.source)
    if spec.param is not None:
        conds.append(ref.c.param == spec.param)
    return select(ref.c.res_pk.label("pk")).where(*conds)


def resolve(conn: Connection, specs: list[IncludeSpec], matches: list[Row], warnings: list[Issue], *,
            base_url: str) -> list[Row]:
    """The included rows (not deleted, not already among ``matches``), in a stable order."""
    if not specs or not matches:
        return []
    seen = {r.pk for r in matches}
    frontier: list[Row] = matches
    included: list[Row] = []
    for level in range(MAX_ITERATE + 1):
        active = specs if level == 0 else [sp for sp in specs if sp.iterate]
        new = _level(conn, active, frontier, seen, base_url)
        if not new:
            break
        seen.update(r.pk for r in new)
        included.extend(new)
        if len(included) >= MAX_INCLUDED:
            warnings.append(Issue("too-costly", f"Chỉ trả về {MAX_INCLUDED} tài nguyên kèm theo",
                                  f"Included resources were cut at {MAX_INCLUDED}", "_include",
                                  severity="warning"))
            return included[:MAX_INCLUDED]
        frontier = new
    return included


def _level(conn: Connection, specs: Iterable[IncludeSpec], frontier: list[Row], seen: set[int],
           base_url: str) -> list[Row]:
    dialect = conn.dialect.name
    parts = [q for spec in specs
             if (q := (_reverse if spec.reverse else _forward)(spec, frontier, base_url, dialect)) is not None]
    if not parts:
        return []
    wanted = (parts[0] if len(parts) == 1 else union(*parts)).subquery("wanted")
    r = s.resource
    rows = conn.execute(
        select(r.c.pk, r.c.type, r.c.id, r.c.content)
        .where(r.c.pk.in_(select(wanted.c.pk)), r.c.deleted.is_(False))
        .order_by(r.c.pk).limit(MAX_INCLUDED + 1)
    ).all()
    return [Row(*row) for row in rows if row[0] not in seen]
