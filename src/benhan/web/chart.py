"""Patient search (``/patients``) and the patient chart (``/patients/{id}``).

The chart is one page: the patient's header, allergies, active problems and a timeline of visits,
newest first; older visits are loaded a page at a time (HTMX, ``/patients/{id}/visits?before=...``).
What is read comes from :mod:`benhan.clinical.chart` through ``page.repo`` — the access policy
decides per record and every search is audited. Types the user's roles may not read (clinical
notes for reception) are not read at all and the page says so.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from benhan.clinical import chart as service

from .permissions import require_screen
from .scope import N_, Page, run_page

router = APIRouter(include_in_schema=False)

# What the page calls each resource type a user may not read.
RESTRICTED_LABELS = {
    "Condition": N_("diagnoses and problems"),
    "Observation": N_("vital signs and results"),
    "DiagnosticReport": N_("reports"),
    "MedicationRequest": N_("prescriptions"),
    "Composition": N_("clinical notes"),
    "DocumentReference": N_("documents"),
    "AllergyIntolerance": N_("allergies"),
}
VITAL_LABELS = {"bp": N_("BP"), "pulse": N_("Pulse"), "temp": N_("Temp."), "rr": N_("Resp."), "spo2": "SpO₂",
                "height": N_("Height"), "weight": N_("Weight"), "bmi": "BMI"}


def _may_search(page: Page):  # type: ignore[no-untyped-def]
    return lambda rtype: page.guard.access.effective(rtype, "s") is not None


def _context(page: Page) -> dict[str, object]:
    return {"restricted_labels": RESTRICTED_LABELS, "vital_labels": VITAL_LABELS}


@router.get("/patients")
async def patients(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "patients")  # staff who look up patients (policy.toml [screens])
        q = (request.query_params.get("q") or "").strip()[:100]
        found = service.find_patients(page.repo, q, page.now.date()) if q else []
        template = "chart/_results.html" if page.htmx else "chart/search.html"
        return page.render(template, q=q, found=found, **_context(page))

    return await run_page(request, work)


@router.get("/patients/{patient_id}")
async def patient_chart(request: Request, patient_id: str) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "patients")  # staff who look up patients (policy.toml [screens])
        summary = service.build_chart(page.repo, patient_id, _may_search(page), page.now.date())
        return page.render("chart/chart.html", chart=summary, patient=summary.patient, visits=summary.page,
                           **_context(page))

    return await run_page(request, work)


@router.get("/patients/{patient_id}/visits")
async def older_visits(request: Request, patient_id: str) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "patients")  # staff who look up patients (policy.toml [screens])
        before = request.query_params.get("before") or None
        page.repo.read("Patient", patient_id)  # 403/404 for a patient outside the user's reach
        visits = service.read_visits(page.repo, patient_id, _may_search(page), before=before)
        template = "chart/_visits.html" if page.htmx else "chart/visits.html"
        return page.render(template, visits=visits, patient_id=patient_id, **_context(page))

    return await run_page(request, work)
