"""Laboratory results: Observations with reference ranges and H/L/N flags, grouped by a DiagnosticReport
and ordered by a ServiceRequest.

Units are SI as reported by Vietnamese laboratories (glucose in mmol/L, creatinine in µmol/L,
haemoglobin in g/L), so molar LOINC codes are used where the analyte has mass and molar variants
(glucose 14749-6, not the mass code 2345-7; creatinine 14682-9, not 2160-0; lipids 14647-2, 14927-8,
14646-4, 39469-2). Reference intervals are the usual adult intervals printed by Vietnamese hospital
laboratories (each laboratory sets its own); values are drawn around them according to the patient's
conditions (diabetes raises glucose and HbA1c, dengue lowers platelets and white cells, ...; our model).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .rand import lognormal_mean, normal
from .timefmt import fhir_datetime

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
SNOMED = "http://snomed.info/sct"
_FLAG_DISPLAY = {"H": "High", "L": "Low", "N": "Normal"}


@dataclass(frozen=True, slots=True)
class Analyte:
    key: str
    loinc: str
    display: str  # LOINC short name
    text: str  # Vietnamese name on the result sheet
    unit: str  # UCUM
    decimals: int
    low: tuple[float | None, float | None]  # (male, female)
    high: tuple[float | None, float | None]


ANALYTES: dict[str, Analyte] = {a.key: a for a in (
    Analyte("wbc", "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "Số lượng bạch cầu (WBC)",
            "10*9/L", 1, (4.0, 4.0), (10.0, 10.0)),
    Analyte("rbc", "789-8", "Erythrocytes [#/volume] in Blood by Automated count", "Số lượng hồng cầu (RBC)",
            "10*12/L", 2, (4.2, 3.8), (5.4, 5.0)),
    Analyte("hgb", "718-7", "Hemoglobin [Mass/volume] in Blood", "Huyết sắc tố (HGB)", "g/L", 0,
            (130, 120), (170, 150)),
    Analyte("hct", "4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "Hematocrit (HCT)", "%", 1,
            (40, 36), (50, 46)),
    Analyte("plt", "777-3", "Platelets [#/volume] in Blood by Automated count", "Số lượng tiểu cầu (PLT)",
            "10*9/L", 0, (150, 150), (400, 400)),
    Analyte("glucose", "14749-6", "Glucose [Moles/volume] in Serum or Plasma", "Glucose", "mmol/L", 1,
            (3.9, 3.9), (6.4, 6.4)),
    Analyte("hba1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "%", 1, (4.0, 4.0), (6.0, 6.0)),
    Analyte("creatinine", "14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "Creatinin", "umol/L", 0,
            (62, 44), (106, 80)),
    Analyte("alt", "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            "ALT (GPT)", "U/L", 0, (None, None), (40, 40)),
    Analyte("ast", "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            "AST (GOT)", "U/L", 0, (None, None), (40, 40)),
    Analyte("chol", "14647-2", "Cholesterol [Moles/volume] in Serum or Plasma", "Cholesterol toàn phần",
            "mmol/L", 2, (3.9, 3.9), (5.2, 5.2)),
    Analyte("tg", "14927-8", "Triglyceride [Moles/volume] in Serum or Plasma", "Triglycerid", "mmol/L", 2,
            (0.46, 0.46), (1.88, 1.88)),
    Analyte("hdl", "14646-4", "Cholesterol in HDL [Moles/volume] in Serum or Plasma", "HDL-Cholesterol",
            "mmol/L", 2, (0.9, 0.9), (None, None)),
    Analyte("ldl", "39469-2", "Cholesterol in LDL [Moles/volume] in Serum or Plasma by calculation",
            "LDL-Cholesterol", "mmol/L", 2, (None, None), (3.4, 3.4)),
)}


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    analytes: tuple[str, ...]
    text: str
    loinc: tuple[str, str] | None = None  # (code, display) of the panel, when LOINC has one we use


PANELS: dict[str, Panel] = {p.key: p for p in (
    Panel("cbc", ("wbc", "rbc", "hgb", "hct", "plt"), "Tổng phân tích tế bào máu ngoại vi (máy đếm tự động)",
          ("58410-2", "CBC panel - Blood by Automated count")),
    Panel("biochem", ("glucose", "creatinine", "alt", "ast"), "Xét nghiệm sinh hóa máu"),
    Panel("lipid", ("chol", "tg", "hdl", "ldl"), "Định lượng bộ mỡ máu",
          ("24331-1", "Lipid 1996 panel - Serum or Plasma")),
    Panel("glucose", ("glucose",), "Định lượng Glucose máu"),
    Panel("hba1c", ("hba1c",), "Định lượng HbA1c"),
    Panel("renal", ("creatinine",), "Định lượng Creatinin máu"),
    Panel("liver", ("alt", "ast"), "Đo hoạt độ ALT, AST"),
)}


@dataclass(frozen=True, slots=True)
class LabState:
    """What shapes a patient's results (our model)."""

    sex: str
    age: int
    diabetic: bool = False
    dyslipidaemia: bool = False
    ckd: bool = False
    hbv: bool = False
    fatty_liver: bool = False
    anaemia: bool = False
    bacterial: bool = False
    dengue: bool = False
    viral: bool = False


def _values(rng: random.Random, s: LabState, keys: tuple[str, ...]) -> dict[str, float]:
    male = s.sex == "male"
    out: dict[str, float] = {}
    for key in keys:
        if key == "wbc":
            mean, sd = (14.0, 3.5) if s.bacterial else (3.2, 0.9) if s.dengue else (6.0, 1.8) if s.viral else (7.0, 1.6)
            out[key] = normal(rng, mean, sd, 1.0, 35.0)
        elif key == "hgb":
            mean = 95.0 if s.anaemia else 125.0 if s.age < 12 else 148.0 if male else 130.0
            out[key] = normal(rng, mean, 10.0, 60.0, 190.0)
        elif key == "rbc":
            hgb = out.get("hgb") or (148.0 if male else 130.0)
            out[key] = normal(rng, hgb / 30.5, 0.2, 2.0, 7.0)
        elif key == "hct":
            hgb = out.get("hgb") or (148.0 if male else 130.0)
            out[key] = normal(rng, hgb * 0.298, 1.2, 18.0, 60.0)
        elif key == "plt":
            mean, sd = (85.0, 40.0) if s.dengue else (260.0, 60.0)
            out[key] = normal(rng, mean, sd, 8.0, 700.0)
        elif key == "glucose":
            out[key] = normal(rng, 8.2, 2.0, 4.5, 22.0) if s.diabetic else normal(rng, 5.2, 0.5, 3.6, 7.5)
        elif key == "hba1c":
            out[key] = normal(rng, 7.6, 1.1, 5.5, 13.0) if s.diabetic else normal(rng, 5.4, 0.3, 4.3, 6.3)
        elif key == "creatinine":
            if s.ckd:
                out[key] = normal(rng, 190.0, 50.0, 115.0, 600.0)
            else:
                base = 85.0 if male else 64.0
                out[key] = normal(rng, base + (8.0 if s.age >= 65 else 0.0), 12.0, 30.0, 140.0)
        elif key in ("alt", "ast"):
            if s.hbv:
                mean, sd = (55.0, 30.0) if key == "alt" else (45.0, 20.0)
            elif s.fatty_liver:
                mean, sd = (50.0, 20.0) if key == "alt" else (38.0, 12.0)
            else:
                mean, sd = (24.0, 12.0) if key == "alt" else (26.0, 10.0)
            if s.dengue:
                mean *= 2.5
            out[key] = lognormal_mean(rng, mean, sd)
        elif key == "chol":
            out[key] = normal(rng, 6.1, 0.9, 3.5, 11.0) if s.dyslipidaemia else normal(rng, 4.8, 0.7, 2.8, 7.5)
        elif key == "tg":
            out[key] = lognormal_mean(rng, 2.6, 1.2) if s.dyslipidaemia else lognormal_mean(rng, 1.5, 0.6)
        elif key == "hdl":
            out[key] = normal(rng, 1.15 if male else 1.35, 0.25, 0.5, 2.6)
        elif key == "ldl":
            chol = out.get("chol", 4.8)
            out[key] = max(0.5, chol - out.get("hdl", 1.2) - out.get("tg", 1.5) / 2.2)
    return out


def _range(value: float | None, unit: str) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _flag(value: float, low: float | None, high: float | None) -> str:
    if low is not None and value < low:
        return "L"
    if high is not None and value > high:
        return "H"
    return "N"


def lab_order(rng: random.Random, panel_key: str, state: LabState, *, new_id: Any, patient_ref: str,
              encounter_ref: str, requester: dict[str, str], performer: dict[str, str], ordered: datetime,
              priority: str = "routine") -> list[dict[str, Any]]:
    """ServiceRequest + result Observations + DiagnosticReport for one panel (final results)."""
    panel = PANELS[panel_key]
    if panel.loinc:
        code = {"coding": [{"system": LOINC, "code": panel.loinc[0], "display": panel.loinc[1]}], "text": panel.text}
    elif len(panel.analytes) == 1:
        a = ANALYTES[panel.analytes[0]]
        code = {"coding": [{"system": LOINC, "code": a.loinc, "display": a.display}], "text": panel.text}
    else:
        code = {"text": panel.text}
    collected = ordered + timedelta(minutes=rng.randint(5, 40))
    issued = collected + timedelta(minutes=rng.randint(30, 150))
    sr_id, dr_id = new_id(), new_id()
    service_request = {
        "resourceType": "ServiceRequest", "id": sr_id, "status": "completed", "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": "108252007", "display": "Laboratory procedure"}],
                      "text": "Xét nghiệm"}],
        "priority": priority, "code": code, "subject": {"reference": patient_ref},
        "encounter": {"reference": encounter_ref}, "authoredOn": fhir_datetime(ordered), "requester": requester,
    }
    index = 0 if state.sex == "male" else 1
    values = _values(rng, state, panel.analytes)
    observations = []
    for key in panel.analytes:
        a = ANALYTES[key]
        value = round(values[key], a.decimals)
        if a.decimals == 0:
            value = int(value)
        low, high = a.low[index], a.high[index]
        flag = _flag(value, low, high)
        reference_range: dict[str, Any] = {}
        if low is not None:
            reference_range["low"] = _range(low, a.unit)
        if high is not None:
            reference_range["high"] = _range(high, a.unit)
        observations.append({
            "resourceType": "Observation", "id": new_id(), "basedOn": [{"reference": f"ServiceRequest/{sr_id}"}],
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory", "display": "Laboratory"}]}],
            "code": {"coding": [{"system": LOINC, "code": a.loinc, "display": a.display}], "text": a.text},
            "subject": {"reference": patient_ref}, "encounter": {"reference": encounter_ref},
            "effectiveDateTime": fhir_datetime(collected), "issued": fhir_datetime(issued),
            "performer": [performer],
            "valueQuantity": {"value": value, "unit": a.unit, "system": UCUM, "code": a.unit},
            "interpretation": [{"coding": [{"system": INTERPRETATION, "code": flag,
                                            "display": _FLAG_DISPLAY[flag]}]}],
            "referenceRange": [reference_range],
        })
    report = {
        "resourceType": "DiagnosticReport", "id": dr_id, "basedOn": [{"reference": f"ServiceRequest/{sr_id}"}],
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "LAB", "display": "Laboratory"}]}],
        "code": code, "subject": {"reference": patient_ref}, "encounter": {"reference": encounter_ref},
        "effectiveDateTime": fhir_datetime(collected), "issued": fhir_datetime(issued), "performer": [performer],
        "result": [{"reference": f"Observation/{o['id']}"} for o in observations],
    }
    return [service_request, *observations, report]
