"""Exam-room services: vital signs, the record text (Composition), ICD-10 diagnoses and allergies, as stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from benhan.clinical import allergies, diagnoses, exam_note, vitals
from benhan.clinical.exam import FormInvalid, VisitContext, search_all
from benhan.db.engine import make_engine
from benhan.terminology.catalogs import shipped
from benhan.terminology.loader import load_catalogs
from tests.clinical.conftest import transaction
from tests.conftest import BACKENDS, fresh_database, template_fixtures

WHEN = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội


def _load_icd10(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                load_catalogs(conn, shipped(["icd10"]))
    finally:
        engine.dispose()


sqlite_exam_template, pg_exam_template = template_fixtures("exam", _load_icd10)


@pytest.fixture(params=BACKENDS)
def exam_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with the ICD-10 list loaded."""
    with fresh_database(request, tmp_path, sqlite_template="sqlite_exam_template", pg_template="pg_exam_template",
                        prefix="exam") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _visit(engine: Engine, gender: str = "male") -> VisitContext:
    with transaction(engine) as repo:
        patient = repo.create({"resourceType": "Patient", "gender": gender, "birthDate": "1980-05-01",
                               "name": [{"family": "Nguyễn", "given": ["Văn", "An"]}]}).stored
        assert patient is not None
        encounter = repo.create({
            "resourceType": "Encounter", "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": f"Patient/{patient.id}"}, "period": {"start": "2026-11-20T09:00:00+07:00"},
            "reasonCode": [{"text": "Sốt, ho 3 ngày"}]}).stored
        assert encounter is not None
    return VisitContext(encounter.id, patient.id, WHEN, patient_gender=gender, patient_birth_date="1980-05-01")


def _read(engine: Engine, rtype: str, rid: str) -> dict[str, Any]:
    with transaction(engine) as repo:
        return repo.read(rtype, rid).resource()


def _search(engine: Engine, rtype: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    with transaction(engine) as repo:
        return search_all(repo, rtype, params)


def _loinc(resource: dict[str, Any]) -> str:
    """The LOINC code of a resource or section (``code``), or of a CodeableConcept itself."""
    concept = resource.get("code", resource) if "coding" not in resource else resource
    return next(c["code"] for c in concept["coding"] if c["system"] == "http://loinc.org")


# ---------------------------------------------------------------- vital signs

def test_vitals_are_observations_with_loinc_codes_ucum_units_and_a_computed_bmi(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo:
        vitals.record(repo, ctx, {"pulse": "88", "systolic": "130", "diastolic": "85", "temperature": "38,2",
                                  "respiratory_rate": "20", "spo2": "97", "height": "170", "weight": "65"})
    stored = _search(exam_engine, "Observation", [("encounter", f"Encounter/{ctx.encounter_id}")])
    by_code = {_loinc(o): o for o in stored}
    assert set(by_code) == {"8867-4", "85354-9", "8310-5", "9279-1", "59408-5", "8302-2", "29463-7", "39156-5"}
    units = {code: o.get("valueQuantity", {}).get("code") for code, o in by_code.items()}
    assert units == {"8867-4": "/min", "85354-9": None, "8310-5": "Cel", "9279-1": "/min", "59408-5": "%",
                     "8302-2": "cm", "29463-7": "kg", "39156-5": "kg/m2"}
    assert by_code["8310-5"]["valueQuantity"]["value"] == 38.2
    assert by_code["39156-5"]["valueQuantity"]["value"] == 22.5  # 65 / 1.70²
    components = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in by_code["85354-9"]["component"]}
    assert components == {"8480-6": 130, "8462-4": 85}
    assert all(o["category"][0]["coding"][0]["code"] == "vital-signs" and o["status"] == "final" for o in stored)
    assert all(o["subject"]["reference"] == f"Patient/{ctx.patient_id}" for o in stored)


def test_bmi_uses_the_height_measured_earlier_in_the_visit(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo:
        vitals.record(repo, ctx, {"height": "160"})
    with transaction(exam_engine) as repo:
        vitals.record(repo, ctx, {"weight": "64"})
    with transaction(exam_engine) as repo:
        rows = vitals.measurements(repo, ctx.encounter_id)
        assert vitals.latest(repo, ctx.encounter_id)["bmi"] == 25.0
    assert [r.get("bmi") for r in rows] == [25.0]


@pytest.mark.parametrize(("form", "field"), [
    ({"pulse": "880"}, "pulse"),
    ({"temperature": "375"}, "temperature"),
    ({"spo2": "101"}, "spo2"),
    ({"weight": "abc"}, "weight"),
    ({"systolic": "120"}, "diastolic"),
    ({"systolic": "80", "diastolic": "90"}, "diastolic"),
    ({}, "pulse"),
])
def test_implausible_vitals_are_refused_per_field_before_anything_is_written(exam_engine, form, field):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo, pytest.raises(FormInvalid) as caught:
        vitals.record(repo, ctx, form)
    assert field in caught.value.errors
    assert caught.value.errors[field].vi and caught.value.errors[field].en
    assert _search(exam_engine, "Observation", [("encounter", f"Encounter/{ctx.encounter_id}")]) == []


# ---------------------------------------------------------------- record text

def test_exam_note_is_one_preliminary_composition_with_loinc_sections_updated_in_place(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo:
        first = exam_note.save(repo, ctx, {"reason": "Sốt, ho", "history": "Sốt 3 ngày\nHo khan <nhiều>",
                                           "exam_general": "Tỉnh, tiếp xúc tốt", "exam_organs": "Phổi ran nổ",
                                           "plan": "Kháng sinh"})
    with transaction(exam_engine) as repo:
        second = exam_note.save(repo, ctx, {"reason": "Sốt, ho", "history": "Sốt 4 ngày", "past_history": "Khỏe",
                                            "exam_general": "", "exam_organs": "Phổi ran nổ đáy phải",
                                            "plan": "Kháng sinh"})
    assert second["id"] == first["id"] and second["meta"]["versionId"] == "2"
    notes = _search(exam_engine, "Composition", [("encounter", f"Encounter/{ctx.encounter_id}")])
    assert len(notes) == 1
    note = notes[0]
    assert note["status"] == "preliminary" and _loinc(note["type"]) == "34108-1"
    assert note["category"][0]["coding"][0] == {"system": "urn:benhan:fhir:record-form", "code": "15/BV1"}
    assert [_loinc(s) for s in note["section"]] == ["29299-5", "10164-2", "11348-0", "29545-1", "18776-5"]
    exam = note["section"][3]
    assert [s["title"] for s in exam["section"]] == ["Các cơ quan"]
    with transaction(exam_engine) as repo:
        assert exam_note.texts(exam_note.find(repo, ctx.encounter_id)) == {
            "reason": "Sốt, ho", "history": "Sốt 4 ngày", "past_history": "Khỏe", "exam_general": "",
            "exam_organs": "Phổi ran nổ đáy phải", "plan": "Kháng sinh"}
    with transaction(exam_engine) as repo:
        exam_note.save(repo, ctx, {"history": "Ho khan <nhiều> & đờm\n\nSốt"})
        assert exam_note.texts(exam_note.find(repo, ctx.encounter_id))["history"] == "Ho khan <nhiều> & đờm\n\nSốt"


def test_an_empty_form_creates_no_note(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo, pytest.raises(FormInvalid) as caught:
        exam_note.save(repo, ctx, {"reason": "  ", "history": "\r\n"})
    assert list(caught.value.errors) == ["reason"]
    assert _search(exam_engine, "Composition", [("encounter", f"Encounter/{ctx.encounter_id}")]) == []


def test_a_signed_note_is_not_changed(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo:
        note = exam_note.save(repo, ctx, {"reason": "Đau đầu"})
    with transaction(exam_engine) as repo:
        repo.update("Composition", note["id"], {**note, "status": "final"})
    from benhan.fhir.errors import FhirError

    with transaction(exam_engine) as repo, pytest.raises(FhirError) as caught:
        exam_note.save(repo, ctx, {"reason": "Đau bụng"})
    assert caught.value.status == 409
    assert exam_note.texts(_read(exam_engine, "Composition", note["id"]))["reason"] == "Đau đầu"


# ---------------------------------------------------------------- diagnoses

def _ranks(engine: Engine, encounter_id: str) -> list[tuple[int, str]]:
    encounter = _read(engine, "Encounter", encounter_id)
    out = []
    for entry in encounter.get("diagnosis", []):
        condition = _read(engine, "Condition", entry["condition"]["reference"].split("/")[1])
        out.append((entry["rank"], condition["code"]["coding"][0]["code"]))
    return out


def test_diagnoses_are_conditions_ranked_on_the_encounter_and_replaced_on_save(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo:
        diagnoses.save(repo, ctx, "j18.9", ["I10", "", "E11.9"])
    assert _ranks(exam_engine, ctx.encounter_id) == [(1, "J18.9"), (2, "I10"), (3, "E11.9")]
    uses = [d["use"]["coding"][0]["code"] for d in _read(exam_engine, "Encounter", ctx.encounter_id)["diagnosis"]]
    assert uses == ["DD", "CM", "CM"]
    conditions = _search(exam_engine, "Condition", [("encounter", f"Encounter/{ctx.encounter_id}")])
    assert {c["category"][0]["coding"][0]["code"] for c in conditions} == {"encounter-diagnosis"}
    assert {c["code"]["coding"][0]["system"] for c in conditions} == {"http://hl7.org/fhir/sid/icd-10"}
    pneumonia = next(c for c in conditions if c["code"]["coding"][0]["code"] == "J18.9")
    assert pneumonia["code"]["text"] == "Viêm phổi, không đặc hiệu"

    with transaction(exam_engine) as repo:
        diagnoses.save(repo, ctx, "J18.9", ["E11.9"])
    assert _ranks(exam_engine, ctx.encounter_id) == [(1, "J18.9"), (2, "E11.9")]
    again = _search(exam_engine, "Condition", [("encounter", f"Encounter/{ctx.encounter_id}")])
    status = {c["code"]["coding"][0]["code"]: c["verificationStatus"]["coding"][0]["code"] for c in again}
    assert status == {"J18.9": "confirmed", "I10": "entered-in-error", "E11.9": "confirmed"}
    assert next(c for c in again if c["id"] == pneumonia["id"])["meta"]["versionId"] == "1"  # kept as it was
    note = _search(exam_engine, "Composition", [("encounter", f"Encounter/{ctx.encounter_id}")])[0]
    section = next(s for s in note["section"] if _loinc(s) == "29548-5")
    assert len(section["entry"]) == 2 and "J18.9" in section["text"]["div"]


@pytest.mark.parametrize(("gender", "main", "secondary", "field", "words"), [
    ("male", "B95.0", [], "main_code", "bệnh chính"),
    ("female", "J18.9", ["N40"], "secondary_code_1", "nam"),
    ("male", "J18.9", ["I10", "C51.0"], "secondary_code_2", "nữ"),
    ("male", "Z99.99", [], "main_code", "không có trong danh mục"),
    ("male", "J18.9", ["J18.9"], "secondary_code_1", "đã nhập"),
    ("male", "", ["I10"], "main_code", "chẩn đoán chính"),
])
def test_icd10_rules_name_the_field_and_nothing_is_written(exam_engine, gender, main, secondary, field, words):
    ctx = _visit(exam_engine, gender)
    with transaction(exam_engine) as repo, pytest.raises(FormInvalid) as caught:
        diagnoses.save(repo, ctx, main, secondary)
    assert list(caught.value.errors) == [field]
    assert words in caught.value.errors[field].vi
    assert _search(exam_engine, "Condition", [("encounter", f"Encounter/{ctx.encounter_id}")]) == []
    assert "diagnosis" not in _read(exam_engine, "Encounter", ctx.encounter_id)


def test_the_icd10_age_rules_are_checked_by_the_form_itself(exam_engine):
    ctx = _visit(exam_engine)  # born 1980: a newborn-only code (QĐ 4469 annex A3.1) is refused on the field
    with transaction(exam_engine) as repo, pytest.raises(FormInvalid) as caught:
        diagnoses.save(repo, ctx, "J18.9", ["P07.3"])
    assert list(caught.value.errors) == ["secondary_code_1"]
    message = caught.value.errors["secondary_code_1"]
    assert "P07.3" in message.vi and "A3.1" in message.vi and "P07.3" in message.en
    assert caught.value.cause is None  # the form's own check, before anything reached the repository
    assert _search(exam_engine, "Condition", [("encounter", f"Encounter/{ctx.encounter_id}")]) == []


def test_the_repository_rules_still_apply_when_a_form_check_is_bypassed(exam_engine, monkeypatch):
    ctx = _visit(exam_engine)
    monkeypatch.setattr(diagnoses, "check_diagnosis", lambda *a, **k: [])  # only the repository checks now
    with transaction(exam_engine) as repo, pytest.raises(FormInvalid) as caught:
        diagnoses.save(repo, ctx, "B95.0", [])
    assert list(caught.value.errors) == ["main_code"] and caught.value.cause is not None


# ---------------------------------------------------------------- allergies

def test_allergies_are_recorded_for_the_patient_and_listed_most_critical_first(exam_engine):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo:
        allergies.record(repo, ctx, {"substance": "Tôm", "category": "food", "criticality": "low",
                                     "reaction": "Ngứa", "severity": "mild"})
        allergies.record(repo, ctx, {"substance": "Penicillin", "category": "medication", "criticality": "high",
                                     "reaction": "Sốc phản vệ", "severity": "severe"})
    stored = _search(exam_engine, "AllergyIntolerance", [("patient", f"Patient/{ctx.patient_id}")])
    penicillin = next(a for a in stored if a["code"]["text"] == "Penicillin")
    assert penicillin["criticality"] == "high" and penicillin["category"] == ["medication"]
    assert penicillin["reaction"][0] == {"manifestation": [{"text": "Sốc phản vệ"}], "severity": "severe"}
    assert penicillin["encounter"]["reference"] == f"Encounter/{ctx.encounter_id}"
    with transaction(exam_engine) as repo:
        listed = allergies.known(repo, ctx.patient_id)
    assert [a["substance"] for a in listed] == ["Penicillin", "Tôm"]


@pytest.mark.parametrize(("form", "field"), [
    ({"substance": ""}, "substance"),
    ({"substance": "Tôm", "criticality": "deadly"}, "criticality"),
    ({"substance": "Tôm", "severity": "severe"}, "reaction"),
])
def test_an_allergy_form_with_errors_writes_nothing(exam_engine, form, field):
    ctx = _visit(exam_engine)
    with transaction(exam_engine) as repo, pytest.raises(FormInvalid) as caught:
        allergies.record(repo, ctx, form)
    assert field in caught.value.errors
    assert _search(exam_engine, "AllergyIntolerance", [("patient", f"Patient/{ctx.patient_id}")]) == []
