"""Vital signs (mạch, huyết áp, nhiệt độ, nhịp thở, cân nặng, chiều cao, SpO2) as FHIR vital-sign
Observations: LOINC codes of the R4 vital-signs profile, UCUM units, blood pressure as panel 85354-9
with systolic/diastolic components.

Values: adult heights around the national means of the 2019-2020 General Nutrition Survey (men
168.1 cm, women 156.2 cm; Viện Dinh dưỡng quốc gia), adult BMI around 22; children grow along a
smoothed curve close to the WHO growth standards medians; the rest (pulse and breathing rates by age,
fever, low SpO2 in pneumonia, raised blood pressure in hypertension) are usual clinical ranges.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from .rand import clamp, normal
from .timefmt import fhir_datetime

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                         "code": "vital-signs", "display": "Vital Signs"}], "text": "Dấu hiệu sinh tồn"}]

# age (years) -> median height (cm) for (male, female); smoothed from the WHO growth standards.
_HEIGHT = ((0, 50, 49), (1, 76, 74), (2, 87, 86), (3, 96, 95), (5, 110, 109), (8, 128, 127), (10, 139, 139),
           (13, 156, 153), (16, 166, 156), (18, 168, 156))
_CHILD_BMI = ((0, 13.4), (1, 17.0), (2, 16.3), (5, 15.3), (10, 16.6), (15, 19.6), (18, 21.0))


def _interpolate(table: tuple[tuple[float, ...], ...], x: float, column: int) -> float:
    if x <= table[0][0]:
        return table[0][column]
    for (x0, *v0), (x1, *v1) in pairwise(table):
        if x <= x1:
            return v0[column - 1] + (v1[column - 1] - v0[column - 1]) * (x - x0) / (x1 - x0)
    return table[-1][column]


@dataclass(frozen=True, slots=True)
class Physique:
    """A person's fixed build: height and BMI relative to the population (z-like factors)."""

    sex: str
    birth: date
    height_factor: float
    bmi: float  # adult BMI

    @classmethod
    def draw(cls, rng: random.Random, sex: str, birth: date, heavy: bool = False) -> Physique:
        return cls(sex, birth, normal(rng, 1.0, 0.035, 0.9, 1.1),
                   normal(rng, 24.5 if heavy else 22.3, 3.0, 16.0, 38.0))

    def height(self, day: date) -> float:
        age = (day - self.birth).days / 365.25
        return _interpolate(_HEIGHT, age, 1 if self.sex == "male" else 2) * self.height_factor

    def weight(self, day: date) -> float:
        age = (day - self.birth).days / 365.25
        metres = self.height(day) / 100
        bmi = _interpolate(_CHILD_BMI, age, 1) * self.bmi / 22.3 if age < 18 else self.bmi
        return bmi * metres * metres


def _quantity(value: float, unit: str, decimals: int = 0) -> dict[str, Any]:
    number: float | int = round(value, decimals) if decimals else round(value)
    return {"value": number, "unit": unit, "system": UCUM, "code": unit}


def _observation(code: str, display: str, text: str, when: datetime, refs: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "status": "final", "category": CATEGORY,
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": text},
        "subject": refs["subject"], "encounter": refs["encounter"], "effectiveDateTime": fhir_datetime(when),
        "performer": [refs["performer"]],
    }


@dataclass(frozen=True, slots=True)
class VitalContext:
    """What the measurement situation changes (our clinical model)."""

    fever: bool = False
    respiratory: bool = False
    hypertensive: bool = False
    controlled: bool = True
    measure_height: bool = False


def vital_signs(rng: random.Random, physique: Physique, when: datetime, ctx: VitalContext, *,
                which: tuple[str, ...], patient_ref: str, encounter_ref: str,
                performer: dict[str, str], new_id: Any) -> list[dict[str, Any]]:
    """Observations for the signs in ``which`` (bp, hr, temp, rr, spo2, weight, height)."""
    day = when.date()
    age = (day - physique.birth).days / 365.25
    refs = {"subject": {"reference": patient_ref}, "encounter": {"reference": encounter_ref}, "performer": performer}
    out: list[dict[str, Any]] = []
    temp = normal(rng, 38.6, 0.5, 37.8, 40.5) if ctx.fever else normal(rng, 36.8, 0.25, 36.0, 37.4)
    for sign in which:
        if sign == "bp":
            if age < 12:
                continue
            if ctx.hypertensive:
                sbp = normal(rng, 132, 9, 110, 165) if ctx.controlled else normal(rng, 154, 14, 135, 210)
            elif age < 18:
                sbp = normal(rng, 108, 9, 88, 130)
            else:
                sbp = normal(rng, 110 + 0.35 * (age - 20), 10, 90, 150)
            dbp = clamp(sbp * 0.6 + rng.gauss(2, 5), 50, 125)
            obs = _observation("85354-9", "Blood pressure panel with all children optional", "Huyết áp", when, refs)
            obs["component"] = [
                {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}],
                          "text": "Huyết áp tâm thu"}, "valueQuantity": _quantity(sbp, "mm[Hg]")},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}],
                          "text": "Huyết áp tâm trương"}, "valueQuantity": _quantity(dbp, "mm[Hg]")},
            ]
        elif sign == "hr":
            base = 130 if age < 1 else 115 if age < 4 else 100 if age < 7 else 88 if age < 13 else 78
            hr = normal(rng, base + (10 * (temp - 37.0) if temp > 37.5 else 0), 10, 45, 190)
            obs = _observation("8867-4", "Heart rate", "Mạch", when, refs)
            obs["valueQuantity"] = _quantity(hr, "/min")
        elif sign == "temp":
            obs = _observation("8310-5", "Body temperature", "Nhiệt độ", when, refs)
            obs["valueQuantity"] = _quantity(temp, "Cel", 1)
        elif sign == "rr":
            base = 38 if age < 1 else 28 if age < 6 else 22 if age < 13 else 18
            rr = normal(rng, base + (6 if ctx.respiratory else 0), 3, 10, 70)
            obs = _observation("9279-1", "Respiratory rate", "Nhịp thở", when, refs)
            obs["valueQuantity"] = _quantity(rr, "/min")
        elif sign == "spo2":
            spo2 = normal(rng, 93.5, 2.0, 84, 98) if ctx.respiratory else normal(rng, 98, 0.8, 95, 100)
            obs = _observation("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "SpO2", when, refs)
            obs["valueQuantity"] = _quantity(spo2, "%")
        elif sign == "weight":
            obs = _observation("29463-7", "Body weight", "Cân nặng", when, refs)
            obs["valueQuantity"] = _quantity(physique.weight(day) * normal(rng, 1.0, 0.01), "kg", 1)
        elif sign == "height":
            obs = _observation("8302-2", "Body height", "Chiều cao", when, refs)
            obs["valueQuantity"] = _quantity(physique.height(day), "cm", 1)
        else:
            raise ValueError(f"unknown vital sign {sign!r}")
        obs["id"] = new_id()
        out.append(obs)
    return out
