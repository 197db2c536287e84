"""The history interaction: instance, type and system level, newest first, with paging."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import Connection, and_, func, or_, select

from benhan.db import schema as s

from .clock import to_instant
from .dates import date_range
from .errors import invalid, not_found

_METHOD_STATUS = {"POST": "201 Created", "PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def history_bundle(conn: Connection, rtype: str | None, rid: str | None, params: list[tuple[str, str]], *,
                   base_url: str, default_count: int, max_count: int, access: Any = None) -> dict[str, Any]:
    """A ``history`` Bundle; ``_since`` (instant), ``_count``, and paging by ``_offset`` within a snapshot.

    ``access`` (the request's :class:`benhan.security.guard.FhirGuard`) filters type and system history in
    SQL through each version's current row, so the total, the snapshot and the pages count only what the
    caller may see; it records the read with the patients shown.
    """
    v = s.resource_version
    source: Any = v
    conds = []
    if access is not None:
        r = s.resource
        seen = access.history_conditions(r, rtype)
        if seen:
            source = v.join(r, r.c.pk == v.c.res_pk)
            conds.extend(seen)
    if rtype:
        conds.append(v.c.type == rtype)
    if rid:
        conds.append(v.c.id == rid)
        exists = conn.execute(select(v.c.res_pk).where(*conds).limit(1)).first()
        if exists is None:
            raise not_found(rtype or "", rid)
    count, offset = default_count, 0
    snapshot: int | None = None
    for name, value in params:
        try:
            if name == "_since":
                conds.append(v.c.last_updated >= date_range(value)[0])
            elif name == "_count":
                count = min(max(int(value), 0), max_count)
            elif name == "_offset":
                offset = max(int(value), 0)
            elif name == "_snapshot":
                snapshot = int(value)
        except ValueError as exc:
            raise invalid(f"Giá trị không hợp lệ cho {name}: {value}", f"Invalid value for {name}: {value}",
                          name) from exc
    if snapshot is None:
        snapshot = conn.execute(select(func.max(v.c.last_updated)).select_from(source).where(*conds)).scalar() or 0
    conds.append(v.c.last_updated <= snapshot)
    where = and_(*conds) if conds else or_(True)
    total = conn.execute(select(func.count()).select_from(source).where(where)).scalar_one()
    rows = conn.execute(
        select(v.c.type, v.c.id, v.c.version, v.c.last_updated, v.c.deleted, v.c.method, v.c.content,
               v.c.res_pk.label("pk")).select_from(source)
        .where(where).order_by(v.c.last_updated.desc(), v.c.res_pk.desc(), v.c.version.desc())
        .limit(count).offset(offset)
    ).all()
    if access is not None:
        access.after_history(rtype, params, rows)
    entries = []
    for t, i, ver, updated, deleted, method, content, _pk in rows:
        entry: dict[str, Any] = {"fullUrl": f"{base_url}/{t}/{i}"}
        if not deleted:
            entry["resource"] = orjson.loads(content)
        entry["request"] = {"method": "DELETE" if deleted else ("PUT" if method == "PATCH" else method),
                            "url": f"{t}/{i}" if method != "POST" else t}
        entry["response"] = {"status": _METHOD_STATUS.get(method, "200 OK"), "etag": f'W/"{ver}"',
                             "lastModified": to_instant(updated)}
        entries.append(entry)
    path = "/".join(p for p in (rtype, rid) if p)
    self_url = f"{base_url}/{path + '/' if path else ''}_history"
    keep = [(n, val) for n, val in params if n not in ("_count", "_offset", "_snapshot")]

    def link(rel: str, off: int) -> dict[str, str]:
        q = urlencode([*keep, ("_count", str(count)), ("_offset", str(off)), ("_snapshot", str(snapshot))])
        return {"relation": rel, "url": f"{self_url}?{q}"}

    links = [link("self", offset)]
    if count and offset + count < total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(offset - count, 0)))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history", "total": total, "link": links}
    if snapshot:
        bundle["meta"] = {"lastUpdated": to_instant(snapshot)}
    if entries:
        bundle["entry"] = entries
    return bundle
