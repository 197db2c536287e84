"""Search-index rows extracted from resources on write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String

from benhan.db.schema import INDEX_TABLES
from benhan.fhir.dates import MAX_TIME, MIN_TIME, date_range
from benhan.fhir.indexing import COLUMNS, extract_index
from benhan.fhir.indexing_rows import ISO_4217, RANGE_OPEN_HIGH, RANGE_OPEN_LOW

DATA = Path(__file__).resolve().parents[1] / "data"
NATIONAL_ID = "http://fhir.ehealth.gov.vn/core/sid/national_id"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def rows(resource: dict[str, Any], kind: str, param: str) -> list[dict[str, Any]]:
    return [row for row in extract_index(resource).rows[kind] if row["param"] == param]


def values(resource: dict[str, Any], kind: str, param: str, *columns: str) -> set[tuple[Any, ...]]:
    return {tuple(row[column] for column in columns) for row in rows(resource, kind, param)}


def span(start: str, end: str) -> tuple[int, int]:
    return date_range(start)[0], date_range(end)[1]


PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "bn-001",
    "meta": {
        "profile": ["http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient"],
        "tag": [{"system": "http://benhan.vn/tag", "code": "demo", "display": "Dữ liệu mẫu"}],
        "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}],
        "source": "http://bv-bachmai.vn/his",
    },
    "identifier": [
        {"system": NATIONAL_ID, "value": "001085012345",
         "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}],
                  "text": "Căn cước công dân"}},
        {"system": "http://fhir.ehealth.gov.vn/core/sid/bhyt", "value": "DN4010123456789"},
    ],
    "active": True,
    "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", "Ánh"]}],
    "telecom": [{"system": "phone", "value": "0912 345 678", "use": "mobile"},
                {"system": "email", "value": "anh.nguyen@example.vn"}],
    "gender": "male",
    "birthDate": "1985-03",
    "address": [{"line": ["Số 1 Phố Tràng Thi"], "district": "Hoàn Kiếm", "city": "Hà Nội", "country": "VN"}],
    "generalPractitioner": [{"reference": "Practitioner/bs-01"}],
    "managingOrganization": {"reference": "Organization/bv-bachmai", "display": "Bệnh viện Bạch Mai"},
}


def test_vietnamese_name_rows() -> None:
    assert values(PATIENT, "string", "name", "value", "exact") == {
        ("nguyen", "Nguyễn"), ("van", "Văn"), ("anh", "Ánh"),
        ("nguyen van anh", "Nguyễn Văn Ánh"), ("van anh nguyen", "Văn Ánh Nguyễn"),
    }
    assert values(PATIENT, "string", "family", "value", "exact") == {("nguyen", "Nguyễn")}
    assert values(PATIENT, "string", "given", "value") == {("van",), ("anh",)}
    assert all(row["grp"] == 0 for row in extract_index(PATIENT).rows["string"])


def test_name_with_prefix_suffix_and_text() -> None:
    patient = {"resourceType": "Patient", "name": [{"text": "BS. Đỗ Thị Hà", "family": "Đỗ",
                                                    "given": ["Thị", "Hà"], "prefix": ["BS."]}]}
    assert values(patient, "string", "name", "value") == {
        ("do",), ("thi",), ("ha",), ("bs.",), ("bs. do thi ha",), ("do thi ha",), ("thi ha do",)}


def test_address_rows() -> None:
    assert values(PATIENT, "string", "address", "value", "exact") == {
        ("so 1 pho trang thi", "Số 1 Phố Tràng Thi"), ("hoan kiem", "Hoàn Kiếm"), ("ha noi", "Hà Nội"),
        ("vn", "VN"),
        ("so 1 pho trang thi hoan kiem ha noi vn", "Số 1 Phố Tràng Thi, Hoàn Kiếm, Hà Nội, VN"),
    }
    assert values(PATIENT, "string", "address-city", "value") == {("ha noi",)}
    assert values(PATIENT, "string", "address-country", "exact") == {("VN",)}


def test_identifier_rows() -> None:
    assert values(PATIENT, "token", "identifier", "system", "code", "text", "type_system", "type_code") == {
        (NATIONAL_ID, "001085012345", "can cuoc cong dan", "http://terminology.hl7.org/CodeSystem/v2-0203", "NI"),
        ("http://fhir.ehealth.gov.vn/core/sid/bhyt", "DN4010123456789", None, None, None),
    }


def test_token_rows_for_primitives_and_contact_points() -> None:
    assert values(PATIENT, "token", "gender", "system", "code") == {(None, "male")}
    assert values(PATIENT, "token", "active", "code") == {("true",)}
    assert values(PATIENT, "token", "telecom", "system", "code") == {(None, "0912 345 678"),
                                                                     (None, "anh.nguyen@example.vn")}
    assert values(PATIENT, "token", "phone", "code") == {("0912 345 678",)}
    assert values(PATIENT, "token", "email", "code") == {("anh.nguyen@example.vn",)}


def test_deceased_token() -> None:
    assert values(PATIENT, "token", "deceased", "code") == {("false",)}
    assert values({**PATIENT, "deceasedBoolean": True}, "token", "deceased", "code") == {("true",)}
    assert values({**PATIENT, "deceasedDateTime": "2024-01-02"}, "token", "deceased", "code") == {("true",)}
    assert values({**PATIENT, "deceasedBoolean": False}, "token", "deceased", "code") == {("false",)}


def test_partial_birth_date() -> None:
    assert values(PATIENT, "date", "birthdate", "low", "high") == {span("1985-03-01", "1985-03-31")}


def test_meta_parameters() -> None:
    assert values(PATIENT, "token", "_tag", "system", "code", "text") == {
        ("http://benhan.vn/tag", "demo", "du lieu mau")}
    assert values(PATIENT, "token", "_security", "system", "code") == {
        ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")}
    assert values(PATIENT, "uri", "_profile", "uri") == {
        ("http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient",)}
    assert values(PATIENT, "uri", "_source", "uri") == {("http://bv-bachmai.vn/his",)}
    index = extract_index(PATIENT)
    assert not [row for kind in index.rows.values() for row in kind if row["param"] in ("_id", "_lastUpdated")]


def test_patient_references_and_own_compartment() -> None:
    assert values(PATIENT, "reference", "general-practitioner", "target_type", "target_id", "url") == {
        ("Practitioner", "bs-01", None)}
    assert values(PATIENT, "reference", "organization", "target_type", "target_id") == {
        ("Organization", "bv-bachmai")}
    assert extract_index(PATIENT).compartments == [("Patient", "bn-001")]
    linked = {**PATIENT, "link": [{"other": {"reference": "Patient/bn-000"}, "type": "replaces"}]}
    assert extract_index(linked).compartments == [("Patient", "bn-001"), ("Patient", "bn-000")]


BLOOD_PRESSURE: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "bp-1",
    "status": "final",
    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                              "code": "vital-signs", "display": "Vital Signs"}]}],
    "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}],
             "text": "Huyết áp"},
    "subject": {"reference": "Patient/bn-001"},
    "encounter": {"reference": "Encounter/kb-1"},
    "performer": [{"reference": "Practitioner/bs-01"}],
    "effectiveDateTime": "2024-05-01T08:30:00+07:00",
    "component": [
        {"code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic"}]},
         "valueQuantity": {"value": 120, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
        {"code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic"}]},
         "valueQuantity": {"value": 80, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
    ],
}


def test_observation_code_rows() -> None:
    assert values(BLOOD_PRESSURE, "token", "code", "system", "code", "text") == {
        (LOINC, "85354-9", "blood pressure panel"), (None, None, "huyet ap")}
    assert values(BLOOD_PRESSURE, "token", "component-code", "code") == {("8480-6",), ("8462-4",)}
    # combo-code is code | component-code: the search reads their rows, it has none of its own
    assert values(BLOOD_PRESSURE, "token", "combo-code", "code") == set()
    assert values(BLOOD_PRESSURE, "token", "category", "code") == {("vital-signs",)}
    assert values(BLOOD_PRESSURE, "token", "status", "code") == {("final",)}


def test_codeable_concept_text_equal_to_a_display_has_no_row_of_its_own() -> None:
    # Synthea's habit: text repeats the first coding's display (here with other case and diacritics).
    height = {"resourceType": "Observation", "status": "final",
              "code": {"coding": [{"system": LOINC, "code": "8302-2", "display": "Chiều cao"}],
                       "text": "CHIEU CAO"}}
    assert values(height, "token", "code", "system", "code", "text") == {(LOINC, "8302-2", "chieu cao")}
    # A text different from every display keeps its row (BLOOD_PRESSURE: "Huyết áp").
    assert (None, None, "huyet ap") in values(BLOOD_PRESSURE, "token", "code", "system", "code", "text")


def test_composite_component_tokens_carry_no_text() -> None:
    note = {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "8251-1", "display": "Triệu chứng"}],
                     "text": "Đau đầu"},
            "valueString": "đau đầu ba ngày"}
    assert values(note, "token", "code-value-string$0", "system", "code", "text") == {(LOINC, "8251-1", None)}
    # A component whose only token is a text still marks the composite as present (one blank row).
    text_only = {**note, "code": {"text": "Đau đầu"}}
    assert values(text_only, "token", "code-value-string$0", "system", "code", "text") == {(None, None, None)}
    assert values(text_only, "string", "code-value-string$1", "value") == {("dau dau ba ngay",)}


def test_observation_date_in_utc() -> None:
    low = date_range("2024-05-01T01:30:00Z")[0]
    assert values(BLOOD_PRESSURE, "date", "date", "low", "high") == {(low, low + 999_999)}


def test_observation_quantities() -> None:
    assert values(BLOOD_PRESSURE, "quantity", "value-quantity", "value") == set()
    assert values(BLOOD_PRESSURE, "quantity", "component-value-quantity", "value", "system", "code", "unit") == {
        (120.0, UCUM, "mm[Hg]", "mmHg"), (80.0, UCUM, "mm[Hg]", "mmHg")}
    glucose = {"resourceType": "Observation", "status": "final", "code": {"text": "Glucose"},
               "valueQuantity": {"value": 6.3, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}}
    assert values(glucose, "quantity", "value-quantity", "value", "code") == {(6.3, "mmol/L")}


def test_observation_composites() -> None:
    index = extract_index(BLOOD_PRESSURE)
    composite = sorted(
        ((row["grp"], row["param"], row.get("code"), row.get("value")) for kind in ("token", "quantity")
         for row in index.rows[kind] if row["param"].startswith("component-code-value-quantity$")),
    )
    groups = {grp for grp, *_ in composite}
    assert len(groups) == 2 and 0 not in groups
    by_group = {grp: {(param, code if param.endswith("$0") else value) for _, param, code, value in
                      (row for row in composite if row[0] == grp)} for grp in groups}
    assert sorted(by_group.values(), key=str) == sorted([
        {("component-code-value-quantity$0", "8480-6"), ("component-code-value-quantity$1", 120.0)},
        {("component-code-value-quantity$0", "8462-4"), ("component-code-value-quantity$1", 80.0)},
    ], key=str)
    # code-value-* and combo-code-value-* read the code, value-* and component-code-value-* rows (composites.py)
    assert not [row for kind in index.rows.values() for row in kind
                if row["param"].startswith(("code-value-", "combo-code-value-"))]
    all_groups = [row["grp"] for kind in index.rows.values() for row in kind if row["grp"]]
    assert max(all_groups) == len(set(all_groups))  # numbered 1, 2, ... without gaps


def test_composite_with_root_instance() -> None:
    observation = {"resourceType": "Observation", "status": "final",
                   "code": {"coding": [{"system": LOINC, "code": "8251-1"}]},
                   "valueString": "ho khan", "effectiveDateTime": "2024-05-01"}
    index = extract_index(observation)
    code_rows = [row for row in index.rows["token"] if row["param"] == "code-value-string$0"]
    value_rows = [row for row in index.rows["string"] if row["param"] == "code-value-string$1"]
    assert [(row["system"], row["code"]) for row in code_rows] == [(LOINC, "8251-1")]
    assert [row["value"] for row in value_rows] == ["ho khan"]
    assert code_rows[0]["grp"] == value_rows[0]["grp"] > 0


def test_composite_with_three_components_and_resource_variable() -> None:
    sequence = {"resourceType": "MolecularSequence", "type": "dna", "coordinateSystem": 0,
                "referenceSeq": {"chromosome": {"coding": [{"system": "http://hl7.org/fhir/chromosome-human",
                                                            "code": "1"}]}},
                "variant": [{"start": 12, "end": 13}, {"start": 15, "end": 16}]}
    index = extract_index(sequence)
    groups: dict[int, set[tuple[str, Any]]] = {}
    for kind, column in (("token", "code"), ("number", "value")):
        for row in index.rows[kind]:
            if row["param"].startswith("chromosome-variant-coordinate$"):
                groups.setdefault(row["grp"], set()).add((row["param"][-2:], row[column]))
    assert sorted(groups.values(), key=sorted) == sorted([
        {("$0", "1"), ("$1", 12.0), ("$2", 13.0)}, {("$0", "1"), ("$1", 15.0), ("$2", 16.0)}], key=sorted)
    assert values(sequence, "number", "variant-start", "value") == {(12.0,), (15.0,)}


def test_periods_with_open_ends() -> None:
    encounter = {"resourceType": "Encounter", "status": "in-progress", "class": {"code": "IMP"},
                 "subject": {"reference": "Patient/bn-001"},
                 "period": {"start": "2024-05-01T07:00:00+07:00"}}
    start = date_range("2024-05-01T00:00:00Z")[0]
    assert values(encounter, "date", "date", "low", "high") == {(start, MAX_TIME)}
    ended = {**encounter, "period": {"end": "2024-05-03"}}
    assert values(ended, "date", "date", "low", "high") == {(MIN_TIME, date_range("2024-05-03")[1])}
    both = {**encounter, "period": {"start": "2024-05", "end": "2024-06"}}
    assert values(both, "date", "date", "low", "high") == {span("2024-05-01", "2024-06-30")}
    assert values({**encounter, "period": {}}, "date", "date", "low") == set()
    assert extract_index(encounter).compartments == [("Patient", "bn-001")]


def test_timing_is_one_range() -> None:
    request = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/p"},
               "occurrenceTiming": {"event": ["2024-05-03T08:00:00Z", "2024-05-01T08:00:00Z"],
                                    "repeat": {"boundsPeriod": {"start": "2024-04-30", "end": "2024-05-02"}}}}
    assert values(request, "date", "occurrence", "low", "high") == {
        (date_range("2024-04-30")[0], date_range("2024-05-03T08:00:00Z")[1])}


def test_malformed_dates_are_skipped() -> None:
    patient = {"resourceType": "Patient", "birthDate": "1985-02-30"}
    assert values(patient, "date", "birthdate", "low") == set()


def test_range_and_money_quantities() -> None:
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/p"},
                 "onsetRange": {"low": {"value": 20, "unit": "a", "system": UCUM, "code": "a"},
                                "high": {"value": 30, "unit": "a", "system": UCUM, "code": "a"}},
                 "abatementAge": {"value": 35, "unit": "a", "system": UCUM, "code": "a"}}
    low = rows(condition, "quantity", "onset-age:low")
    high = rows(condition, "quantity", "onset-age:high")
    assert [(row["value"], row["code"]) for row in low] == [(20.0, "a")]
    assert [(row["value"], row["code"]) for row in high] == [(30.0, "a")]
    assert low[0]["grp"] == high[0]["grp"] > 0
    assert rows(condition, "quantity", "onset-age") == []
    assert values(condition, "quantity", "abatement-age", "value", "grp") == {(35.0, 0)}
    open_range = {**condition, "onsetRange": {"low": {"value": 60, "system": UCUM, "code": "a"}}}
    assert values(open_range, "quantity", "onset-age:high", "value", "code") == {(RANGE_OPEN_HIGH, "a")}
    assert values(open_range, "quantity", "onset-age:low", "value") == {(60.0,)}
    assert RANGE_OPEN_LOW < 0 < RANGE_OPEN_HIGH
    invoice = {"resourceType": "Invoice", "status": "issued",
               "totalNet": {"value": 1500000, "currency": "VND"}}
    assert values(invoice, "quantity", "totalnet", "value", "system", "code") == {(1500000.0, ISO_4217, "VND")}


def test_number_rows() -> None:
    assessment = {"resourceType": "RiskAssessment", "status": "final", "subject": {"reference": "Patient/p"},
                  "prediction": [{"probabilityDecimal": 0.25},
                                 {"probabilityRange": {"low": {"value": 0.1}, "high": {"value": 0.4}}}]}
    assert values(assessment, "number", "probability", "value", "grp") == {(0.25, 0)}
    assert values(assessment, "number", "probability:low", "value") == {(0.1,)}
    assert values(assessment, "number", "probability:high", "value") == {(0.4,)}


def test_reference_forms() -> None:
    observation = {
        "resourceType": "Observation", "status": "final", "code": {"text": "x"},
        "contained": [{"resourceType": "Practitioner", "id": "d1"}],
        "subject": {"reference": "Patient/bn-001/_history/3"},
        "performer": [
            {"reference": "https://his.bv-bachmai.vn/fhir/Practitioner/bs-02"},
            {"reference": "urn:uuid:5f1a7c1e-0000-4000-8000-000000000001"},
            {"reference": "#d1"},
            {"identifier": {"system": "http://fhir.ehealth.gov.vn/core/sid/cchn", "value": "000123/HNO-CCHN"}},
            {"display": "Chỉ có tên"},
        ],
        "hasMember": [{"reference": "Observation/o-2"}],
        "derivedFrom": [{"reference": "https://other.example/fhir/Patient/p9"}],
    }
    assert values(observation, "reference", "subject", "target_type", "target_id", "target_version", "url") == {
        ("Patient", "bn-001", "3", None)}
    assert values(observation, "reference", "performer", "target_type", "target_id", "url") == {
        ("Practitioner", "bs-02", "https://his.bv-bachmai.vn/fhir/Practitioner/bs-02"),
        (None, None, "urn:uuid:5f1a7c1e-0000-4000-8000-000000000001"),
        (None, None, "#d1"),
    }
    assert values(observation, "token", "performer:identifier", "system", "code") == {
        ("http://fhir.ehealth.gov.vn/core/sid/cchn", "000123/HNO-CCHN")}
    assert values(observation, "reference", "has-member", "target_type", "target_id") == {("Observation", "o-2")}
    # Compartments come from relative references only.
    assert extract_index(observation).compartments == [("Patient", "bn-001")]


def test_canonical_references() -> None:
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "questionnaire": "http://benhan.vn/fhir/Questionnaire/kham-sang-loc|2.1",
                "subject": {"reference": "Patient/p"}}
    assert values(response, "reference", "questionnaire", "target_type", "target_version", "url") == {
        (None, "2.1", "http://benhan.vn/fhir/Questionnaire/kham-sang-loc")}


def test_bundle_composition_reference() -> None:
    bundle = {"resourceType": "Bundle", "type": "document",
              "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:1"},
              "entry": [{"resource": {"resourceType": "Composition", "id": "c1"}}]}
    assert values(bundle, "reference", "composition", "target_type", "target_id") == {("Composition", "c1")}
    assert values(bundle, "token", "identifier", "code") == {("urn:uuid:1",)}
    assert values(bundle, "token", "type", "code") == {("document",)}


def test_identical_rows_are_written_once() -> None:
    patient = {"resourceType": "Patient", "name": [{"family": "Lê"}, {"family": "Lê"}],
               "identifier": [{"system": "s", "value": "1"}, {"system": "s", "value": "1"}]}
    assert len(rows(patient, "string", "family")) == 1
    assert len(rows(patient, "token", "identifier")) == 1


def test_long_values_are_cut_to_the_column() -> None:
    long_text = "Trần " * 100
    patient = {"resourceType": "Patient", "name": [{"family": long_text}],
               "identifier": [{"system": "http://x/" + "a" * 600, "value": "v" * 300}],
               "meta": {"source": "http://x/" + "s" * 600}}
    family = rows(patient, "string", "family")[0]
    assert family["exact"] == long_text[:255] and len(family["value"]) == 255
    identifier = rows(patient, "token", "identifier")[0]
    assert len(identifier["system"]) == 255 and len(identifier["code"]) == 255
    assert len(rows(patient, "uri", "_source")[0]["uri"]) == 500
    observation = {"resourceType": "Observation", "subject": {"reference": "Patient/" + "x" * 65}}
    # An id longer than FHIR allows is not read as a local reference: kept as written, in ``url``.
    assert values(observation, "reference", "subject", "target_type", "url") == {(None, "Patient/" + "x" * 65)}


def test_unknown_resource_type() -> None:
    index = extract_index({"resourceType": "NotAResource", "id": "1"})
    assert index.compartments == [] and all(not kind for kind in index.rows.values())
    assert set(index.rows) == set(COLUMNS)


def _all_test_resources() -> list[dict[str, Any]]:
    found = [json.loads(path.read_text(encoding="utf-8")) for path in sorted((DATA / "r4-examples").glob("*.json"))]
    for path in sorted((DATA / "synthea").glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        found.extend(entry["resource"] for entry in bundle["entry"])
        found.append(bundle)
    return found


def test_rows_match_the_schema_for_all_test_data() -> None:
    sizes = {kind: {column.name: column.type.length for column in table.columns if isinstance(column.type, String)}
             for kind, table in INDEX_TABLES.items()}
    required = {kind: {column.name for column in table.columns if not column.nullable} - {"res_pk", "res_type"}
                for kind, table in INDEX_TABLES.items()}
    total = 0
    for resource in _all_test_resources():
        index = extract_index(resource)
        assert set(index.rows) == set(INDEX_TABLES)
        for kind, kind_rows in index.rows.items():
            for row in kind_rows:
                assert set(row) == set(COLUMNS[kind])
                assert set(COLUMNS[kind]) == {c.name for c in INDEX_TABLES[kind].columns} - {"res_pk", "res_type"}
                assert all(row[column] is not None for column in required[kind]), row
                for column, size in sizes[kind].items():
                    assert row.get(column) is None or len(row[column]) <= size, (column, row)
                assert 0 <= row["grp"] <= 32767
                if kind == "date":
                    assert row["low"] <= row["high"]
                total += 1
    assert total > 25_000


@pytest.mark.parametrize("path", sorted((DATA / "synthea").glob("*.json"))[:4], ids=lambda path: path.stem[:20])
def test_synthea_resources_are_in_their_patient_compartment(path: Path) -> None:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    # Synthea bundles refer by urn:uuid (resolved by the transaction); rewrite to Patient/<id> as a server would.
    patient = next(entry for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Patient")
    text = json.dumps(bundle).replace(patient["fullUrl"], f"Patient/{patient['resource']['id']}")
    for entry in json.loads(text)["entry"]:
        resource = entry["resource"]
        compartments = extract_index(resource).compartments
        if resource["resourceType"] in ("Observation", "Encounter", "Condition", "Immunization", "Patient",
                                        "DiagnosticReport", "Procedure", "MedicationRequest", "CarePlan"):
            assert compartments == [("Patient", patient["resource"]["id"])], resource["resourceType"]
        if resource["resourceType"] in ("Organization", "Practitioner"):
            assert compartments == []
