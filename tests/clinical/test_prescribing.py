"""E-prescription: MedicationRequests sharing one prescription code, quantities, dosage text, checks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from benhan.clinical import prescribing as p
from benhan.clinical.orders import FieldError
from benhan.fhir.repository import Repository
from benhan.terminology.systems import ICD10
from benhan.vn import prescription_code as rx
from tests.clinical.conftest import transaction

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
FACILITY = "79001"


def make_visit(repo: Repository, *, allergy: str | None = None, icd10: str | None = None) -> dict[str, Any]:
    patient = repo.create({"resourceType": "Patient", "name": [{"text": "Nguyễn Văn An"}]}).stored
    doctor = repo.create({"resourceType": "Practitioner", "name": [{"text": "BS Lê Minh"}]}).stored
    ref = {"reference": f"Patient/{patient.id}"}
    encounter: dict[str, Any] = {"resourceType": "Encounter", "status": "in-progress", "subject": ref,
                                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                           "code": "AMB"}}
    if icd10:
        cond = repo.create({"resourceType": "Condition", "subject": ref,
                            "code": {"coding": [{"system": ICD10, "code": icd10}]}}).stored
        encounter["diagnosis"] = [{"condition": {"reference": f"Condition/{cond.id}"}, "rank": 1}]
    if allergy:
        repo.create({"resourceType": "AllergyIntolerance", "patient": ref, "code": {"text": allergy},
                     "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                    "allergyintolerance-clinical", "code": "active"}]}})
    stored = repo.create(encounter).stored
    return {**encounter, "id": stored.id, "doctor": doctor.id}


def line(drug: str, dose: str = "1", times: str = "2", days: str = "5", **kw: str) -> p.DrugLine:
    return p.line_from_form({"drug": drug, "dose": dose, "times": times, "days": days, **kw})


def add(repo: Repository, visit: dict[str, Any], dl: p.DrugLine, confirm: bool = False) -> p.AddResult:
    return p.add_drug(repo, visit, dl, facility_code=FACILITY, practitioner_id=visit["doctor"], now=NOW,
                      confirm=confirm)


def test_drugs_share_one_code_and_carry_quantity_dosage_and_atc(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        first = add(repo, visit, line("T005", when="sau ăn sáng và tối", days="7"))
        second = add(repo, visit, line("T001", dose="1/2", times="3", days="3", quantity="6"))
        assert first.warnings == [] and second.warnings == []
        a = repo.read("MedicationRequest", first.added).resource()
        b = repo.read("MedicationRequest", second.added).resource()
    code = a["groupIdentifier"]["value"]
    assert rx.is_valid(code) and code.startswith(FACILITY) and code.endswith("-c")
    assert b["groupIdentifier"] == a["groupIdentifier"] == {"system": "urn:benhan:sid:ma-don-thuoc", "value": code}
    assert a["status"] == "draft" and a["requester"] == {"reference": f"Practitioner/{visit['doctor']}"}
    assert {"system": p.ATC, "code": "A10BA02", "display": "metformin 850 mg tablet"} in \
        a["medicationCodeableConcept"]["coding"]
    assert a["dosageInstruction"][0]["text"] == "Uống 1 viên/lần x 2 lần/ngày, sau ăn sáng và tối"
    assert a["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 2
    assert a["dispenseRequest"]["quantity"] == {"value": 14, "unit": "viên"}  # 1 x 2 x 7
    assert a["dispenseRequest"]["expectedSupplyDuration"]["value"] == 7
    assert b["dispenseRequest"]["quantity"]["value"] == 6  # typed by the doctor, not the computed 5
    assert b["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.5


def test_computed_quantity_rounds_up_and_packages_count_one() -> None:
    assert line("T001", dose="1/2", times="3", days="3").computed_quantity == 5  # 4.5 -> 5
    assert line("T010", dose="2", times="4", days="10").computed_quantity == 1  # one inhaler
    assert p.quantity_text(5) == "05" and p.quantity_text(14) == "14"


def test_type_letter_follows_the_most_restrictive_drug_and_back(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        add(repo, visit, line("T001"))
        narcotic = add(repo, visit, line("T030", days="5"))
        rx_now = p.load_prescription(repo, visit["id"])
        assert rx_now.kind == "N" and {i.resource["groupIdentifier"]["value"] for i in rx_now.items} == {rx_now.code}
        p.remove_drug(repo, visit["id"], narcotic.added)
        after = p.load_prescription(repo, visit["id"])
        assert after.kind == "C" and after.code[:12] == rx_now.code[:12] and len(after.items) == 1
        assert repo.read("MedicationRequest", narcotic.added).resource()["status"] == "cancelled"


def test_allergy_warning_waits_for_confirmation(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo, allergy="Penicillin")
        result = add(repo, visit, line("T011"))
        assert [w.kind for w in result.warnings] == ["allergy"] and result.added is None
        assert p.load_prescription(repo, visit["id"]).items == []
        assert add(repo, visit, line("T013")).warnings == []  # cefuroxim is not a penicillin
        confirmed = add(repo, visit, line("T011"), confirm=True)
        assert confirmed.added is not None
        (issue_id,) = repo.find("DetectedIssue", f"implicated=MedicationRequest/{confirmed.added}")
        issue = repo.read("DetectedIssue", issue_id).resource()
    assert issue["code"]["coding"][0]["code"] == "allergy" and "Penicillin" in issue["detail"]
    assert issue["mitigation"][0]["author"] == {"reference": f"Practitioner/{visit['doctor']}"}


def test_nsaid_allergy_matches_by_group() -> None:
    allergy = {"code": {"text": "Thuốc chống viêm không steroid (NSAID)"}}
    drugs = p.drug_catalog()
    assert p.allergy_matches(drugs["T021"], allergy) and p.allergy_matches(drugs["T008"], allergy)
    assert p.allergy_matches(drugs["T001"], allergy) is None
    atc = {"code": {"coding": [{"system": p.ATC, "code": "J01C"}]}}
    assert p.allergy_matches(drugs["T012"], atc) == "J01C" and p.allergy_matches(drugs["T013"], atc) is None


def test_duplicate_active_ingredient_is_warned(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        add(repo, visit, line("T011"))
        result = add(repo, visit, line("T012"))
        assert [w.kind for w in result.warnings] == ["duplicate"] and "amoxicilin" in result.warnings[0].vi


@pytest.mark.parametrize(("drug", "days", "rule"), [("T030", "8", "rx.duration-n"), ("T028", "31", "rx.duration-h"),
                                                     ("T001", "91", "rx.duration-c")])
def test_duration_over_the_limit_is_refused(engine: Engine, drug: str, days: str, rule: str) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo, icd10="I10")
        with pytest.raises(FieldError) as err:
            add(repo, visit, line(drug, days=days), confirm=True)
        assert err.value.rule == rule and err.value.field == "days"
        assert p.load_prescription(repo, visit["id"]).items == []


def test_long_supply_is_warned_without_a_chronic_diagnosis(engine: Engine) -> None:
    with transaction(engine) as repo:
        acute = make_visit(repo, icd10="J06.9")
        chronic = make_visit(repo, icd10="I10")
        assert [w.kind for w in add(repo, acute, line("T003", days="60")).warnings] == ["duration"]
        assert add(repo, chronic, line("T003", days="60")).warnings == []
        assert [w.kind for w in add(repo, chronic, line("T028", days="20")).warnings] == ["duration"]
        assert add(repo, chronic, line("T028", days="10")).warnings == []


@pytest.mark.parametrize(("field", "value"), [("drug", "X999"), ("dose", "0"), ("dose", "abc"), ("times", "0"),
                                              ("days", "-1"), ("quantity", "1.5"), ("route", "ear")])
def test_wrong_input_names_the_field(field: str, value: str) -> None:
    form = {"drug": "T001", "dose": "1", "times": "2", "days": "5", field: value}
    with pytest.raises(FieldError) as err:
        p.line_from_form(form)
    assert err.value.field == field


def test_issue_activates_with_advice_and_then_nothing_changes(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        with pytest.raises(FieldError):
            p.issue(repo, visit["id"], "", now=NOW)
        added = add(repo, visit, line("T003"))
        issued = p.issue(repo, visit["id"], "Tái khám sau 5 ngày", now=NOW)
        assert issued.status == "active" and issued.advice == "Tái khám sau 5 ngày"
        assert repo.read("MedicationRequest", added.added).resource()["status"] == "active"
        for attempt in (lambda: add(repo, visit, line("T001")), lambda: p.remove_drug(repo, visit["id"], added.added),
                        lambda: p.issue(repo, visit["id"], "", now=NOW)):
            with pytest.raises(FieldError) as err:
                attempt()
            assert err.value.rule == "rx.issued"


def test_dose_text_is_written_the_vietnamese_way() -> None:
    assert p.number(Decimal("0.5")) == "1/2" and p.number(Decimal("1.5")) == "1,5" and p.number(2) == "2"
    assert line("T024", dose="1", times="4", route="eye").dosage_text() == "Nhỏ mắt 1 giọt/lần x 4 lần/ngày"
