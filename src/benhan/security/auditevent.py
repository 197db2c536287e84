"""The audit trail seen as FHIR ``AuditEvent`` resources (read-only, projected from ``audit_log``,
never stored twice).

``GET /fhir/AuditEvent?patient=&agent=&date=&type=&subtype=&entity=&outcome=&_count=&_offset=``
and ``GET /fhir/AuditEvent/{seq}``. Auditors see every row; a patient (own compartment, or a
``patient/`` token) sees only the rows about them: who accessed their record.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Connection, func, select

from benhan.fhir.clock import to_instant
from benhan.fhir.dates import date_range
from benhan.fhir.errors import FhirError, invalid, not_found
from benhan.fhir.http_types import FhirRequest, FhirResponse
from benhan.settings import Settings
from benhan.vn.systems import AUDIT_EVENT_TYPE, CLIENT_ID, USER_ID

from .audit import decode_patients
from .guard import FhirGuard
from .tables import audit_log

_REST = {"read", "vread", "search", "create", "update", "patch", "delete", "history", "operation", "transaction",
         "batch", "capabilities"}
_ACTION_CODE = {"create": "C", "read": "R", "vread": "R", "search": "E", "history": "R", "update": "U",
                "patch": "U", "delete": "D"}
_PREFIXES = ("ge", "le", "gt", "lt", "eq")


def handle_auditevent(req: FhirRequest, conn: Connection, guard: FhirGuard, settings: Settings) -> FhirResponse:
    """``/fhir/AuditEvent...`` (the adapter sends these here before the router)."""
    return serve_auditevent(req, conn, guard, settings.default_page_size, settings.max_page_size)


def serve_auditevent(req: FhirRequest, conn: Connection, guard: FhirGuard, default_count: int,
                     max_count: int) -> FhirResponse:
    """Read or search the trail; also reached from batch and transaction entries through the router."""
    parts = [p for p in req.path.split("/") if p]
    if req.method != "GET":
        raise guard.read_only("create" if req.method == "POST" else req.method.lower(), "/".join(parts))
    if len(parts) > 2:
        raise FhirError.one(405, "not-supported", "AuditEvent không có lịch sử phiên bản",
                            "AuditEvent has no version history")
    letter = "r" if len(parts) == 2 else "s"
    eff = guard.access.effective("AuditEvent", letter)
    query = urlencode([(k, v) for k, v in req.query if k != "_format"])
    entity = "AuditEvent" + (f"/{parts[1]}" if len(parts) == 2 else "") + (f"?{query}" if query else "")
    if eff is None:
        raise guard.deny((letter == "r" and "read") or "search", entity, "Chỉ người kiểm tra được xem nhật ký",
                         "Only auditors may read the audit trail")
    own = eff.only_patient or (guard.access.principal.patient_id if eff.patients == "own" else None)
    conds: list[ColumnElement[bool]] = []
    if own is not None:
        conds.append(audit_log.c.patients.like(f"%,{own},%"))
    if len(parts) == 2:
        if not parts[1].isdigit():
            raise not_found("AuditEvent", parts[1])
        row = conn.execute(select(audit_log).where(audit_log.c.seq == int(parts[1]), *conds)).mappings().first()
        if row is None:
            raise not_found("AuditEvent", parts[1])
        guard.record("read", entity, decode_patients(row["patients"]))
        return FhirResponse(200, to_auditevent(row))
    count, offset = default_count, 0
    for name, value in req.query:
        conds.extend(_condition(name, value))
        if name == "_count":
            count = min(max(_int(name, value), 0), max_count)
        elif name == "_offset":
            offset = max(_int(name, value), 0)
    total = conn.execute(select(func.count()).select_from(audit_log).where(*conds)).scalar_one()
    rows = conn.execute(select(audit_log).where(*conds).order_by(audit_log.c.seq.desc()).limit(count)
                        .offset(offset)).mappings().all()
    base = f"{req.base_url}/AuditEvent"
    keep = [(k, v) for k, v in req.query if k not in ("_count", "_offset", "_format")]
    links = [{"relation": "self", "url": f"{base}?{urlencode([*keep, ('_count', count), ('_offset', offset)])}"}]
    if offset + count < total:
        links.append({"relation": "next",
                      "url": f"{base}?{urlencode([*keep, ('_count', count), ('_offset', offset + count)])}"})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if rows:
        bundle["entry"] = [{"fullUrl": f"{base}/{r['seq']}", "resource": to_auditevent(r),
                            "search": {"mode": "match"}} for r in rows]
    guard.record("search", entity, sorted({p for r in rows for p in decode_patients(r["patients"])}))
    return FhirResponse(200, bundle)


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise invalid(f"Giá trị không hợp lệ cho {name}", f"Invalid value for {name}: {value}", name) from exc


def _condition(name: str, value: str) -> list[ColumnElement[bool]]:
    a = audit_log.c
    if name == "patient":
        pid = value.split("/")[-1]
        return [a.patients.like(f"%,{pid},%")]
    if name in ("agent", "agent-name", "altid"):
        return [a.username == value]
    if name in ("type", "subtype", "action"):
        return [a.action.in_([v.split("|")[-1] for v in value.split(",")])]
    if name in ("entity", "entity-id"):
        return [a.entity.like(value.split("?")[0] + "%")]
    if name == "outcome":
        return [a.outcome == _int(name, value)]
    if name == "date":
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        raw = value[2:] if value[:2] in _PREFIXES else value
        try:
            low, high = date_range(raw)
        except ValueError as exc:
            raise invalid("Ngày không hợp lệ", f"Invalid date '{value}'", "date") from exc
        return {"ge": [a.recorded >= low], "gt": [a.recorded > high], "le": [a.recorded <= high],
                "lt": [a.recorded < low], "eq": [a.recorded >= low, a.recorded <= high]}[prefix]
    if name in ("_count", "_offset", "_format", "_sort", "_total"):
        return []
    raise invalid(f"Tham số tìm kiếm không hỗ trợ: {name}", f"Unsupported search parameter '{name}'", name)


def to_auditevent(row: Any) -> dict[str, Any]:
    """One ``audit_log`` row as an R4 AuditEvent."""
    action = row["action"]
    rest = action in _REST or action.startswith("operation")
    event: dict[str, Any] = {
        "resourceType": "AuditEvent", "id": str(row["seq"]),
        "type": ({"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
                  "display": "RESTful Operation"} if rest else
                 {"system": AUDIT_EVENT_TYPE, "code": action}),
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction" if rest else AUDIT_EVENT_TYPE,
                     "code": action}],
        "action": _ACTION_CODE.get(action, "E"),
        "recorded": to_instant(row["recorded"]),
        "outcome": "0" if row["outcome"] < 400 else ("4" if row["outcome"] < 500 else "8"),
        "outcomeDesc": str(row["outcome"]) + (f" {row['detail']}" if row["detail"] else ""),
        "agent": [],
        "source": {"observer": {"display": "Bệnh Án"}, "site": "benhan"},
    }
    if row["purpose"]:
        event["purposeOfEvent"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                                "code": row["purpose"]}]}]
    user: dict[str, Any] = {"requestor": True, "who": {"identifier": {"system": USER_ID,
                                                                      "value": row["username"] or "anonymous"}}}
    if row["roles"]:
        user["role"] = [{"text": r} for r in row["roles"].split(",")]
    if row["ip"]:
        user["network"] = {"address": row["ip"], "type": "2"}
    event["agent"].append(user)
    if row["client_id"]:
        event["agent"].append({"requestor": False, "type": {"text": "application"},
                               "who": {"identifier": {"system": CLIENT_ID, "value": row["client_id"]}}})
    entities: list[dict[str, Any]] = [
        {"what": {"reference": f"Patient/{p}"},
         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}}
        for p in decode_patients(row["patients"])]
    what = row["entity"]
    if what:
        if "?" in what or "/" not in what.strip("/"):
            entities.append({"query": base64.b64encode(what.encode()).decode(), "description": what})
        else:
            entities.append({"what": {"reference": what}})
    if entities:
        event["entity"] = entities
    return event
