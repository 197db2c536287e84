"""Reception (tiếp đón): find or register a patient, open a visit, queue number and printed ticket.

* ``GET  /reception`` — home: search box (type-ahead), register form, today's registrations;
* ``GET  /reception/search?q=`` — the type-ahead list (HTMX partial; a full page without HTMX);
* ``POST /reception/register`` — register (duplicate warnings, confirm to register anyway);
* ``GET  /reception/patient/{id}`` — the patient, the BHYT card checked locally, the open-visit form;
* ``POST /reception/patient/{id}/visit`` — open the visit, then the ticket;
* ``GET  /reception/ticket/{encounter}`` — the printable queue ticket.

Reception only (role ``reception``); everything goes through :func:`run_page` and the services
(:mod:`benhan.clinical.registration`, :mod:`benhan.clinical.visits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from benhan.clinical.mpi import find_patients
from benhan.clinical.mpi.candidates import search_resources
from benhan.clinical.mpi.scoring import normalize_phone
from benhan.clinical.patient_form import BhytCardForm, PatientForm
from benhan.clinical.queue import PRIORITY_GROUPS, local_day, priority_groups, queue_number, room_of, started
from benhan.clinical.registration import Registration
from benhan.clinical.visits import (
    EXT_PAYMENT_CATEGORY,
    VisitForm,
    departments_of,
    exam_rooms,
    open_visit,
    suggested_priorities,
    valid_coverage,
)
from benhan.fhir.errors import FhirError
from benhan.fhir.text import normalize
from benhan.vn import bhyt, cccd, systems
from benhan.vn.errors import InvalidValue
from benhan.vn.names import format_name

from . import reception_address
from .permissions import may_open
from .scope import Page, Rerender, run_page
from .visit import age_on, identifier

router = APIRouter(include_in_schema=False)

REGISTER_FIELDS = ("name", "gender", "birth_date", "national_id", "phone", "bhyt_number", "bhyt_from",
                   "bhyt_to", "bhyt_facility", *reception_address.FIELDS)
# FhirError issue expressions of the registration service -> fields of the register form
ISSUE_FIELDS = {"name": "name", "gender": "gender", "birthDate": "birth_date", "phone": "phone",
                "bhyt.number": "bhyt_number", "bhyt.registeredFacility": "bhyt_facility",
                "bhyt.validFrom": "bhyt_from", "bhyt.validTo": "bhyt_to", "nationalId": "national_id",
                **reception_address.ISSUE_FIELDS}
VISIT_FIELDS = ("patient", "department", "room", "payer", "reason", "priority")
SUGGESTION_LIMIT = 10


# ---------------------------------------------------------------------- helpers


def require_reception(page: Page) -> None:
    """The reception screen (``[screens.reception]`` of policy.toml), or 403."""
    if not may_open(page.guard.access, "reception"):
        raise FhirError.one(403, "forbidden", "Chức năng này dành cho bộ phận tiếp đón",
                            "This is for reception staff only")


@dataclass(frozen=True, slots=True)
class PatientRow:
    id: str
    name: str
    gender: str | None
    birth_date: str | None
    code: str | None
    national_id: str | None
    insurance_number: str | None
    phone: str | None


def patient_row(patient: dict[str, Any]) -> PatientRow:
    names = patient.get("name") or [{}]
    phone = next((t.get("value") for t in patient.get("telecom") or [] if t.get("system") == "phone"), None)
    return PatientRow(patient["id"], format_name(names[0]) if names[0] else "", patient.get("gender"),
                      patient.get("birthDate"), identifier(patient, systems.PATIENT_INTERNAL_ID),
                      identifier(patient, systems.NATIONAL_ID), identifier(patient, systems.INSURANCE_NUMBER), phone)


def search_queries(text: str) -> list[list[tuple[str, str]]]:
    """The Patient searches for what was typed: CCCD, BHYT card or BHXH number, phone, patient code or name."""
    text = " ".join(text.split())
    compact = "".join(ch for ch in text if ch not in " .-")
    if compact.isdigit():
        queries = []
        if len(compact) == 12:
            queries.append([("identifier", f"{systems.NATIONAL_ID}|{compact}")])
        if len(compact) == 10:
            queries.append([("identifier", f"{systems.INSURANCE_NUMBER}|{compact}")])
        if 9 <= len(compact) <= 11 or compact.startswith("84"):
            queries.append([("phone", normalize_phone(compact))])
        queries.append([("identifier", f"{systems.PATIENT_INTERNAL_ID}|{compact}")])
        return queries
    if len(compact) == 15 and compact[:2].isalpha():
        try:
            card = bhyt.parse_number(bhyt.normalize(compact))
        except InvalidValue:
            return []
        return [[("identifier", f"{systems.INSURANCE_NUMBER}|{card.social_insurance_number}")]]
    words = normalize(text).split()
    if not words or len("".join(words)) < 2:
        return []
    return [[("name", text)], [("name", words[-1])]] if len(words) > 1 else [[("name", words[0])]]


def search_patients(page: Page, text: str, limit: int = SUGGESTION_LIMIT) -> list[PatientRow]:
    """Patients matching ``text`` (diacritics-insensitive names: the search index is normalised)."""
    wanted = normalize(text).split()
    found: dict[str, PatientRow] = {}
    for query in search_queries(text):
        for hit in find_patients(page.repo, query, count=50):
            row = patient_row(hit.patient)
            if query[0][0] == "name" and not all(w in normalize(row.name).split() or
                                                 any(n.startswith(w) for n in normalize(row.name).split())
                                                 for w in wanted):
                continue
            found.setdefault(row.id, row)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def patients_by_id(page: Page, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Patients by id in one audited search."""
    unique = sorted({i for i in ids if i})
    if not unique:
        return {}
    return {p["id"]: p for p in search_resources(page.repo, "Patient", [("_id", ",".join(unique))], len(unique))}


def subject_id(encounter: dict[str, Any]) -> str:
    ref = (encounter.get("subject") or {}).get("reference", "")
    return ref.split("/", 1)[1] if ref.startswith("Patient/") else ""


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: str
    time: str | None
    number: str | None
    patient: PatientRow | None
    room: str
    status: str
    payer: str | None
    priorities: list[str]


def visit_row(encounter: dict[str, Any], patient: dict[str, Any] | None) -> VisitRow:
    payer = next((e.get("valueCode") for e in encounter.get("extension") or []
                  if e.get("url") == EXT_PAYMENT_CATEGORY), None)
    room = ((encounter.get("location") or [{}])[0].get("location") or {}).get("display", "")
    return VisitRow(encounter["id"], (encounter.get("period") or {}).get("start"), queue_number(encounter),
                    patient_row(patient) if patient else None, room, encounter.get("status", ""), payer,
                    priority_groups(encounter))


def todays_visits(page: Page, limit: int = 1000, shown: int = 200) -> list[VisitRow]:
    """Today's outpatient visits (hospital day), the latest first."""
    day = local_day(page.now)
    found = search_resources(page.repo, "Encounter", [("class", "AMB"), ("date", f"ge{day.isoformat()}")], limit)
    dated = [(m, e) for e in found if (m := started(e)) is not None and local_day(m) == day]
    today = [e for _m, e in sorted(dated, key=lambda pair: pair[0], reverse=True)][:shown]
    patients = patients_by_id(page, [subject_id(e) for e in today])
    return [visit_row(e, patients.get(subject_id(e))) for e in today]


def waiting_by_room(page: Page, limit: int = 2000) -> dict[str, int]:
    """How many patients wait today in each exam room (one search), to help choose a room."""
    day = local_day(page.now)
    found = search_resources(page.repo, "Encounter", [("class", "AMB"), ("status", "arrived")], limit)
    counts: dict[str, int] = {}
    for e in found:
        room = room_of(e)
        if room and (m := started(e)) is not None and local_day(m) == day:
            counts[room] = counts.get(room, 0) + 1
    return counts


def _messages(exc: FhirError, lang: str, fields: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Field errors and the remaining messages of ``exc`` in ``lang``."""
    errors: dict[str, str] = {}
    general: list[str] = []
    for issue in exc.issues:
        text = issue.en if lang == "en" else issue.vi
        name = fields.get(issue.expression or "")
        if name and name not in errors:
            errors[name] = text
        elif not name:
            general.append(text)
    return errors, general


def parse_day(value: str, *, partial: bool = False) -> str | None:
    """``dd/mm/yyyy`` (or ``yyyy-mm-dd``; with ``partial`` also ``yyyy`` and ``mm/yyyy``) as a FHIR date."""
    value = value.strip()
    if not value:
        return None
    formats = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            pass
    if partial:
        if len(value) == 4 and value.isdigit():
            return value
        for fmt in ("%m/%Y", "%Y-%m"):
            try:
                return datetime.strptime(value, fmt).strftime("%Y-%m")
            except ValueError:
                pass
    raise ValueError(value)


def register_form(page: Page) -> tuple[PatientForm, dict[str, str]]:
    """The PatientForm typed on the page and the errors of the fields this page checks itself."""
    f = {k: page.form.get(k, "").strip() for k in REGISTER_FIELDS}
    errors: dict[str, str] = {}
    vi = page.lang != "en"
    birth = None
    try:
        birth = parse_day(f["birth_date"], partial=True)
    except ValueError:
        errors["birth_date"] = page._("Birth date: dd/mm/yyyy, mm/yyyy or yyyy")
    if birth and birth > page.now.date().isoformat():
        errors["birth_date"] = page._("The birth date is in the future")
    if f["national_id"]:
        try:
            card_id = cccd.parse_cccd(cccd.normalize(f["national_id"]))
            problems = cccd.check_consistency(card_id, f["gender"] or None, birth)
            if problems:
                errors["national_id"] = problems[0].vi if vi else problems[0].en
        except InvalidValue as problem:
            errors["national_id"] = problem.vi if vi else problem.en
    dates: dict[str, date | None] = {}
    for key in ("bhyt_from", "bhyt_to"):
        try:
            value = parse_day(f[key])
            dates[key] = date.fromisoformat(value) if value else None
        except ValueError:
            errors[key] = page._("Date: dd/mm/yyyy")
            dates[key] = None
    if not errors.get("bhyt_to") and dates["bhyt_from"] and dates["bhyt_to"] and dates["bhyt_to"] < dates["bhyt_from"]:
        errors["bhyt_to"] = page._("The card ends before it starts")
    card = None
    if f["bhyt_number"]:
        card = BhytCardForm(f["bhyt_number"], dates["bhyt_from"], dates["bhyt_to"], f["bhyt_facility"] or None)
    elif any(f[k] for k in ("bhyt_from", "bhyt_to", "bhyt_facility")):
        errors["bhyt_number"] = page._("Enter the card number")
    address, address_errors = reception_address.address_form(page, f)
    errors.update(address_errors)
    form = PatientForm(name=f["name"], gender=f["gender"] or "", birth_date=birth,
                       national_id=f["national_id"] or None, phone=f["phone"] or None, address=address, bhyt=card)
    if not f["gender"]:
        errors["gender"] = page._("Choose the sex")
    if not f["name"]:
        errors["name"] = page._("Enter the full name")
    return form, errors


@dataclass(frozen=True, slots=True)
class CardStatus:
    """The BHYT card checked locally (the BHXH gateway check is off)."""

    number: str
    valid: bool  # format right and the card covers today
    benefit: int | None  # mức hưởng %
    valid_from: str | None
    valid_to: str | None
    expired: bool
    problem: str | None


def card_status(page: Page, patient_id: str) -> CardStatus | None:
    """The patient's latest BHYT Coverage, checked with benhan.vn.bhyt (format, benefit level, expiry)."""
    ids = page.repo.find("Coverage", f"beneficiary=Patient/{patient_id}&status=active")
    if not ids:
        return None
    coverages = [page.repo.read("Coverage", cid).resource() for cid in ids]
    coverage = max(coverages, key=lambda c: (c.get("period") or {}).get("end", ""))
    number = identifier(coverage, systems.INSURANCE_NUMBER) or coverage.get("subscriberId") or ""
    period = coverage.get("period") or {}
    today = local_day(page.now)
    problem, percent = None, None
    try:
        card = bhyt.parse_card(bhyt.normalize(number))
        percent = bhyt.benefit(card).percent
    except InvalidValue as exc:
        problem = exc.vi if page.lang != "en" else exc.en
    try:
        validity = bhyt.CardValidity(date.fromisoformat(period["start"][:10]) if period.get("start") else None,
                                     date.fromisoformat(period["end"][:10]) if period.get("end") else None)
        expired, covers = validity.is_expired(today), validity.covers(today)
    except InvalidValue as exc:
        problem, expired, covers = problem or (exc.vi if page.lang != "en" else exc.en), False, False
    return CardStatus(number, problem is None and covers, percent, period.get("start"), period.get("end"), expired,
                      problem)


# ---------------------------------------------------------------------- pages


def _home(page: Page, *, status: int = 200, q: str = "", results: list[PatientRow] | None = None,
          form: dict[str, str] | None = None, errors: dict[str, str] | None = None, general: list[str] | None = None,
          candidates: list[Any] | None = None, existing: PatientRow | None = None) -> Response:
    return page.render("reception/home.html", status=status, q=q, results=results, form=form or {},
                       errors=errors or {}, general=general or [], candidates=candidates or [], existing=existing,
                       visits=todays_visits(page), priority_names=PRIORITY_GROUPS,
                       provinces=reception_address.province_options(page))


@router.get("/reception")
async def reception_home(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_reception(page)
        q = request.query_params.get("q", "").strip()
        return _home(page, q=q, results=search_patients(page, q, 50) if q else None)

    return await run_page(request, work)


@router.get("/reception/search")
async def reception_search(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_reception(page)
        q = request.query_params.get("q", "").strip()
        results = search_patients(page, q) if q else []
        if not page.htmx:
            return _home(page, q=q, results=search_patients(page, q, 50) if q else None)
        return page.render("reception/_suggestions.html", q=q, results=results)

    return await run_page(request, work)


@router.get("/reception/communes")
async def reception_communes(request: Request) -> Response:
    """Type-ahead of the address's commune (xã/phường/đặc khu), within the chosen province."""
    params = request.query_params
    query = (params.get("commune_q") or "").strip()[:80]
    province = (params.get("province") or "").strip()[:2]

    def work(page: Page) -> Response:
        require_reception(page)
        units = reception_address.suggest_communes(page, query, province or None)
        return page.render("reception/_communes.html", units=units, query=query)

    return await run_page(request, work)


@router.post("/reception/register")
async def reception_register(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_reception(page)
        form, errors = register_form(page)
        settings = request.app.state.settings
        registration = Registration(page.repo, facility_code=settings.facility_code)
        if errors:
            raise Rerender(_home(page, status=422, form=page.form, errors=errors))
        try:
            result = registration.register(form, confirmed_new=page.form.get("confirmed_new") == "1")
        except FhirError as exc:
            field_errors, general = _messages(exc, page.lang, ISSUE_FIELDS)
            raise Rerender(_home(page, status=422, form=page.form, errors=field_errors, general=general),
                           cause=exc) from exc
        if result.outcome == "existing" and result.patient is not None:
            return _home(page, form=page.form, existing=patient_row(result.patient))
        if result.outcome == "review":
            return _home(page, form=page.form,
                         candidates=[(patient_row(c.patient), c.match) for c in result.candidates])
        assert result.patient is not None
        return RedirectResponse(f"/reception/patient/{result.patient['id']}?registered=1", status_code=303)

    return await run_page(request, work)


def _patient_page(page: Page, patient_id: str, *, status: int = 200, form: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, general: list[str] | None = None) -> Response:
    patient = page.repo.read("Patient", patient_id).resource()
    row = patient_row(patient)
    rooms = exam_rooms(page.repo)
    departments = departments_of(rooms)
    card = card_status(page, patient_id)
    today = local_day(page.now)
    suggested = suggested_priorities(patient, today)
    if form is None:
        covered = valid_coverage(page.repo, patient_id, today) is not None
        form = {"department": departments[0][0] if len(departments) == 1 else "", "room": "",
                "payer": "bhyt" if covered else "fee", "reason": "", "priority": suggested}
    found = search_resources(page.repo, "Encounter", [("subject", f"Patient/{patient_id}"),
                                                      ("status", "arrived,in-progress")], 20)
    open_today = [visit_row(e, patient) for e in found if (m := started(e)) is not None and local_day(m) == today]
    return page.render("reception/patient.html", status=status, patient=row, age=age_on(row.birth_date, today),
                       open_today=open_today, waiting=waiting_by_room(page),
                       rooms=rooms, departments=departments, card=card, suggested=suggested, form=form,
                       errors=errors or {}, general=general or [], priority_names=PRIORITY_GROUPS,
                       registered=page.request.query_params.get("registered") == "1")


@router.get("/reception/patient/{patient_id}")
async def reception_patient(request: Request, patient_id: str) -> Response:
    def work(page: Page) -> Response:
        require_reception(page)
        return _patient_page(page, patient_id)

    return await run_page(request, work)


@router.post("/reception/patient/{patient_id}/visit")
async def reception_open_visit(request: Request, patient_id: str) -> Response:
    def work(page: Page) -> Response:
        require_reception(page)
        typed = {"department": page.form.get("department", ""), "room": page.form.get("room", ""),
                 "payer": page.form.get("payer", ""), "reason": page.form.get("reason", ""),
                 "priority": page.form_all("priority")}
        visit = VisitForm(patient_id, typed["department"], typed["room"], typed["payer"], typed["reason"],
                          typed["priority"])
        try:
            encounter = open_visit(page.repo, visit, page.now)
        except FhirError as exc:
            if exc.status != 422:
                raise
            errors, general = _messages(exc, page.lang, {f: f for f in VISIT_FIELDS})
            raise Rerender(_patient_page(page, patient_id, status=422, form=typed, errors=errors, general=general),
                           cause=exc) from exc
        return RedirectResponse(f"/reception/ticket/{encounter['id']}", status_code=303)

    return await run_page(request, work)


@router.get("/reception/ticket/{encounter_id}")
async def reception_ticket(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        require_reception(page)
        encounter = page.repo.read("Encounter", encounter_id).resource()
        patient = page.repo.read("Patient", subject_id(encounter)).resource()
        row = visit_row(encounter, patient)
        visit_number = identifier(encounter, systems.ENCOUNTER_VISIT_NUMBER)
        department = (encounter.get("serviceProvider") or {}).get("display", "")
        return page.render("reception/ticket.html", visit=row, visit_number=visit_number, department=department,
                           priority_names=PRIORITY_GROUPS, reason=((encounter.get("reasonCode") or [{}])[0]
                                                                   .get("text", "")))

    return await run_page(request, work)

