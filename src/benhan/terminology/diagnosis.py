"""Rules applied when a diagnosis is recorded: the code must exist in the ICD-10 version valid at the
encounter's end date, may not be the main diagnosis when the Ministry says so, and must fit the
patient's sex. Issues are bilingual values (:class:`benhan.fhir.errors.Issue`); callers raise on errors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from benhan.db import schema as s
from benhan.fhir.errors import Issue

from . import concepts, systems
from .model import Flag

Resolve = Callable[[str, str], dict[str, Any] | None]
ENCOUNTER_DIAGNOSIS = "encounter-diagnosis"


def check_diagnosis(conn: Connection, code: str, *, main: bool, patient_gender: str | None,
                    encounter_end_date: date | None, today: date | None = None,
                    expression: str | None = None) -> list[Issue]:
    """Issues for recording ICD-10 ``code`` (an open encounter is checked at ``today``)."""
    day = encounter_end_date or today or date.today()
    choice = concepts.choose(concepts.versions(conn, url=systems.ICD10), on=day)
    if choice is None:
        return [Issue("not-found", "Chưa nạp danh mục ICD-10 (benhan terminology load)",
                      "No ICD-10 list is loaded (run: benhan terminology load)", expression, "warning")]
    v = choice.version
    issues: list[Issue] = []
    if choice.outdated:
        issues.append(Issue("business-rule", f"Không có danh mục ICD-10 hiệu lực ngày {day:%d/%m/%Y}; "
                            f"đã kiểm tra theo phiên bản {v.version}",
                            f"No ICD-10 list valid on {day.isoformat()} is loaded; checked against {v.version}",
                            expression, "warning"))
    found = concepts.concept(conn, v, code)
    if found is None:
        issues.append(Issue("code-invalid", f"Mã ICD-10 '{code}' không có trong danh mục {v.version}",
                            f"ICD-10 code '{code}' is not in list {v.version}", expression))
        return issues
    if main and found.flags & (Flag.NOT_MAIN | Flag.ASTERISK):
        issues.append(Issue("business-rule", f"Mã {code} không được dùng làm bệnh chính",
                            f"Code {code} may not be the main diagnosis", expression))
    if patient_gender == "male" and found.flags & Flag.FEMALE_ONLY:
        issues.append(Issue("business-rule", f"Mã {code} chỉ dùng cho người bệnh nữ",
                            f"Code {code} is for female patients only", expression))
    if patient_gender == "female" and found.flags & Flag.MALE_ONLY:
        issues.append(Issue("business-rule", f"Mã {code} chỉ dùng cho người bệnh nam",
                            f"Code {code} is for male patients only", expression))
    return issues


def check_resource(conn: Connection, resource: dict[str, Any], *, resolve: Resolve | None = None,
                   today: date | None = None) -> list[Issue]:
    """Issues for a ``Condition`` (category encounter-diagnosis) or an ``Encounter`` with diagnoses.

    ``resolve(type, id)`` reads a referenced resource (default: the current stored version); the write
    path passes one that also sees the transaction's pending writes.
    """
    resolve = resolve or (lambda t, i: _stored(conn, t, i))
    rtype = resource.get("resourceType")
    if rtype == "Condition" and _is_encounter_diagnosis(resource):
        gender, end = _context(resource, resolve, encounter=_ref(resource.get("encounter")))
        return [i for code in _icd_codes(resource) for i in
                check_diagnosis(conn, code, main=False, patient_gender=gender, encounter_end_date=end, today=today,
                                expression="Condition.code")]
    if rtype == "Encounter" and resource.get("diagnosis"):
        gender, _ = _context(resource, resolve, encounter=None)
        end = _date((resource.get("period") or {}).get("end"))
        issues: list[Issue] = []
        for n, diag in enumerate(resource["diagnosis"]):
            ref = _ref(diag.get("condition"))
            condition = resolve(*ref) if ref and ref[0] == "Condition" else None
            for code in _icd_codes(condition or {}):
                issues += check_diagnosis(conn, code, main=diag.get("rank") == 1, patient_gender=gender,
                                          encounter_end_date=end, today=today,
                                          expression=f"Encounter.diagnosis[{n}]")
        return issues
    return []


def _is_encounter_diagnosis(resource: dict[str, Any]) -> bool:
    return any(c.get("code") == ENCOUNTER_DIAGNOSIS for cat in resource.get("category") or []
               for c in cat.get("coding") or [])


def _icd_codes(resource: dict[str, Any]) -> list[str]:
    return [c["code"] for c in (resource.get("code") or {}).get("coding") or []
            if c.get("system") == systems.ICD10 and c.get("code")]


def _ref(value: Any) -> tuple[str, str] | None:
    ref = (value or {}).get("reference") if isinstance(value, dict) else None
    if not ref or "/" not in ref:
        return None
    parts = ref.split("/")
    return parts[-2], parts[-1]


def _context(resource: dict[str, Any], resolve: Resolve,
             encounter: tuple[str, str] | None) -> tuple[str | None, date | None]:
    """The patient's gender and the encounter's end date, as far as they can be read."""
    subject = _ref(resource.get("subject"))
    patient = resolve(*subject) if subject and subject[0] == "Patient" else None
    enc = resolve(*encounter) if encounter and encounter[0] == "Encounter" else None
    end = _date(((enc or {}).get("period") or {}).get("end"))
    return (patient or {}).get("gender"), end


def _date(value: str | None) -> date | None:
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _stored(conn: Connection, rtype: str, rid: str) -> dict[str, Any] | None:
    import orjson

    r = s.resource
    row = conn.execute(select(r.c.content, r.c.deleted).where(r.c.type == rtype, r.c.id == rid)).first()
    return orjson.loads(row[0]) if row and not row[1] else None
