"""The simulated staff of ``workday.py``: Locust users doing a clinic's mix over HTTP.

Receptionists register and look up patients; doctors open charts, record diagnoses, order labs and
prescribe; nurses record vital signs; lab technicians post results (nurses may not: policy.toml).
Everyone checks today's worklist. Every
request is named by its action, so Locust's own statistics give the latency per action.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

CCCD_SYSTEM = "http://fhir.ehealth.gov.vn/core/sid/national_id"
BHYT_SYSTEM = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
FHIR_JSON = "application/fhir+json"
FAMILIES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ")
MIDDLES = ("Văn", "Thị", "Minh", "Ngọc", "Thanh", "Hữu", "Đức", "Thu")
GIVENS = ("An", "Bình", "Châu", "Dũng", "Hà", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Nam", "Phương", "Tâm",
          "Trang")
NAME_PREFIXES = ("ngu", "tran", "le", "pham", "hoang", "van", "thi", "minh", "lan", "hung", "thanh", "huyen")
ICD_CODES = (("I10", "Tăng huyết áp vô căn"), ("E11.9", "Đái tháo đường type 2"), ("J06.9", "Nhiễm trùng hô hấp trên"),
             ("K29.7", "Viêm dạ dày"), ("M54.5", "Đau thắt lưng"))
LABS = (("718-7", "Hemoglobin", "g/dL", 10.0, 17.0), ("2345-7", "Glucose", "mg/dL", 70.0, 200.0),
        ("2160-0", "Creatinine", "mg/dL", 0.5, 1.5))
DRUGS = ("Amlodipin 5 mg", "Metformin 500 mg", "Paracetamol 500 mg", "Omeprazol 20 mg", "Amoxicilin 500 mg")


@dataclass
class Targets:
    """What the simulated staff work on: existing patients (id, name, CCCD, BHYT) and the tokens per role."""

    tokens: dict[str, str]
    patients: list[dict[str, Any]]
    cccds: list[str]
    bhyts: list[str]
    today: str
    serial: itertools.count = field(default_factory=lambda: itertools.count(1))


TARGETS: Targets | None = None  # set by workday.py before the users start


def _targets() -> Targets:
    assert TARGETS is not None, "workday_users.TARGETS must be set before starting the users"
    return TARGETS


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _cccd(rng: random.Random, gender: str, year: int, serial: int) -> str:
    """A well-formed 12-digit CCCD: province, gender/century, birth year, 6 digits (unique per run)."""
    digit = (0 if year < 2000 else 2) + (1 if gender == "female" else 0)
    return f"0{rng.randint(1, 96):02d}{digit}{year % 100:02d}{(serial * 7919 + rng.randrange(1000)) % 10**6:06d}"


class Staff(FastHttpUser):
    """Common behaviour: bearer token of the role, JSON helpers, lookups and the worklist."""

    abstract = True
    role = "bacsi"
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.auth = {"Authorization": f"Bearer {_targets().tokens[self.role]}", "Accept": FHIR_JSON}

    def get(self, path: str, name: str) -> Any:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}")
                return None
            return orjson.loads(resp.content)  # the stdlib parser was a third of the driver's CPU

    def post(self, path: str, body: dict[str, Any], name: str, content_type: str = FHIR_JSON) -> Any:
        headers = {**self.auth, "Content-Type": content_type}
        with self.client.post(path, data=orjson.dumps(body), headers=headers, name=name,
                              catch_response=True) as resp:
            if resp.status_code not in (200, 201):
                resp.failure(f"HTTP {resp.status_code}")
                return None
            return orjson.loads(resp.content) if resp.content else {}

    def patient(self) -> dict[str, Any]:
        return self.rng.choice(_targets().patients)

    @task(3)
    def worklist(self) -> None:
        """Today's clinic queue (Encounters arrived / in progress) and booked appointments."""
        self.get("/fhir/Encounter?status=arrived,in-progress&_sort=-date&_count=50&_include=Encounter:subject",
                 "worklist")

    @task(3)
    def lookup_name(self) -> None:
        self.get(f"/fhir/Patient?name={self.rng.choice(NAME_PREFIXES)}&_count=20", "lookup_name")


class Receptionist(Staff):
    """Tiếp đón: registers patients, finds them by name, CCCD and BHYT, checks today's appointments."""

    role = "tiepdon"
    weight = 1

    @task(2)
    def register(self) -> None:
        t = _targets()
        gender = self.rng.choice(("male", "female"))
        year = self.rng.randint(1940, 2020)
        serial = next(t.serial)
        name = f"{self.rng.choice(FAMILIES)} {self.rng.choice(MIDDLES)} {self.rng.choice(GIVENS)} {serial}"
        body = {"name": name, "gender": gender, "birthDate": f"{year}-{self.rng.randint(1, 12):02d}-"
                f"{self.rng.randint(1, 28):02d}", "nationalId": _cccd(self.rng, gender, year, serial),
                "phone": f"09{self.rng.randrange(10**8):08d}"}
        self.post("/api/registration?confirmedNew=true", body, "register", "application/json")

    @task(3)
    def lookup_cccd(self) -> None:
        self.get(f"/fhir/Patient?identifier={CCCD_SYSTEM}|{self.rng.choice(_targets().cccds)}", "lookup_cccd")

    @task(2)
    def lookup_bhyt(self) -> None:
        t = _targets()
        if t.bhyts:
            self.get(f"/fhir/Patient?identifier={BHYT_SYSTEM}|{self.rng.choice(t.bhyts)}", "lookup_bhyt")

    @task(1)
    def appointments_today(self) -> None:
        self.get(f"/fhir/Appointment?date={_targets().today}&_count=50", "appointments_today")


class Doctor(Staff):
    """Bác sĩ: opens a chart, records a diagnosis, orders labs, prescribes."""

    role = "bacsi"
    weight = 2

    @task(4)
    def open_chart(self) -> None:
        pid = self.patient()["id"]
        self.get(f"/fhir/Patient/{pid}", "chart_patient")
        self.get(f"/fhir/Observation?subject=Patient/{pid}&_sort=-date&_count=50", "chart_observations")
        self.get(f"/fhir/Condition?subject=Patient/{pid}&_count=50", "chart_conditions")
        self.get(f"/fhir/MedicationRequest?subject=Patient/{pid}&_count=50", "chart_medications")

    @task(2)
    def diagnose(self) -> None:
        code, text = self.rng.choice(ICD_CODES)
        body = {"resourceType": "Condition", "subject": {"reference": f"Patient/{self.patient()['id']}"},
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                               "code": "active"}]},
                "code": {"coding": [{"system": ICD10, "code": code, "display": text}], "text": text},
                "recordedDate": _now()}
        self.post("/fhir/Condition", body, "diagnose")

    @task(2)
    def order_lab(self) -> None:
        code, text, *_ = self.rng.choice(LABS)
        body = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
                "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "108252007"}]}],
                "code": {"coding": [{"system": LOINC, "code": code, "display": text}]},
                "subject": {"reference": f"Patient/{self.patient()['id']}"}, "authoredOn": _now()}
        self.post("/fhir/ServiceRequest", body, "order_lab")

    @task(2)
    def prescribe(self) -> None:
        drug = self.rng.choice(DRUGS)
        body = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "medicationCodeableConcept": {"text": drug},
                "subject": {"reference": f"Patient/{self.patient()['id']}"}, "authoredOn": _now(),
                "dosageInstruction": [{"text": "Ngày 1 viên, uống sau ăn sáng"}]}
        self.post("/fhir/MedicationRequest", body, "prescribe")


class Nurse(Staff):
    """Điều dưỡng: records vital signs."""

    role = "dieuduong"
    weight = 1

    @task(4)
    def vitals(self) -> None:
        pid = self.patient()["id"]
        body = {"resourceType": "Observation", "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "vital-signs"}]}],
                "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}]},
                "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _now(),
                "component": [
                    {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                     "valueQuantity": {"value": self.rng.randint(100, 170), "unit": "mmHg",
                                       "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                    {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                     "valueQuantity": {"value": self.rng.randint(60, 100), "unit": "mmHg",
                                       "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]}
        self.post("/fhir/Observation", body, "vitals")


class LabTechnician(Staff):
    """Kỹ thuật viên xét nghiệm: posts lab results (Observation + DiagnosticReport in one transaction)."""

    role = "ktv"
    weight = 1

    @task(4)
    def post_result(self) -> None:
        code, text, unit, lo, hi = self.rng.choice(LABS)
        pid = self.patient()["id"]
        oid = str(uuid.uuid4())
        obs = {"resourceType": "Observation", "status": "final",
               "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                         "code": "laboratory"}]}],
               "code": {"coding": [{"system": LOINC, "code": code, "display": text}]},
               "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _now(),
               "valueQuantity": {"value": round(self.rng.uniform(lo, hi), 1), "unit": unit}}
        report = {"resourceType": "DiagnosticReport", "status": "final",
                  "code": {"coding": [{"system": LOINC, "code": code, "display": text}]},
                  "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _now(),
                  "result": [{"reference": f"urn:uuid:{oid}"}]}
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:{oid}", "resource": obs, "request": {"method": "POST", "url": "Observation"}},
            {"resource": report, "request": {"method": "POST", "url": "DiagnosticReport"}}]}
        self.post("/fhir", bundle, "post_result")
