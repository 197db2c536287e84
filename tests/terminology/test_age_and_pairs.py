"""QĐ 4469 annexes A3.x (age ranges) and A1 (dagger/asterisk pairs) where diagnoses are checked."""

from __future__ import annotations

from datetime import date

import pytest

from benhan.terminology.diagnosis import (
    birth_range,
    check_diagnosis,
    check_resource,
    missing_daggers,
    permitted_daggers,
    rules,
)
from benhan.terminology.model import FLAG_PROPERTIES, Flag

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                         "code": "encounter-diagnosis"}]}]
D = date(2025, 3, 1)
RULES = rules("4469-2020")


def _rule(annex: str):  # type: ignore[no-untyped-def]
    return next(r for r in RULES.age if r.annex == annex)


def test_shipped_age_annexes_match_the_model_flags() -> None:
    assert [r.annex for r in RULES.age] == [f"A3.{n}" for n in range(1, 11)]
    assert [r.flag for r in RULES.age] == [f for f in Flag if f.name and f.name.startswith("AGE_")]
    assert all(Flag(r.flag) in FLAG_PROPERTIES for r in RULES.age)
    assert (_rule("A3.1").title, _rule("A3.1").range) == ("Bệnh trẻ sơ sinh", "0 - 365 ngày")
    assert rules("no-such-version").age == ()


@pytest.mark.parametrize(("annex", "day", "young", "old"), [
    ("A3.1", date(2021, 3, 1), False, False),  # day 365
    ("A3.1", date(2021, 3, 2), False, True),  # day 366
    ("A3.5", date(2020, 3, 28), True, False),  # day 27: "trên 27 ngày tuổi"
    ("A3.5", date(2020, 3, 29), False, False),
    ("A3.7", date(2028, 2, 29), True, False),  # the day before the 8th birthday
    ("A3.7", date(2028, 3, 1), False, False),
    ("A3.7", date(2040, 2, 29), False, False),  # still 19
    ("A3.7", date(2040, 3, 1), False, True),  # 20
    ("A3.9", date(2035, 3, 1), True, False),  # the 15th birthday is not "trên 15 tuổi"
    ("A3.9", date(2035, 3, 2), False, False),
    ("A3.6", date(2021, 3, 1), False, False),  # "1 tuổi trở lên"
])
def test_age_bounds_read_from_the_headings(annex: str, day: date, young: bool, old: bool) -> None:
    birth = date(2020, 3, 1)
    rule = _rule(annex)
    assert (rule.too_young(birth, day), rule.too_old(birth, day)) == (young, old)


def test_partial_birth_dates() -> None:
    assert birth_range("1980") == (date(1980, 1, 1), date(1980, 12, 31))
    assert birth_range("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert birth_range("2024-02-10") == (date(2024, 2, 10),) * 2
    assert birth_range("garbage") is None and birth_range(None) is None


def test_newborn_code_for_an_adult_is_an_error(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        issues = check_diagnosis(conn, "P07.3", main=False, patient_gender=None, encounter_end_date=D,
                                 patient_birth_date="1980-05-17", expression="Condition.code")
        assert [(i.severity, i.expression) for i in issues] == [("error", "Condition.code")]
        assert "A3.1" in issues[0].vi and "0 - 365 ngày" in issues[0].vi and "44 tuổi" in issues[0].vi
        assert "0 - 365 days" in issues[0].en and "44 years old" in issues[0].en
        assert check_diagnosis(conn, "P07.3", main=False, patient_gender=None, encounter_end_date=D,
                               patient_birth_date="2025-02-20") == []
        assert check_diagnosis(conn, "P07.3", main=False, patient_gender=None, encounter_end_date=D) == []


def test_age_is_checked_over_the_whole_encounter(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        # 352 days old at admission, 395 at discharge: the code fitted on the first days
        assert check_diagnosis(conn, "P07.3", main=False, patient_gender=None, encounter_end_date=D,
                               encounter_start_date=date(2025, 1, 1), patient_birth_date="2024-01-15") == []
        assert check_diagnosis(conn, "P07.3", main=False, patient_gender=None, encounter_end_date=D,
                               patient_birth_date="2024-01-15")
        # senile cataract (A3.10, over 30): a birth year only is an error only when every birth day fails
        assert check_diagnosis(conn, "H25.9", main=False, patient_gender=None, encounter_end_date=D,
                               patient_birth_date="1995") == []
        young = check_diagnosis(conn, "H25.9", main=False, patient_gender=None, encounter_end_date=D,
                                patient_birth_date="1996")
        assert [i.severity for i in young] == ["error"] and "trên 30 tuổi" in young[0].vi


def test_pairs_match_by_prefix() -> None:
    assert "A01.0" in permitted_daggers(RULES.pairs, "G01")
    assert "E03.0" in permitted_daggers(RULES.pairs, "F02.8")  # A1 lists F02.80-F02.84, absent from the list
    assert missing_daggers(RULES.pairs, ["G01", "A01.0"]) == {}
    assert missing_daggers(RULES.pairs, ["M01.8", "A09.0", "E11.9"]) == {}  # A1 lists the category A09
    assert list(missing_daggers(RULES.pairs, ["E11.9", "G01"])) == ["G01"]


def test_encounter_with_an_asterisk_code_and_no_dagger_warns(term_engine):  # type: ignore[no-untyped-def]
    store: dict[tuple[str, str], dict] = {  # type: ignore[type-arg]
        ("Patient", "p1"): {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"},
    }
    for cid, code in (("c1", "E11.9"), ("c2", "F02.8"), ("c3", "E03.0")):
        store[("Condition", cid)] = {"resourceType": "Condition", "id": cid, "category": CATEGORY,
                                     "code": {"coding": [{"system": ICD10, "code": code}]}}

    def encounter(*cids: str) -> dict:  # type: ignore[type-arg]
        return {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"},
                "period": {"start": "2025-02-01", "end": "2025-02-03"},
                "diagnosis": [{"condition": {"reference": f"Condition/{c}"}, "rank": n + 1}
                              for n, c in enumerate(cids)]}

    with term_engine.connect() as conn:
        issues = check_resource(conn, encounter("c1", "c2"), resolve=lambda t, i: store.get((t, i)))
        assert [(i.severity, i.expression) for i in issues] == [("warning", "Encounter.diagnosis[1]")]
        assert "F02.8" in issues[0].vi and "A1" in issues[0].vi and "B56.0" in issues[0].vi and "dagger" in issues[0].en
        assert "mã khác" in issues[0].vi and "more" in issues[0].en
        assert check_resource(conn, encounter("c3", "c2"), resolve=lambda t, i: store.get((t, i))) == []


def test_newborn_code_for_an_adult_refused_through_fhir(term_client):  # type: ignore[no-untyped-def]
    assert term_client.put("Patient/adult", {"resourceType": "Patient", "id": "adult", "gender": "female",
                                             "birthDate": "1980-05-17"}).status_code in (200, 201)
    encounter = {"resourceType": "Encounter", "id": "visit", "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                 "subject": {"reference": "Patient/adult"},
                 "period": {"start": "2025-03-01T08:00:00+07:00", "end": "2025-03-01T10:00:00+07:00"}}
    assert term_client.put("Encounter/visit", encounter).status_code in (200, 201)
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/adult"},
                 "encounter": {"reference": "Encounter/visit"}, "category": CATEGORY,
                 "code": {"coding": [{"system": ICD10, "code": "P07.3"}]}}
    resp = term_client.post("Condition", condition)
    assert resp.status_code == 422, resp.text
    issues = resp.json()["issue"]
    assert [i["expression"] for i in issues] == [["Condition.code"]]
    assert "P07.3" in issues[0]["details"]["text"] or "P07.3" in issues[0].get("diagnostics", "")
    condition["code"]["coding"][0]["code"] = "E11.9"
    assert term_client.post("Condition", condition).status_code == 201
