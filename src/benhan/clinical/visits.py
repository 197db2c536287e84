"""Opening an outpatient visit (mở lượt khám ngoại trú) at reception, per docs/clinician-app.md.

:func:`open_visit` checks the form, issues the visit number and the room's queue number, and writes
one ``Encounter`` (class ``AMB``, status ``arrived``) through the caller's Repository, in the caller's
transaction: a refused write rolls both numbers back. Problems are raised as one ``FhirError`` 422
whose issues name the form field (``patient``, ``department``, ``room``, ``payer``, ``reason``,
``priority``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from benhan.fhir.errors import FhirError, Issue
from benhan.fhir.references import parse_local
from benhan.fhir.repository import Repository
from benhan.vn import systems

from .queue import (
    ACT_PRIORITY,
    EXT_QUEUE_PRIORITY,
    PRIORITY_GROUPS,
    QUEUE_NUMBER,
    QUEUE_PRIORITY_SYSTEM,
    VN_TZ,
    DailyCounter,
    local_day,
    next_queue_number,
)

EXT_PAYMENT_CATEGORY = systems.EXT_PAYMENT_CATEGORY  # valueCode bhyt | fee
PAYERS = ("bhyt", "fee")
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
VISIT_NUMBERS = DailyCounter("visit-number-counter")  # mã lượt khám, per day
PRIORITY_CODES = {"EM": "emergency", "UR": "urgent", "R": "routine"}


@dataclass(slots=True)
class VisitForm:
    """What reception chooses for one visit."""

    patient_id: str
    department_id: str  # Organization (Khoa Khám bệnh)
    room_id: str  # Location, physicalType ro, managed by the department
    payer: str  # bhyt | fee
    reason: str
    priorities: list[str] = field(default_factory=list)  # PRIORITY_GROUPS codes


def age_on(birth_date: str | None, day: date) -> int | None:
    """Completed years on ``day`` (a year-only birth date counts from 1 January)."""
    if not birth_date or len(birth_date) < 4 or not birth_date[:4].isdigit():
        return None
    year = int(birth_date[:4])
    month = int(birth_date[5:7]) if len(birth_date) >= 7 else 1
    dom = int(birth_date[8:10]) if len(birth_date) >= 10 else 1
    return day.year - year - ((day.month, day.day) < (month, dom))


def suggested_priorities(patient: dict[str, Any], day: date) -> list[str]:
    """The priority groups the birth date implies: child under 6, aged 75 or older."""
    age = age_on(patient.get("birthDate"), day)
    if age is None:
        return []
    if age < 6:
        return ["child-under-6"]
    if age >= 75:
        return ["age-75"]
    return []


def is_exam_room(location: dict[str, Any]) -> bool:
    return any(c.get("code") == "ro" for c in (location.get("physicalType") or {}).get("coding") or [])


def exam_rooms(repo: Repository, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Active exam rooms (Location physicalType ``ro``), by name."""
    from .mpi.candidates import search_resources

    found = search_resources(repo, "Location", [("status", "active")], limit)
    return sorted((loc for loc in found if is_exam_room(loc)), key=lambda loc: loc.get("name", ""))


def departments_of(rooms: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(Organization id, name) of the departments managing ``rooms``, once each."""
    out: dict[str, str] = {}
    for room in rooms:
        org = room.get("managingOrganization") or {}
        ref = org.get("reference", "")
        if ref.startswith("Organization/"):
            out.setdefault(ref.split("/", 1)[1], org.get("display") or ref)
    return sorted(out.items(), key=lambda item: item[1])


def valid_coverage(repo: Repository, patient_id: str, day: date) -> dict[str, Any] | None:
    """The patient's active BHYT Coverage valid on ``day``, if any."""
    for cid in repo.find("Coverage", f"beneficiary=Patient/{patient_id}&status=active"):
        coverage = repo.read("Coverage", cid).resource()
        period = coverage.get("period") or {}
        if period.get("start", "0000")[:10] <= day.isoformat() <= period.get("end", "9999")[:10]:
            return coverage
    return None


def _issue(field_name: str, vi: str, en: str, code: str = "value") -> Issue:
    return Issue(code, vi, en, field_name)


def open_visit(repo: Repository, form: VisitForm, now: datetime) -> dict[str, Any]:
    """Write the visit's Encounter (see the module doc) and return it as stored."""
    issues: list[Issue] = []
    day = local_day(now)
    patient = _current(repo, "Patient", form.patient_id)
    if patient is None:
        issues.append(_issue("patient", "Không tìm thấy người bệnh", "Patient not found", "not-found"))
    department = _current(repo, "Organization", form.department_id) if form.department_id else None
    if department is None:
        issues.append(_issue("department", "Hãy chọn khoa", "Choose a department", "required"))
    room = _current(repo, "Location", form.room_id) if form.room_id else None
    if room is None or not is_exam_room(room):
        issues.append(_issue("room", "Hãy chọn phòng khám", "Choose an exam room", "required"))
    elif department is not None:
        managed = parse_local((room.get("managingOrganization") or {}).get("reference", ""), repo.base_url)
        if managed is None or managed[:2] != ("Organization", department["id"]):
            issues.append(_issue("room", "Phòng khám không thuộc khoa đã chọn",
                                 "The exam room does not belong to the chosen department"))
    if form.payer not in PAYERS:
        issues.append(_issue("payer", "Hãy chọn BHYT hoặc viện phí", "Choose insured (BHYT) or fee", "required"))
    elif form.payer == "bhyt" and patient is not None and valid_coverage(repo, patient["id"], day) is None:
        issues.append(_issue("payer", "Người bệnh không có thẻ BHYT còn hạn: hãy chọn viện phí hoặc cập nhật thẻ",
                             "The patient has no valid BHYT card: choose fee or update the card", "business-rule"))
    reason = " ".join((form.reason or "").split())
    if not reason:
        issues.append(_issue("reason", "Hãy nhập lý do khám", "Enter the reason for the visit", "required"))
    unknown = [p for p in form.priorities if p not in PRIORITY_GROUPS]
    if unknown:
        issues.append(_issue("priority", "Nhóm ưu tiên không hợp lệ", "Unknown priority group"))
    if "pregnant" in form.priorities and patient is not None and patient.get("gender") == "male":
        issues.append(_issue("priority", "Nhóm phụ nữ có thai không áp dụng cho người bệnh nam",
                             "The pregnant group does not apply to a male patient", "business-rule"))
    if issues:
        raise FhirError(422, issues)
    assert patient is not None and department is not None and room is not None
    groups = [code for code in PRIORITY_GROUPS if code in form.priorities]  # the law's order, once each
    number = next_queue_number(repo, room["id"], day)
    visit_number = f"LK{day:%y%m%d}{VISIT_NUMBERS.next(repo, day):05d}"
    priority = "EM" if "emergency" in groups else "UR" if groups else "R"
    extensions: list[dict[str, Any]] = [{"url": EXT_PAYMENT_CATEGORY, "valueCode": form.payer}]
    extensions += [{"url": EXT_QUEUE_PRIORITY, "valueCoding": {"system": QUEUE_PRIORITY_SYSTEM, "code": code,
                                                               "display": PRIORITY_GROUPS[code][0]}}
                   for code in groups]
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "extension": extensions,
        "identifier": [{"system": systems.ENCOUNTER_VISIT_NUMBER, "value": visit_number},
                       {"system": QUEUE_NUMBER, "value": str(number), "period": {"start": day.isoformat()}}],
        "status": "arrived",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": "Khám bệnh ngoại trú"}],
        "priority": {"coding": [{"system": ACT_PRIORITY, "code": priority, "display": PRIORITY_CODES[priority]}]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "period": {"start": now.astimezone(VN_TZ).isoformat(timespec="seconds")},
        "reasonCode": [{"text": reason}],
        "location": [{"location": {"reference": f"Location/{room['id']}", "display": room.get("name", "")},
                      "status": "planned"}],
        "serviceProvider": {"reference": f"Organization/{department['id']}", "display": department.get("name", "")},
    }
    stored = repo.create(encounter).stored
    assert stored is not None
    return stored.resource()


def _current(repo: Repository, rtype: str, rid: str) -> dict[str, Any] | None:
    """The resource if it exists and the user may read it (the read is access-checked and audited)."""
    if not rid:
        return None
    try:
        return repo.read(rtype, rid).resource()
    except FhirError as exc:
        if exc.status in (404, 410) or (exc.status == 400):
            return None
        raise
