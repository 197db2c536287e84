"""Parameters that repeat others read their rows: ``combo-*`` = own | component, ``phonetic`` = ``name``.

They write no index rows of their own (fhir/searchparams.row_params); every way of searching by them must
still give what their own rows would have given.
"""

from __future__ import annotations

from typing import Any

from .conftest import LOINC, VN_PATIENTS, find, observation, run, store

UCUM = "http://unitsofmeasure.org"


def _panel(oid: str, code: str, parts: list[tuple[str, float]], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final", "subject": {"reference": "Patient/anh"},
            "code": {"coding": [{"system": LOINC, "code": code}], "text": "Huyết áp"},
            "component": [{"code": {"coding": [{"system": LOINC, "code": c}]},
                           "valueQuantity": {"value": v, "system": UCUM, "code": "mm[Hg]"}} for c, v in parts],
            **extra}


def _world(engine: Any) -> None:
    concept = {"resourceType": "Observation", "id": "blood", "status": "final", "subject": {"reference": "Patient/anh"},
               "code": {"coding": [{"system": LOINC, "code": "883-9"}]},
               "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "112144000"}]}}
    absent = {"resourceType": "Observation", "id": "absent", "status": "final",
              "subject": {"reference": "Patient/anh"}, "code": {"coding": [{"system": LOINC, "code": "8310-5"}]},
              "dataAbsentReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                               "code": "asked-unknown"}]}}
    store(engine, *VN_PATIENTS,
          _panel("bp", "85354-9", [("8480-6", 140), ("8462-4", 90)]),
          observation("sys", "Patient/anh", "8480-6", value=120),
          observation("hr", "Patient/anh", "8867-4", value=70),
          concept, absent)


def test_combo_parameters_match_the_resource_and_its_components(engine):  # type: ignore[no-untyped-def]
    _world(engine)
    assert find(engine, "Observation", "combo-code=8480-6") == {"bp", "sys"}
    assert find(engine, "Observation", f"combo-code={LOINC}|85354-9") == {"bp"}
    assert find(engine, "Observation", "combo-code=8867-4,8462-4") == {"bp", "hr"}
    assert find(engine, "Observation", "combo-code:not=8480-6") == {"hr", "blood", "absent"}
    assert find(engine, "Observation", "combo-code:text=huyet") == {"bp"}
    assert find(engine, "Observation", "combo-code:missing=false") == {"bp", "sys", "hr", "blood", "absent"}
    assert find(engine, "Observation", "combo-code=8480-6&combo-code=8462-4") == {"bp"}
    assert find(engine, "Observation", "combo-value-concept=112144000") == {"blood"}
    assert find(engine, "Observation", "combo-value-concept:missing=true") == {"bp", "sys", "hr", "absent"}
    assert find(engine, "Observation", "combo-data-absent-reason=asked-unknown") == {"absent"}
    assert find(engine, "Patient", "_has:Observation:subject:combo-code=8462-4") == {"anh"}
    assert find(engine, "Observation", "subject.name=nguyen&combo-code=8867-4") == {"hr"}


def test_sorting_by_a_combo_parameter_sees_the_component_codes(engine):  # type: ignore[no-untyped-def]
    _world(engine)
    bundle = run(engine, "Observation", "_sort=combo-code,_id&_count=10")
    order = [e["resource"]["id"] for e in bundle["entry"]]
    # smallest code of each: bp 8462-4 (component), sys 8480-6, hr 8867-4, absent 8310-5, blood 883-9
    assert order == ["absent", "bp", "sys", "blood", "hr"]


def test_phonetic_is_answered_by_the_name_rows(engine):  # type: ignore[no-untyped-def]
    _world(engine)
    assert find(engine, "Patient", "phonetic=nguyen") == find(engine, "Patient", "name=nguyen") == {"anh"}
    assert find(engine, "Patient", "phonetic:exact=Trần") == {"dao"}
    assert find(engine, "Patient", "phonetic:contains=hoa") == find(engine, "Patient", "name:contains=hoa")
    assert find(engine, "Patient", "phonetic:missing=true") == find(engine, "Patient", "name:missing=true")
