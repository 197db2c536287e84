"""One patient's record as FHIR resources: the Patient, the insurance card, allergies, and the common
builders (Encounter, Condition) that the visit writers in :mod:`benhan.demo.episodes` use.

A :class:`Chart` owns the patient's random stream; every resource id comes from it, so the chart is
the same for the same seed and patient number, whichever process builds it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from benhan.vn import systems

from . import coverage
from . import diagnoses as dx
from .addresses import birth_place, home_address
from .facility import Facility, Staff
from .history import ChronicPlan
from .identifiers import cccd_number, mobile_phone
from .labs import LabState
from .names import vietnamese_name
from .population import Person
from .rand import new_id
from .timefmt import age_on, fhir_date, fhir_datetime
from .vitals import Physique

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
UCUM = "http://unitsofmeasure.org"
ENCOUNTER_CLASS = {"AMB": "ambulatory", "EMER": "emergency", "IMP": "inpatient encounter"}
CHILD_CCCD_SHARE = 0.8  # children under 14 whose personal ID number is known at registration (our guess)

ALLERGIES = (  # (text, category, criticality, reaction, weight); shares among the 4% with an allergy: ours
    ("Penicillin", "medication", "high", "Nổi mề đay toàn thân, khó thở", 35),
    ("Thuốc chống viêm không steroid (NSAID)", "medication", "low", "Phù mi mắt, nổi ban", 15),
    ("Hải sản (tôm, cua)", "food", "low", "Nổi mề đay, ngứa", 35),
    ("Bụi nhà, phấn hoa", "environment", "low", "Hắt hơi, chảy nước mũi", 15),
)
ALLERGY_SHARE = 0.04


@dataclass(frozen=True, slots=True)
class Spec:
    """What every chart needs to know about the run."""

    seed: int
    facility: Facility
    today: date
    now: datetime
    history_start: date


class Chart:
    """Accumulates one patient's resources in the order they must be written (referenced first)."""

    def __init__(self, spec: Spec, index: int, rng: random.Random, person: Person, cccd_serial: int,
                 bhxh_serial: int) -> None:
        self.spec = spec
        self.index = index
        self.rng = rng
        self.person = person
        self.resources: list[dict[str, Any]] = []
        self.patient_id = self.new_id()
        self.patient_ref = f"Patient/{self.patient_id}"
        self.physique = Physique.draw(rng, person.sex, person.birth_date)
        self.card = coverage.draw_card(rng, person, bhxh_serial, spec.today, spec.facility.code,
                                       spec.history_start)
        self.allergy: str | None = None
        if rng.random() < ALLERGY_SHARE:
            self.allergy = rng.choices(ALLERGIES, weights=[a[4] for a in ALLERGIES])[0][0]
        self.plans: list[ChronicPlan] = []
        self.last_done: dict[str, date] = {}
        self.visits = 0
        self.height_measured = False
        self.allergy_recorded = False
        self._patient(cccd_serial)

    # ------------------------------------------------------------------ basics

    def new_id(self) -> str:
        return new_id(self.rng)

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        resource.setdefault("id", self.new_id())
        self.resources.append(resource)
        return resource

    def age(self, day: date) -> int:
        return age_on(self.person.birth_date, day)

    def lab_state(self, state: str | None = None, codes: set[str] | None = None) -> LabState:
        codes = (codes or set()) | {p.condition.code for p in self.plans if p.recorded}
        return LabState(self.person.sex, self.age(self.spec.today), diabetic="E11.9" in codes,
                        dyslipidaemia="E78.5" in codes, ckd="N18.9" in codes, hbv="B18.1" in codes,
                        fatty_liver="K76.0" in codes, anaemia="D50.9" in codes, bacterial=state == "bacterial",
                        dengue=state == "dengue", viral=state == "viral")

    # ------------------------------------------------------------------ Patient, Coverage

    def _patient(self, cccd_serial: int) -> None:
        person, rng, spec = self.person, self.rng, self.spec
        age = self.age(spec.today)
        name = vietnamese_name(rng, person.sex, person.birth_date.year, person.province.region, person.ethnic.names)
        identifiers: list[dict[str, Any]] = [{
            "use": "usual", "type": {"coding": [{"system": systems.V2_IDENTIFIER_TYPE, "code": "PI"}]},
            "system": systems.PATIENT_INTERNAL_ID, "value": f"BN{self.index + 1:08d}"}]
        if age >= 14 or rng.random() < CHILD_CCCD_SHARE:
            identifiers.append({
                "use": "official", "type": {"coding": [{"system": systems.V2_IDENTIFIER_TYPE, "code": "NI"}],
                                            "text": "Số định danh cá nhân (CCCD)"},
                "system": systems.NATIONAL_ID,
                "value": cccd_number(person.birth_province.code, person.sex, person.birth_date, cccd_serial)})
        if self.card is not None:
            identifiers.append(coverage.patient_identifier(self.card))
        patient: dict[str, Any] = {
            "resourceType": "Patient", "id": self.patient_id,
            "extension": [
                {"url": systems.EXT_RACE, "valueCodeableConcept": {
                    "coding": [{"system": systems.RACE, "code": person.ethnic.code, "display": person.ethnic.display}],
                    "text": person.ethnic.display}},
                birth_place(person.birth_province),
            ],
            "identifier": identifiers, "active": True, "name": [name.to_fhir()],
            "gender": person.sex, "birthDate": fhir_date(person.birth_date),
            "address": [home_address(rng, person.province, person.commune)],
            "managingOrganization": spec.facility.org_ref,
        }
        if age >= 15:
            patient["telecom"] = [{"system": "phone", "value": mobile_phone(rng), "use": "mobile"}]
            status = "W" if age >= 65 and rng.random() < (0.45 if person.sex == "female" else 0.12) else \
                "M" if age >= 22 and rng.random() < 0.8 else "S"
            patient["maritalStatus"] = {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": status}],
                "text": {"M": "Có vợ/chồng", "S": "Độc thân", "W": "Góa"}[status]}
        if age < 16 or rng.random() < 0.5:
            patient["contact"] = [self._contact(name.family, age)]
        self.add(patient)
        if self.card is not None:
            self.add(coverage.coverage_resource(self.card, self.patient_ref, spec.facility.payer_ref))

    def _contact(self, family: str, age: int) -> dict[str, Any]:
        rng, person = self.rng, self.person
        if age < 16:
            relation, sex = ("Mẹ", "female") if rng.random() < 0.7 else ("Bố", "male")
            birth_year = person.birth_date.year - rng.randint(22, 38)
        elif age >= 60:
            relation, sex = ("Con trai", "male") if rng.random() < 0.5 else ("Con gái", "female")
            birth_year = person.birth_date.year + rng.randint(20, 35)
        else:
            relation, sex = ("Vợ", "female") if person.sex == "male" else ("Chồng", "male")
            birth_year = person.birth_date.year + rng.randint(-5, 5)
        name = vietnamese_name(rng, sex, birth_year, person.province.region, person.ethnic.names)
        if relation in ("Bố", "Con trai", "Con gái") and person.ethnic.names == "kinh":
            name = type(name)(family, name.given, " ".join((family, *name.given)))
        return {
            "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N",
                                          "display": "Next-of-Kin"}], "text": relation}],
            "name": name.to_fhir(), "telecom": [{"system": "phone", "value": mobile_phone(rng), "use": "mobile"}],
            "gender": sex,
        }

    def record_allergy(self, when: datetime, recorder: Staff) -> None:
        if self.allergy is None or self.allergy_recorded:
            return
        self.allergy_recorded = True
        text, category, criticality, reaction, _ = next(a for a in ALLERGIES if a[0] == self.allergy)
        self.add({
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "code": "confirmed"}]},
            "type": "allergy", "category": [category], "criticality": criticality,
            "code": {"text": text}, "patient": {"reference": self.patient_ref},
            "recordedDate": fhir_datetime(when), "recorder": recorder.ref,
            "reaction": [{"manifestation": [{"text": reaction}],
                          "severity": "severe" if criticality == "high" else "mild"}],
        })

    # ------------------------------------------------------------------ Encounter, Condition

    def encounter(self, eid: str, klass: str, status: str, start: datetime, end: datetime | None, *, type_text: str,
                  doctor: Staff, provider: dict[str, str], locations: list[dict[str, str]],
                  diagnoses: list[tuple[str, str]] | None = None, **extra: Any) -> dict[str, Any]:
        """An Encounter; ``diagnoses`` are (Condition id, diagnosis-role code), main diagnosis first."""
        self.visits += 1
        period: dict[str, str] = {"start": fhir_datetime(start)}
        if end is not None:
            period["end"] = fhir_datetime(end)
        location_status = "completed" if status == "finished" else "planned" if status == "arrived" else "active"
        encounter: dict[str, Any] = {
            "resourceType": "Encounter", "id": eid,
            "identifier": [{"system": systems.ENCOUNTER_VISIT_NUMBER,
                            "value": f"LK{self.index + 1:08d}.{self.visits:04d}"}],
            "status": status, "class": {"system": ACT_CODE, "code": klass, "display": ENCOUNTER_CLASS[klass]},
            "type": [{"text": type_text}], "subject": {"reference": self.patient_ref},
            "participant": [{"type": [{"coding": [{"system": PARTICIPATION, "code": "ATND",
                                                   "display": "attender"}]}], "individual": doctor.ref}],
            "period": period,
            "location": [{"location": loc, "status": location_status} for loc in locations],
            "serviceProvider": provider,
        }
        if diagnoses:
            encounter["diagnosis"] = [
                {"condition": {"reference": f"Condition/{cid}"},
                 "use": {"coding": [{"system": DIAGNOSIS_ROLE, "code": role}]}, "rank": rank}
                for rank, (cid, role) in enumerate(diagnoses, start=1)]
        encounter.update(extra)
        return encounter

    def condition(self, code: str, *, category: str, onset: datetime | date, recorded: datetime,
                  encounter_id: str | None, asserter: Staff, abated: datetime | None = None) -> dict[str, Any]:
        active = abated is None or abated > self.spec.now
        resource: dict[str, Any] = {
            "resourceType": "Condition", "id": self.new_id(),
            "clinicalStatus": {"coding": [{"system": dx.CLINICAL, "code": "active" if active else "resolved"}]},
            "verificationStatus": {"coding": [{"system": dx.VERIFICATION, "code": "confirmed"}]},
            "category": [{"coding": [{"system": dx.CATEGORY, "code": category}]}],
            "code": dx.coding(code), "subject": {"reference": self.patient_ref},
            "onsetDateTime": fhir_datetime(onset) if isinstance(onset, datetime) else fhir_date(onset),
            "recordedDate": fhir_datetime(recorded), "asserter": asserter.ref,
        }
        if encounter_id:
            resource["encounter"] = {"reference": f"Encounter/{encounter_id}"}
        if not active and abated is not None:
            resource["abatementDateTime"] = fhir_datetime(abated)
        return resource

    def chronic_diagnoses(self) -> list[tuple[str, str]]:
        return [(p.condition_id, "CM") for p in self.plans if p.recorded]
