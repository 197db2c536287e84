"""The FHIR REST router: ``(method, path shape) -> handler(request, repository)``.

Framework-independent: the ASGI adapter and the bundle processor both call :func:`handle`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from . import definitions
from .clock import to_http_date, to_instant
from .errors import FhirError, invalid, not_found, operation_outcome
from .history import history_bundle
from .http_types import FhirRequest, FhirResponse
from .repository import Repository, Stored, WriteResult, parse_etag

Handler = Callable[[FhirRequest, "Context"], FhirResponse]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]").search


@dataclass(slots=True)
class Context:
    """What a handler works with: the request's repository, the paging limits and the security context."""

    repo: Repository
    default_count: int = 20
    max_count: int = 1000
    # benhan.security.guard.FhirGuard: checks every interaction (bundle entries too) before dispatch.
    security: Any = None


def handle(req: FhirRequest, ctx: Context) -> FhirResponse:
    """Dispatch one interaction; raises :class:`FhirError` for any failure."""
    _refuse_control_characters(req)
    parts = [p for p in req.path.split("/") if p]
    method = req.method
    if ctx.security is not None:
        ctx.security.before(req, parts)
        if parts and parts[0] == "AuditEvent":  # a bundle entry: the trail is served from audit_log
            return ctx.security.audit_events(req, ctx.default_count, ctx.max_count)
    if parts and parts[-1].startswith("$"):
        from .operations import dispatch_operation

        return dispatch_operation(req, ctx, parts)
    if not parts:
        if method == "POST":
            from .bundles import process_bundle

            return process_bundle(req, ctx)
        if method == "GET":
            return _search(req, ctx, None)
        raise _not_allowed(method, "/")
    if parts[0] == "metadata" and len(parts) == 1 and method == "GET":
        from .capability import capability_statement

        return FhirResponse(200, capability_statement(req.base_url))
    if parts[0] == "_history" and len(parts) == 1 and method == "GET":
        return FhirResponse(200, _history(req, ctx, None, None))
    rtype = parts[0]
    if not definitions.is_resource_type(rtype):
        raise FhirError.one(404, "not-supported", f"Loại tài nguyên không được hỗ trợ: {rtype}",
                            f"Unknown resource type '{rtype}'")
    if len(parts) == 1:
        return _type_level(req, ctx, rtype)
    if len(parts) == 2 and parts[1] == "_search" and method == "POST":
        return _search(req, ctx, rtype)
    if len(parts) == 2 and parts[1] == "_history" and method == "GET":
        return FhirResponse(200, _history(req, ctx, rtype, None))
    rid = parts[1]
    if len(parts) == 2:
        return _instance_level(req, ctx, rtype, rid)
    if parts[2] == "_history" and method == "GET":
        if len(parts) == 3:
            return FhirResponse(200, _history(req, ctx, rtype, rid))
        if len(parts) == 4:
            if len(parts[3]) > 10:  # no such version (the column is a 32-bit integer): 404, not an overflow
                raise not_found(rtype, f"{rid}/_history/{parts[3]}")
            return _read_response(req, ctx.repo.vread(rtype, rid, parts[3]), vread=True)
    if len(parts) == 3 and method == "GET" and rtype == "Patient" and definitions.is_resource_type(parts[2]):
        ctx.repo.read(rtype, rid)
        return _search(req, ctx, parts[2], compartment=(rtype, rid))
    raise _not_allowed(method, req.path)


def _refuse_control_characters(req: FhirRequest) -> None:
    """NUL (and other C0 controls but tab/CR/LF) are not FHIR text; PostgreSQL would refuse them mid-query."""
    for name, value in [("", req.path), *req.query]:
        if _CONTROL(name) or _CONTROL(value):
            raise invalid("URL chứa ký tự điều khiển", "The URL contains a control character", name or None)


def _type_level(req: FhirRequest, ctx: Context, rtype: str) -> FhirResponse:
    repo = ctx.repo
    if req.method == "GET":
        return _search(req, ctx, rtype)
    if req.method == "POST":
        result = repo.create(_body(req), rtype=rtype, if_none_exist=req.header("if-none-exist"))
        return _write_response(req, result)
    if req.method == "PUT":
        _require_condition(req)
        return _write_response(req, repo.conditional_update(rtype, req.query_string, _body(req)))
    if req.method == "DELETE":
        _require_condition(req)
        return _delete_response(repo.conditional_delete(rtype, req.query_string))
    raise _not_allowed(req.method, rtype)


def _instance_level(req: FhirRequest, ctx: Context, rtype: str, rid: str) -> FhirResponse:
    repo = ctx.repo
    if req.method == "GET" and rtype == "OperationDefinition":  # a named query's definition (search/named/)
        from .search.named.definition import read

        definition = read(rid)
        if definition is not None:
            return FhirResponse(200, definition)
    if req.method == "GET":
        return _read_response(req, repo.read(rtype, rid))
    if req.method == "PUT":
        return _write_response(req, repo.update(rtype, rid, _body(req), if_match=req.header("if-match")))
    if req.method == "PATCH":
        return _write_response(req, repo.patch(rtype, rid, _body(req), if_match=req.header("if-match")))
    if req.method == "DELETE":
        return _delete_response(repo.delete(rtype, rid, if_match=req.header("if-match")))
    raise _not_allowed(req.method, f"{rtype}/{rid}")


def _search(req: FhirRequest, ctx: Context, rtype: str | None,
            compartment: tuple[str, str] | None = None) -> FhirResponse:
    from .search import search

    params = list(req.query)
    if isinstance(req.body, list):  # POST _search: form-encoded parameters, decoded by the adapter
        params.extend(req.body)
    params = [(k, v) for k, v in params if k != "_format"]
    strict = "handling=strict" in (req.header("prefer") or "")
    ctx.repo.flush()
    bundle = search(ctx.repo.conn, rtype, params, base_url=req.base_url, default_count=ctx.default_count,
                    max_count=ctx.max_count, strict=strict, compartment=compartment, as_stored=True)
    return FhirResponse(200, bundle)


def _history(req: FhirRequest, ctx: Context, rtype: str | None, rid: str | None) -> dict[str, Any]:
    from .search.paging import parse_page

    ctx.repo.flush()
    params = [(k, v) for k, v in req.query if k != "_format"]
    parse_page(params, ctx.default_count, ctx.max_count)  # malformed or huge _count/_offset/_snapshot: a 400
    return history_bundle(ctx.repo.conn, rtype, rid, params, base_url=req.base_url,
                          default_count=ctx.default_count, max_count=ctx.max_count,
                          access=ctx.security if rid is None else None)


def _body(req: FhirRequest) -> Any:
    if req.body is None:
        raise invalid("Thiếu nội dung yêu cầu", "Request body is required")
    return req.body


def _require_condition(req: FhirRequest) -> None:
    if not [k for k, _ in req.query if k != "_format"]:
        raise invalid("Thao tác có điều kiện cần tham số tìm kiếm",
                      "A conditional interaction needs search parameters")


def _resource_headers(stored: Stored) -> dict[str, str]:
    return {"ETag": stored.etag, "Last-Modified": to_http_date(stored.last_updated)}


def _read_response(req: FhirRequest, stored: Stored, *, vread: bool = False) -> FhirResponse:
    headers = _resource_headers(stored)
    if not vread:
        inm = req.header("if-none-match")
        if inm and _none_match_fails(inm, stored.version):
            return FhirResponse(304, headers=headers)
        ims = req.header("if-modified-since")
        if ims and _not_modified_since(stored.last_updated, ims):
            return FhirResponse(304, headers=headers)
    if _wants_subset(req):
        from .search import shape_resource

        return FhirResponse(200, shape_resource(stored.resource(), req.query), headers=headers)
    return FhirResponse(200, text=stored.content, headers=headers)


def _none_match_fails(header: str, version: int) -> bool:
    """RFC 9110 If-None-Match on a read: ``*`` (any version exists) or a list naming the current version."""
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or any(parse_etag(tag) == version for tag in tags)


def _wants_subset(req: FhirRequest) -> bool:
    return any(k in ("_summary", "_elements") for k, _ in req.query)


def _not_modified_since(last_updated_us: int, header: str) -> bool:
    from email.utils import parsedate_to_datetime

    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    return last_updated_us // 1_000_000 <= int(since.timestamp())


def _write_response(req: FhirRequest, result: WriteResult) -> FhirResponse:
    stored = result.stored
    assert stored is not None
    headers = _resource_headers(stored)
    base = req.base_url
    headers["Location"] = f"{base}/{stored.type}/{stored.id}/_history/{stored.version}"
    prefer = (req.header("prefer") or "").replace(" ", "")
    warnings = result.warnings
    if "return=minimal" in prefer:
        return FhirResponse(result.status, headers=headers, warnings=warnings)
    if "return=OperationOutcome" in prefer:
        verb = ("Đã tạo", "Created") if result.status == 201 else ("Đã cập nhật", "Updated")
        from .errors import Issue

        outcome = operation_outcome([Issue("informational", f"{verb[0]} {stored.type}/{stored.id}",
                                           f"{verb[1]} {stored.type}/{stored.id}", severity="information"),
                                     *warnings])
        return FhirResponse(result.status, outcome, headers=headers, warnings=warnings)
    return FhirResponse(result.status, text=stored.content, headers=headers, warnings=warnings)


def _delete_response(result: WriteResult) -> FhirResponse:
    headers = {}
    if result.stored is not None and result.stored.deleted:
        headers["ETag"] = result.stored.etag
    return FhirResponse(204, headers=headers)


def _not_allowed(method: str, path: str) -> FhirError:
    return FhirError.one(405, "not-supported", f"Không hỗ trợ {method} trên {path}",
                         f"{method} is not supported on {path}")


def stored_to_entry_response(stored: Stored, status: int, base_url: str) -> dict[str, Any]:
    """``Bundle.entry.response`` for a write made inside a batch or transaction."""
    return {"status": _status_text(status), "location": f"{stored.type}/{stored.id}/_history/{stored.version}",
            "etag": stored.etag, "lastModified": to_instant(stored.last_updated)}


def _status_text(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def dumps(resource: dict[str, Any]) -> bytes:
    return orjson.dumps(resource)
