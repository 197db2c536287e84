"""Signing a visit's record: tags, final Composition, Provenance with a JWS, verification, the lock, addenda."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import Engine, select, update

from benhan.clinical import signing
from benhan.db import schema as s
from benhan.db.engine import make_engine
from benhan.demo.accounts import DEMO_PASSWORD
from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.security import accounts
from benhan.security.tables import user_signing_key

BASE = "http://testserver/fhir"
NOW = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
ICD10 = "http://hl7.org/fhir/sid/icd-10"


@pytest.fixture
def hospital(web_url: str) -> Iterator[Engine]:
    """The small demo hospital with catalogs and demo accounts (fresh per test, on each backend)."""
    engine = make_engine(web_url)
    yield engine
    engine.dispose()


@contextmanager
def trusted(engine: Engine) -> Iterator[Repository]:
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            repo = Repository(conn, base_url=BASE)
            yield repo
            repo.flush()


@dataclass(frozen=True)
class Visit:
    encounter_id: str
    patient_id: str
    practitioner_id: str
    ids: dict[str, str]  # resource type -> id of the one written


def make_visit(engine: Engine, *, doctor: str = "bacsi", drugs: int = 2) -> Visit:
    """An in-progress outpatient visit of a demo patient in the doctor's department, with a record:
    vitals, a main diagnosis (ICD-10), an allergy, an order, a prescription and the exam text."""
    with trusted(engine) as repo:
        user = accounts.get_user(repo.conn, doctor)
        assert user is not None and user.practitioner_id and user.departments
        r = s.resource
        patient_id = repo.conn.execute(select(r.c.id).where(r.c.type == "Patient", r.c.deleted.is_(False))
                                       .order_by(r.c.pk).limit(1)).scalar_one()
        patient = repo.read("Patient", patient_id).resource()
        subject = {"reference": f"Patient/{patient_id}", "display": patient["name"][0].get("text", "")}
        doctor_ref = {"reference": f"Practitioner/{user.practitioner_id}"}
        enc = repo.create({
            "resourceType": "Encounter", "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": subject, "serviceProvider": {"reference": f"Organization/{user.departments[0]}",
                                                    "display": "Khoa Khám bệnh"},
            "participant": [{"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                             "v3-ParticipationType", "code": "ATND"}]}],
                             "individual": doctor_ref}],
            "period": {"start": "2026-11-20T08:00:00+07:00"}, "reasonCode": [{"text": "Sốt, ho ba ngày"}],
        }).stored
        encounter = {"reference": f"Encounter/{enc.id}"}
        ids = {"Encounter": enc.id}
        cond = repo.create({
            "resourceType": "Condition", "subject": subject, "encounter": encounter,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "encounter-diagnosis"}]}],
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": ICD10, "code": "J06.9",
                                 "display": "Nhiễm trùng đường hô hấp trên cấp tính, không đặc hiệu"}],
                     "text": "Viêm đường hô hấp trên cấp"}}).stored
        ids["Condition"] = cond.id
        current = repo.read("Encounter", enc.id).resource()
        current["diagnosis"] = [{"condition": {"reference": f"Condition/{cond.id}"}, "rank": 1}]
        repo.update("Encounter", enc.id, current)
        ids["Observation"] = repo.create({
            "resourceType": "Observation", "status": "final", "subject": subject, "encounter": encounter,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}], "text": "Nhiệt độ"},
            "effectiveDateTime": "2026-11-20T08:10:00+07:00",
            "valueQuantity": {"value": 38.5, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"},
        }).stored.id
        ids["AllergyIntolerance"] = repo.create({
            "resourceType": "AllergyIntolerance", "patient": subject, "encounter": encounter,
            "code": {"text": "Penicillin"}, "recorder": doctor_ref}).stored.id
        ids["ServiceRequest"] = repo.create({
            "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": subject,
            "encounter": encounter, "code": {"text": "Công thức máu"}}).stored.id
        for n in range(drugs):
            ids[f"MedicationRequest{n}"] = repo.create({
                "resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": subject,
                "encounter": encounter, "requester": doctor_ref,
                "groupIdentifier": {"system": "urn:benhan:sid:ma-don-thuoc", "value": "01999abc1234-n"},
                "medicationCodeableConcept": {"text": ["Paracetamol 500 mg", "Amoxicilin 250 mg"][n % 2]},
                "dispenseRequest": {"quantity": {"value": 10 + n, "unit": "viên"}},
                "dosageInstruction": [{"text": "Uống mỗi lần 1 viên, ngày 3 lần, sau ăn",
                                       "route": {"text": "Uống"}}]}).stored.id
        ids["Composition"] = repo.create({
            "resourceType": "Composition", "status": "preliminary",
            "type": {"coding": [{"system": "http://loinc.org", "code": "34108-1"}]},
            "category": [{"coding": [{"system": "urn:benhan:fhir:record-form", "code": "15/BV1"}]}],
            "subject": subject, "encounter": encounter, "date": "2026-11-20T08:20:00+07:00",
            "author": [doctor_ref], "title": "Bệnh án ngoại trú",
            "section": [{"title": "Khám bệnh", "code": {"coding": [{"system": "http://loinc.org",
                                                                    "code": "29545-1"}]},
                         "text": {"status": "generated",
                                  "div": '<div xmlns="http://www.w3.org/1999/xhtml">Họng đỏ, phổi trong</div>'}}],
        }).stored.id
        return Visit(enc.id, patient_id, user.practitioner_id, ids)


def sign(engine: Engine, visit: Visit, *, doctor: str = "bacsi", password: str = DEMO_PASSWORD) -> dict:
    with trusted(engine) as repo:
        user = accounts.get_user(repo.conn, doctor)
        signer = signing.signer_for(repo, user, password)
        return signing.sign_record(repo, visit.encounter_id, signer, NOW)


def verify(engine: Engine, provenance: dict) -> signing.Verification:
    with trusted(engine) as repo:
        return signing.verify_signature(repo, repo.read("Provenance", provenance["id"]).resource())


def current(engine: Engine, rtype: str, rid: str) -> dict:
    with trusted(engine) as repo:
        return repo.read(rtype, rid).resource()


def test_signing_tags_the_whole_record_and_writes_a_verifiable_provenance(hospital):
    visit = make_visit(hospital)
    provenance = sign(hospital, visit)
    targets = [t["reference"] for t in provenance["target"]]
    assert {t.split("/")[0] for t in targets} == {"Encounter", "Composition", "Condition", "Observation",
                                                  "ServiceRequest", "MedicationRequest", "AllergyIntolerance",
                                                  "Patient"}
    assert targets[-1].startswith(f"Patient/{visit.patient_id}/_history/")
    assert not signing.has_signed_tag(current(hospital, "Patient", visit.patient_id))
    assert len(targets) == len(visit.ids) + 1 and all("/_history/" in t for t in targets)
    for rtype, rid in visit.ids.items():
        resource = current(hospital, rtype.rstrip("0123456789"), rid)
        assert signing.has_signed_tag(resource), rtype
        assert f"{resource['resourceType']}/{rid}/_history/{resource['meta']['versionId']}" in targets
    assert current(hospital, "Composition", visit.ids["Composition"])["status"] == "final"
    sig = provenance["signature"][0]
    assert sig["type"][0]["code"] == "1.2.840.10065.1.12.1.1" and sig["sigFormat"] == "application/jose"
    assert sig["who"]["reference"] == f"Practitioner/{visit.practitioner_id}"
    assert provenance["agent"][0]["who"]["reference"] == sig["who"]["reference"]
    jws = base64.b64decode(sig["data"]).decode()
    header, payload, _sig = jws.split(".")
    assert payload == ""  # detached: the payload is rebuilt from the stored versions
    result = verify(hospital, provenance)
    assert result.valid, result.reason
    assert result.kid and result.kid == orjson.loads(base64.urlsafe_b64decode(header + "=="))["kid"]


def test_the_key_is_made_on_first_use_wrapped_and_reused(hospital):
    visit, other = make_visit(hospital), make_visit(hospital)
    first, second = sign(hospital, visit), sign(hospital, other)
    assert signing.key_id(first) == signing.key_id(second)
    with hospital.connect() as conn:
        rows = conn.execute(select(user_signing_key)).mappings().all()
    assert len(rows) == 1 and "PRIVATE" not in rows[0]["wrapped_private"]
    assert "d" not in orjson.loads(rows[0]["public_jwk"])  # no private part is published


def test_tampering_with_a_signed_version_breaks_the_signature(hospital):
    visit = make_visit(hospital)
    provenance = sign(hospital, visit)
    ref = next(t["reference"] for t in provenance["target"] if t["reference"].startswith("Observation/"))
    _t, rid, _h, version = ref.split("/")
    v = s.resource_version
    with hospital.begin() as conn:  # someone with database access edits the stored version
        content = conn.execute(select(v.c.content).where(v.c.type == "Observation", v.c.id == rid,
                                                         v.c.version == int(version))).scalar_one()
        conn.execute(update(v).where(v.c.type == "Observation", v.c.id == rid, v.c.version == int(version))
                     .values(content=content.replace("38.5", "37.5")))
    result = verify(hospital, provenance)
    assert not result.valid and "does not match" in result.reason


def test_a_signature_claimed_for_another_doctor_does_not_verify(hospital):
    visit = make_visit(hospital)
    provenance = sign(hospital, visit)
    provenance["signature"][0]["who"] = {"reference": "Practitioner/someone-else"}
    with trusted(hospital) as repo:
        assert not signing.verify_signature(repo, provenance).valid


def test_wrong_password_signs_nothing(hospital):
    visit = make_visit(hospital)
    with pytest.raises(signing.SignError) as err:
        sign(hospital, visit, password="not the password")
    assert err.value.field == "password"
    assert not signing.has_signed_tag(current(hospital, "Encounter", visit.encounter_id))
    with hospital.connect() as conn:
        assert conn.execute(select(user_signing_key)).first() is None


def test_signed_resources_cannot_be_updated_patched_or_deleted_through_the_repository(hospital):
    visit = make_visit(hospital)
    sign(hospital, visit)
    condition = current(hospital, "Condition", visit.ids["Condition"])
    for attempt in (
        lambda repo: repo.update("Condition", condition["id"], {**condition, "note": [{"text": "sửa"}]}),
        lambda repo: repo.patch("Condition", condition["id"], [{"op": "add", "path": "/note",
                                                                "value": [{"text": "sửa"}]}]),
        lambda repo: repo.delete("Condition", condition["id"]),
    ):
        with pytest.raises(FhirError) as err, trusted(hospital) as repo:
            attempt(repo)
        assert err.value.status == 409
        assert "phụ lục" in err.value.issues[0].vi and "addendum" in err.value.issues[0].en
    assert current(hospital, "Condition", visit.ids["Condition"]) == condition


def test_signing_twice_is_refused(hospital):
    visit = make_visit(hospital)
    sign(hospital, visit)
    with pytest.raises(FhirError) as err:
        sign(hospital, visit)
    assert err.value.status == 409


def test_an_addendum_appends_to_the_signed_composition_with_its_own_signature(hospital):
    visit = make_visit(hospital)
    sign(hospital, visit)
    with trusted(hospital) as repo:
        signer = signing.signer_for(repo, accounts.get_user(repo.conn, "bacsi"), DEMO_PASSWORD)
        provenance = signing.write_addendum(repo, visit.encounter_id, "Bổ sung: bệnh nhân dị ứng tôm", signer, NOW)
    target, patient = [t["reference"] for t in provenance["target"]]
    assert patient.startswith(f"Patient/{visit.patient_id}/_history/")
    addendum = current(hospital, "Composition", target.split("/")[1])
    assert addendum["status"] == "final" and signing.has_signed_tag(addendum)
    assert addendum["relatesTo"] == [{"code": "appends",
                                      "targetReference": {"reference": f"Composition/{visit.ids['Composition']}"}}]
    assert "dị ứng tôm" in addendum["section"][0]["text"]["div"]
    assert verify(hospital, provenance).valid
    with trusted(hospital) as repo:
        assert len(signing.provenances_of(repo, visit.encounter_id)) == 2


def test_an_addendum_needs_a_signed_record(hospital):
    visit = make_visit(hospital)
    with pytest.raises(signing.SignError), trusted(hospital) as repo:
        signer = signing.signer_for(repo, accounts.get_user(repo.conn, "bacsi"), DEMO_PASSWORD)
        signing.write_addendum(repo, visit.encounter_id, "Bổ sung", signer, NOW)
