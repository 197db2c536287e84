"""What every printed form shares: the facility header, the patient's identity, diagnoses, the signature."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from benhan.fhir.repository import Repository, Stored
from benhan.terminology.systems import ICD10
from benhan.vn import systems
from benhan.vn.names import format_name

from .. import signing

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LOINC = "http://loinc.org"
WEIGHT = "29463-7"
GENDERS = {"male": "Nam", "female": "Nữ", "other": "Khác", "unknown": ""}


@dataclass(frozen=True, slots=True)
class Header:
    department_of_health: str  # "SỞ Y TẾ HÀ NỘI"
    facility: str  # "BỆNH VIỆN ..."
    facility_code: str
    department: str


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str
    text: str
    main: bool


@dataclass(frozen=True, slots=True)
class SignatureBlock:
    signer: str
    when: str  # hospital time, dd/mm/yyyy HH:MM
    kid: str
    valid: bool


@dataclass(slots=True)
class PatientIdentity:
    name: str
    gender: str
    birth_date: str
    age: str  # "34 tuổi" or "18 tháng tuổi" (children under 72 months: age in months, TT 26 Art. 6)
    age_months: int | None
    national_id: str
    insurance_number: str
    address: str
    ethnicity: str = ""
    occupation: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def local(value: str | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    if not value:
        return ""
    if len(value) <= 10:
        return "/".join(reversed(value[:10].split("-")))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return (moment.astimezone(VN_TZ) if moment.tzinfo else moment).strftime(fmt)


def narrative_text(element: dict[str, Any] | None) -> str:
    div = ((element or {}).get("text") or {}).get("div", "")
    return unescape(re.sub(r"<[^>]+>", "\n", div.replace("<br/>", "\n"))).strip()


def ref_id(reference: dict[str, Any] | None, rtype: str) -> str | None:
    ref = (reference or {}).get("reference", "")
    return ref.split("/")[1] if ref.startswith(f"{rtype}/") else None


def identifier(resource: dict[str, Any], system: str) -> str:
    return next((i.get("value", "") for i in resource.get("identifier") or [] if i.get("system") == system), "")


def header(repo: Repository, encounter: dict[str, Any]) -> Header:
    department = _organization(repo, ref_id(encounter.get("serviceProvider"), "Organization"))
    hospital = _organization(repo, ref_id((department or {}).get("partOf"), "Organization")) or department or {}
    state = ((hospital.get("address") or [{}])[0]).get("state", "")
    province = re.sub(r"^(Tỉnh|Thành phố)\s+", "", state).strip()
    return Header(("SỞ Y TẾ " + province).upper().strip(), hospital.get("name", "").upper(),
                  next((i.get("value", "") for i in hospital.get("identifier") or []), ""),
                  (department or {}).get("name") or (encounter.get("serviceProvider") or {}).get("display", ""))


def _organization(repo: Repository, oid: str | None) -> dict[str, Any] | None:
    if not oid:
        return None
    stored = repo.current("Organization", oid)  # directory data: no patient in it
    return stored.resource() if stored is not None and not stored.deleted else None


def months_between(born: date, on: date) -> int:
    return (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)


def identity(patient: dict[str, Any], on: date) -> PatientIdentity:
    names = patient.get("name") or [{}]
    birth = patient.get("birthDate", "")
    age, months = "", None
    if len(birth) >= 10:
        months = months_between(date.fromisoformat(birth[:10]), on)
        age = f"{months} tháng tuổi" if months < 72 else f"{months // 12} tuổi"
    elif len(birth) >= 4:
        age = f"{on.year - int(birth[:4])} tuổi"
    address = (patient.get("address") or [{}])[0]
    address_text = address.get("text") or ", ".join(p for p in [*(address.get("line") or []), address.get("district"),
                                                                  address.get("city"), address.get("state")] if p)
    return PatientIdentity(
        name=(format_name(names[0]) if names[0] else "").upper(), gender=GENDERS.get(patient.get("gender", ""), ""),
        birth_date=local(birth), age=age, age_months=months if months is not None and months < 72 else None,
        national_id=identifier(patient, systems.NATIONAL_ID), insurance_number=identifier(patient,
                                                                                           systems.INSURANCE_NUMBER),
        address=address_text)


def diagnoses(encounter: dict[str, Any], record: list[Stored]) -> list[Diagnosis]:
    """Main diagnosis first (Encounter.diagnosis rank 1), then secondary ones; ICD-10 code and text."""
    conditions = {s.id: s.resource() for s in record if s.type == "Condition"}
    ranked = sorted(((d.get("rank", 99), ref_id(d.get("condition"), "Condition"))
                     for d in encounter.get("diagnosis") or []), key=lambda x: x[0])
    order = [cid for _r, cid in ranked if cid in conditions]
    order += [cid for cid in conditions if cid not in order]
    main = ranked[0][1] if ranked else None
    out = []
    for cid in order:
        code = conditions[cid].get("code") or {}
        coding = next((c for c in code.get("coding") or [] if c.get("system") == ICD10), {})
        out.append(Diagnosis(coding.get("code", ""), code.get("text") or coding.get("display", ""), cid == main))
    return out


def signature(repo: Repository, encounter_id: str) -> SignatureBlock | None:
    """The record's own signature (the first Provenance that targets the Encounter), verified now."""
    for provenance in signing.provenances_of(repo, encounter_id):
        if any(t.get("reference", "").startswith(f"Encounter/{encounter_id}/") for t in provenance.get("target") or []):
            result = signing.verify_signature(repo, provenance)
            return SignatureBlock(result.who_display or result.who or "", local(result.when), result.kid or "",
                                  result.valid)
    return None


def weight_kg(record: list[Stored]) -> str:
    for stored in record:
        obs = stored.resource()
        if stored.type == "Observation" and any(c.get("code") == WEIGHT for c in (obs.get("code") or {}).get("coding")
                                                or []):
            value = (obs.get("valueQuantity") or {}).get("value")
            if value is not None:
                return f"{value:g}"
    return ""
