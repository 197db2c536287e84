"""Vital signs (dấu hiệu sinh tồn) of a visit: one ``Observation`` per sign, LOINC codes and UCUM units as
in the FHIR R4 vital-signs profile and the demo data (:mod:`benhan.demo.vitals`); blood pressure as the
panel 85354-9 with systolic/diastolic components; BMI (39156-5) computed from the height and weight of
the same measurement, or from this visit's last height when only the weight is measured.

Values outside a plausible range are refused (typing slips such as 375 for 37.5), all fields checked
before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benhan.fhir.repository import Repository

from .exam import LOINC, UCUM, FormInvalid, Message, VisitContext, search_all, written

CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                         "code": "vital-signs", "display": "Vital Signs"}], "text": "Dấu hiệu sinh tồn"}]
BP_PANEL = "85354-9"
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
BMI = "39156-5"


@dataclass(frozen=True, slots=True)
class Sign:
    field: str  # form field name
    code: str  # LOINC
    display: str
    text: str  # Vietnamese label
    unit: str  # UCUM
    low: float
    high: float
    decimals: int


SIGNS = (
    Sign("pulse", "8867-4", "Heart rate", "Mạch", "/min", 20, 250, 0),
    Sign("systolic", SYSTOLIC, "Systolic blood pressure", "Huyết áp tâm thu", "mm[Hg]", 50, 280, 0),
    Sign("diastolic", DIASTOLIC, "Diastolic blood pressure", "Huyết áp tâm trương", "mm[Hg]", 20, 180, 0),
    Sign("temperature", "8310-5", "Body temperature", "Nhiệt độ", "Cel", 30, 43, 1),
    Sign("respiratory_rate", "9279-1", "Respiratory rate", "Nhịp thở", "/min", 4, 80, 0),
    Sign("spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "SpO2", "%", 50, 100, 0),
    Sign("height", "8302-2", "Body height", "Chiều cao", "cm", 30, 250, 1),
    Sign("weight", "29463-7", "Body weight", "Cân nặng", "kg", 0.5, 350, 1),
)
BY_FIELD = {s.field: s for s in SIGNS}
BY_CODE = {s.code: s for s in SIGNS}
FIELDS = tuple(s.field for s in SIGNS)


def parse(form: dict[str, str]) -> dict[str, float]:
    """The typed values (decimal comma accepted) checked against plausible ranges; raises :class:`FormInvalid`."""
    values: dict[str, float] = {}
    errors: dict[str, Message] = {}
    for sign in SIGNS:
        raw = (form.get(sign.field) or "").strip().replace(",", ".")
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            errors[sign.field] = Message("Không phải là số", "Not a number")
            continue
        if value != value or not sign.low <= value <= sign.high:  # NaN or out of range
            errors[sign.field] = Message(f"{sign.text} phải từ {_fmt(sign.low)} đến {_fmt(sign.high)} {_unit(sign)}",
                                         f"{sign.display} must be between {_fmt(sign.low)} and "
                                         f"{_fmt(sign.high)} {_unit(sign)}")
            continue
        values[sign.field] = round(value, sign.decimals)
    if ("systolic" in values) != ("diastolic" in values):
        missing = "diastolic" if "systolic" in values else "systolic"
        errors.setdefault(missing, Message("Cần nhập cả huyết áp tâm thu và tâm trương",
                                           "Enter both systolic and diastolic pressure"))
    elif "systolic" in values and values["diastolic"] >= values["systolic"]:
        errors.setdefault("diastolic", Message("Huyết áp tâm trương phải thấp hơn tâm thu",
                                               "Diastolic pressure must be lower than systolic"))
    if not values and not errors:
        errors["pulse"] = Message("Chưa nhập chỉ số nào", "No value entered")
    if errors:
        raise FormInvalid(errors)
    return values


def _fmt(value: float) -> str:
    return f"{value:g}"


def _unit(sign: Sign) -> str:
    return {"/min": "lần/phút", "Cel": "°C", "mm[Hg]": "mmHg"}.get(sign.unit, sign.unit)


def bmi(weight_kg: float, height_cm: float) -> float:
    metres = height_cm / 100
    return round(weight_kg / (metres * metres), 1)


def _quantity(value: float, unit: str, decimals: int) -> dict[str, Any]:
    number: float | int = round(value, decimals) if decimals else round(value)
    return {"value": number, "unit": unit, "system": UCUM, "code": unit}


def _observation(ctx: VisitContext, code: str, display: str, text: str) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation", "status": "final", "category": CATEGORY,
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": text},
        "subject": ctx.patient_ref, "encounter": ctx.encounter_ref, "effectiveDateTime": ctx.timestamp,
    }
    if ctx.author_ref:
        obs["performer"] = [ctx.author_ref]
    return obs


def record(repo: Repository, ctx: VisitContext, form: dict[str, str]) -> list[dict[str, Any]]:
    """Check ``form`` and write one Observation per measured sign (+ BMI); returns what was written."""
    values = parse(form)
    out: list[dict[str, Any]] = []
    for sign in SIGNS:
        if sign.field in ("systolic", "diastolic") or sign.field not in values:
            continue
        obs = _observation(ctx, sign.code, sign.display, sign.text)
        obs["valueQuantity"] = _quantity(values[sign.field], sign.unit, sign.decimals)
        out.append(obs)
    if "systolic" in values:
        obs = _observation(ctx, BP_PANEL, "Blood pressure panel with all children optional", "Huyết áp")
        obs["component"] = [
            {"code": {"coding": [{"system": LOINC, "code": s.code, "display": s.display}], "text": s.text},
             "valueQuantity": _quantity(values[s.field], s.unit, 0)}
            for s in (BY_FIELD["systolic"], BY_FIELD["diastolic"])]
        out.append(obs)
    if "weight" in values:
        height = values.get("height") or latest(repo, ctx.encounter_id).get("height")
        if height:
            obs = _observation(ctx, BMI, "Body mass index (BMI) [Ratio]", "BMI")
            obs["valueQuantity"] = _quantity(bmi(values["weight"], height), "kg/m2", 1)
            out.append(obs)
    return [written(repo.create(obs)) for obs in out]


def measurements(repo: Repository, encounter_id: str) -> list[dict[str, Any]]:
    """The visit's measurements, newest first: ``{"when": dateTime, field: value or None, "bmi": ...}`` per time."""
    found = search_all(repo, "Observation", [("encounter", f"Encounter/{encounter_id}"), ("category", "vital-signs")])
    by_time: dict[str, dict[str, Any]] = {}
    for obs in found:
        if obs.get("status") in ("entered-in-error", "cancelled"):
            continue
        when = obs.get("effectiveDateTime") or ""
        row = by_time.setdefault(when, {"when": when, **dict.fromkeys(FIELDS), "bmi": None})
        code = next((c.get("code") for c in obs.get("code", {}).get("coding") or [] if c.get("system") == LOINC), None)
        if code == BP_PANEL:
            for comp in obs.get("component") or []:
                ccode = next((c.get("code") for c in comp.get("code", {}).get("coding") or []), None)
                if ccode in BY_CODE:
                    row[BY_CODE[ccode].field] = (comp.get("valueQuantity") or {}).get("value")
        elif code == BMI:
            row["bmi"] = (obs.get("valueQuantity") or {}).get("value")
        elif code in BY_CODE:
            row[BY_CODE[code].field] = (obs.get("valueQuantity") or {}).get("value")
    return sorted(by_time.values(), key=lambda r: r["when"], reverse=True)


def latest(repo: Repository, encounter_id: str) -> dict[str, Any]:
    """The last value of each sign measured during the visit."""
    out: dict[str, Any] = {}
    for row in reversed(measurements(repo, encounter_id)):
        out.update({k: v for k, v in row.items() if v is not None})
    return out
