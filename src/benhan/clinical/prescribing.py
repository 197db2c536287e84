"""E-prescription of an outpatient visit (đơn thuốc, TT 26/2025/TT-BYT): one ``MedicationRequest`` per drug.

Every drug of the visit's prescription shares ``groupIdentifier`` = the prescription code
(``benhan.vn.prescription_code``), whose type letter follows the most restrictive drug (N > H > C).
Drugs are ``draft`` until the doctor issues the prescription (``active``); an issued prescription is
never changed here (a correction is a new prescription, TT 26 Art. 6 cl. 9). Before a drug is added
the checks below run; errors refuse, warnings must be confirmed by the doctor:

* allergy: an active AllergyIntolerance of the patient naming the drug, an ingredient, its ATC group
  or an allergy group of the catalog (e.g. ``penicilin``);
* the same active ingredient twice in the prescription;
* supply duration: narcotic (N) > 7 days refused (acute pain; cancer / AIDS pain instalments are not
  supported); psychotropic (H) > 30 days refused, > 10 days warned; other drugs > 90 days refused,
  > 30 days warned unless the visit has a chronic diagnosis of our demo subset of Annex VII.

A warning the doctor confirmed is kept as a ``DetectedIssue`` implicating the MedicationRequest
(mitigation: prescribed anyway, by whom and when).
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import Connection

from benhan.fhir.repository import Repository
from benhan.terminology import catalogs
from benhan.terminology.systems import ICD10
from benhan.terminology.text import words
from benhan.vn import prescription_code as rx
from benhan.vn.systems import PRESCRIPTION_CHECK

from .orders import FieldError, suggest

ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
DRUGS = catalogs.DRUGS_URL
CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"

# route key -> (SNOMED CT code, English display, Vietnamese verb)
ROUTES = {
    "oral": ("26643006", "Oral route", "Uống"),
    "sublingual": ("37839007", "Sublingual route", "Ngậm dưới lưỡi"),
    "inhaled": ("447694001", "Respiratory tract route", "Xịt"),
    "eye": ("54485002", "Ophthalmic route", "Nhỏ mắt"),
    "topical": ("6064005", "Topical route", "Bôi"),
    "rectal": ("37161004", "Rectal route", "Đặt hậu môn"),
}

# ICD-10 prefixes of chronic diseases allowed up to 90 days: a demo subset of TT 26/2025 Annex VII (unverified).
CHRONIC_PREFIXES = ("I10", "I11", "I12", "I13", "I15", "I20", "I25", "I50", "E10", "E11", "E12", "E13", "E14",
                    "E78", "E03", "E05", "J44", "J45", "B18", "N18", "M05", "M06", "G40", "F20")
MAX_DAYS = {"n": 7, "h": 30, "c": 90}


@dataclass(frozen=True, slots=True)
class Drug:
    code: str
    display: str  # as written on the prescription
    display_en: str
    inn: str
    strength: str
    form: str
    unit: str  # dispensing unit (viên, gói, lọ, bình)
    dose_unit: str  # unit of one dose (viên, nhát, giọt)
    route: str
    atc: str
    ingredients: tuple[str, ...]
    rx_class: str  # C | H | N
    groups: tuple[str, ...]


def _split(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(";") if x.strip())


@cache
def drug_catalog() -> dict[str, Drug]:
    out = {}
    for c in catalogs.drugs().concepts:
        p = dict(c.properties)
        out[c.code] = Drug(c.code, c.display, c.display_en, p.get("inn", ""), p.get("strength", ""),
                           p.get("form", ""), p.get("unit", ""), p.get("dose_unit") or p.get("unit", ""),
                           p.get("route", "oral"), p.get("atc", ""), _split(p.get("ingredients", "")),
                           p.get("rx_class", "C").upper(), _split(p.get("groups", "")))
    return out


def search_drugs(conn: Connection | None, text: str, count: int = 10) -> list[Drug]:
    return suggest(conn, DRUGS, drug_catalog(), text, count, lambda d: f"{d.display} {' '.join(d.ingredients)}")


def number(value: Decimal | float | int) -> str:
    """1 -> "1", 0.5 -> "1/2", 1.5 -> "1,5" (as Vietnamese prescribers write)."""
    d = Decimal(str(value)).normalize()
    if d == Decimal("0.5"):
        return "1/2"
    if d == Decimal("0.25"):
        return "1/4"
    return format(d, "f").replace(".", ",")


def quantity_text(value: int | float | Decimal) -> str:
    """Quantities under 10 are written with a leading 0 (TT 26/2025): 5 -> "05"."""
    d = Decimal(str(value)).normalize()
    text = format(d, "f").replace(".", ",")
    return "0" + text if d < 10 and d == d.to_integral_value() else text


@dataclass(slots=True)
class DrugLine:
    """One drug as the doctor entered it (already checked for form errors)."""

    drug: Drug
    dose: Decimal
    times: int
    days: int
    route: str
    when: str = ""  # timing text: sau ăn, buổi sáng, ...
    quantity: int | None = None  # None: computed
    as_needed: bool = False

    @property
    def computed_quantity(self) -> int:
        if self.drug.dose_unit != self.drug.unit:  # an inhaler, an eye-drop bottle: one package
            return 1
        return max(1, math.ceil(self.dose * self.times * self.days))

    @property
    def final_quantity(self) -> int:
        return self.quantity if self.quantity is not None else self.computed_quantity

    def dosage_text(self) -> str:
        verb = ROUTES.get(self.route, ROUTES["oral"])[2]
        text = f"{verb} {number(self.dose)} {self.drug.dose_unit}/lần x {self.times} lần/ngày"
        if self.when.strip():
            text += f", {self.when.strip()}"
        if self.as_needed:
            text += ", khi cần"
        return text


def _int(form: dict[str, str], name: str, low: int, high: int, vi: str, en: str, *, optional: bool = False
         ) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw and optional:
        return None
    if not re.fullmatch(r"\d{1,5}", raw) or not low <= int(raw) <= high:
        raise FieldError(name, f"rx.{name}", vi, en)
    return int(raw)


def line_from_form(form: dict[str, str]) -> DrugLine:
    """Parse one drug's fields; :class:`FieldError` names the first field in error."""
    drug = drug_catalog().get((form.get("drug") or "").strip())
    if drug is None:
        raise FieldError("drug", "rx.drug", "Chọn một thuốc trong danh mục", "Choose a drug from the catalog")
    raw = (form.get("dose") or "").strip().replace(",", ".")
    try:
        dose = Decimal("0.5") if raw == "1/2" else Decimal("0.25") if raw == "1/4" else Decimal(raw)
    except InvalidOperation:
        dose = Decimal(0)
    if not dose.is_finite() or not Decimal(0) < dose <= Decimal(100):
        raise FieldError("dose", "rx.dose", "Liều mỗi lần phải là số dương (ví dụ 1; 0,5; 1/2)",
                         "The dose per time must be a positive number (e.g. 1, 0.5, 1/2)")
    times = _int(form, "times", 1, 12, "Số lần mỗi ngày phải từ 1 đến 12", "Times per day must be 1 to 12")
    days = _int(form, "days", 1, 365, "Số ngày dùng phải từ 1 đến 365", "Days must be 1 to 365")
    quantity = _int(form, "quantity", 1, 9999, "Số lượng phải là số nguyên từ 1 đến 9999",
                    "The quantity must be a whole number from 1 to 9999", optional=True)
    route = (form.get("route") or drug.route).strip()
    if route not in ROUTES:
        raise FieldError("route", "rx.route", "Chọn đường dùng", "Choose a route")
    when = (form.get("when") or "").strip()
    if len(when) > 200:
        raise FieldError("when", "rx.when", "Cách dùng quá dài (tối đa 200 ký tự)",
                         "The instructions are too long (200 characters at most)")
    return DrugLine(drug, dose, times or 1, days or 1, route, when, quantity, form.get("as_needed") == "1")


@dataclass(frozen=True, slots=True)
class Warning:
    kind: str  # allergy | duplicate | duration
    vi: str
    en: str


@dataclass(slots=True)
class Item:
    """One drug of the prescription as stored."""

    id: str
    resource: dict[str, Any]
    drug: Drug | None

    @property
    def text(self) -> str:
        return (self.resource.get("medicationCodeableConcept") or {}).get("text", "")

    @property
    def dosage(self) -> str:
        return ((self.resource.get("dosageInstruction") or [{}])[0]).get("text", "")

    @property
    def quantity(self) -> str:
        q = (self.resource.get("dispenseRequest") or {}).get("quantity") or {}
        return f"{quantity_text(q.get('value', 0))} {q.get('unit', '')}".strip()

    @property
    def days(self) -> int:
        return int(((self.resource.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {})
                   .get("value", 0))


@dataclass(slots=True)
class Prescription:
    code: str | None
    status: str  # none | draft | active
    items: list[Item] = field(default_factory=list)
    advice: str = ""
    authored: str | None = None

    @property
    def kind(self) -> str:
        return self.code[-1].upper() if self.code else ""

    @property
    def draft(self) -> bool:
        return self.status in ("none", "draft")


def _drug_of(resource: dict[str, Any]) -> Drug | None:
    codings = (resource.get("medicationCodeableConcept") or {}).get("coding") or []
    code = next((c.get("code") for c in codings if c.get("system") == DRUGS), None)
    return drug_catalog().get(code or "")


def load_prescription(repo: Repository, encounter_id: str) -> Prescription:
    """The visit's prescription (drugs not cancelled), in the order they were added (``find`` keeps it)."""
    items = []
    for mid in repo.find("MedicationRequest", f"encounter=Encounter/{encounter_id}"):
        resource = repo.read("MedicationRequest", mid).resource()
        if resource.get("status") in ("cancelled", "entered-in-error", "stopped"):
            continue
        items.append(Item(mid, resource, _drug_of(resource)))
    if not items:
        return Prescription(None, "none")
    first = items[0].resource
    status = "active" if any(i.resource.get("status") in ("active", "completed") for i in items) else "draft"
    notes = first.get("note") or []
    return Prescription((first.get("groupIdentifier") or {}).get("value"), status, items,
                        notes[0].get("text", "") if notes else "", first.get("authoredOn"))


def _allergy_text(allergy: dict[str, Any]) -> tuple[set[str], list[tuple[str, str]]]:
    code = allergy.get("code") or {}
    parts = [code.get("text") or ""] + [c.get("display") or "" for c in code.get("coding") or []]
    parts += [s.get("text") or "" for r in allergy.get("reaction") or [] for s in [r.get("substance") or {}]]
    codings = [(c.get("system", ""), c.get("code", "")) for c in code.get("coding") or []]
    return set(words(" ".join(parts))), codings


def _active_allergy(allergy: dict[str, Any]) -> bool:
    clinical = {c.get("code") for c in (allergy.get("clinicalStatus") or {}).get("coding") or []}
    verification = {c.get("code") for c in (allergy.get("verificationStatus") or {}).get("coding") or []}
    return not (clinical & {"inactive", "resolved"}) and not (verification & {"refuted", "entered-in-error"})


def allergy_matches(drug: Drug, allergy: dict[str, Any]) -> str | None:
    """What of ``drug`` the allergy names (an ingredient, a group, the ATC class), or None."""
    allergy_words, codings = _allergy_text(allergy)
    for system, code in codings:
        if system == ATC and code and drug.atc.upper().startswith(code.upper()):
            return code
        if system == DRUGS and code == drug.code:
            return drug.display
    for keyword in (*drug.ingredients, *drug.groups, drug.inn):
        kw = words(keyword)
        if kw and all(w in allergy_words for w in kw):
            return keyword
    drug_words = set(words(f"{drug.display} {' '.join(drug.ingredients)}"))
    meaningful = {w for w in allergy_words if len(w) >= 4}
    if meaningful and meaningful <= drug_words:
        return drug.display
    return None


def _chronic(repo: Repository, encounter: dict[str, Any]) -> bool:
    for d in encounter.get("diagnosis") or []:
        ref = (d.get("condition") or {}).get("reference", "")
        if not ref.startswith("Condition/"):
            continue
        condition = repo.read("Condition", ref.split("/", 1)[1]).resource()
        for c in (condition.get("code") or {}).get("coding") or []:
            if c.get("system") == ICD10 and str(c.get("code", "")).upper().startswith(CHRONIC_PREFIXES):
                return True
    return False


def check(repo: Repository, encounter: dict[str, Any], line: DrugLine, current: Prescription) -> list[Warning]:
    """Warnings for adding ``line``; raises :class:`FieldError` when the rules refuse it."""
    kind = line.drug.rx_class.lower()
    limit = MAX_DAYS.get(kind, 90)
    if line.days > limit:
        vi = {"n": "Thuốc gây nghiện: kê tối đa 7 ngày (TT 26/2025)",
              "h": "Thuốc hướng thần, tiền chất: kê tối đa 30 ngày (TT 26/2025)"}.get(
            kind, "Kê tối đa 90 ngày, chỉ cho bệnh mạn tính trong danh mục (TT 26/2025)")
        en = {"n": "Narcotic drugs: at most 7 days (TT 26/2025)",
              "h": "Psychotropic / precursor drugs: at most 30 days (TT 26/2025)"}.get(
            kind, "At most 90 days, for listed chronic diseases only (TT 26/2025)")
        raise FieldError("days", f"rx.duration-{kind}", vi, en)
    warnings = []
    if kind == "h" and line.days > 10:
        warnings.append(Warning("duration", f"Thuốc hướng thần kê {line.days} ngày: bệnh cấp tính tối đa 10 ngày",
                                f"Psychotropic drug for {line.days} days: acute illness allows 10 days at most"))
    if kind == "c" and line.days > 30 and not _chronic(repo, encounter):
        warnings.append(Warning("duration", f"Kê {line.days} ngày: quá 30 ngày chỉ cho bệnh mạn tính trong danh mục"
                                            " — lượt khám chưa có chẩn đoán bệnh mạn tính",
                                f"{line.days} days: more than 30 days only for listed chronic diseases — the visit"
                                " has no chronic diagnosis"))
    patient_id = (encounter.get("subject") or {}).get("reference", "").split("/", 1)[-1]
    for aid in repo.find("AllergyIntolerance", f"patient=Patient/{patient_id}"):
        allergy = repo.read("AllergyIntolerance", aid).resource()
        hit = allergy_matches(line.drug, allergy) if _active_allergy(allergy) else None
        if hit:
            name = (allergy.get("code") or {}).get("text") or hit
            warnings.append(Warning("allergy", f"Dị ứng: người bệnh có tiền sử dị ứng «{name}» ({hit})",
                                    f"Allergy: the patient is recorded as allergic to “{name}” ({hit})"))
    mine = set(line.drug.ingredients)
    for item in current.items:
        same = sorted(mine & set(item.drug.ingredients if item.drug else ()))
        if same:
            warnings.append(Warning("duplicate", f"Trùng hoạt chất {', '.join(same)} với «{item.text}» trong đơn",
                                    f"Same active ingredient ({', '.join(same)}) as “{item.text}” in the prescription"))
    return warnings


def _instant(now: datetime) -> str:
    return now.replace(microsecond=0).isoformat()


def medication_request(encounter: dict[str, Any], line: DrugLine, *, code: str, practitioner_id: str | None,
                       now: datetime) -> dict[str, Any]:
    drug = line.drug
    route_code, route_en, route_vi = ROUTES[line.route]
    duration = {"value": line.days, "unit": "ngày", "system": UCUM, "code": "d"}
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest", "status": "draft", "intent": "order",
        "category": [{"coding": [{"system": CATEGORY, "code": "outpatient"}]}],
        "groupIdentifier": {"system": rx.SYSTEM, "value": code},
        "medicationCodeableConcept": {
            "coding": [{"system": DRUGS, "code": drug.code, "display": drug.display},
                       {"system": ATC, "code": drug.atc, "display": drug.display_en}],
            "text": drug.display},
        "subject": encounter["subject"], "encounter": {"reference": f"Encounter/{encounter['id']}"},
        "authoredOn": _instant(now),
        "dosageInstruction": [{
            "sequence": 1, "text": line.dosage_text(),
            "timing": {"repeat": {"frequency": line.times, "period": 1, "periodUnit": "d",
                                  "boundsDuration": duration}},
            "asNeededBoolean": line.as_needed,
            "route": {"coding": [{"system": SNOMED, "code": route_code, "display": route_en}], "text": route_vi},
            "doseAndRate": [{"doseQuantity": {"value": float(line.dose), "unit": drug.dose_unit}}],
        }],
        "dispenseRequest": {
            "validityPeriod": {"start": _instant(now), "end": _instant(now + timedelta(days=5))},
            "quantity": {"value": line.final_quantity, "unit": drug.unit},
            "expectedSupplyDuration": duration,
        },
    }
    if line.when.strip():
        resource["dosageInstruction"][0]["additionalInstruction"] = [{"text": line.when.strip()}]
    if practitioner_id:
        resource["requester"] = {"reference": f"Practitioner/{practitioner_id}"}
    reasons = [d["condition"] for d in encounter.get("diagnosis") or [] if (d.get("condition") or {}).get("reference")]
    if reasons:
        resource["reasonReference"] = reasons
    return resource


@dataclass(slots=True)
class AddResult:
    warnings: list[Warning]
    added: str | None  # the new MedicationRequest id, None when warnings wait for confirmation


def _refuse_if_issued(current: Prescription) -> None:
    if not current.draft:
        raise FieldError("prescription", "rx.issued", "Đơn thuốc đã phát hành, không sửa được",
                         "The prescription is issued and cannot be changed")


def _retype(repo: Repository, current: Prescription, code: str) -> None:
    """Give every drug of the prescription the code ``code`` (its type letter changed)."""
    for item in current.items:
        if (item.resource.get("groupIdentifier") or {}).get("value") != code:
            resource = dict(item.resource, groupIdentifier={"system": rx.SYSTEM, "value": code})
            repo.update("MedicationRequest", item.id, resource)


def add_drug(repo: Repository, encounter: dict[str, Any], line: DrugLine, *, facility_code: str,
             practitioner_id: str | None, now: datetime, confirm: bool = False,
             choice: Callable[[str], str] = secrets.choice) -> AddResult:
    """Check ``line`` and, when nothing is refused and the warnings are confirmed, add it to the draft."""
    current = load_prescription(repo, encounter["id"])
    _refuse_if_issued(current)
    warnings = check(repo, encounter, line, current)
    if warnings and not confirm:
        return AddResult(warnings, None)
    classes = [i.drug.rx_class for i in current.items if i.drug] + [line.drug.rx_class]
    kind = rx.most_restrictive(classes)
    code = rx.with_type(current.code, kind) if current.code else rx.generate(facility_code, kind, choice=choice)
    _retype(repo, current, code)
    stored = repo.create(medication_request(encounter, line, code=code, practitioner_id=practitioner_id, now=now))
    mid = stored.stored.id  # type: ignore[union-attr]
    for warning in warnings:  # the doctor prescribed despite the warning: keep who overrode what, and when
        repo.create(overridden_issue(encounter, mid, warning, practitioner_id=practitioner_id, now=now))
    return AddResult(warnings, mid)


def overridden_issue(encounter: dict[str, Any], medication_request_id: str, warning: Warning, *,
                     practitioner_id: str | None, now: datetime) -> dict[str, Any]:
    """A ``DetectedIssue`` recording a warning the prescriber confirmed (mitigation: prescribed anyway)."""
    author = {"reference": f"Practitioner/{practitioner_id}"} if practitioner_id else None
    mitigation: dict[str, Any] = {"action": {"text": "Bác sĩ xác nhận vẫn kê đơn / prescribed despite the warning"},
                                  "date": _instant(now)}
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue", "status": "final",
        "code": {"coding": [{"system": PRESCRIPTION_CHECK, "code": warning.kind}]},
        "severity": "high" if warning.kind == "allergy" else "moderate",
        "patient": encounter["subject"], "identifiedDateTime": _instant(now),
        "implicated": [{"reference": f"MedicationRequest/{medication_request_id}"}],
        "detail": warning.vi, "mitigation": [mitigation],
    }
    if author:
        issue["author"] = author
        mitigation["author"] = author
    return issue


def remove_drug(repo: Repository, encounter_id: str, item_id: str) -> None:
    """Take a drug out of the draft prescription (status cancelled; the type letter is recomputed)."""
    current = load_prescription(repo, encounter_id)
    _refuse_if_issued(current)
    item = next((i for i in current.items if i.id == item_id), None)
    if item is None:
        raise FieldError("prescription", "rx.no-item", "Thuốc không có trong đơn", "No such drug in the prescription")
    repo.update("MedicationRequest", item.id, dict(item.resource, status="cancelled"))
    rest = [i for i in current.items if i.id != item_id]
    if rest and current.code:
        kind = rx.most_restrictive([i.drug.rx_class for i in rest if i.drug])
        _retype(repo, Prescription(current.code, current.status, rest), rx.with_type(current.code, kind))


def issue(repo: Repository, encounter_id: str, advice: str, *, now: datetime) -> Prescription:
    """Issue the draft: every drug becomes active with the advice (lời dặn) as its note."""
    current = load_prescription(repo, encounter_id)
    _refuse_if_issued(current)
    if not current.items:
        raise FieldError("prescription", "rx.empty", "Đơn thuốc chưa có thuốc nào", "The prescription has no drug")
    advice = advice.strip()
    if len(advice) > 1000:
        raise FieldError("advice", "rx.advice", "Lời dặn quá dài (tối đa 1000 ký tự)",
                         "The advice is too long (1000 characters at most)")
    for item in current.items:
        resource = dict(item.resource, status="active", authoredOn=_instant(now))
        resource["dispenseRequest"] = dict(resource["dispenseRequest"], validityPeriod={
            "start": _instant(now), "end": _instant(now + timedelta(days=5))})
        if advice:
            resource["note"] = [{"text": advice}]
        else:
            resource.pop("note", None)
        repo.update("MedicationRequest", item.id, resource)
    return load_prescription(repo, encounter_id)
