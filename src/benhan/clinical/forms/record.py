"""Bệnh án ngoại trú (general outpatient record), MS 15/BV1 (TT 32/2023), from one visit's resources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from benhan.fhir.repository import Repository
from benhan.vn import systems

from .. import signing
from .common import (
    LOINC,
    Diagnosis,
    Header,
    PatientIdentity,
    SignatureBlock,
    diagnoses,
    header,
    identifier,
    identity,
    local,
    narrative_text,
    ref_id,
    signature,
)

FORM_CODE = "15/BV1"
# Composition sections (LOINC) in the order of the form, with the form's Vietnamese headings.
SECTIONS = (("29299-5", "Lý do đến khám"), ("10164-2", "Quá trình bệnh lý"),
            ("11348-0", "Tiền sử bản thân và gia đình"), ("29545-1", "Khám bệnh"), ("18776-5", "Hướng điều trị"),
            ("69730-0", "Lời dặn"))
VITALS = (("8867-4", "Mạch", "lần/phút"), ("8310-5", "Nhiệt độ", "°C"), ("85354-9", "Huyết áp", "mmHg"),
          ("9279-1", "Nhịp thở", "lần/phút"), ("59408-5", "SpO2", "%"), ("29463-7", "Cân nặng", "kg"),
          ("8302-2", "Chiều cao", "cm"), ("39156-5", "BMI", "kg/m²"))


@dataclass(frozen=True, slots=True)
class OutpatientRecord:
    header: Header
    form_code: str
    patient: PatientIdentity
    patient_code: str
    visit_number: str
    started: str
    ended: str
    reason: str
    sections: list[tuple[str, str]]  # (heading, text)
    vitals: list[tuple[str, str]]  # (label, "value unit")
    diagnoses: list[Diagnosis]
    allergies: list[str]
    orders: list[str]
    drugs: list[str]
    outcome: str
    doctor: str
    signature: SignatureBlock | None
    addenda: list[tuple[str, str]]  # (when, text)


def _vital(obs: dict) -> str:
    if obs.get("component"):
        values = [f"{(c.get('valueQuantity') or {}).get('value', ''):g}" for c in obs["component"]
                  if (c.get("valueQuantity") or {}).get("value") is not None]
        return "/".join(values)
    value = (obs.get("valueQuantity") or {}).get("value")
    return f"{value:g}" if isinstance(value, int | float) else ""


def build(repo: Repository, encounter_id: str, today: date) -> OutpatientRecord:
    record = signing.record_of(repo, encounter_id)
    encounter = record[0].resource()
    patient = repo.read("Patient", ref_id(encounter.get("subject"), "Patient") or "").resource()
    compositions = [s.resource() for s in record if s.type == "Composition"]
    main = next((c for c in compositions if not any(r.get("code") == "appends" for r in c.get("relatesTo") or [])),
                {})
    by_code = {c.get("code"): narrative_text(sec) for sec in main.get("section") or []
               for c in (sec.get("code") or {}).get("coding") or []}
    sections = [(title, by_code[code]) for code, title in SECTIONS if by_code.get(code)]
    vitals = []
    observations = [s.resource() for s in record if s.type == "Observation"]
    for code, label, unit in VITALS:
        obs = next((o for o in observations if any(c.get("code") == code for c in (o.get("code") or {})
                                                   .get("coding") or [])), None)
        if obs is not None and _vital(obs):
            vitals.append((label, f"{_vital(obs)} {unit}"))
    addenda = [(local(c.get("date")), narrative_text((c.get("section") or [{}])[0])) for c in compositions
               if c is not main]
    reasons = encounter.get("reasonCode") or []
    doctor = next((p.get("individual", {}).get("display", "") for p in encounter.get("participant") or []), "")
    sig = signature(repo, encounter_id)
    return OutpatientRecord(
        header=header(repo, encounter), form_code=FORM_CODE, patient=identity(patient, today),
        patient_code=identifier(patient, systems.PATIENT_INTERNAL_ID),
        visit_number=identifier(encounter, systems.ENCOUNTER_VISIT_NUMBER),
        started=local((encounter.get("period") or {}).get("start")),
        ended=local((encounter.get("period") or {}).get("end")),
        reason=(reasons[0].get("text", "") if reasons else "") or by_code.get("29299-5", ""),
        sections=[s for s in sections if s[0] != "Lý do đến khám" or not reasons],
        vitals=vitals, diagnoses=diagnoses(encounter, record),
        allergies=[(s.resource().get("code") or {}).get("text", "") for s in record if s.type == "AllergyIntolerance"],
        orders=[(s.resource().get("code") or {}).get("text", "") for s in record if s.type == "ServiceRequest"],
        drugs=[(s.resource().get("medicationCodeableConcept") or {}).get("text", "") for s in record
               if s.type == "MedicationRequest"],
        outcome=((encounter.get("hospitalization") or {}).get("dischargeDisposition") or {}).get("text", ""),
        doctor=(sig.signer if sig else doctor), signature=sig, addenda=addenda)


__all__ = ["LOINC", "OutpatientRecord", "build"]
