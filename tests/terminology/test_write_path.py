"""ICD-10 rules are enforced when a diagnosis is recorded through plain FHIR writes."""

from __future__ import annotations

import pytest

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis"}]}


def _patient(gender: str) -> dict:
    return {"resourceType": "Patient", "id": f"p-{gender}", "gender": gender}


def _condition(code: str, pid: str) -> dict:
    return {"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"}, "category": [CATEGORY],
            "code": {"coding": [{"system": ICD10, "code": code}]}}


def test_sex_specific_code_refused_for_the_other_sex(term_engine):
    with term_engine.begin() as conn:
        repo = Repository(conn)
        repo.update("Patient", "p-male", _patient("male"))
        repo.update("Patient", "p-female", _patient("female"))
    with term_engine.begin() as conn:
        Repository(conn).create(_condition("C61", "p-male"))  # prostate cancer: male-only code
    with pytest.raises(FhirError) as err, term_engine.begin() as conn:
        Repository(conn).create(_condition("C61", "p-female"))
    assert err.value.status == 422
    assert err.value.issues[0].expression and err.value.issues[0].expression.startswith("Condition.code")


def test_unknown_code_refused_and_same_transaction_patient_is_seen(term_engine):
    with pytest.raises(FhirError) as err, term_engine.begin() as conn:
        repo = Repository(conn)
        repo.defer_integrity = True
        repo.update("Patient", "p-x", {"resourceType": "Patient", "id": "p-x", "gender": "female"})
        repo.create(_condition("Z99.99", "p-x"))
    assert err.value.status == 422


def test_a_patient_rewritten_after_a_check_is_read_again(term_engine):
    """The write path remembers the stored patient it read for a check, until that patient is written."""
    with term_engine.begin() as conn:
        Repository(conn).update("Patient", "p-changing", {"resourceType": "Patient", "id": "p-changing",
                                                                "gender": "male"})
    with term_engine.begin() as conn:
        repo = Repository(conn)
        repo.create(_condition("C61", "p-changing"))  # male-only code, the stored patient is male
        repo.flush()
        repo.update("Patient", "p-changing", {"resourceType": "Patient", "id": "p-changing", "gender": "female"})
        repo.flush()  # the new version is stored, nothing pending: peek must not answer from what it read
        with pytest.raises(FhirError) as err:
            repo.create(_condition("C61", "p-changing"))
    assert err.value.status == 422 and "nam" in err.value.issues[0].vi
