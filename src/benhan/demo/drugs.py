"""Drugs and prescriptions (MedicationRequest) with dosage instructions written the Vietnamese way.

Drug names follow Vietnamese usage (INN in Vietnamese spelling, strength with a decimal comma, as on
prescriptions under TT 26/2025/TT-BYT: single-ingredient drugs by INN); codes are WHO ATC
(https://www.whocc.no/atc_ddd_index/). The list and regimens are common first-line choices for the
demo's diagnoses, not treatment advice. Every prescription of a visit shares one prescription code
(mã đơn thuốc, ``xxxxxyyyyyyy-c``: facility code, 7 random ``[0-9a-z]``, type ``c`` for ordinary drugs;
shared/domain/e-prescription.md §2) as ``groupIdentifier``.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from benhan.vn.systems import PRESCRIPTION_CODE

from .timefmt import fhir_datetime

ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
PRESCRIPTION_CODE_SYSTEM = PRESCRIPTION_CODE  # no official URI for the prescription code; ours

# route key -> (SNOMED CT code, English display, Vietnamese verb)
ROUTES = {
    "oral": ("26643006", "Oral route", "Uống"),
    "inhaled": ("447694001", "Respiratory tract route", "Xịt"),
    "eye": ("54485002", "Ophthalmic route", "Nhỏ mắt"),
}


@dataclass(frozen=True, slots=True)
class Drug:
    key: str
    text: str  # as written on the prescription
    atc: str
    inn: str  # English INN (ATC display)
    unit: str  # dispensing unit: viên, gói, lọ, bình
    route: str = "oral"


@dataclass(frozen=True, slots=True)
class Regimen:
    """How a drug is taken: ``dose`` units ``times`` per day, ``when`` (sau ăn, trước ăn, ...)."""

    drug: str
    dose: float
    times: int
    when: str = ""
    as_needed: str = ""  # e.g. "khi sốt trên 38,5°C"
    per_package: int = 0  # units dispensed regardless of days (an inhaler, an eye-drop bottle)


DRUGS: dict[str, Drug] = {d.key: d for d in (
    Drug("amlodipin", "Amlodipin 5mg", "C08CA01", "amlodipine", "viên"),
    Drug("losartan", "Losartan 50mg", "C09CA01", "losartan", "viên"),
    Drug("metformin", "Metformin 850mg", "A10BA02", "metformin", "viên"),
    Drug("gliclazid", "Gliclazid 30mg (giải phóng có kiểm soát)", "A10BB09", "gliclazide", "viên"),
    Drug("atorvastatin", "Atorvastatin 20mg", "C10AA05", "atorvastatin", "viên"),
    Drug("aspirin", "Acid acetylsalicylic 81mg", "B01AC06", "acetylsalicylic acid", "viên"),
    Drug("bisoprolol", "Bisoprolol 2,5mg", "C07AB07", "bisoprolol", "viên"),
    Drug("salbutamol", "Salbutamol 100mcg/liều (bình xịt định liều)", "R03AC02", "salbutamol", "bình", "inhaled"),
    Drug("budesonid", "Budesonid 200mcg/liều (bình xịt định liều)", "R03BA02", "budesonide", "bình", "inhaled"),
    Drug("tenofovir", "Tenofovir disoproxil fumarat 300mg", "J05AF07", "tenofovir disoproxil", "viên"),
    Drug("paracetamol", "Paracetamol 500mg", "N02BE01", "paracetamol", "viên"),
    Drug("amoxicilin", "Amoxicilin 500mg", "J01CA04", "amoxicillin", "viên"),
    Drug("cefuroxim", "Cefuroxim 500mg", "J01DC02", "cefuroxime", "viên"),
    Drug("azithromycin", "Azithromycin 250mg", "J01FA10", "azithromycin", "viên"),
    Drug("ciprofloxacin", "Ciprofloxacin 500mg", "J01MA02", "ciprofloxacin", "viên"),
    Drug("ambroxol", "Ambroxol 30mg", "R05CB06", "ambroxol", "viên"),
    Drug("oseltamivir", "Oseltamivir 75mg", "J05AH02", "oseltamivir", "viên"),
    Drug("oresol", "Oresol 245 (bù nước, điện giải)", "A07CA", "oral rehydration salt formulations", "gói"),
    Drug("omeprazol", "Omeprazol 20mg", "A02BC01", "omeprazole", "viên"),
    Drug("esomeprazol", "Esomeprazol 40mg", "A02BC05", "esomeprazole", "viên"),
    Drug("domperidon", "Domperidon 10mg", "A03FA03", "domperidone", "viên"),
    Drug("meloxicam", "Meloxicam 7,5mg", "M01AC06", "meloxicam", "viên"),
    Drug("eperison", "Eperison 50mg", "M03BX09", "eperisone", "viên"),
    Drug("loratadin", "Loratadin 10mg", "R06AX13", "loratadine", "viên"),
    Drug("cetirizin", "Cetirizin 10mg", "R06AE07", "cetirizine", "viên"),
    Drug("tobramycin", "Tobramycin 0,3% (lọ 5ml)", "S01AA12", "tobramycin", "lọ", "eye"),
    Drug("sat_folic", "Sắt (II) sulfat 60mg + Acid folic 0,4mg", "B03AD03", "ferrous sulfate and folic acid",
         "viên"),
    Drug("levothyroxin", "Levothyroxin 50mcg", "H03AA01", "levothyroxine sodium", "viên"),
    Drug("tamsulosin", "Tamsulosin 0,4mg", "G04CA02", "tamsulosin", "viên"),
    Drug("lactulose", "Lactulose 10g/15ml", "A06AD11", "lactulose", "gói"),
    Drug("furosemid", "Furosemid 40mg", "C03CA01", "furosemide", "viên"),
)}

# Regimens by key: (drug, dose, times/day, timing, as-needed condition, fixed package count).
REGIMENS: dict[str, Regimen] = {
    "amlodipin": Regimen("amlodipin", 1, 1, "buổi sáng"),
    "losartan": Regimen("losartan", 1, 1, "buổi sáng"),
    "metformin": Regimen("metformin", 1, 2, "sau ăn sáng và tối"),
    "gliclazid": Regimen("gliclazid", 1, 1, "trước ăn sáng"),
    "atorvastatin": Regimen("atorvastatin", 1, 1, "buổi tối"),
    "aspirin": Regimen("aspirin", 1, 1, "sau ăn trưa"),
    "bisoprolol": Regimen("bisoprolol", 1, 1, "buổi sáng"),
    "salbutamol": Regimen("salbutamol", 2, 4, "", "khi khó thở", per_package=1),
    "budesonid": Regimen("budesonid", 1, 2, "sáng và tối, súc miệng sau xịt", per_package=1),
    "tenofovir": Regimen("tenofovir", 1, 1, "sau ăn tối"),
    "paracetamol": Regimen("paracetamol", 1, 3, "cách nhau ít nhất 6 giờ", "khi sốt trên 38,5°C hoặc đau"),
    "amoxicilin": Regimen("amoxicilin", 1, 3, "sau ăn"),
    "cefuroxim": Regimen("cefuroxim", 1, 2, "sau ăn"),
    "azithromycin": Regimen("azithromycin", 2, 1, "trước ăn 1 giờ"),
    "ciprofloxacin": Regimen("ciprofloxacin", 1, 2, "sau ăn"),
    "ambroxol": Regimen("ambroxol", 1, 3, "sau ăn"),
    "oseltamivir": Regimen("oseltamivir", 1, 2, "sau ăn"),
    "oresol": Regimen("oresol", 1, 3, "pha 1 gói với 200ml nước đun sôi để nguội, uống dần"),
    "omeprazol": Regimen("omeprazol", 1, 2, "trước ăn sáng và tối 30 phút"),
    "esomeprazol": Regimen("esomeprazol", 1, 1, "trước ăn sáng 30 phút"),
    "domperidon": Regimen("domperidon", 1, 3, "trước ăn 15-30 phút"),
    "meloxicam": Regimen("meloxicam", 1, 1, "sau ăn no"),
    "eperison": Regimen("eperison", 1, 3, "sau ăn"),
    "loratadin": Regimen("loratadin", 1, 1, "buổi tối"),
    "cetirizin": Regimen("cetirizin", 1, 1, "buổi tối"),
    "tobramycin": Regimen("tobramycin", 1, 4, "mỗi lần 1 giọt vào mắt bị bệnh", per_package=1),
    "sat_folic": Regimen("sat_folic", 1, 1, "sau ăn sáng"),
    "levothyroxin": Regimen("levothyroxin", 1, 1, "trước ăn sáng 30 phút"),
    "tamsulosin": Regimen("tamsulosin", 1, 1, "sau ăn tối"),
    "lactulose": Regimen("lactulose", 1, 2, "buổi sáng và tối"),
    "furosemid": Regimen("furosemid", 1, 1, "buổi sáng"),
}

PENICILLINS = {"amoxicilin"}


def _number(value: float) -> str:
    """1 -> "1", 0.5 -> "1/2" (as written by Vietnamese prescribers)."""
    if value == 0.5:
        return "1/2"
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")


def dose_of(regimen: Regimen, child: bool) -> float:
    """Children under 12 take half a tablet (our simplification of weight-based dosing)."""
    drug = DRUGS[regimen.drug]
    return regimen.dose / 2 if child and drug.unit == "viên" else regimen.dose


def dosage_text(regimen: Regimen, child: bool = False) -> str:
    """``"Uống 1 viên x 2 lần/ngày, sau ăn"`` and the like."""
    drug = DRUGS[regimen.drug]
    verb = ROUTES[drug.route][2]
    unit = {"bình": "nhát", "lọ": "giọt"}.get(drug.unit, drug.unit)
    text = f"{verb} {_number(dose_of(regimen, child))} {unit} x {regimen.times} lần/ngày"
    if drug.route == "eye":
        text = f"{verb} x {regimen.times} lần/ngày"
    if regimen.when:
        text += f", {regimen.when}"
    if regimen.as_needed:
        text += f", {regimen.as_needed}"
    return text


def prescription_code(rng: random.Random, facility_code: str) -> str:
    """``xxxxxyyyyyyy-c``: 5-char facility code, 7 random ``[0-9a-z]``, type ``c`` (ordinary drugs)."""
    alphabet = string.digits + string.ascii_lowercase
    return facility_code + "".join(rng.choice(alphabet) for _ in range(7)) + "-c"


def medication_request(regimen_key: str, days: int, *, patient_ref: str, encounter_ref: str,
                       requester: dict[str, str], authored: datetime, group_code: str | None,
                       reason_ref: str | None, status: str, category: str = "outpatient",
                       child: bool = False) -> dict[str, Any]:
    """One MedicationRequest for ``days`` days of ``regimen_key`` (``child``: under 12 years)."""
    regimen = REGIMENS[regimen_key]
    drug = DRUGS[regimen.drug]
    route_code, route_display, route_vi = ROUTES[drug.route]
    dose = dose_of(regimen, child)
    quantity = regimen.per_package or max(1, round(dose * regimen.times * days))
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": category}]}],
        "medicationCodeableConcept": {"coding": [{"system": ATC, "code": drug.atc, "display": drug.inn}],
                                      "text": drug.text},
        "subject": {"reference": patient_ref},
        "encounter": {"reference": encounter_ref},
        "authoredOn": fhir_datetime(authored),
        "requester": requester,
        "dosageInstruction": [{
            "sequence": 1,
            "text": dosage_text(regimen, child),
            "timing": {"repeat": {"frequency": regimen.times, "period": 1, "periodUnit": "d",
                                  "boundsDuration": {"value": days, "unit": "ngày", "system": UCUM, "code": "d"}}},
            "asNeededBoolean": bool(regimen.as_needed),
            "route": {"coding": [{"system": SNOMED, "code": route_code, "display": route_display}],
                      "text": route_vi},
            "doseAndRate": [{"doseQuantity": {"value": dose,
                                              "unit": {"bình": "nhát", "lọ": "giọt"}.get(drug.unit, drug.unit)}}],
        }],
        "dispenseRequest": {
            "validityPeriod": {"start": fhir_datetime(authored),
                               "end": fhir_datetime(authored + timedelta(days=5))},
            "quantity": {"value": quantity, "unit": drug.unit},
            "expectedSupplyDuration": {"value": days, "unit": "ngày", "system": UCUM, "code": "d"},
        },
    }
    if group_code:
        resource["groupIdentifier"] = {"system": PRESCRIPTION_CODE_SYSTEM, "value": group_code}
    if reason_ref:
        resource["reasonReference"] = [{"reference": reason_ref}]
    return resource
