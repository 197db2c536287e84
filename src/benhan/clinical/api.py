"""HTTP API of registration and the MPI (non-FHIR, JSON, for the UI and imports).

The router does not open transactions or authenticate by itself: the app passes ``open_repository``,
a context manager that authenticates the request, opens ONE write transaction and yields a
Repository carrying the request's security guard (see :func:`create_registration_router`).

* ``POST /api/registration`` (``?confirmedNew=true`` after the clerk reviewed candidates)
* ``GET  /api/registration/duplicates?name=&birthDate=&gender=&nationalId=&bhyt=&phone=&commune=``
* ``PUT  /api/registration/{id}``
* ``GET  /api/registration/patients?<FHIR Patient search>`` — follows ``replaced-by`` to survivors
* ``POST /api/registration/merge`` ``{"source", "target", "reason"}`` / ``POST .../unmerge`` ``{"source"}``
* ``POST /api/registration/card-check`` — BHYT card check at the BHXH gateway
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.integrations.bhxh import BhxhAuthError, BhxhCardClient, BhxhError, BhxhTimeout, CardQuery

from .mpi import find_patients, merge_patients, unmerge_patients
from .patient_form import AddressForm, BhytCardForm, Coded, ContactForm, PatientForm
from .registration import Registration

RepositoryScope = Callable[[Request], AbstractContextManager[Repository]]


def _bad(field: str, vi: str, en: str) -> FhirError:
    return FhirError.one(422, "invalid", vi, en, field)


def _coded(value: Any, field: str) -> Coded | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Coded(value)
    if isinstance(value, dict) and isinstance(value.get("code"), str):
        return Coded(value["code"], value.get("display"))
    raise _bad(field, "Phải là mã hoặc {code, display}", "Must be a code or {code, display}")


def _date(value: Any, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise _bad(field, "Ngày phải có dạng yyyy-mm-dd", "Date must be yyyy-mm-dd") from exc


def _text(data: dict[str, Any], key: str, field: str | None = None) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(field or key, "Phải là chuỗi ký tự", "Must be a string")
    return value


def form_from_json(data: Any) -> PatientForm:
    """A :class:`PatientForm` from the camelCase JSON the UI sends."""
    if not isinstance(data, dict):
        raise _bad("", "Nội dung phải là một đối tượng JSON", "Body must be a JSON object")
    address = None
    if isinstance(data.get("address"), dict):
        a = data["address"]
        address = AddressForm(_text(a, "line", "address.line"), _coded(a.get("commune"), "address.commune"),
                              _coded(a.get("province"), "address.province"), _text(a, "district", "address.district"),
                              _text(a, "text", "address.text"))
    contacts = [ContactForm(c.get("name") or "", _text(c, "relationship"), _text(c, "relationshipCode"),
                            _text(c, "phone"), _text(c, "address"))
                for c in data.get("contacts") or [] if isinstance(c, dict)]
    card = None
    if isinstance(data.get("bhyt"), dict):
        b = data["bhyt"]
        card = BhytCardForm(_text(b, "number", "bhyt.number") or "", _date(b.get("validFrom"), "bhyt.validFrom"),
                            _date(b.get("validTo"), "bhyt.validTo"), _text(b, "registeredFacility"),
                            _date(b.get("fiveYearsFrom"), "bhyt.fiveYearsFrom"))
    family_words = data.get("familyWords")
    return PatientForm(
        name=_text(data, "name") or "", gender=_text(data, "gender") or "", birth_date=_text(data, "birthDate"),
        national_id=_text(data, "nationalId"), cmnd=_text(data, "cmnd"), passport=_text(data, "passport"),
        phone=_text(data, "phone"), address=address, ethnicity=_coded(data.get("ethnicity"), "ethnicity"),
        occupation=_coded(data.get("occupation"), "occupation"),
        nationality=_coded(data.get("nationality"), "nationality"), contacts=contacts, bhyt=card,
        family_words=family_words if isinstance(family_words, int) else None)


def _require_patient_search(repo: Repository, entity: str) -> None:
    """403 (audited) for a caller whose roles or scopes do not allow searching patients at all.

    Without it the service searches would just come back empty, as FHIR searches exclude silently what
    may not be seen; a caller who may not search patients at all is refused instead, as on /fhir/Patient.
    """
    guard = repo.guard
    if guard is not None and guard.access.effective("Patient", "s") is None:
        raise guard.deny("search", entity, "Không có quyền tìm người bệnh", "Not allowed to search patients")


def _error(exc: FhirError) -> JSONResponse:
    return JSONResponse(exc.outcome(), status_code=exc.status)


def create_registration_router(open_repository: RepositoryScope, *, facility_code: str,
                               card_client: Callable[[], BhxhCardClient] | None = None) -> APIRouter:
    """The router; ``card_client`` makes a configured :class:`BhxhCardClient` (None: card check off)."""
    router = APIRouter(prefix="/api/registration", tags=["registration"])

    def run(request: Request, action: Callable[[Repository], tuple[int, Any]]) -> JSONResponse:
        try:
            with open_repository(request) as repo:
                status, body = action(repo)
        except FhirError as exc:
            return _error(exc)
        return JSONResponse(body, status_code=status)

    @router.post("")
    def register(request: Request, body: Any = Body(...), confirmedNew: bool = False) -> JSONResponse:
        def act(repo: Repository) -> tuple[int, Any]:
            result = Registration(repo, facility_code=facility_code).register(form_from_json(body),
                                                                             confirmed_new=confirmedNew)
            return (201 if result.outcome == "created" else 200), result.to_dict()
        return run(request, act)

    @router.get("/duplicates")
    def duplicates(request: Request, name: str, gender: str = "unknown", birthDate: str | None = None,
                   nationalId: str | None = None, bhyt: str | None = None, phone: str | None = None,
                   commune: str | None = None) -> JSONResponse:
        form = PatientForm(name=name, gender=gender, birth_date=birthDate, national_id=nationalId, phone=phone,
                           bhyt=BhytCardForm(bhyt) if bhyt else None,
                           address=AddressForm(commune=Coded(commune)) if commune else None)

        def act(repo: Repository) -> tuple[int, Any]:
            _require_patient_search(repo, "/api/registration/duplicates")
            found = Registration(repo, facility_code=facility_code).find_duplicates(form)
            return 200, {"candidates": [c.to_dict() for c in found]}
        return run(request, act)

    @router.put("/{patient_id}")
    def update(request: Request, patient_id: str, body: Any = Body(...)) -> JSONResponse:
        def act(repo: Repository) -> tuple[int, Any]:
            return 200, Registration(repo, facility_code=facility_code).update(patient_id,
                                                                             form_from_json(body)).to_dict()
        return run(request, act)

    @router.get("/patients")
    def patients(request: Request) -> JSONResponse:
        params = list(request.query_params.multi_items())

        def act(repo: Repository) -> tuple[int, Any]:
            _require_patient_search(repo, "/api/registration/patients")
            return 200, {"patients": [f.to_dict() for f in find_patients(repo, params)]}
        return run(request, act)

    @router.post("/merge")
    def merge(request: Request, body: Any = Body(...)) -> JSONResponse:
        def act(repo: Repository) -> tuple[int, Any]:
            if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("source", "target")):
                raise _bad("source", "Cần source và target (id Patient)", "source and target (Patient ids) required")
            result = merge_patients(repo, body["source"], body["target"], reason=body.get("reason"))
            return 200, {"source": result.source, "target": result.target, "record": result.record,
                         "changed": result.changed, "event": result.event("mpi.merge")}
        return run(request, act)

    @router.post("/unmerge")
    def unmerge(request: Request, body: Any = Body(...)) -> JSONResponse:
        def act(repo: Repository) -> tuple[int, Any]:
            if not isinstance(body, dict) or not isinstance(body.get("source"), str):
                raise _bad("source", "Cần source (id Patient)", "source (Patient id) required")
            result = unmerge_patients(repo, body["source"], reason=body.get("reason"))
            return 200, {"source": result.source, "target": result.target, "record": result.record,
                         "changed": result.changed, "notRestored": result.not_restored,
                         "event": result.event("mpi.unmerge")}
        return run(request, act)

    @router.post("/card-check")
    def card_check(request: Request, body: Any = Body(...)) -> JSONResponse:
        if card_client is None:
            return _error(FhirError.one(501, "not-supported", "Chưa cấu hình tra cứu thẻ BHYT",
                                        "BHYT card check is not configured"))
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in
                                                 ("card", "name", "birthDate", "staffName", "staffCccd")):
            return _error(_bad("", "Cần card, name, birthDate, staffName, staffCccd",
                               "card, name, birthDate, staffName, staffCccd required"))
        query = CardQuery(body["card"], body["name"], body["birthDate"], body["staffName"], body["staffCccd"])
        try:
            with card_client() as client:
                check = client.check_card(query)
        except BhxhError as exc:
            status = 504 if isinstance(exc, BhxhTimeout) else 502
            code = "security" if isinstance(exc, BhxhAuthError) else ("timeout" if status == 504 else "transient")
            return _error(FhirError.one(status, code, exc.vi, exc.en))
        return JSONResponse({
            "code": check.code, "status": check.status.value, "vi": check.vi, "en": check.en,
            "card": check.card, "name": check.name, "birthDate": check.birth_date, "gender": check.gender,
            "registeredFacility": check.registered_facility,
            "validFrom": check.valid_from.isoformat() if check.valid_from else None,
            "validTo": check.valid_to.isoformat() if check.valid_to else None,
            "fiveYearsFrom": check.five_years_from.isoformat() if check.five_years_from else None,
            "newCard": check.new_card, "visits": list(check.visits),
        })

    return router
