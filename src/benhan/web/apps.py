"""SMART apps opened from the chart or a visit page (EHR launch, SMART App Launch v2).

* ``GET  /apps?patient=[&encounter=]`` — the registered apps that have a launch URL (the "Ứng dụng /
  Apps" menu; an HTMX fragment in the page, a page of its own without JavaScript). It shows no
  patient data, so it reads none.
* ``POST /apps/launch`` — reads the Patient (and the Encounter, which must be that patient's) as the
  user, so the access policy decides and the read is audited; makes the opaque launch value
  (:mod:`benhan.security.ehr_launch`) bound to the user, the app, the patient and the encounter; records
  an ``ehr-launch`` audit entry; then sends the browser to the app's launch URL with ``iss`` (our FHIR
  base) and ``launch``. The redirect is a page with a refresh to the app: a 303 after a form post would
  be blocked by our ``form-action 'self'`` policy, and a GET would let another site launch apps (and
  write audit entries) in the user's name.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from benhan.fhir.errors import FhirError
from benhan.security.ehr_launch import make_launch
from benhan.security.oauth_clients import get_client, launchable_clients
from benhan.security.web_common import clock

from .reception import subject_id
from .scope import Page, run_page

router = APIRouter(include_in_schema=False)


def _ids(page: Page, source: dict[str, str]) -> tuple[str, str | None]:
    patient = (source.get("patient") or "").strip()[:64]
    encounter = (source.get("encounter") or "").strip()[:64] or None
    if not patient:
        raise FhirError.one(400, "required", "Thiếu người bệnh", "The patient is missing", "patient")
    return patient, encounter


@router.get("/apps")
async def apps_menu(request: Request) -> Response:
    def work(page: Page) -> Response:
        patient, encounter = _ids(page, dict(request.query_params))
        template = "apps/_menu.html" if page.htmx else "apps/list.html"
        return page.render(template, apps=launchable_clients(page.conn), patient_id=patient,
                           encounter_id=encounter)

    return await run_page(request, work)


@router.post("/apps/launch")
async def launch(request: Request) -> Response:
    def work(page: Page) -> Response:
        patient, encounter = _ids(page, page.form)
        client = get_client(page.conn, page.form.get("client_id", ""))
        if client is None or client.disabled or not client.launch_url:
            raise FhirError.one(404, "not-found", "Ứng dụng không tồn tại hoặc không mở được từ hồ sơ",
                                "Unknown app, or one that cannot be opened from the chart", "client_id")
        page.repo.read("Patient", patient)  # the access decision (403) and the audited read
        if encounter is not None:
            visit = page.repo.read("Encounter", encounter).resource()
            if subject_id(visit) != patient:
                raise FhirError.one(422, "business-rule", "Lượt khám không thuộc người bệnh này",
                                    "The encounter is not this patient's", "encounter")
        value = make_launch(page.conn, user_id=page.user.id, client_id=client.client_id, patient=patient,
                            encounter=encounter, clock=clock(page.request))
        guard = page.guard
        guard.entries.append(guard.entry("ehr-launch", f"client/{client.client_id}", [patient],
                                         detail=f"encounter={encounter}" if encounter else None))
        sep = "&" if "?" in client.launch_url else "?"
        target = f"{client.launch_url}{sep}{urlencode({'iss': page.repo.base_url, 'launch': value})}"
        return page.render("apps/launching.html", app_name=client.name, target=target)

    return await run_page(request, work)
