"""Orders of an outpatient visit (chỉ định cận lâm sàng): lab tests and imaging as ``ServiceRequest``.

An order is ``status`` active, ``intent`` order, with a category (lab / imaging / functional test),
the service code from the shipped service catalog (hospital-local code + LOINC), the visit's
``encounter`` and ``subject`` and the ordering doctor as ``requester`` (docs/clinician-app.md). It is
pending until a ``DiagnosticReport`` whose ``basedOn`` names it exists; cancelling sets ``revoked``.
Everything goes through the caller's :class:`~benhan.fhir.repository.Repository` (access-checked,
audited). The catalogs are read from the concept index when loaded (type-ahead), else from the files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Connection

from benhan.fhir.repository import Repository
from benhan.terminology import catalogs
from benhan.terminology.concepts import versions
from benhan.terminology.expand import search
from benhan.terminology.text import code_key, words
from benhan.vn.errors import InvalidValue

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
SERVICES = catalogs.SERVICES_URL

# category -> (SNOMED CT code, display, Vietnamese label)
CATEGORIES = {
    "lab": ("108252007", "Laboratory procedure", "Xét nghiệm"),
    "imaging": ("363679005", "Imaging", "Chẩn đoán hình ảnh"),
    "functional": ("103693007", "Diagnostic procedure", "Thăm dò chức năng"),
}


class FieldError(InvalidValue):
    """Wrong input for one form field (``field``), with a bilingual message."""

    def __init__(self, field_name: str, rule: str, vi: str, en: str) -> None:
        super().__init__(rule, vi, en)
        self.field = field_name


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    display: str
    display_en: str
    category: str
    loinc: str
    loinc_display: str


@cache
def service_catalog() -> dict[str, Service]:
    out = {}
    for c in catalogs.services().concepts:
        p = dict(c.properties)
        out[c.code] = Service(c.code, c.display, c.display_en, p.get("category", "lab"), p.get("loinc", ""),
                              p.get("loinc_display", ""))
    return out


T = TypeVar("T")


def suggest(conn: Connection | None, url: str, known: dict[str, T], text: str, count: int = 10,
            label: Callable[[T], str] = str) -> list[T]:
    """Type-ahead: the concept index of catalog ``url`` when loaded, else a word-prefix scan of ``known``."""
    text = (text or "").strip()
    if not text:
        return []
    loaded = versions(conn, url=url) if conn is not None else []
    if loaded:
        page = search(conn, loaded[0], text, count=count)  # type: ignore[arg-type]
        return [known[c.code] for c in page.concepts if c.code in known]
    key, tokens = code_key(text), words(text)
    hits = []
    for code, item in known.items():
        name_words = words(label(item))
        if code_key(code).startswith(key) or (tokens and all(any(w.startswith(t) for w in name_words)
                                                             for t in tokens)):
            hits.append(item)
    return hits[:count]


def search_services(conn: Connection | None, text: str, count: int = 10) -> list[Service]:
    return suggest(conn, SERVICES, service_catalog(), text, count, lambda s: f"{s.display} {s.display_en}")


@dataclass(slots=True)
class Order:
    """One order of the visit as the page shows it."""

    id: str
    code: str
    display: str
    category: str
    status: str  # pending | resulted | cancelled | completed
    authored: str | None
    report_status: str | None = None
    conclusion: str | None = None
    results: list[str] = field(default_factory=list)

    @property
    def cancellable(self) -> bool:
        return self.status == "pending"


def _ref_id(ref: dict[str, Any] | None, rtype: str) -> str | None:
    value = (ref or {}).get("reference", "")
    return value.split("/", 1)[1] if value.startswith(f"{rtype}/") else None


def _instant(now: datetime) -> str:
    return now.replace(microsecond=0).isoformat()


def order_service(repo: Repository, encounter: dict[str, Any], code: str, *, practitioner_id: str | None,
                  now: datetime, note: str = "") -> str:
    """Create the ServiceRequest for ``code``; refuses an unknown service or one already pending."""
    service = service_catalog().get((code or "").strip())
    if service is None:
        raise FieldError("service", "order.unknown", "Chọn một dịch vụ trong danh mục",
                         "Choose a service from the catalog")
    eid = encounter["id"]
    if any(o.code == service.code and o.status == "pending" for o in visit_orders(repo, eid, with_results=False)):
        raise FieldError("service", "order.duplicate", "Dịch vụ này đã được chỉ định và đang chờ kết quả",
                         "This service is already ordered and waiting for its result")
    snomed, snomed_display, label = CATEGORIES.get(service.category, CATEGORIES["lab"])
    coding = [{"system": SERVICES, "code": service.code, "display": service.display}]
    if service.loinc:
        coding.append({"system": LOINC, "code": service.loinc, "display": service.loinc_display})
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": snomed, "display": snomed_display}], "text": label}],
        "code": {"coding": coding, "text": service.display},
        "subject": encounter["subject"], "encounter": {"reference": f"Encounter/{eid}"},
        "authoredOn": _instant(now),
    }
    if practitioner_id:
        resource["requester"] = {"reference": f"Practitioner/{practitioner_id}"}
    if note.strip():
        resource["note"] = [{"text": note.strip()}]
    return repo.create(resource).stored.id  # type: ignore[union-attr]


def cancel_order(repo: Repository, encounter_id: str, order_id: str) -> None:
    """Revoke a pending order of this visit (an order with a result cannot be cancelled)."""
    order = next((o for o in visit_orders(repo, encounter_id, with_results=False) if o.id == order_id), None)
    if order is None or not order.cancellable:
        raise FieldError("order", "order.not-cancellable", "Chỉ định không còn hủy được (đã có kết quả hoặc đã hủy)",
                         "This order can no longer be cancelled (it has a result or is cancelled)")
    resource = repo.read("ServiceRequest", order_id).resource()
    resource["status"] = "revoked"
    repo.update("ServiceRequest", order_id, resource)


def visit_orders(repo: Repository, encounter_id: str, *, with_results: bool = True) -> list[Order]:
    """The visit's orders, oldest first, each with its report (conclusion and results) when there is one."""
    reports: dict[str, dict[str, Any]] = {}
    for rid in repo.find("DiagnosticReport", f"encounter=Encounter/{encounter_id}"):
        report = repo.read("DiagnosticReport", rid).resource()
        for based in report.get("basedOn") or []:
            sr_id = _ref_id(based, "ServiceRequest")
            if sr_id:
                reports[sr_id] = report
    out = []
    for sid in repo.find("ServiceRequest", f"encounter=Encounter/{encounter_id}"):
        sr = repo.read("ServiceRequest", sid).resource()
        coding = (sr.get("code") or {}).get("coding") or [{}]
        local = next((c for c in coding if c.get("system") == SERVICES), coding[0])
        category = next((k for k, v in CATEGORIES.items() for cat in sr.get("category") or []
                         for c in cat.get("coding") or [] if c.get("code") == v[0]), "lab")
        report = reports.get(sid)
        if report is not None:
            status = "resulted"
        elif sr.get("status") in ("revoked", "entered-in-error"):
            status = "cancelled"
        elif sr.get("status") == "completed":
            status = "completed"
        else:
            status = "pending"
        order = Order(sid, local.get("code", ""), (sr.get("code") or {}).get("text") or local.get("display", ""),
                      category, status, sr.get("authoredOn"))
        if report is not None:
            order.report_status = report.get("status")
            order.conclusion = report.get("conclusion")
            if with_results:
                order.results = [_result_line(repo, r) for r in report.get("result") or []]
        out.append(order)
    out.sort(key=lambda o: (o.authored or "", o.id))
    return out


def _result_line(repo: Repository, ref: dict[str, Any]) -> str:
    oid = _ref_id(ref, "Observation")
    if oid is None:
        return ref.get("display", "")
    obs = repo.read("Observation", oid).resource()
    name = (obs.get("code") or {}).get("text") or ((obs.get("code") or {}).get("coding") or [{}])[0].get("display", "")
    q = obs.get("valueQuantity")
    value = f"{q.get('value')} {q.get('unit', '')}".strip() if q else str(obs.get("valueString") or "")
    flags = [c.get("code") for i in obs.get("interpretation") or [] for c in i.get("coding") or []
             if c.get("code") in ("H", "L")]
    return f"{name}: {value}" + (f" ({flags[0]})" if flags else "")
