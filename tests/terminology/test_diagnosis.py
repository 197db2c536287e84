"""Diagnosis rules against the real loaded ICD-10 list: unknown code, main diagnosis, sex."""

from __future__ import annotations

from datetime import date

from benhan.terminology.diagnosis import check_diagnosis, check_resource

D = date(2025, 3, 1)
ICD10 = "http://hl7.org/fhir/sid/icd-10"


def _errors(issues):  # type: ignore[no-untyped-def]
    return [i for i in issues if i.severity == "error"]


def test_valid_main_diagnosis_has_no_issue(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        assert check_diagnosis(conn, "E11.9", main=True, patient_gender="male", encounter_end_date=D) == []


def test_unknown_code_not_main_and_sex(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        unknown = _errors(check_diagnosis(conn, "E11.99", main=False, patient_gender=None, encounter_end_date=D))
        assert unknown[0].code == "code-invalid" and "4469-2020" in unknown[0].en
        not_main = _errors(check_diagnosis(conn, "B95.0", main=True, patient_gender=None, encounter_end_date=D))
        assert "bệnh chính" in not_main[0].vi
        assert check_diagnosis(conn, "B95.0", main=False, patient_gender=None, encounter_end_date=D) == []
        asterisk = _errors(check_diagnosis(conn, "G01", main=True, patient_gender=None, encounter_end_date=D))
        assert asterisk, "asterisk codes are never the main diagnosis"
        male = _errors(check_diagnosis(conn, "C56", main=False, patient_gender="male", encounter_end_date=D))
        assert "nữ" in male[0].vi and "female" in male[0].en
        female = _errors(check_diagnosis(conn, "N40", main=False, patient_gender="female", encounter_end_date=D))
        assert "nam" in female[0].vi


def test_after_the_4469_list_expired_a_warning_is_added(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        issues = check_diagnosis(conn, "E11.9", main=True, patient_gender=None, encounter_end_date=date(2026, 7, 1))
        assert [i.severity for i in issues] == ["warning"] and "4469-2020" in issues[0].en


def test_check_resource_for_condition_and_encounter(term_engine):  # type: ignore[no-untyped-def]
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male"}
    encounter = {"resourceType": "Encounter", "id": "e1", "period": {"end": "2025-02-01T10:00:00+07:00"}}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                 "encounter": {"reference": "Encounter/e1"},
                 "category": [{"coding": [{"code": "encounter-diagnosis"}]}],
                 "code": {"coding": [{"system": ICD10, "code": "C56"}]}}
    store = {("Patient", "p1"): patient, ("Encounter", "e1"): encounter, ("Condition", "c1"): condition}
    resolve = lambda t, i: store.get((t, i))  # noqa: E731
    with term_engine.connect() as conn:
        issues = check_resource(conn, condition, resolve=resolve)
        assert [i.expression for i in _errors(issues)] == ["Condition.code"]
        enc = {**encounter, "subject": {"reference": "Patient/p1"},
               "diagnosis": [{"condition": {"reference": "Condition/c1"}, "rank": 1}]}
        store[("Condition", "c1")] = {**condition, "code": {"coding": [{"system": ICD10, "code": "B95.0"}]}}
        issues = check_resource(conn, enc, resolve=resolve)
        assert [i.expression for i in _errors(issues)] == ["Encounter.diagnosis[0]"]
        assert check_resource(conn, {"resourceType": "Observation"}) == []
