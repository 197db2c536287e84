"""Realistic clinical test data for benchmarks, replicated from real Synthea R4 bundles.

The 32 Synthea transaction bundles in ``tests/data/synthea`` (Patients with Encounters,
Observations, Conditions, Procedures, Immunizations, Claims, EOBs, MedicationRequests,
DiagnosticReports, ...) are the templates. Each generated bundle is one template with

* fresh ``urn:uuid:`` fullUrls and references (every UUID in the template is remapped),
* all dates shifted by the same random number of days (0-730 back), so no two copies are equal,
* a Vietnamese patient: family name drawn with the real-world frequency (Nguyễn ~38 %, Trần, Lê,
  Phạm, Hoàng...), middle and given names with diacritics, a 12-digit CCCD (Căn cước công dân)
  under ``http://fhir.ehealth.gov.vn/core/sid/national_id``, a BHYT card number and a hospital MRN,
  so name and identifier searches have realistic selectivity.

Everything is driven by one seeded :class:`random.Random`: the same seed gives the same data.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
SYNTHEA_DIR = ROOT / "tests" / "data" / "synthea"

CCCD_SYSTEM = "http://fhir.ehealth.gov.vn/core/sid/national_id"
BHYT_SYSTEM = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"
MRN_SYSTEM = "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id"
LOINC = "http://loinc.org"

# Family names and their approximate share of the population (percent).
FAMILY_NAMES: list[tuple[str, float]] = [
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Hoàng", 3.1), ("Huỳnh", 2.0),
    ("Phan", 4.5), ("Vũ", 2.0), ("Võ", 1.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.8), ("Trương", 0.8), ("Đoàn", 0.6),
    ("Trịnh", 0.5), ("Lương", 0.5), ("Lâm", 0.5), ("Mai", 0.5), ("Hà", 0.5), ("Cao", 0.4),
    ("Châu", 0.3), ("Tạ", 0.3), ("Lưu", 0.3), ("Quách", 0.2), ("Kiều", 0.2), ("Tôn", 0.1),
]
MIDDLE_NAMES = {
    "male": ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công", "Xuân", "Ngọc", "Gia", "Hoàng",
             "Trọng", "Đình", "Bá", "Quang", "Tuấn", "Anh"],
    "female": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Mỹ", "Hồng", "Diệu", "Phương", "Thùy",
               "Khánh", "Minh", "Như", "Cẩm"],
}
GIVEN_NAMES = {
    "male": ["Anh", "Bảo", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Dương", "Hải", "Hiếu", "Hòa", "Hùng",
             "Huy", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân",
             "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Thiện", "Thịnh",
             "Tiến", "Toàn", "Trí", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Hưng", "Hoàng"],
    "female": ["Anh", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng",
               "Hương", "Huyền", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc",
               "Nhung", "Oanh", "Phương", "Quyên", "Quỳnh", "Thảo", "Thu", "Thủy", "Trang", "Trâm",
               "Tuyết", "Uyên", "Vân", "Vy", "Xuân", "Yến", "Nhi", "Hoài"],
}
# (CCCD province code, city) — the first three digits of a CCCD are the province of birth registration.
PROVINCES: list[tuple[str, str]] = [
    ("001", "Hà Nội"), ("079", "Thành phố Hồ Chí Minh"), ("031", "Hải Phòng"), ("048", "Đà Nẵng"),
    ("092", "Cần Thơ"), ("038", "Thanh Hóa"), ("040", "Nghệ An"), ("036", "Nam Định"),
    ("034", "Thái Bình"), ("075", "Đồng Nai"), ("074", "Bình Dương"), ("046", "Thừa Thiên Huế"),
    ("052", "Bình Định"), ("056", "Khánh Hòa"), ("066", "Đắk Lắk"), ("089", "An Giang"),
]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ",
           "Phan Chu Trinh", "Quang Trung", "Lê Duẩn", "Nguyễn Huệ", "Bà Triệu", "Hoàng Diệu"]
BHYT_PREFIXES = ["DN", "HC", "GD", "TE", "HT", "CN", "HN", "XN", "BT", "SV"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r'"(\d{4})-(\d{2})-(\d{2})')
_PATIENT_SLOT = '"__BENHAN_PATIENT__"'


@dataclass(frozen=True, slots=True)
class Template:
    """One Synthea bundle, prepared for fast copying."""

    name: str
    text: str  # the bundle as JSON, with the Patient resource replaced by a placeholder
    patient: dict[str, Any]
    resources: int
    encounters: int


@dataclass(slots=True)
class PatientFacts:
    """What the query generators need to know about one generated patient."""

    full_url: str  # urn:uuid: of the Patient entry (the server assigns the real id)
    cccd: str
    family: str
    given: list[str]
    gender: str
    encounters: int
    resources: int
    # LOINC code -> effective dates (YYYY-MM-DD) of this patient's Observations with that code
    observations: dict[str, list[str]] = field(default_factory=dict)
    server_id: str | None = None


@dataclass(slots=True)
class GeneratedBundle:
    """A transaction bundle ready to POST, and the facts about its patient."""

    body: bytes
    resources: int
    patient: PatientFacts


@cache
def load_templates(directory: Path = SYNTHEA_DIR) -> tuple[Template, ...]:
    """Parse the Synthea bundles once; the Patient resource becomes a placeholder in the text."""
    out = []
    for path in sorted(directory.glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        entries = bundle["entry"]
        patient_entry = next(e for e in entries if e["resource"]["resourceType"] == "Patient")
        patient = patient_entry["resource"]
        patient_entry["resource"] = "__BENHAN_PATIENT__"
        text = orjson.dumps(bundle).decode()
        encounters = sum(1 for e in entries if isinstance(e["resource"], dict)
                         and e["resource"]["resourceType"] == "Encounter")
        out.append(Template(path.stem, text, patient, len(entries), encounters))
    if not out:
        raise FileNotFoundError(f"no Synthea bundles in {directory}")
    return tuple(out)


def _new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _shift_dates(text: str, days: int) -> str:
    """Shift every JSON string that starts with a date (YYYY-MM-DD) by ``days``."""
    delta = dt.timedelta(days=days)

    def repl(m: re.Match[str]) -> str:
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + delta
        except ValueError:
            return m.group(0)
        return f'"{d.isoformat()}'

    return _DATE.sub(repl, text)


def _remap_uuids(text: str, rng: random.Random) -> tuple[str, dict[str, str]]:
    """Replace every UUID by a fresh one (consistently, so references still resolve)."""
    mapping: dict[str, str] = {}

    def repl(m: re.Match[str]) -> str:
        old = m.group(0)
        new = mapping.get(old)
        if new is None:
            new = mapping[old] = _new_uuid(rng)
        return new

    return _UUID.sub(repl, text), mapping


class ClinicalDataGenerator:
    """Deterministic stream of Vietnamese-patient transaction bundles built from Synthea templates."""

    def __init__(self, seed: int = 20250930) -> None:
        self.rng = random.Random(seed)
        self.templates = load_templates()
        self._families = [f for f, _ in FAMILY_NAMES]
        self._family_weights = [w for _, w in FAMILY_NAMES]
        self._cccd_used: set[str] = set()

    # ------------------------------------------------------------------ patients

    def _cccd(self, gender: str, birth_date: str, province: str) -> str:
        """12 digits: province (3), gender/century (1), birth year (2), random (6); unique."""
        year = int(birth_date[:4])
        century_offset = 0 if year < 2000 else 2
        gender_digit = century_offset + (1 if gender == "female" else 0)
        while True:
            value = f"{province}{gender_digit}{year % 100:02d}{self.rng.randrange(10**6):06d}"
            if value not in self._cccd_used:
                self._cccd_used.add(value)
                return value

    def vietnamese_patient(self, template: Template, days: int, full_url: str) -> dict[str, Any]:
        """The template's Patient, re-identified as a Vietnamese person (same clinical shape)."""
        rng = self.rng
        p = copy.deepcopy(template.patient)
        gender = p.get("gender") if p.get("gender") in ("male", "female") else rng.choice(["male", "female"])
        family = rng.choices(self._families, self._family_weights)[0]
        given = [rng.choice(MIDDLE_NAMES[gender]), rng.choice(GIVEN_NAMES[gender])]
        birth = (dt.date.fromisoformat(p["birthDate"]) - dt.timedelta(days=days)).isoformat()
        code, city = rng.choice(PROVINCES)
        cccd = self._cccd(gender, birth, code)
        p["id"] = full_url.removeprefix("urn:uuid:")
        p["gender"] = gender
        p["birthDate"] = birth
        p["extension"] = [e for e in p.get("extension", []) if "us/core" not in e.get("url", "")
                          and "birthPlace" not in e.get("url", "")]
        for ext in p["extension"]:
            if ext.get("url", "").endswith("patient-mothersMaidenName"):
                mother = [rng.choices(self._families, self._family_weights)[0],
                          rng.choice(MIDDLE_NAMES["female"]), rng.choice(GIVEN_NAMES["female"])]
                ext["valueString"] = " ".join(mother)
        p["identifier"] = [
            {"use": "official", "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                     "code": "NI", "display": "National unique individual identifier"}],
                                         "text": "Căn cước công dân"},
             "system": CCCD_SYSTEM, "value": cccd},
            {"type": {"text": "Thẻ bảo hiểm y tế"}, "system": BHYT_SYSTEM,
             "value": f"{rng.choice(BHYT_PREFIXES)}{rng.randint(1, 5)}{code[1:]}{rng.randrange(10**10):010d}"},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
             "system": MRN_SYSTEM, "value": f"BN{rng.randrange(10**8):08d}"},
        ]
        p["name"] = [{"use": "official", "text": " ".join([family, *given]), "family": family, "given": given}]
        p["telecom"] = [{"system": "phone", "value": f"09{rng.randrange(10**8):08d}", "use": "mobile"}]
        p["address"] = [{"use": "home", "line": [f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}"],
                         "city": city, "country": "VN"}]
        p["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "vi",
                                                        "display": "Tiếng Việt"}], "text": "Tiếng Việt"}}]
        return p

    # ------------------------------------------------------------------ bundles

    def bundle(self) -> GeneratedBundle:
        """The next bundle: a random template, fresh UUIDs, shifted dates, a Vietnamese patient."""
        template = self.rng.choice(self.templates)
        days = self.rng.randint(0, 730)
        text, mapping = _remap_uuids(template.text, self.rng)
        text = _shift_dates(text, -days)
        old_patient_url = template.patient["id"]
        full_url = "urn:uuid:" + mapping.get(old_patient_url, _new_uuid(self.rng))
        patient = self.vietnamese_patient(template, days, full_url)
        body = text.replace(_PATIENT_SLOT, orjson.dumps(patient).decode(), 1).encode()
        facts = _facts(patient, full_url, body, template)
        return GeneratedBundle(body, template.resources, facts)

    def bundles(self) -> Iterator[GeneratedBundle]:
        while True:
            yield self.bundle()

    def everything_patient(self, size: int = 500) -> GeneratedBundle:
        """One patient whose compartment holds exactly ``size`` resources (the Patient included).

        Clinical entries of several templates are re-pointed at one patient, one Organization and
        one Practitioner (those two are referenced, not in the compartment); the remainder is filled
        with copies of Observations of an included Encounter.
        """
        first = self.bundle()
        doc = orjson.loads(first.body)
        entries = doc["entry"]
        patient_url = first.patient.full_url
        org_url = next(e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "Organization")
        prac_url = next(e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "Practitioner")
        kept = [e for e in entries if e["resource"]["resourceType"] not in ("Organization", "Practitioner")]
        shared = {"Organization", "Practitioner", "Patient"}
        while len(kept) < size:
            extra = orjson.loads(self.bundle().body)["entry"]
            old_patient = next(e["fullUrl"] for e in extra if e["resource"]["resourceType"] == "Patient")
            old_org = [e["fullUrl"] for e in extra if e["resource"]["resourceType"] == "Organization"]
            old_prac = [e["fullUrl"] for e in extra if e["resource"]["resourceType"] == "Practitioner"]
            clinical = [e for e in extra if e["resource"]["resourceType"] not in shared]
            if len(kept) + len(clinical) > size:
                break
            text = orjson.dumps(clinical).decode().replace(old_patient, patient_url)
            for old in old_org:
                text = text.replace(old, org_url)
            for old in old_prac:
                text = text.replace(old, prac_url)
            kept.extend(orjson.loads(text))
        observations = [e for e in kept if e["resource"]["resourceType"] == "Observation"]
        while len(kept) < size:
            obs = copy.deepcopy(self.rng.choice(observations))
            obs["fullUrl"] = "urn:uuid:" + _new_uuid(self.rng)
            obs["resource"]["id"] = obs["fullUrl"].removeprefix("urn:uuid:")
            kept.append(obs)
        org = next(e for e in entries if e["fullUrl"] == org_url)
        prac = next(e for e in entries if e["fullUrl"] == prac_url)
        doc["entry"] = [*kept, org, prac]
        body = orjson.dumps(doc)
        patient = next(e["resource"] for e in kept if e["resource"]["resourceType"] == "Patient")
        facts = _facts(patient, patient_url, body, None)
        return GeneratedBundle(body, len(doc["entry"]), facts)


def _facts(patient: dict[str, Any], full_url: str, body: bytes, template: Template | None) -> PatientFacts:
    """Collect the patient's name, CCCD, encounter count and Observation codes/dates."""
    doc = orjson.loads(body)
    observations: dict[str, list[str]] = {}
    encounters = 0
    for e in doc["entry"]:
        r = e["resource"]
        if r["resourceType"] == "Encounter":
            encounters += 1
        elif r["resourceType"] == "Observation":
            coding = (r.get("code") or {}).get("coding") or []
            when = r.get("effectiveDateTime")
            if coding and coding[0].get("system") == LOINC and when:
                observations.setdefault(coding[0]["code"], []).append(when[:10])
    name = patient["name"][0]
    cccd = next(i["value"] for i in patient["identifier"] if i["system"] == CCCD_SYSTEM)
    return PatientFacts(full_url, cccd, name["family"], list(name["given"]), patient["gender"], encounters,
                        len(doc["entry"]) if template is None else template.resources, observations)
