"""The exam tab of a visit (``/visit/{encounter}``): vital signs, history and examination, diagnoses, allergies.

Four cards, each a form that saves on its own: with HTMX the card answers with itself re-rendered
(``exam/_<card>.html``), without it a plain POST redirects back to the page (303) or shows the whole page
again with the field in error (422). The services of :mod:`benhan.clinical` check the form before they
write; what they refuse comes back as bilingual field errors and the transaction is rolled back
(:class:`~benhan.web.scope.Rerender`). A visit that is finished, cancelled or signed shows read-only
content and refuses every POST. Who may open the tab and which cards show a form come from the access
policy (``security/policy.toml``, through :mod:`benhan.web.permissions`), not from role names: a nurse
records vitals and allergies, the record text and diagnoses are the doctor's.

Warnings the repository returns with a successful write (ICD-10 annex A1: an asterisk code without its dagger
code; no list valid on the visit's date) are shown beside the diagnosis field they concern: the HTMX answer to a
save takes them from the repository (``Repository.warnings``); the page, which a plain POST redirects to, checks
the stored diagnoses again with the same rules (read-only), so the warning stays until the diagnoses change.

HTMX does not swap 4xx answers by default (``htmx-config`` has no ``responseHandling`` for 422), so a
refused HTMX save answers 200 with the card in error and the header ``X-Form-Invalid: 1``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from benhan.clinical import allergies, diagnoses, exam_note, vitals
from benhan.clinical.exam import FormInvalid, VisitContext
from benhan.fhir.errors import FhirError, Issue
from benhan.terminology import concepts, expand, systems
from benhan.terminology.diagnosis import check_resource
from benhan.terminology.model import Flag

from .permissions import Needs, allows
from .scope import Page, Rerender, run_page
from .visit import VisitHeader, load_visit

router = APIRouter(include_in_schema=False)

CARDS = ("vitals", "note", "diagnoses", "allergies")
# What the tab reads, and what each card writes (services of benhan.clinical; saving the diagnoses also
# rewrites the record's diagnosis section): the policy decides who may.
READS: Needs = {"Encounter": "r", "Observation": "rs", "Composition": "rs", "Condition": "rs",
                "AllergyIntolerance": "rs"}
WRITES: dict[str, Needs] = {"vitals": {"Observation": "c"}, "note": {"Composition": "cu"},
                            "diagnoses": {"Condition": "cu", "Encounter": "u", "Composition": "cu"},
                            "allergies": {"AllergyIntolerance": "c"}}
MIN_SECONDARY_ROWS = 3
_SUGGEST_FIELD = re.compile(r"main_code|secondary_code_([1-9][0-9]?)")
_DIAGNOSIS_ENTRY = re.compile(r"Encounter\.diagnosis\[(\d+)\]")
SUGGESTIONS = 15


def _visit(page: Page, encounter_id: str) -> VisitHeader:
    return load_visit(page, encounter_id)


def _forbidden() -> FhirError:
    return FhirError.one(403, "forbidden", "Chỉ nhân viên lâm sàng được mở phiếu khám",
                         "Only clinical staff may open the exam record")


def _can(page: Page, visit: VisitHeader) -> dict[str, bool]:
    """Which cards show a form: the visit is open and the policy lets the user write that part."""
    return {card: visit.editable and allows(page, needs) for card, needs in WRITES.items()}


def _open(page: Page, encounter_id: str, *, write: str | None = None) -> VisitHeader:
    if not allows(page, READS):
        raise _forbidden()
    if write and not allows(page, WRITES[write]):
        raise FhirError.one(403, "forbidden", "Vai trò của bạn không được ghi phần này của phiếu khám",
                            "Your role may not record this part of the exam")
    visit = _visit(page, encounter_id)
    if (visit.encounter.get("class") or {}).get("code") not in ("AMB", None):
        raise FhirError.one(400, "not-supported", "Đây không phải lượt khám ngoại trú",
                            "This is not an outpatient visit")
    if write and not visit.editable:
        raise FhirError.one(409, "business-rule", "Lượt khám đã kết thúc hoặc đã ký: không sửa được",
                            "The visit is finished or signed and cannot be changed")
    return visit


def _context(page: Page, visit: VisitHeader) -> VisitContext:
    return VisitContext(encounter_id=visit.encounter_id, patient_id=visit.patient_id, when=page.now,
                        author_id=page.user.practitioner_id, author_name=page.user.display_name,
                        patient_gender=visit.gender, patient_birth_date=visit.birth_date)


def _secondary_rows(count: int) -> int:
    return min(max(count + 1, MIN_SECONDARY_ROWS), diagnoses.MAX_SECONDARY)


def _load(page: Page, visit: VisitHeader, card: str) -> dict[str, Any]:
    """What one card shows from the store."""
    repo = page.repo
    if card == "vitals":
        return {"measurements": vitals.measurements(repo, visit.encounter_id)}
    if card == "note":
        note = exam_note.find(repo, visit.encounter_id)
        texts = exam_note.texts(note)
        if not texts["reason"] and visit.reason:
            texts["reason"] = visit.reason
        return {"note": texts, "note_saved": note is not None}
    if card == "diagnoses":
        current = diagnoses.current(repo, visit.encounter)
        form = {diagnoses.field_name(n): d.code for n, d in enumerate(current)}
        form.update({f"{diagnoses.field_name(n)}_display": d.display for n, d in enumerate(current)})
        return {"diagnoses": current, "diagnoses_form": form, "secondary_rows": _secondary_rows(len(current) - 1)}
    if card == "allergies":
        return {"allergies": allergies.known(repo, visit.patient_id)}
    raise ValueError(card)


def _model(page: Page, visit: VisitHeader) -> dict[str, Any]:
    model: dict[str, Any] = {"visit": visit, "tab": "exam", "forms": {}, "errors": {}, "saved": None,
                             "can": _can(page, visit)}
    for card in CARDS:
        model.update(_load(page, visit, card))
    model["warnings"] = {"diagnoses": _stored_diagnosis_warnings(page, visit, model["diagnoses"])}
    return model


def _stored_diagnosis_warnings(page: Page, visit: VisitHeader, current: list[diagnoses.Diagnosis]) -> dict[str, str]:
    """The warnings the write path would give the visit's diagnoses as stored (nothing is written)."""
    if not current:
        return {}
    issues = check_resource(page.conn, visit.encounter, resolve=page.repo.peek, today=page.now.date())
    warnings = {("Encounter", visit.encounter_id): [i for i in issues if i.severity == "warning"]}
    return _on_fields(warnings, visit, current, page.lang)


def _answer(page: Page, visit: VisitHeader, card: str, model: dict[str, Any], *, status: int = 200) -> Response:
    if page.htmx:
        headers = {"X-Form-Invalid": "1"} if status >= 400 else None
        return page.render(f"exam/_{card}.html", headers=headers, **model)
    if status < 400:
        return RedirectResponse(f"/visit/{visit.encounter_id}#card-{card}", status_code=303)
    full = _model(page, visit)
    full.update(model)
    return page.render("exam/page.html", status=status, **full)


def _diagnosis_warnings(page: Page, visit: VisitHeader, current: list[diagnoses.Diagnosis]) -> dict[str, str]:
    """The warnings of this request's writes (``Repository.warnings``) on the diagnosis fields."""
    return _on_fields(page.repo.warnings, visit, current, page.lang)


def _on_fields(warnings: dict[tuple[str, str], list[Issue]], visit: VisitHeader,
               current: list[diagnoses.Diagnosis], lang: str) -> dict[str, str]:
    """Warnings on the field of the code they concern (each text once), in the page's language.

    ``Encounter.diagnosis[n]`` is the n-th code listed (the Encounter is written in rank order); a Condition
    written in this request is the field of its code.
    """
    field_of = {d.condition_id: diagnoses.field_name(n) for n, d in enumerate(current)}
    shown: dict[str, list[str]] = {}
    seen: set[str] = set()
    for (rtype, rid), issues in warnings.items():
        for issue in issues:
            if rtype == "Encounter" and rid == visit.encounter_id:
                m = _DIAGNOSIS_ENTRY.fullmatch(issue.expression or "")
                field = diagnoses.field_name(int(m.group(1))) if m else "main_code"
            elif rtype == "Condition" and rid in field_of:
                field = field_of[rid]
            else:
                continue
            text = issue.en if lang == "en" else issue.vi
            if text not in seen:
                seen.add(text)
                shown.setdefault(field, []).append(text)
    return {field: "; ".join(texts) for field, texts in shown.items()}


def _save(request: Request, encounter_id: str, card: str,
          write: Callable[[Page, VisitHeader, VisitContext], None]) -> Any:
    def work(page: Page) -> Response:
        visit = _open(page, encounter_id, write=card)
        before = {"visit": visit, "tab": "exam", "can": _can(page, visit), **_load(page, visit, card)}
        try:
            write(page, visit, _context(page, visit))
        except FormInvalid as exc:
            model = {**before, "forms": {card: dict(page.form)}, "errors": {card: exc.in_lang(page.lang)},
                     "saved": None}
            if card == "diagnoses":
                typed = sum(1 for k, v in page.form.items() if k.startswith("secondary_code_") and v.strip())
                model["secondary_rows"] = max(before["secondary_rows"], _secondary_rows(typed))
            raise Rerender(_answer(page, visit, card, model, status=422), cause=exc.cause) from exc
        visit = _visit(page, encounter_id)
        model = {"visit": visit, "tab": "exam", "forms": {}, "errors": {}, "saved": card, "can": _can(page, visit),
                 **_load(page, visit, card)}
        if card == "diagnoses":
            model["warnings"] = {card: _diagnosis_warnings(page, visit, model["diagnoses"])}
        return _answer(page, visit, card, model)

    return run_page(request, work)


@router.get("/visit/{encounter_id}")
async def exam_page(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        visit = _open(page, encounter_id)
        return page.render("exam/page.html", **_model(page, visit))

    return await run_page(request, work)


@router.post("/visit/{encounter_id}/vitals")
async def save_vitals(request: Request, encounter_id: str) -> Response:
    return await _save(request, encounter_id, "vitals",
                       lambda page, visit, ctx: vitals.record(page.repo, ctx, page.form) and None)


@router.post("/visit/{encounter_id}/note")
async def save_note(request: Request, encounter_id: str) -> Response:
    return await _save(request, encounter_id, "note",
                       lambda page, visit, ctx: exam_note.save(page.repo, ctx, page.form) and None)


def _write_diagnoses(page: Page, visit: VisitHeader, ctx: VisitContext) -> None:
    secondary = [page.form.get(diagnoses.field_name(n), "") for n in range(1, diagnoses.MAX_SECONDARY + 1)]
    diagnoses.save(page.repo, ctx, page.form.get("main_code"), secondary)


@router.post("/visit/{encounter_id}/diagnoses")
async def save_diagnoses(request: Request, encounter_id: str) -> Response:
    return await _save(request, encounter_id, "diagnoses", _write_diagnoses)


@router.post("/visit/{encounter_id}/allergies")
async def save_allergy(request: Request, encounter_id: str) -> Response:
    return await _save(request, encounter_id, "allergies",
                       lambda page, visit, ctx: allergies.record(page.repo, ctx, page.form) and None)


@router.get("/visit/{encounter_id}/icd10")
async def icd10_suggestions(request: Request, encounter_id: str) -> Response:
    """Type-ahead of ICD-10 codes (diacritics-insensitive, code or words) for one diagnosis field."""
    params = request.query_params
    field = params.get("field") or "main_code"
    if not _SUGGEST_FIELD.fullmatch(field):
        field = "main_code"
    query = (params.get("q") or params.get(field) or "").strip()[:80]

    def work(page: Page) -> Response:
        visit = _open(page, encounter_id)
        choice = concepts.choose(concepts.versions(page.conn, url=systems.ICD10), on=page.now.date())
        found = expand.search(page.conn, choice.version, query, count=SUGGESTIONS).concepts \
            if choice is not None and query else []
        options = [{"code": c.code, "display": c.display_in(page.lang),
                    "not_main": bool(c.flags & (Flag.NOT_MAIN | Flag.ASTERISK))} for c in found]
        return page.render("exam/_icd10_options.html", visit=visit, field=field, options=options, query=query)

    return await run_page(request, work)
