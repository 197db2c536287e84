"""check_resource: the Vietnamese identifier check of the FHIR write path."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from benhan.fhir.errors import FhirError
from benhan.vn import systems
from benhan.vn.cccd import make_cccd
from benhan.vn.rules import check_identifier, check_resource, raise_if_invalid

CCCD_F_1985 = make_cccd("079", "female", 1985, 12345)  # 079185012345
NATIONALITY_VN = {"url": systems.EXT_NATIONALITY,
                  "valueCodeableConcept": {"coding": [{"system": systems.ISO_3166, "code": "VN"}]}}


def patient(*identifiers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": list(identifiers), **fields}


def ident(system: str, value: Any) -> dict[str, Any]:
    return {"system": system, "value": value}


def only(issues: list) -> Any:
    assert len(issues) == 1, issues
    return issues[0]


def test_nothing_of_ours_means_no_issue() -> None:
    assert check_resource(patient(ident("urn:oid:1.2.3", "garbage"), {"value": "x"}, gender="male")) == []
    assert check_resource({"resourceType": "Patient"}) == []
    assert check_resource({"resourceType": "Observation", "status": "final"}) == []


@pytest.mark.parametrize("resource", [None, [], "Patient", {"identifier": []}, {"resourceType": 3}])
def test_not_a_resource_is_left_to_the_structure_validator(resource: Any) -> None:
    assert check_resource(resource) == []


def test_valid_identifiers_of_every_system() -> None:
    resource = patient(
        ident("urn:x", "1"),
        ident(systems.NATIONAL_ID, CCCD_F_1985),
        ident(systems.CITIZEN_ID, "012345678"),
        ident(systems.PASSPORT_NUMBER, "E12345678"),
        ident(systems.INSURANCE_NUMBER, "DN4791234567890"),
        ident(systems.INSURANCE_NUMBER, "1234567890"),
        ident(systems.PATIENT_INTERNAL_ID, "anything goes"),
        gender="female", birthDate="1985-04-30")
    assert check_resource(resource, today=date(2026, 11, 22), warnings=True) == []


def test_cccd_sex_mismatch_points_at_the_identifier_value() -> None:
    issue = only(check_resource(patient(ident("urn:x", "1"), ident(systems.NATIONAL_ID, "079085012345"),
                                        gender="female", birthDate="1985")))
    assert issue.expression == "Patient.identifier[1].value"
    assert issue.code == "business-rule" and issue.severity == "error"
    assert issue.vi == "Số CCCD: chữ số thứ 4 (thế kỷ/giới tính) không khớp với giới tính nữ (phải là 1)"
    assert issue.en == "CCCD: digit 4 (century/sex) does not match gender female (expected 1)"


def test_cccd_birth_year_mismatch() -> None:
    issue = only(check_resource(patient(ident(systems.NATIONAL_ID, CCCD_F_1985), gender="female",
                                        birthDate="1986-01-01")))
    assert issue.en == "CCCD: digits 5–6 (birth year) do not match birth year 1986 (expected 86)"
    assert issue.expression == "Patient.identifier[0].value"


def test_cccd_without_gender_or_birth_date_is_checked_for_structure_only() -> None:
    assert check_resource(patient(ident(systems.NATIONAL_ID, CCCD_F_1985))) == []
    issue = only(check_resource(patient(ident(systems.NATIONAL_ID, "07918501234"))))
    assert issue.code == "value"
    assert issue.en == "CCCD: must be exactly 12 digits, got 11 characters"


def test_cccd_birth_year_in_the_future_needs_today() -> None:
    resource = patient(ident(systems.NATIONAL_ID, "079434012345"))
    assert check_resource(resource) == []
    issue = only(check_resource(resource, today=date(2026, 11, 22)))
    assert issue.en == "CCCD: digits 4–6 give birth year 2134, which is in the future"


def test_cmnd() -> None:
    assert check_resource(patient(ident(systems.CITIZEN_ID, "025123456789"))) == []
    issue = only(check_resource(patient(ident(systems.CITIZEN_ID, "0251234567"))))
    assert issue.en.startswith("CMND: must be 9 digits") and issue.expression == "Patient.identifier[0].value"


def test_passport_format_depends_on_nationality() -> None:
    foreign = ident(systems.PASSPORT_NUMBER, "E12345678")
    assert check_resource(patient(foreign)) == []
    issue = only(check_resource(patient(foreign, extension=[NATIONALITY_VN])))
    assert issue.en == "Vietnamese passport number: characters 1–2 must be capital letters"
    vietnamese = patient(ident(systems.PASSPORT_NUMBER, "C1234567"), extension=[NATIONALITY_VN])
    assert check_resource(vietnamese) == []
    other = {**NATIONALITY_VN, "valueCodeableConcept": {"coding": [{"code": "US"}]}}
    assert check_resource(patient(foreign, extension=[other])) == []


def test_bhyt_province_message() -> None:
    issue = only(check_resource(patient(ident(systems.INSURANCE_NUMBER, "DN4031234567890"))))
    assert issue.vi.startswith("Mã thẻ BHYT: ký tự 4–5 (mã tỉnh) không hợp lệ")
    assert issue.en.startswith("BHYT card: characters 4–5 (province code) invalid")
    assert issue.expression == "Patient.identifier[0].value"


def test_every_bad_identifier_is_reported() -> None:
    issues = check_resource(patient(ident(systems.NATIONAL_ID, "x"), ident(systems.INSURANCE_NUMBER, "y"),
                                    ident(systems.PASSPORT_NUMBER, "z")))
    assert [i.expression for i in issues] == [f"Patient.identifier[{n}].value" for n in range(3)]


def test_missing_value() -> None:
    issue = only(check_resource(patient({"system": systems.NATIONAL_ID})))
    assert issue.code == "required" and issue.expression == "Patient.identifier[0].value"
    absent = {"system": systems.NATIONAL_ID, "_value": {"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}}
    assert check_resource(patient(absent)) == []


def test_wrong_json_type_is_left_to_the_structure_validator() -> None:
    assert check_resource(patient(ident(systems.NATIONAL_ID, 79185012345))) == []
    assert check_resource({"resourceType": "Patient", "identifier": "nope"}) == []
    assert check_resource({"resourceType": "Patient", "identifier": ["nope"]}) == []


def test_identifier_period_order() -> None:
    bad = {**ident(systems.INSURANCE_NUMBER, "DN4791234567890"),
           "period": {"start": "2025-02-01", "end": "2025-01"}}
    issue = only(check_resource(patient(bad)))
    assert issue.expression == "Patient.identifier[0].period"
    assert issue.en == "Identifier period: end is before start"
    same_month = {**bad, "period": {"start": "2025-01-31", "end": "2025-01"}}
    assert check_resource(patient(same_month)) == []


def test_single_identifier_element() -> None:
    resource = {"resourceType": "QuestionnaireResponse", "identifier": ident(systems.NATIONAL_ID, "1")}
    assert only(check_resource(resource)).expression == "QuestionnaireResponse.identifier.value"


def test_warnings_only_when_asked() -> None:
    resource = patient(ident(systems.NATIONAL_ID, "099185012345"),
                       ident(systems.INSURANCE_NUMBER, "ZZ4791234567890"))
    assert check_resource(resource) == []
    issues = check_resource(resource, warnings=True)
    assert [(i.severity, i.expression) for i in issues] == [("warning", "Patient.identifier[0].value"),
                                                            ("warning", "Patient.identifier[1].value")]
    assert "099" in issues[0].en and "'ZZ'" in issues[1].en


@pytest.mark.parametrize("rtype", ["Practitioner", "RelatedPerson", "Person"])
def test_other_people_are_checked_for_consistency(rtype: str) -> None:
    resource = {"resourceType": rtype, "gender": "male",
                "identifier": [ident(systems.NATIONAL_ID, CCCD_F_1985)]}
    assert only(check_resource(resource)).expression == f"{rtype}.identifier[0].value"


def test_non_person_resources_get_structure_checks_only() -> None:
    resource = {"resourceType": "Organization", "identifier": [ident(systems.PROVIDER_CODE, "0101"),
                                                             ident(systems.PROVIDER_CODE, "79013")]}
    issue = only(check_resource(resource))
    assert issue.expression == "Organization.identifier[0].value"
    assert issue.en.startswith("Facility code: must be 5 digits")


def test_contained_resources() -> None:
    coverage = {"resourceType": "Coverage", "contained": [
        patient(ident(systems.NATIONAL_ID, CCCD_F_1985), gender="male", id="p")], "status": "active"}
    issue = only(check_resource(coverage))
    assert issue.expression == "Coverage.contained[0].identifier[0].value"


# --- Coverage --------------------------------------------------------------------------------------

def coverage(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Coverage", "status": "active", "beneficiary": {"reference": "Patient/1"},
            "payor": [{"display": "BHXH"}],
            "identifier": [ident(systems.INSURANCE_NUMBER, "DN4791234567890")],
            "subscriberId": "DN4791234567890",
            "period": {"start": "2025-01-01", "end": "2025-12-31"}, **fields}


def test_valid_bhyt_coverage() -> None:
    assert check_resource(coverage()) == []
    assert check_resource(coverage(subscriberId="1234567890")) == []


def test_bad_subscriber_id() -> None:
    issue = only(check_resource(coverage(subscriberId="DN4791234567")))
    assert issue.expression == "Coverage.subscriberId"
    assert issue.en.startswith("BHYT card: must be 15 characters")


def test_subscriber_id_of_another_person() -> None:
    issue = only(check_resource(coverage(subscriberId="DN4790000000001")))
    assert issue.expression == "Coverage.subscriberId" and issue.code == "business-rule"
    assert issue.en == "BHYT card: BHXH number (last 10 digits) differs from Coverage.identifier[0].value"


def test_two_card_identifiers_must_share_the_bhxh_number() -> None:
    issue = only(check_resource(coverage(identifier=[ident(systems.INSURANCE_NUMBER, "DN4791234567890"),
                                                     ident(systems.INSURANCE_NUMBER, "1234567891")],
                                         subscriberId=None)))
    assert issue.expression == "Coverage.identifier[1].value"


def test_invalid_card_identifier_still_makes_it_a_bhyt_coverage() -> None:
    resource = coverage(identifier=[ident(systems.INSURANCE_NUMBER, "bad")], subscriberId="bad2")
    issues = check_resource(resource)
    assert [i.expression for i in issues] == ["Coverage.identifier[0].value", "Coverage.subscriberId"]


def test_bhyt_period() -> None:
    issues = check_resource(coverage(period={"start": "2025", "end": "2024-12-31"}))
    assert [(i.expression, i.en) for i in issues] == [
        ("Coverage.period.start",
         "BHYT card validity: start must be a full date (yyyy-mm-dd) as printed on the card"),
        ("Coverage.period", "BHYT card validity: end is before start"),
    ]
    assert check_resource(coverage(period={"start": "2025-01-01T00:00:00+07:00"})) == []


def test_other_coverages_are_not_bhyt() -> None:
    private = coverage(identifier=[ident("urn:insurer", "POL-1")], subscriberId="abc",
                       period={"start": "2025", "end": "2024"})
    assert check_resource(private) == []


def test_identifiers_inside_coverage_references() -> None:
    resource = coverage(beneficiary={"identifier": ident(systems.NATIONAL_ID, "12")},
                        payor=[{"display": "x"}, {"identifier": ident(systems.PROVIDER_CODE, "ABCDE")}])
    assert [i.expression for i in check_resource(resource)] == ["Coverage.beneficiary.identifier.value",
                                                               "Coverage.payor[1].identifier.value"]


# --- helpers for the lead and the UI ---------------------------------------------------------------

def test_raise_if_invalid() -> None:
    raise_if_invalid(patient(ident(systems.NATIONAL_ID, "099185012345")))  # only a warning: passes
    with pytest.raises(FhirError) as caught:
        raise_if_invalid(patient(ident(systems.NATIONAL_ID, "x"), ident(systems.CITIZEN_ID, "y")))
    assert caught.value.status == 422
    outcome = caught.value.outcome()
    assert [i["expression"] for i in outcome["issue"]] == [["Patient.identifier[0].value"],
                                                           ["Patient.identifier[1].value"]]
    assert outcome["issue"][0]["details"]["text"].startswith("Số CCCD phải gồm đúng 12 chữ số")


def test_check_identifier_for_a_form_field() -> None:
    issues = check_identifier(ident(systems.NATIONAL_ID, CCCD_F_1985), "cccd", gender="male",
                              birth_date="1985")
    assert only(issues).expression == "cccd.value"
    assert check_identifier(ident(systems.PASSPORT_NUMBER, "E12345678"), "passport", vietnamese=True)
    assert check_identifier(ident("urn:other", "x"), "other") == []
