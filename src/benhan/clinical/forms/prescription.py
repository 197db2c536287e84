"""Đơn thuốc (prescription), TT 26/2025 Annex I, from one visit's MedicationRequests.

Content per TT 26: facility, prescription code, patient identity (ID number, age — in months with the
weight for children under 72 months), BHYT card number, diagnoses with ICD-10 codes, drugs numbered
(INN and strength, quantity with a leading 0 below 10, dose / times a day / days, route), advice with the
follow-up, date, prescriber and signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from benhan.fhir.repository import Repository

from .. import signing
from .common import (
    Diagnosis,
    Header,
    PatientIdentity,
    SignatureBlock,
    diagnoses,
    header,
    identity,
    local,
    narrative_text,
    ref_id,
    signature,
    weight_kg,
)


@dataclass(frozen=True, slots=True)
class Drug:
    number: int
    name: str  # INN + strength, as prescribed
    quantity: str  # "05 viên"
    dosage: str  # dose per time, times a day, days
    route: str


@dataclass(frozen=True, slots=True)
class PrescriptionForm:
    header: Header
    code: str
    patient: PatientIdentity
    weight: str
    diagnoses: list[Diagnosis]
    drugs: list[Drug]
    advice: str
    date: str
    prescriber: str
    signature: SignatureBlock | None


def quantity_text(value: float | int | None, unit: str) -> str:
    """Quantities under 10 are written with a leading 0 (TT 26)."""
    if value is None:
        return ""
    number = f"{int(value):02d}" if float(value).is_integer() else f"{value:g}"
    return f"{number} {unit}".strip()


def build(repo: Repository, encounter_id: str, today: date) -> PrescriptionForm:
    record = signing.record_of(repo, encounter_id)
    encounter = record[0].resource()
    patient = repo.read("Patient", ref_id(encounter.get("subject"), "Patient") or "").resource()
    requests = [s.resource() for s in record if s.type == "MedicationRequest"
                and s.resource().get("status") not in ("cancelled", "entered-in-error")]
    drugs = []
    for n, mr in enumerate(requests, 1):
        dosage = (mr.get("dosageInstruction") or [{}])[0]
        qty = (mr.get("dispenseRequest") or {}).get("quantity") or {}
        days = ((mr.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {}).get("value")
        text = dosage.get("text", "")
        if days and "ngày" not in text.split(",")[-1]:
            text = f"{text}; dùng {int(days)} ngày" if text else f"Dùng {int(days)} ngày"
        drugs.append(Drug(n, (mr.get("medicationCodeableConcept") or {}).get("text", ""),
                          quantity_text(qty.get("value"), qty.get("unit", "")), text,
                          (dosage.get("route") or {}).get("text", "")))
    advice = next((note.get("text", "") for mr in requests for note in mr.get("note") or []), "")
    for stored in record:
        if stored.type == "Composition":
            for section in stored.resource().get("section") or []:
                if any(c.get("code") == "69730-0" for c in (section.get("code") or {}).get("coding") or []):
                    extra = narrative_text(section)
                    advice = "\n".join(p for p in (advice, extra) if p and p not in advice)
    code = next(((mr.get("groupIdentifier") or {}).get("value", "") for mr in requests), "")
    sig = signature(repo, encounter_id)
    who = next(((mr.get("requester") or {}).get("display", "") for mr in requests), "")
    written = next((mr.get("authoredOn") for mr in requests if mr.get("authoredOn")), None)
    return PrescriptionForm(header=header(repo, encounter), code=code, patient=identity(patient, today),
                            weight=weight_kg(record), diagnoses=diagnoses(encounter, record), drugs=drugs,
                            advice=advice, date=local(written or (encounter.get("period") or {}).get("end"),
                                                      "%d/%m/%Y") or today.strftime("%d/%m/%Y"),
                            prescriber=(sig.signer if sig else who), signature=sig)
