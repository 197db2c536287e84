"""The patient chart summary (clinical/chart.py): grouping by visit, and a number of queries that does
not grow with the length of the history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from benhan.clinical import chart
from benhan.fhir.repository import Repository

from .conftest import BASE, transaction

LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TODAY = date(2026, 11, 20)


def _when(i: int) -> datetime:
    return datetime(2016, 1, 4, 1, 30, tzinfo=UTC) + timedelta(days=30 * i)


def _iso(d: datetime) -> str:
    return d.isoformat().replace("+00:00", "Z")


def make_patient(repo: Repository, pid: str, visits: int, *, open_last: bool = False) -> None:
    """A patient with ``visits`` outpatient visits, each with diagnoses, vitals, a lab report and two
    prescriptions (two drugs sharing one prescription code, one drug in another)."""
    repo.defer_integrity = True
    repo.create({"resourceType": "Patient", "name": [{"family": "Trần", "given": ["Thị", "Bình"]}],
                 "gender": "female", "birthDate": "1950-02-03",
                 "telecom": [{"system": "phone", "value": "0912345678"}]}, rid=pid)
    repo.create({"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{pid}"},
                 "code": {"text": "Penicillin"}, "criticality": "high",
                 "reaction": [{"manifestation": [{"text": "Phát ban"}]}]})
    repo.create({"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"},
                 "category": [{"coding": [{"code": "problem-list-item"}]}],
                 "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                "code": "active"}]},
                 "code": {"coding": [{"system": ICD10, "code": "I10", "display": "Tăng huyết áp vô căn"}]},
                 "onsetDateTime": "2015-06-01"}, rid=f"{pid}-htn")
    for i in range(visits):
        eid, start = f"{pid}-e{i}", _when(i)
        last = i == visits - 1
        status = "in-progress" if open_last and last else "finished"
        main, second = f"{pid}-c{i}", f"{pid}-htn"
        repo.create({"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"},
                     "encounter": {"reference": f"Encounter/{eid}"},
                     "category": [{"coding": [{"code": "encounter-diagnosis"}]}],
                     "code": {"coding": [{"system": ICD10, "code": "J06.9", "display": "Nhiễm trùng hô hấp trên"}]}},
                    rid=main)
        period = {"start": _iso(start)} if status != "finished" else {"start": _iso(start),
                                                                       "end": _iso(start + timedelta(minutes=30))}
        repo.create({"resourceType": "Encounter", "status": status,
                     "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                     "subject": {"reference": f"Patient/{pid}"}, "period": period,
                     "serviceProvider": {"display": "Khoa Khám bệnh"},
                     "location": [{"location": {"display": "Phòng khám 3"}}],
                     "diagnosis": [{"condition": {"reference": f"Condition/{second}"}, "rank": 2},
                                   {"condition": {"reference": f"Condition/{main}"}, "rank": 1}]}, rid=eid)
        enc = {"reference": f"Encounter/{eid}"}
        vital = [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}]
        repo.create({"resourceType": "Observation", "status": "final", "category": vital, "encounter": enc,
                     "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _iso(start),
                     "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
                     "component": [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                                    "valueQuantity": {"value": 150, "unit": "mmHg"}},
                                   {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                                    "valueQuantity": {"value": 90, "unit": "mmHg"}}]})
        repo.create({"resourceType": "Observation", "status": "final", "category": vital, "encounter": enc,
                     "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _iso(start),
                     "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
                     "valueQuantity": {"value": 82.0, "unit": "/min"}})
        repo.create({"resourceType": "Observation", "status": "final", "encounter": enc,
                     "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _iso(start),
                     "code": {"coding": [{"system": LOINC, "code": "2345-7"}], "text": "Glucose"},
                     "valueQuantity": {"value": 9.4, "unit": "mmol/L"},
                     "interpretation": [{"coding": [{"system": INTERP, "code": "H"}]}],
                     "referenceRange": [{"low": {"value": 3.9}, "high": {"value": 6.4}}]}, rid=f"{pid}-o{i}")
        repo.create({"resourceType": "DiagnosticReport", "status": "final", "encounter": enc,
                     "subject": {"reference": f"Patient/{pid}"}, "code": {"text": "Sinh hoá máu"},
                     "issued": _iso(start + timedelta(hours=1)),
                     "result": [{"reference": f"Observation/{pid}-o{i}"}]})
        for n, (drug, group) in enumerate([("Amlodipin 5mg", "G1"), ("Paracetamol 500mg", "G1"),
                                           ("Salbutamol", "G2")]):
            repo.create({"resourceType": "MedicationRequest", "status": "completed", "intent": "order",
                         "subject": {"reference": f"Patient/{pid}"}, "encounter": enc,
                         "authoredOn": _iso(start + timedelta(minutes=20 + n)),
                         "groupIdentifier": {"system": chart.PRESCRIPTION_SYSTEM, "value": f"{group}-{pid}-{i}"},
                         "medicationCodeableConcept": {"text": drug},
                         "dosageInstruction": [{"text": "Uống 1 viên/ngày"}],
                         "dispenseRequest": {"quantity": {"value": 30, "unit": "viên"}}})
    repo.check_deferred_references()


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def everything(rtype: str) -> bool:
    return True


def test_the_chart_groups_each_visit_with_its_diagnoses_results_and_prescriptions(engine):
    with transaction(engine) as repo:
        make_patient(repo, "p-short", 3, open_last=True)
    with transaction(engine) as repo:
        summary = chart.build_chart(repo, "p-short", everything, TODAY)
    assert summary.patient.name == "Trần Thị Bình" and summary.patient.age == 76
    assert [(a.text, a.criticality, a.reaction) for a in summary.allergies or []] == [
        ("Penicillin", "high", "Phát ban")]
    assert [(p.code, p.display) for p in summary.problems or []] == [("I10", "Tăng huyết áp vô căn")]
    visits = summary.page.visits
    assert [v.id for v in visits] == ["p-short-e2", "p-short-e1", "p-short-e0"]  # newest first
    assert [v.open for v in visits] == [True, False, False]
    assert summary.page.before is None and summary.restricted == []
    for v in visits:
        assert [(d.code, d.rank, d.main) for d in v.diagnoses] == [("J06.9", 1, True), ("I10", 2, False)]
        assert [(s.key, s.value, s.unit) for s in v.vitals] == [("bp", "150/90", "mmHg"), ("pulse", "82", "/min")]
        assert len(v.reports) == 1 and v.reports[0].abnormal and v.results == []
        assert [(r.name, r.value, r.flag, r.reference) for r in v.reports[0].results] == [
            ("Glucose", "9.4", "H", "3.9–6.4")]
        groups = [(p.code, [d.name for d in p.drugs]) for p in v.prescriptions]
        i = v.id.rsplit("e", 1)[1]
        assert groups == [(f"G1-p-short-{i}", ["Amlodipin 5mg", "Paracetamol 500mg"]),
                          (f"G2-p-short-{i}", ["Salbutamol"])]
        assert v.department == "Khoa Khám bệnh" and v.room == "Phòng khám 3"


def test_older_visits_come_a_page_at_a_time(engine):
    with transaction(engine) as repo:
        make_patient(repo, "p-long", 7)
    with transaction(engine) as repo:
        first = chart.read_visits(repo, "p-long", everything, limit=3)
        second = chart.read_visits(repo, "p-long", everything, before=first.before, limit=3)
        third = chart.read_visits(repo, "p-long", everything, before=second.before, limit=3)
    ids = [v.id for page in (first, second, third) for v in page.visits]
    assert ids == [f"p-long-e{i}" for i in range(6, -1, -1)]
    assert first.before and second.before and third.before is None
    assert all(len(v.prescriptions) == 2 for v in third.visits)


def test_types_the_user_may_not_read_are_not_searched(engine):
    with transaction(engine) as repo:
        make_patient(repo, "p-r", 2)
    administrative = {"Patient", "Encounter"}
    with transaction(engine) as repo, counting(engine) as statements:
        summary = chart.build_chart(repo, "p-r", administrative.__contains__, TODAY)
    assert summary.allergies is None and summary.problems is None
    assert set(summary.restricted) == {"Condition", "Observation", "DiagnosticReport", "MedicationRequest",
                                       "Composition", "DocumentReference", "AllergyIntolerance"}
    assert [v.diagnoses for v in summary.page.visits] == [[], []]
    assert not any("MedicationRequest" in s or "Observation" in s for s in statements)


def test_the_number_of_queries_does_not_grow_with_the_history(engine):
    with transaction(engine) as repo:
        make_patient(repo, "p-few", 2)
        make_patient(repo, "p-many", 45)
    counts = {}
    for pid in ("p-few", "p-many"):
        with transaction(engine) as repo, counting(engine) as statements:
            summary = chart.build_chart(repo, pid, everything, TODAY)
        counts[pid] = (len(statements), len(summary.page.visits))
    assert counts["p-few"][1] == 2 and counts["p-many"][1] == chart.VISITS_PER_PAGE
    assert counts["p-many"][0] == counts["p-few"][0]
    assert counts["p-many"][0] < 40


def test_what_was_typed_picks_the_search():
    assert chart.search_query("nguyen van an") == [("Patient", [("name", "nguyen"), ("name", "van"),
                                                                 ("name", "an")])]
    assert chart.search_query("0912 345 678") == [("Patient", [("identifier", "0912345678")]),
                                                  ("Patient", [("phone", "0912345678")])]
    assert chart.search_query("dn4797912345678") == [("Patient", [("identifier", "DN4797912345678")]),
                                                     ("Coverage", [("identifier", "DN4797912345678")])]
    assert chart.search_query("  ") == []


def test_patients_are_found_by_name_without_diacritics_and_by_phone(engine):
    with transaction(engine) as repo:
        make_patient(repo, "p-s", 1)
    with transaction(engine) as repo:
        assert [p.id for p in chart.find_patients(repo, "tran binh", TODAY)] == ["p-s"]
        assert [p.id for p in chart.find_patients(repo, "0912345678", TODAY)] == ["p-s"]
        assert chart.find_patients(repo, "le van", TODAY) == []


assert BASE  # the repository base URL of the factories (imported for the references they build)
