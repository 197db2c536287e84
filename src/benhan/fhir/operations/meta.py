"""``$meta``, ``$meta-add``, ``$meta-delete``: profiles, tags and security labels.

``$meta-add``/``$meta-delete`` write a new version (history is append-only, so even a change to
meta leaves the old version readable).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from benhan.db import schema as s
from benhan.fhir.errors import invalid
from benhan.fhir.http_types import FhirRequest, FhirResponse

_CODED = ("tag", "security")


def _parameters(meta: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": "return", "valueMeta": meta}]}


def run_meta(req: FhirRequest, ctx, rtype: str | None, rid: str | None) -> FhirResponse:  # type: ignore[no-untyped-def]
    if rid is not None:
        meta = ctx.repo.read(rtype, rid).resource().get("meta", {})
        return FhirResponse(200, _parameters(meta))
    ctx.repo.flush()
    conn = ctx.repo.conn
    out: dict[str, Any] = {}
    t, u = s.idx_token, s.idx_uri
    # Only the resources the caller may see contribute (filtered in SQL like a search).
    guard = getattr(ctx, "security", None)
    seen = guard.history_conditions(s.resource, rtype) if guard is not None else []
    visible = select(s.resource.c.pk).where(*seen) if seen else None
    for kind in _CODED:
        q = select(t.c.system, t.c.code).where(t.c.param == f"_{kind}").distinct()
        if visible is not None:
            q = q.where(t.c.res_pk.in_(visible))
        if rtype:
            q = q.where(t.c.res_type == rtype)
        codings = [{k: v for k, v in (("system", sys), ("code", code)) if v} for sys, code in conn.execute(q)]
        if codings:
            out[kind] = codings
    q = select(u.c.uri).where(u.c.param == "_profile").distinct()
    if visible is not None:
        q = q.where(u.c.res_pk.in_(visible))
    if rtype:
        q = q.where(u.c.res_type == rtype)
    profiles = sorted(row[0] for row in conn.execute(q))
    if profiles:
        out["profile"] = profiles
    return FhirResponse(200, _parameters(out))


def _meta_argument(req: FhirRequest) -> dict[str, Any]:
    from . import parameters_value

    meta = parameters_value(req.body, "meta")
    if req.method != "POST" or not isinstance(meta, dict):
        raise invalid("Cần POST một Parameters có tham số meta (valueMeta)",
                      "POST a Parameters resource with a 'meta' parameter (valueMeta)")
    return meta


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("system") == b.get("system") and a.get("code") == b.get("code")


def run_meta_add(req: FhirRequest, ctx, rtype: str, rid: str) -> FhirResponse:  # type: ignore[no-untyped-def]
    change = _meta_argument(req)
    resource = ctx.repo.read(rtype, rid).resource()
    meta = resource.setdefault("meta", {})
    for kind in _CODED:
        current = meta.setdefault(kind, [])
        current.extend(c for c in change.get(kind, []) if not any(_same(c, x) for x in current))
        if not current:
            del meta[kind]
    profiles = meta.get("profile", [])
    profiles.extend(p for p in change.get("profile", []) if p not in profiles)
    if profiles:
        meta["profile"] = profiles
    result = ctx.repo.update(rtype, rid, resource)
    return FhirResponse(200, _parameters(result.stored.resource()["meta"]))


def run_meta_delete(req: FhirRequest, ctx, rtype: str, rid: str) -> FhirResponse:  # type: ignore[no-untyped-def]
    change = _meta_argument(req)
    resource = ctx.repo.read(rtype, rid).resource()
    meta = resource.setdefault("meta", {})
    for kind in _CODED:
        kept = [c for c in meta.get(kind, []) if not any(_same(c, x) for x in change.get(kind, []))]
        if kept:
            meta[kind] = kept
        else:
            meta.pop(kind, None)
    profiles = [p for p in meta.get("profile", []) if p not in change.get("profile", [])]
    if profiles:
        meta["profile"] = profiles
    else:
        meta.pop("profile", None)
    result = ctx.repo.update(rtype, rid, resource)
    return FhirResponse(200, _parameters(result.stored.resource()["meta"]))
