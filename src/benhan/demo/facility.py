"""The demo hospital: its Organization, departments (khoa, with BHYT codes K01...), clinic rooms,
wards and beds (Location), staff (Practitioner + PractitionerRole) and the payer (BHXH Việt Nam).

Everything here is fixed for a given seed and facility code, independent of the number of patients.
Department codes and names: data/departments.csv. Staff numbers are our choice (a mid-size general
hospital of ~200 beds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from benhan.terminology.systems import DEPARTMENT_BHYT
from benhan.vn import systems
from benhan.vn.facility import parse_facility_code

from . import data
from .addresses import home_address
from .identifiers import mobile_phone
from .names import vietnamese_name
from .rand import named_rng, new_id

DEPARTMENT_CODE_SYSTEM = DEPARTMENT_BHYT  # no official URI for mã khoa (QĐ 1804/QĐ-BYT): the terminology service's
ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
ROLE = "http://terminology.hl7.org/CodeSystem/practitioner-role"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# Outpatient clinic rooms of Khoa Khám bệnh (K01): key -> (room name, number of rooms).
CLINICS: dict[str, tuple[str, int]] = {
    "noi": ("Phòng khám Nội", 3), "tim": ("Phòng khám Tim mạch", 1), "noitiet": ("Phòng khám Nội tiết", 1),
    "nhi": ("Phòng khám Nhi", 2), "ngoai": ("Phòng khám Ngoại", 1), "san": ("Phòng khám Sản", 1),
    "tmh": ("Phòng khám Tai Mũi Họng", 1), "rhm": ("Phòng khám Răng Hàm Mặt", 1), "mat": ("Phòng khám Mắt", 1),
    "dalieu": ("Phòng khám Da liễu", 1), "truyennhiem": ("Phòng khám Truyền nhiễm", 1),
}
SUPPORT_UNITS = {"xn": "Khoa Xét nghiệm", "cdha": "Khoa Chẩn đoán hình ảnh"}  # no verified K-code: none given

DOCTOR_TITLES = (("BS.", 40), ("ThS.BS.", 20), ("BSCKI.", 25), ("BSCKII.", 10), ("TS.BS.", 5))


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    name: str
    role: str  # doctor | nurse | technician

    @property
    def ref(self) -> dict[str, str]:
        return {"reference": f"Practitioner/{self.id}", "display": self.name}


@dataclass(slots=True)
class Unit:
    """A department or support unit: its Organization, main Location and staff."""

    code: str | None
    name: str
    kind: str
    org_id: str
    location_id: str
    beds: list[tuple[str, str]] = field(default_factory=list)  # (Location id, bed name)
    doctors: list[Staff] = field(default_factory=list)
    nurses: list[Staff] = field(default_factory=list)

    @property
    def org_ref(self) -> dict[str, str]:
        return {"reference": f"Organization/{self.org_id}", "display": self.name}

    @property
    def location_ref(self) -> dict[str, str]:
        return {"reference": f"Location/{self.location_id}", "display": self.name}


@dataclass(slots=True)
class ClinicRoom:
    key: str
    name: str
    location_id: str
    doctors: list[Staff]

    @property
    def location_ref(self) -> dict[str, str]:
        return {"reference": f"Location/{self.location_id}", "display": self.name}


@dataclass(slots=True)
class Facility:
    code: str
    name: str
    province: data.Province
    org_id: str
    payer_id: str
    units: dict[str, Unit]  # by department code, or support key (xn, cdha)
    clinics: dict[str, list[ClinicRoom]]
    resources: list[dict[str, Any]]

    @property
    def org_ref(self) -> dict[str, str]:
        return {"reference": f"Organization/{self.org_id}", "display": self.name}

    @property
    def payer_ref(self) -> str:
        return f"Organization/{self.payer_id}"

    def clinic(self, rng: random.Random, key: str) -> ClinicRoom:
        return rng.choice(self.clinics[key])


def _practitioner(rng: random.Random, today: date, role: str, number: int, org_ref: dict[str, str],
                  pid: str, role_id: str) -> tuple[Staff, list[dict[str, Any]]]:
    if role == "nurse":
        sex = "female" if rng.random() < 0.85 else "male"
    else:
        sex = "male" if rng.random() < 0.55 else "female"
    birth_year = today.year - rng.randint(24, 58)
    name = vietnamese_name(rng, sex, birth_year, "N")
    if role == "doctor":
        titles = [t for t, _ in DOCTOR_TITLES]
        prefix = rng.choices(titles, weights=[w for _, w in DOCTOR_TITLES])[0]
        qualification, role_text = "Bác sĩ", "Bác sĩ"
    elif role == "nurse":
        prefix, qualification, role_text = "ĐD.", "Điều dưỡng", "Điều dưỡng"
    else:
        prefix, qualification, role_text = "KTV.", "Kỹ thuật viên y", "Kỹ thuật viên"
    practitioner = {
        "resourceType": "Practitioner",
        "id": pid,
        "identifier": [{"system": systems.HEALTHWORKER_EMPLOYEE_NUMBER, "value": f"NV{number:05d}"}],
        "active": True,
        "name": [name.to_fhir(prefix)],
        "telecom": [{"system": "phone", "value": mobile_phone(rng), "use": "work"}],
        "gender": sex,
        "birthDate": f"{birth_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "qualification": [{"code": {"text": qualification}}],
    }
    code = {"doctor": "doctor", "nurse": "nurse"}.get(role)
    coding = [{"system": ROLE, "code": code}] if code else []
    practitioner_role = {
        "resourceType": "PractitionerRole",
        "id": role_id,
        "active": True,
        "practitioner": {"reference": f"Practitioner/{pid}", "display": name.text},
        "organization": org_ref,
        "code": [{"coding": coding, "text": role_text} if coding else {"text": role_text}],
    }
    return Staff(pid, name.text, role), [practitioner, practitioner_role]


def build_facility(seed: int, facility_code: str, today: date) -> Facility:
    """The hospital with code ``facility_code`` (5 digits, first 2 = province) and all its resources."""
    parsed = parse_facility_code(facility_code)
    if parsed.province not in data.provinces():
        raise ValueError(f"facility code {facility_code!r}: {parsed.province} is not a post-2025 province code")
    province = data.provinces()[parsed.province]
    rng = named_rng(seed, f"facility/{facility_code}")
    resources: list[dict[str, Any]] = []
    org_id, payer_id = new_id(rng), new_id(rng)
    name = "Bệnh viện Đa khoa Bệnh Án"
    resources.append({
        "resourceType": "Organization",
        "id": org_id,
        "identifier": [{"use": "official", "type": {"coding": [{"system": systems.V2_IDENTIFIER_TYPE,
                                                                "code": "LN"}]},
                        "system": systems.PROVIDER_CODE, "value": facility_code}],
        "active": True,
        "type": [{"coding": [{"system": ORG_TYPE, "code": "prov", "display": "Healthcare Provider"}],
                  "text": "Bệnh viện đa khoa"}],
        "name": name,
        "alias": ["BVĐK Bệnh Án (dữ liệu mẫu)"],
        "telecom": [{"system": "phone", "value": f"02{rng.randint(10, 99)}{rng.randint(1000000, 9999999)}",
                     "use": "work"}],
        "address": [{k: v for k, v in home_address(rng, province, province.communes[0]).items() if k != "use"}
                    | {"use": "work"}],
    })
    resources.append({
        "resourceType": "Organization",
        "id": payer_id,
        "active": True,
        "type": [{"coding": [{"system": ORG_TYPE, "code": "pay", "display": "Payer"}]}],
        "name": "Bảo hiểm xã hội Việt Nam",
        "alias": ["BHXH Việt Nam"],
    })
    org_ref = {"reference": f"Organization/{org_id}", "display": name}
    units: dict[str, Unit] = {}
    staff_number = 0

    def add_staff(unit: Unit, role: str, count: int) -> None:
        nonlocal staff_number
        for _ in range(count):
            staff_number += 1
            staff, res = _practitioner(rng, today, role, staff_number, unit.org_ref, new_id(rng), new_id(rng))
            resources.extend(res)
            (unit.nurses if role == "nurse" else unit.doctors).append(staff)

    def add_unit(code: str | None, key: str, unit_name: str, kind: str) -> Unit:
        unit = Unit(code, unit_name, kind, new_id(rng), new_id(rng))
        org: dict[str, Any] = {
            "resourceType": "Organization", "id": unit.org_id, "active": True,
            "type": [{"coding": [{"system": ORG_TYPE, "code": "dept", "display": "Hospital Department"}]}],
            "name": unit_name, "partOf": org_ref,
        }
        if code:
            org["identifier"] = [{"system": DEPARTMENT_CODE_SYSTEM, "value": code}]
        resources.append(org)
        physical = "wa" if kind in ("inpatient", "emergency") else "area"
        resources.append({
            "resourceType": "Location", "id": unit.location_id, "status": "active", "name": unit_name,
            "mode": "instance",
            "physicalType": {"coding": [{"system": LOCATION_TYPE, "code": physical}]},
            "managingOrganization": unit.org_ref,
        })
        units[key] = unit
        return unit

    for dept in data.departments():
        unit = add_unit(dept.code, dept.code, dept.name, dept.kind)
        for number in range(1, dept.beds + 1):
            bed_id, bed_name = new_id(rng), f"Giường {number:02d}"
            unit.beds.append((bed_id, bed_name))
            resources.append({
                "resourceType": "Location", "id": bed_id, "status": "active", "name": f"{dept.name} - {bed_name}",
                "mode": "instance",
                "physicalType": {"coding": [{"system": LOCATION_TYPE, "code": "bd"}]},
                "managingOrganization": unit.org_ref,
                "partOf": unit.location_ref,
            })
        if dept.kind == "inpatient":
            add_staff(unit, "doctor", max(2, dept.beds // 6))
            add_staff(unit, "nurse", max(3, dept.beds // 4))
        elif dept.kind == "emergency":
            add_staff(unit, "doctor", 4)
            add_staff(unit, "nurse", 5)
        elif dept.kind == "clinic":
            add_staff(unit, "nurse", 8)
        else:
            add_staff(unit, "doctor", 3)
    for key, unit_name in SUPPORT_UNITS.items():
        unit = add_unit(None, key, unit_name, "support")
        add_staff(unit, "doctor", 2)
        add_staff(unit, "technician", 3)

    clinic_unit = units["K01"]
    clinics: dict[str, list[ClinicRoom]] = {}
    for key, (room_name, count) in CLINICS.items():
        rooms = []
        for number in range(1, count + 1):
            label = f"{room_name} {number}" if count > 1 else room_name
            location_id = new_id(rng)
            resources.append({
                "resourceType": "Location", "id": location_id, "status": "active", "name": label,
                "mode": "instance",
                "physicalType": {"coding": [{"system": LOCATION_TYPE, "code": "ro"}]},
                "managingOrganization": clinic_unit.org_ref,
                "partOf": clinic_unit.location_ref,
            })
            room = ClinicRoom(key, label, location_id, [])
            before = len(clinic_unit.doctors)
            add_staff(clinic_unit, "doctor", 2)
            room.doctors.extend(clinic_unit.doctors[before:])
            rooms.append(room)
        clinics[key] = rooms
    return Facility(facility_code, name, province, org_id, payer_id, units, clinics, resources)
