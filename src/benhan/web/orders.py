"""Orders (``/visit/{id}/orders``) and the e-prescription (``/visit/{id}/prescription``) of a visit.

Orders: type-ahead over the service catalog, add, cancel, and the list with what is still pending
(``benhan.clinical.orders``). Prescription: type-ahead over the drug catalog, one drug at a time
(dose, times per day, days, route, instructions, quantity computed unless typed), the checks shown
before the doctor confirms, remove while draft, issue with the advice (lời dặn), and a print-friendly
view (``/visit/{id}/prescription/view``) (``benhan.clinical.prescribing``). Who reads and who writes
comes from the access policy (``security/policy.toml``, :mod:`benhan.web.permissions`): doctors order and
prescribe, nurses read; the pages are read-only once the visit is not editable (finished, cancelled or
signed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import RedirectResponse, Response

from benhan.clinical import orders as ordering
from benhan.clinical import prescribing
from benhan.clinical.orders import FieldError
from benhan.fhir.errors import FhirError
from benhan.vn.names import format_name

from .permissions import Needs, allows
from .scope import N_, Page, Rerender, run_page
from .visit import VisitHeader, load_visit

router = APIRouter(include_in_schema=False)

# What the pages read, and what ordering / prescribing write (a confirmed override is a DetectedIssue).
READS: Needs = {"Encounter": "r", "ServiceRequest": "rs", "MedicationRequest": "rs"}
ORDER_WRITES: Needs = {"ServiceRequest": "cu"}
RX_WRITES: Needs = {"MedicationRequest": "cu", "DetectedIssue": "c"}
ORDER_STATUS = {"pending": N_("Pending"), "resulted": N_("Result available"), "cancelled": N_("Order cancelled"),
                "completed": N_("Completed")}
CATEGORY_LABELS = {"lab": N_("Laboratory"), "imaging": N_("Imaging"), "functional": N_("Functional test")}
ROUTE_LABELS = {"oral": N_("Oral"), "sublingual": N_("Sublingual"), "inhaled": N_("Inhaled"), "eye": N_("Eye drops"),
                "topical": N_("Topical"), "rectal": N_("Rectal")}
RX_KINDS = {"C": N_("ordinary drugs"), "H": N_("psychotropic / precursor drugs"), "N": N_("narcotic drugs")}


def _visit(page: Page, encounter_id: str) -> VisitHeader:
    if not allows(page, READS):
        raise FhirError.one(403, "forbidden", "Chỉ bác sĩ, điều dưỡng xem được chỉ định và đơn thuốc",
                            "Only doctors and nurses can see orders and prescriptions")
    return load_visit(page, encounter_id)


def _may_write(page: Page, visit: VisitHeader, writes: Needs) -> None:
    if not allows(page, writes):
        raise FhirError.one(403, "forbidden", "Chỉ bác sĩ được chỉ định và kê đơn",
                            "Only doctors can order and prescribe")
    if not visit.editable:
        raise FhirError.one(409, "business-rule", "Lượt khám đã kết thúc hoặc đã ký: không sửa được",
                            "The visit is finished or signed and cannot be changed")


def _message(page: Page, exc: FieldError) -> str:
    return exc.en if page.lang == "en" else exc.vi


def _query(request: Request) -> str:
    params = request.query_params
    return (params.get("q") or params.get("service_q") or params.get("drug_q") or "").strip()[:100]


def _common(page: Page, writes: Needs) -> dict[str, Any]:
    return {"order_status": ORDER_STATUS, "category_labels": CATEGORY_LABELS, "route_labels": ROUTE_LABELS,
            "rx_kinds": RX_KINDS, "can_write": allows(page, writes)}


# ------------------------------------------------------------------------------------------ orders

def _orders_page(page: Page, visit: VisitHeader, *, status: int = 200, errors: dict[str, str] | None = None,
                 form: dict[str, str] | None = None) -> Response:
    orders = ordering.visit_orders(page.repo, visit.encounter_id)
    return page.render("orders/orders.html", status=status, visit=visit, tab="orders", orders=orders,
                       errors=errors or {}, form=form or {}, **_common(page, ORDER_WRITES))


@router.get("/visit/{encounter_id}/orders")
async def orders_page(request: Request, encounter_id: str) -> Response:
    return await run_page(request, lambda page: _orders_page(page, _visit(page, encounter_id)))


async def _suggest(request: Request, encounter_id: str, template: str,
                   search: Callable[[Connection, str], list[Any]], writes: Needs) -> Response:
    """One type-ahead answer (``app/_typeahead.html``): the catalog entries matching the typed text."""
    def work(page: Page) -> Response:
        _visit(page, encounter_id)
        q = _query(request)
        return page.render(template, options=search(page.conn, q), query=q, **_common(page, writes))

    return await run_page(request, work)


@router.get("/visit/{encounter_id}/orders/suggest")
async def service_suggestions(request: Request, encounter_id: str) -> Response:
    return await _suggest(request, encounter_id, "orders/_service_options.html", ordering.search_services,
                          ORDER_WRITES)


@router.post("/visit/{encounter_id}/orders")
async def orders_post(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        visit = _visit(page, encounter_id)
        _may_write(page, visit, ORDER_WRITES)
        action = page.form.get("action", "add")
        try:
            if action == "cancel":
                ordering.cancel_order(page.repo, encounter_id, page.form.get("order", ""))
            else:
                ordering.order_service(page.repo, visit.encounter, page.form.get("service", ""),
                                       practitioner_id=page.user.practitioner_id, now=page.now,
                                       note=page.form.get("note", "")[:500])
        except FieldError as exc:
            page.repo.discard_pending()
            raise Rerender(_orders_page(page, visit, status=422, errors={exc.field: _message(page, exc)},
                                        form=page.form)) from exc
        return RedirectResponse(f"/visit/{encounter_id}/orders", status_code=303)

    return await run_page(request, work)


# ------------------------------------------------------------------------------------ prescription

def _rx_page(page: Page, visit: VisitHeader, *, status: int = 200, errors: dict[str, str] | None = None,
             form: dict[str, str] | None = None, warnings: list[prescribing.Warning] | None = None,
             preview: prescribing.DrugLine | None = None) -> Response:
    current = prescribing.load_prescription(page.repo, visit.encounter_id)
    form = dict(form or {})
    if "advice" not in form:
        form["advice"] = current.advice
    return page.render("orders/prescription.html", status=status, visit=visit, tab="prescription", rx=current,
                       errors=errors or {}, form=form, warnings=warnings or [], preview=preview,
                       routes=prescribing.ROUTES, quantity_text=prescribing.quantity_text, **_common(page, RX_WRITES))


@router.get("/visit/{encounter_id}/prescription")
async def prescription_page(request: Request, encounter_id: str) -> Response:
    return await run_page(request, lambda page: _rx_page(page, _visit(page, encounter_id)))


@router.get("/visit/{encounter_id}/prescription/suggest")
async def drug_suggestions(request: Request, encounter_id: str) -> Response:
    return await _suggest(request, encounter_id, "orders/_drug_options.html", prescribing.search_drugs, RX_WRITES)


@router.get("/visit/{encounter_id}/prescription/preview")
async def dosage_preview(request: Request, encounter_id: str) -> Response:
    """HTMX partial: how the drug being typed will be written, and its computed quantity."""
    def work(page: Page) -> Response:
        _visit(page, encounter_id)
        form = {k: v for k, v in request.query_params.items()}
        try:
            line, error = prescribing.line_from_form(form), None
        except FieldError as exc:
            line, error = None, (_message(page, exc) if form.get("drug") else None)
        return page.render("orders/_preview.html", preview=line, error=error,
                           quantity_text=prescribing.quantity_text)

    return await run_page(request, work)


@router.post("/visit/{encounter_id}/prescription")
async def prescription_post(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        visit = _visit(page, encounter_id)
        _may_write(page, visit, RX_WRITES)
        action = page.form.get("action", "add")
        line = None
        try:
            if action == "remove":
                prescribing.remove_drug(page.repo, encounter_id, page.form.get("item", ""))
            elif action == "issue":
                prescribing.issue(page.repo, encounter_id, page.form.get("advice", ""), now=page.now)
            else:
                line = prescribing.line_from_form(page.form)
                result = prescribing.add_drug(page.repo, visit.encounter, line,
                                              facility_code=page.request.app.state.settings.facility_code,
                                              practitioner_id=page.user.practitioner_id, now=page.now,
                                              confirm=page.form.get("confirm") == f"{line.drug.code}|{line.days}")
                if result.added is None:  # warnings to confirm: nothing written, the form is kept
                    return _rx_page(page, visit, form=page.form, warnings=result.warnings, preview=line)
        except FieldError as exc:
            page.repo.discard_pending()
            raise Rerender(_rx_page(page, visit, status=422, errors={exc.field: _message(page, exc)},
                                    form=page.form, preview=line)) from exc
        return RedirectResponse(f"/visit/{encounter_id}/prescription", status_code=303)

    return await run_page(request, work)


@router.get("/visit/{encounter_id}/prescription/view")
async def prescription_view(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        visit = _visit(page, encounter_id)
        current = prescribing.load_prescription(page.repo, encounter_id)
        diagnoses = []
        for d in sorted(visit.encounter.get("diagnosis") or [], key=lambda d: d.get("rank", 99)):
            ref = (d.get("condition") or {}).get("reference", "")
            if ref.startswith("Condition/"):
                code = (page.repo.read("Condition", ref.split("/", 1)[1]).resource().get("code") or {})
                coding = (code.get("coding") or [{}])[0]
                diagnoses.append((coding.get("code", ""), code.get("text") or coding.get("display", "")))
        # controlled drugs (N, H) are written first on the prescription (TT 26/2025)
        current.items.sort(key=lambda i: 0 if i.drug and i.drug.rx_class in ("N", "H") else 1)
        prescriber = None
        requester = (current.items[0].resource.get("requester") or {}).get("reference", "") if current.items else ""
        if requester.startswith("Practitioner/"):
            names = page.repo.read("Practitioner", requester.split("/", 1)[1]).resource().get("name") or [{}]
            prescriber = format_name(names[0]) if names[0] else None
        return page.render("orders/prescription_view.html", visit=visit, rx=current, diagnoses=diagnoses,
                           prescriber=prescriber, **_common(page, RX_WRITES))

    return await run_page(request, work)
