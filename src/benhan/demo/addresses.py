"""Home addresses in the two-level administrative units in force since 01/07/2025 (province + commune).

The house line is made up (house numbers, streets named after historical figures, as in most Vietnamese
towns; hamlets numbered in the countryside, "ấp" in the south); commune and province are real units
(data/communes.csv, data/provinces.csv) and carry their GSO codes in the VN Core
administrative-address extension.
"""

from __future__ import annotations

import random
from typing import Any

from benhan.vn import systems

from .data import Commune, OldProvince, Province

STREETS = (
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung", "Nguyễn Trãi",
    "Lê Duẩn", "Hùng Vương", "Phan Chu Trinh", "Trần Phú", "Điện Biên Phủ", "Võ Thị Sáu", "Bà Triệu",
    "Hoàng Diệu", "Ngô Quyền", "Lê Hồng Phong", "Nguyễn Du", "Phan Đình Phùng", "Nguyễn Văn Cừ",
)


def house_line(rng: random.Random, commune: Commune, region: str) -> str:
    if commune.name.startswith("Đặc khu"):
        return f"Tổ dân phố {rng.randint(1, 15)}"
    if commune.is_urban:
        street = rng.choice(STREETS)
        number = rng.randint(1, 350)
        if region == "S" and rng.random() < 0.4:
            return f"{number}/{rng.randint(1, 60)} {street}"
        if region == "N" and rng.random() < 0.4:
            return f"Số {rng.randint(1, 80)} ngõ {number} {street}"
        return f"Số {number} {street}"
    if region == "S":
        return f"Ấp {rng.randint(1, 12)}"
    return f"{'Xóm' if region == 'N' and rng.random() < 0.4 else 'Thôn'} {rng.randint(1, 20)}"


def _coded(system_code: str, display: str, url: str) -> dict[str, Any]:
    return {"url": url, "valueCodeableConcept": {
        "coding": [{"system": systems.ADMINISTRATIVE_ADDRESS, "code": system_code, "display": display}]}}


def home_address(rng: random.Random, province: Province, commune: Commune) -> dict[str, Any]:
    """A FHIR Address: ``line`` house, ``city`` commune/ward, ``state`` province, with GSO codes."""
    line = house_line(rng, commune, province.region)
    return {
        "extension": [{"url": systems.EXT_ADMINISTRATIVE_ADDRESS, "extension": [
            _coded(province.code, province.full_name, "state"),
            _coded(commune.code, commune.name, "ward"),
        ]}],
        "use": "home",
        "type": "physical",
        "text": f"{line}, {commune.name}, {province.full_name}",
        "line": [line],
        "city": commune.name,
        "state": province.full_name,
        "country": "VN",
    }


def birth_place(province: OldProvince) -> dict[str, Any]:
    """Extension ``patient-birthPlace``: the province (pre-2025 unit) where the birth was registered."""
    return {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
        "extension": [{"url": systems.EXT_ADMINISTRATIVE_ADDRESS,
                       "extension": [_coded(province.code, province.name, "state")]}],
        "state": province.name, "country": "VN"}}
