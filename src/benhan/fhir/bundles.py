"""``transaction`` and ``batch`` Bundles (POST to the FHIR base).

A transaction is all or nothing: entries are processed in the order the specification gives
(DELETE, POST, PUT/PATCH, GET/HEAD), ``urn:uuid:`` and conditional references are rewritten to
real ids first, referential integrity is checked once at the end, and any error rolls the whole
database transaction back. A batch runs each entry on its own savepoint and reports each status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import FhirError, Issue, invalid, operation_outcome
from .http_types import FhirRequest, FhirResponse
from .references import rewrite_references
from .router import Context, handle, stored_to_entry_response

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


@dataclass(slots=True)
class _Entry:
    index: int
    method: str
    url: str
    resource: Any
    request: dict[str, Any]
    full_url: str | None
    existing: bool = False  # a conditional create (ifNoneExist) that matched a resource


def process_bundle(req: FhirRequest, ctx: Context) -> FhirResponse:
    bundle = req.body
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise invalid("Cần một Bundle loại transaction hoặc batch", "Expected a transaction or batch Bundle")
    kind = bundle.get("type")
    if kind not in ("transaction", "batch"):
        raise invalid(f"Loại Bundle không xử lý được: {kind}",
                      f"Bundle.type must be transaction or batch, not '{kind}'", "Bundle.type")
    entries = _parse_entries(bundle)
    if kind == "transaction":
        return FhirResponse(200, _transaction(req, ctx, entries))
    return FhirResponse(200, _batch(req, ctx, entries))


def _parse_entries(bundle: dict[str, Any]) -> list[_Entry]:
    raw = bundle.get("entry") or []
    if not isinstance(raw, list):
        raise invalid("Bundle.entry phải là mảng", "Bundle.entry must be an array", "Bundle.entry")
    entries = []
    for i, e in enumerate(raw):
        where = f"Bundle.entry[{i}]"
        request = e.get("request") if isinstance(e, dict) else None
        if not isinstance(request, dict) or not request.get("method") or not request.get("url"):
            raise invalid("Mỗi mục cần request.method và request.url",
                          "Each entry needs request.method and request.url", f"{where}.request")
        for key in ("method", "url", "ifNoneExist", "ifMatch", "ifNoneMatch", "ifModifiedSince"):
            if key in request and not isinstance(request[key], str):
                raise invalid(f"request.{key} phải là chuỗi", f"request.{key} must be a string",
                              f"{where}.request.{key}")
        if "fullUrl" in e and not isinstance(e["fullUrl"], str):
            raise invalid("fullUrl phải là chuỗi (uri)", "fullUrl must be a string (uri)", f"{where}.fullUrl")
        method = str(request["method"]).upper()
        if method not in _ORDER:
            raise invalid(f"Phương thức không hợp lệ: {method}", f"Invalid request.method '{method}'",
                          f"{where}.request.method")
        entries.append(_Entry(i, method, str(request["url"]), e.get("resource"), request, e.get("fullUrl")))
    return entries


def _entry_request(entry: _Entry, req: FhirRequest, body: Any) -> FhirRequest:
    headers = {"prefer": req.header("prefer") or ""}
    for field, header in (("ifMatch", "if-match"), ("ifNoneExist", "if-none-exist"),
                          ("ifNoneMatch", "if-none-match"), ("ifModifiedSince", "if-modified-since")):
        if entry.request.get(field):
            headers[header] = str(entry.request[field])
    url = entry.url
    if req.base_url and url.startswith(req.base_url + "/"):
        url = url[len(req.base_url) + 1:]
    return FhirRequest.from_url(entry.method, url, body=body, headers=headers, base_url=req.base_url)


def _response_entry(resp: FhirResponse, req: FhirRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    resource = resp.body_resource()
    if resource is not None and resource.get("resourceType") == "OperationOutcome" and "Location" in resp.headers:
        # A write answered with Prefer: return=OperationOutcome: in a Bundle that is entry.response.outcome.
        outcome, resource = resource, None
    else:
        outcome = operation_outcome(resp.warnings) if resp.warnings else None
    if resource is not None:
        out["resource"] = resource
        if resource.get("id") and resource.get("resourceType") not in ("Bundle", "OperationOutcome"):
            out["fullUrl"] = f"{req.base_url}/{resource['resourceType']}/{resource['id']}"
    response: dict[str, Any] = {"status": _status(resp.status)}
    location = resp.headers.get("Location")
    if location:
        response["location"] = location[len(req.base_url) + 1:] if location.startswith(req.base_url) else location
    if "ETag" in resp.headers:
        response["etag"] = resp.headers["ETag"]
    if resource is not None and isinstance(resource.get("meta"), dict) and "lastUpdated" in resource["meta"]:
        response["lastModified"] = resource["meta"]["lastUpdated"]
    if outcome is not None:  # R4 Bundle.entry.response.outcome: hints and warnings of this entry
        response["outcome"] = outcome
    out["response"] = response
    return out


def _status(code: int) -> str:
    from http import HTTPStatus

    return f"{code} {HTTPStatus(code).phrase}"


# ------------------------------------------------------------------------------------ transaction

def _transaction(req: FhirRequest, ctx: Context, entries: list[_Entry]) -> dict[str, Any]:
    repo = ctx.repo
    mapping = _assign_ids(req, ctx, entries)
    results: dict[int, dict[str, Any]] = {}
    repo.defer_integrity = True
    try:
        for entry in sorted(entries, key=lambda e: (_ORDER[e.method], e.index)):
            if entry.method in ("GET", "HEAD"):
                repo.check_deferred_references()
            body = entry.resource
            if isinstance(body, dict):
                # The body was parsed from this request: rewriting it in place is safe and spares a copy.
                conditional = rewrite_references(body, mapping)
                if conditional:
                    _resolve_conditional_references(ctx, body, conditional, entry.index)
            try:
                results[entry.index] = _run_transaction_entry(req, ctx, entry, body, mapping)
            except FhirError as exc:
                raise _at_entry(exc, entry.index) from exc
        repo.check_deferred_references()
    finally:
        repo.defer_integrity = False
    return {"resourceType": "Bundle", "type": "transaction-response",
            "entry": [results[e.index] for e in entries]}


def _run_transaction_entry(req: FhirRequest, ctx: Context, entry: _Entry, body: Any,
                           mapping: dict[str, str]) -> dict[str, Any]:
    if entry.method == "POST" and entry.full_url in mapping and "?" not in entry.url:
        target = mapping[entry.full_url]
        rtype, rid = target.split("/", 1)
        if entry.existing:
            stored = ctx.repo.read(rtype, rid)
            return {"fullUrl": f"{req.base_url}/{target}",
                    "response": stored_to_entry_response(stored, 200, req.base_url)}
        if not isinstance(body, dict):
            raise invalid("Mục POST cần tài nguyên", "A POST entry needs a resource", "resource")
        result = ctx.repo.create(body, rtype=entry.url.strip("/"), rid=rid)
        assert result.stored is not None
        out = {"fullUrl": f"{req.base_url}/{target}",
               "response": stored_to_entry_response(result.stored, 201, req.base_url)}
        prefer = (req.header("prefer") or "").replace(" ", "")
        if "return=OperationOutcome" in prefer:  # as for the other entries (_response_entry)
            created = Issue("informational", f"Đã tạo {target}", f"Created {target}", severity="information")
            out["response"]["outcome"] = operation_outcome([created, *result.warnings])
        elif result.warnings:
            out["response"]["outcome"] = operation_outcome(result.warnings)
        if "return=minimal" not in prefer and "return=OperationOutcome" not in prefer:
            out["resource"] = result.stored.resource()
        return out
    resp = handle(_entry_request(entry, req, body), ctx)
    return _response_entry(resp, req)


def _assign_ids(req: FhirRequest, ctx: Context, entries: list[_Entry]) -> dict[str, str]:
    """fullUrl -> ``Type/id`` for every entry that creates or names a resource."""
    mapping: dict[str, str] = {}
    for entry in entries:
        where = f"Bundle.entry[{entry.index}]"
        if entry.method == "POST":
            rtype = entry.url.split("?", 1)[0].strip("/")
            if "/" in rtype:
                continue  # an operation or _search
            if isinstance(entry.resource, dict) and entry.resource.get("resourceType") != rtype:
                raise invalid(f"resourceType khác URL ({rtype})",
                              f"resourceType does not match request.url '{rtype}'", f"{where}.resource")
            if_none_exist = entry.request.get("ifNoneExist")
            rid = None
            if if_none_exist:
                try:
                    matches = ctx.repo.find(rtype, if_none_exist)
                except FhirError as exc:
                    raise _at_entry(exc, entry.index) from exc
                if len(matches) > 1:
                    raise FhirError.one(412, "multiple-matches", "ifNoneExist khớp nhiều tài nguyên",
                                        f"ifNoneExist matched {len(matches)} resources",
                                        f"{where}.request.ifNoneExist")
                if matches:
                    rid = matches[0]
                    entry.existing = True
            rid = rid or ctx.repo.new_id()
            key = entry.full_url or f"urn:benhan:entry:{entry.index}"
            entry.full_url = key
            if key in mapping:
                raise invalid("fullUrl bị trùng", f"Duplicate fullUrl {key}", f"{where}.fullUrl")
            mapping[key] = f"{rtype}/{rid}"
        elif entry.method == "PUT" and entry.full_url and "?" not in entry.url:
            mapping[entry.full_url] = entry.url.strip("/")
    return mapping


def _resolve_conditional_references(ctx: Context, resource: dict[str, Any], conditional: set[str],
                                    index: int) -> None:
    """``Patient?identifier=...`` references must match exactly one resource."""
    resolved: dict[str, str] = {}
    for ref in conditional:
        rtype, query = ref.split("?", 1)
        matches = ctx.repo.find(rtype, query)
        if len(matches) != 1:
            raise FhirError.one(412 if matches else 404, "not-found" if not matches else "multiple-matches",
                                f"Tham chiếu có điều kiện {ref} khớp {len(matches)} tài nguyên",
                                f"Conditional reference {ref} matched {len(matches)} resources",
                                f"Bundle.entry[{index}].resource")
        resolved[ref] = f"{rtype}/{matches[0]}"
    rewrite_references(resource, resolved)


def _at_entry(exc: FhirError, index: int) -> FhirError:
    issues = [Issue(i.code, i.vi, i.en,
                    f"Bundle.entry[{index}].resource.{i.expression.split('.', 1)[1]}"
                    if i.expression and "." in i.expression else f"Bundle.entry[{index}]", i.severity)
              for i in exc.issues]
    return FhirError(exc.status, issues)


# ------------------------------------------------------------------------------------ batch

def _batch(req: FhirRequest, ctx: Context, entries: list[_Entry]) -> dict[str, Any]:
    out = []
    for entry in entries:
        savepoint = ctx.repo.conn.begin_nested()
        try:
            resp = handle(_entry_request(entry, req, entry.resource), ctx)
            ctx.repo.flush()
            savepoint.commit()
            out.append(_response_entry(resp, req))
        except FhirError as exc:
            savepoint.rollback()
            ctx.repo.discard_pending()
            out.append({"response": {"status": _status(exc.status), "outcome": operation_outcome(exc.issues)}})
    return {"resourceType": "Bundle", "type": "batch-response", "entry": out}
