"""The thin ASGI adapter: HTTP request -> :class:`FhirRequest` -> router -> HTTP response.

Each request gets its own connection, transaction and repository (stateless between requests,
so any number of workers can serve one database). Errors become OperationOutcome responses and
roll the transaction back, so nothing is half-written.

Every endpoint except ``GET /fhir/metadata`` needs ``Authorization: Bearer``: the token becomes a
security context (:class:`benhan.security.guard.FhirGuard`) given to the repository, the router and
the search engine; its audit entries are appended in the same transaction as the data access, and
those of a failed request in a transaction of their own.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from benhan.settings import Settings

from .errors import FhirError, Issue, invalid, operation_outcome
from .http_types import FhirRequest, FhirResponse
from .repository import Repository
from .router import Context, handle
from .search.engine import ACCESS_KEY

log = logging.getLogger("benhan.fhir")
FHIR_JSON = "application/fhir+json; charset=utf-8"
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
_BODY_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json",
               "application/json+fhir")

router = APIRouter()


@router.api_route("/fhir", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
@router.api_route("/fhir/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
                  include_in_schema=False)
async def fhir_endpoint(request: Request, path: str = "") -> Response:
    settings: Settings = request.app.state.settings
    try:
        fhir_request = await _to_fhir_request(request, path, settings)
    except FhirError as exc:
        return _error_response(exc)
    ip = request.client.host if request.client else None
    return await run_in_threadpool(_execute, request.app.state.engine, settings, fhir_request,
                                   request.app.state.security, ip)


async def _to_fhir_request(request: Request, path: str, settings: Settings) -> FhirRequest:
    if any(ord(ch) < 32 for ch in path):  # no FHIR type, id or operation has them; NUL breaks PostgreSQL text
        raise invalid("Đường dẫn chứa ký tự điều khiển", "The request path contains control characters")
    query = parse_qsl(request.url.query, keep_blank_values=True)
    _check_format(request, query)
    base_url = settings.base_url or str(request.base_url).rstrip("/") + "/fhir"
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = None
    if request.method in ("POST", "PUT", "PATCH"):
        limit = settings.max_bundle_bytes if path.strip("/") == "" else settings.max_resource_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        raw = await request.body()
        if len(raw) > limit:
            raise _too_large(limit)
        body = _parse_body(raw, headers.get("content-type", ""), path)
    return FhirRequest(request.method, path.strip("/"), query, headers, body, base_url)


def _check_format(request: Request, query: list[tuple[str, str]]) -> None:
    fmt = next((v for k, v in query if k == "_format"), None)
    if fmt is not None and fmt.split(";")[0].strip() not in _JSON_FORMATS:
        raise FhirError.one(406, "not-supported", f"Chỉ hỗ trợ JSON (_format={fmt})",
                            f"Only JSON is supported (_format={fmt})")
    accept = request.headers.get("accept", "")
    if accept and "xml" in accept and "json" not in accept and "*/*" not in accept:
        raise FhirError.one(406, "not-supported", "Chỉ hỗ trợ JSON", "Only JSON is supported")


def _parse_body(raw: bytes, content_type: str, path: str) -> object:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if not raw:
        return None
    if media and media not in _BODY_TYPES:
        raise FhirError.one(415, "not-supported", f"Kiểu nội dung không được hỗ trợ: {media}",
                            f"Unsupported Content-Type '{media}'")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"JSON không hợp lệ: {exc}", f"Invalid JSON: {exc}") from exc


def _too_large(limit: int) -> FhirError:
    return FhirError.one(413, "too-costly", f"Nội dung vượt quá giới hạn {limit} byte",
                         f"Payload exceeds the limit of {limit} bytes")


def _is_public(req: FhirRequest) -> bool:
    return req.method == "GET" and req.path == "metadata"


def _execute(engine, settings: Settings, req: FhirRequest, security, ip: str | None) -> Response:  # type: ignore[no-untyped-def]
    from benhan.security.interactions import classify

    public = _is_public(req)
    reads_only = req.method == "GET"
    guard = None
    try:
        with engine.connect() as conn:
            # Writes take the write lock up front (SQLite: BEGIN IMMEDIATE). On SQLite reads run in a
            # shared transaction and append their audit rows in a short write transaction of their own
            # (a read transaction cannot safely become a writer there); PostgreSQL appends them in the
            # read's own transaction, saving a round trip pair. Either way the audit record is committed
            # before the response leaves: no data goes out without it.
            conn.info["write"] = not reads_only
            audit_apart = reads_only and conn.dialect.name == "sqlite"
            try:
                with conn.begin():
                    if not public:
                        principal = security.principal(conn, req.header("authorization"), ip)
                        guard = security.guard(conn, principal)
                        conn.info[ACCESS_KEY] = guard
                    resp = _dispatch(req, settings, conn, guard)
                    if guard is not None and not audit_apart:
                        guard.flush(conn)
                if guard is not None and audit_apart:
                    conn.info["write"] = True
                    with conn.begin():
                        guard.flush(conn)
            finally:
                conn.info.pop(ACCESS_KEY, None)
    except FhirError as exc:
        if not public:
            it = classify(req.method, req.path, req.body)
            security.record_failure(guard, it.action, it.entity(), exc, ip)
        return _error_response(exc)
    except Exception:
        log.exception("internal error on %s %s", req.method, req.path.split("/")[0])
        return _error_response(FhirError(500, [Issue("exception", "Lỗi máy chủ nội bộ", "Internal server error")]))
    return _to_http(resp)


def _dispatch(req: FhirRequest, settings: Settings, conn, guard) -> FhirResponse:  # type: ignore[no-untyped-def]
    if guard is not None and req.path.split("/")[0] == "AuditEvent":
        from benhan.security.auditevent import handle_auditevent

        return handle_auditevent(req, conn, guard, settings)
    ctx = Context(Repository(conn, base_url=req.base_url, guard=guard), settings.default_page_size,
                  settings.max_page_size, security=guard)
    resp = handle(req, ctx)
    ctx.repo.flush()
    return resp


def _to_http(resp: FhirResponse) -> Response:
    if resp.status in (204, 304) or (resp.resource is None and resp.text is None):
        return Response(status_code=resp.status, headers=resp.headers)
    body = resp.text.encode() if resp.text is not None else orjson.dumps(resp.resource)
    return Response(body, status_code=resp.status, headers=resp.headers, media_type=FHIR_JSON)


def _error_response(exc: FhirError) -> Response:
    return Response(orjson.dumps(operation_outcome(exc.issues)), status_code=exc.status, media_type=FHIR_JSON,
                    headers=getattr(exc, "headers", None))
