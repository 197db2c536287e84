"""The header every page of one visit shares: who the patient is and where the visit stands.

Each part of the visit workspace (exam, orders, prescription, conclusion) renders
``visit/layout.html`` with ``visit=load_visit(page, encounter_id)``; reading goes through the
repository, so the access policy decides and the read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from benhan.fhir.repository import Repository, has_signed_tag
from benhan.vn import systems
from benhan.vn.names import format_name

from .scope import Page

QUEUE_NUMBER = systems.QUEUE_NUMBER  # Encounter.identifier: số thứ tự khám (per room, per day)


@dataclass(frozen=True, slots=True)
class VisitHeader:
    encounter: dict[str, Any]
    patient: dict[str, Any]
    encounter_id: str
    patient_id: str
    name: str
    gender: str | None
    birth_date: str | None
    age: int | None
    national_id: str | None
    insurance_number: str | None
    patient_code: str | None
    status: str
    room: str | None
    department: str | None
    queue_number: str | None
    reason: str | None
    signed: bool

    @property
    def editable(self) -> bool:
        """Open for recording: not finished, cancelled or signed."""
        return not self.signed and self.status in ("planned", "arrived", "triaged", "in-progress", "onleave")


def identifier(resource: dict[str, Any], system: str) -> str | None:
    return next((i.get("value") for i in resource.get("identifier") or [] if i.get("system") == system), None)


def age_on(birth_date: str | None, day: date) -> int | None:
    if not birth_date or len(birth_date) < 4:
        return None
    year = int(birth_date[:4])
    month, dom = (int(birth_date[5:7]), int(birth_date[8:10])) if len(birth_date) >= 10 else (1, 1)
    return day.year - year - ((day.month, day.day) < (month, dom))


def load_visit(page: Page, encounter_id: str, repo: Repository | None = None) -> VisitHeader:
    """The visit's Encounter and Patient (raises 404/403 as a FhirError through the repository)."""
    repo = repo or page.repo
    encounter = repo.read("Encounter", encounter_id).resource()
    patient_ref = (encounter.get("subject") or {}).get("reference", "")
    patient_id = patient_ref.split("/", 1)[1] if patient_ref.startswith("Patient/") else ""
    patient = repo.read("Patient", patient_id).resource()
    names = patient.get("name") or [{}]
    location = ((encounter.get("location") or [{}])[0].get("location") or {}).get("display")
    reasons = encounter.get("reasonCode") or []
    return VisitHeader(
        encounter=encounter, patient=patient, encounter_id=encounter_id, patient_id=patient_id,
        name=format_name(names[0]) if names[0] else "", gender=patient.get("gender"),
        birth_date=patient.get("birthDate"), age=age_on(patient.get("birthDate"), page.now.date()),
        national_id=identifier(patient, systems.NATIONAL_ID),
        insurance_number=identifier(patient, systems.INSURANCE_NUMBER),
        patient_code=identifier(patient, systems.PATIENT_INTERNAL_ID), status=encounter.get("status", ""),
        room=location, department=(encounter.get("serviceProvider") or {}).get("display"),
        queue_number=identifier(encounter, QUEUE_NUMBER), reason=(reasons[0].get("text") if reasons else None),
        signed=has_signed_tag(encounter))
