"""Printed forms of a visit as PDF: the outpatient record (MS 15/BV1) and the prescription (TT 26/2025).

``GET /visit/{id}/print/record.pdf`` and ``GET /visit/{id}/print/prescription.pdf``: the view models of
``clinical/forms`` (read through the page's repository: access-checked and audited), laid out by
``templates/print/`` and rendered with WeasyPrint, the DejaVu Serif fonts of ``static/fonts`` embedded.
Each print is audited (action ``print``) and the PDF is never cached (it holds patient data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from benhan.clinical.forms import prescription, record
from benhan.security.web_render import WEB_DIR

from .conclusion import visit_of
from .render import render_template
from .scope import Page, run_page

router = APIRouter(include_in_schema=False)

STATIC_DIR = WEB_DIR / "static"
NO_STORE = {"Cache-Control": "no-store, private", "Pragma": "no-cache"}


def render_pdf(template: str, form: Any) -> bytes:
    """HTML from ``template`` with ``form``, as PDF bytes (fonts resolved against ``static/``)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_template(template, form=form)
    fonts = FontConfiguration()
    return HTML(string=html, base_url=STATIC_DIR.as_uri() + "/").write_pdf(font_config=fonts)


def _print(request: Request, encounter_id: str, name: str, template: str,
           build: Callable[..., Any]) -> Any:
    def work(page: Page) -> Response:
        visit = visit_of(page, encounter_id)
        form = build(page.repo, encounter_id, page.now.date())
        pdf = render_pdf(template, form)
        page.guard.record("print", f"Encounter/{encounter_id}", [visit.patient_id] if visit.patient_id else None)
        filename = f"{name}-{encounter_id}.pdf"
        return Response(pdf, media_type="application/pdf",
                        headers={**NO_STORE, "Content-Disposition": f'inline; filename="{filename}"'})

    return run_page(request, work)


@router.get("/visit/{encounter_id}/print/record.pdf")
async def print_record(request: Request, encounter_id: str) -> Response:
    return await _print(request, encounter_id, "benh-an-15BV1", "print/record.html", record.build)


@router.get("/visit/{encounter_id}/print/prescription.pdf")
async def print_prescription(request: Request, encounter_id: str) -> Response:
    return await _print(request, encounter_id, "don-thuoc", "print/prescription.html", prescription.build)
