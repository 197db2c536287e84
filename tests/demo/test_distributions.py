"""Shapes of the synthetic population against the published figures (with sampling tolerances)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from benhan.demo import DemoSpec, Generator, data
from benhan.demo.history import chronic_plans
from benhan.demo.identifiers import _CARRIERS
from benhan.vn import systems
from benhan.vn.cccd import check_consistency, parse_cccd

TODAY = date(2026, 11, 22)
N = 3000


@pytest.fixture(scope="module")
def patients() -> list[tuple[dict, dict | None]]:
    """(Patient, Coverage or None) for N people drawn nationally (no local bias)."""
    generator = Generator(DemoSpec(seed=2, patients=N, today=TODAY, local_share=0.0))
    out = []
    for i in range(N):
        resources = generator.registration(i)
        out.append((resources[0], resources[1] if len(resources) > 1 else None))
    return out


def _identifier(patient: dict, system: str) -> str | None:
    return next((i["value"] for i in patient["identifier"] if i["system"] == system), None)


def _age(patient: dict) -> int:
    born = date.fromisoformat(patient["birthDate"])
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def test_family_names(patients):
    kinh = [p for p, _ in patients if p["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "01"]
    families = Counter(p["name"][0]["family"] for p in kinh)
    assert families["Nguyễn"] / len(kinh) == pytest.approx(0.384, abs=0.035)
    assert families["Trần"] / len(kinh) == pytest.approx(0.11, abs=0.025)
    for p in kinh[:200]:
        name = p["name"][0]
        assert name["text"] == " ".join([name["family"], *name["given"]])  # family name first


def test_sex_ratio_and_age_structure(patients):
    male = sum(p["gender"] == "male" for p, _ in patients) / N
    assert male == pytest.approx(0.498, abs=0.03)
    elderly = sum(_age(p) >= 60 for p, _ in patients) / N
    assert elderly == pytest.approx(0.123, abs=0.025)


def test_ethnic_groups(patients):
    groups = Counter(p["extension"][0]["valueCodeableConcept"]["coding"][0]["display"] for p, _ in patients)
    assert groups["Kinh"] / N == pytest.approx(0.853, abs=0.03)
    assert len(groups) >= 8


def test_bhyt_coverage(patients):
    valid = sum(1 for _, c in patients if c is not None and c["period"]["end"] >= TODAY.isoformat())
    expired = sum(1 for _, c in patients if c is not None and c["period"]["end"] < TODAY.isoformat())
    assert valid / N == pytest.approx(0.93, abs=0.02)
    assert 0 < expired / N < 0.06
    for patient, coverage in patients:
        if coverage is None:
            assert _identifier(patient, systems.INSURANCE_NUMBER) is None
            continue
        code = coverage["identifier"][0]["value"]
        assert _identifier(patient, systems.INSURANCE_NUMBER) == code
        assert len(code) == 15 and code[:2].isalpha() and code[2] in "12345" and code[5:].isdigit()
        assert code[5:] == coverage["subscriberId"]
        group = coverage["class"][0]["value"]
        assert code[:2] == group and code[2] == coverage["class"][1]["value"]
        if _age(patient) < 6:
            assert group == "TE"


def test_cccd_matches_sex_birth_year_and_birth_province(patients):
    adults = 0
    for patient, _ in patients:
        number = _identifier(patient, systems.NATIONAL_ID)
        if _age(patient) >= 14:
            adults += 1
            assert number is not None
        if number is None:
            continue
        cccd = parse_cccd(number)
        assert check_consistency(cccd, patient["gender"], patient["birthDate"]) == []
        birth_place = patient["extension"][1]["valueAddress"]
        province = birth_place["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"]
        assert cccd.province == province.zfill(3)
        assert data.old_provinces()[province].name == birth_place["state"]
    assert adults > N * 0.7
    numbers = [_identifier(p, systems.NATIONAL_ID) for p, _ in patients]
    numbers = [n for n in numbers if n]
    assert len(numbers) == len(set(numbers))


def test_addresses_and_phones(patients):
    prefixes = {prefix for group, _ in _CARRIERS for prefix in group}
    for patient, _ in patients:
        address = patient["address"][0]
        codes = {e["url"]: e["valueCodeableConcept"]["coding"][0]["code"] for e in address["extension"][0]["extension"]}
        province = data.provinces()[codes["state"]]
        assert address["state"] == province.full_name
        assert any(c.code == codes["ward"] and c.name == address["city"] for c in province.communes)
        for telecom in patient.get("telecom", []):
            assert len(telecom["value"]) == 10 and telecom["value"][:3] in prefixes


def test_chronic_disease_follows_age():
    """Hypertension diagnosed and followed in about 1 in 8 people aged 45-69, rare before 30 (STEPS 2021 shape)."""
    rng = random.Random(5)
    young = older = young_i10 = older_i10 = 0
    for _ in range(4000):
        age = rng.randint(18, 69)
        plans = chronic_plans(rng, age, rng.choice(("male", "female")), date(2024, 1, 1), TODAY, date(1950, 1, 1))
        has_i10 = any(p.condition.code == "I10" for p in plans)
        if age < 30:
            young, young_i10 = young + 1, young_i10 + has_i10
        elif age >= 45:
            older, older_i10 = older + 1, older_i10 + has_i10
    assert young_i10 / young < 0.02
    assert older_i10 / older == pytest.approx(0.13, abs=0.03)


def test_reference_data_is_complete():
    assert len(data.provinces()) == 34
    assert len(data.old_provinces()) == 63
    assert all(p.communes for p in data.provinces().values())
    assert len(data.ethnic_groups()) == 54
