"""Validation of FHIR writes against the R4 structure definitions: real data passes, errors are
reported with the right status and FHIRPath location."""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from benhan.fhir.errors import FhirError
from benhan.fhir.validation import validate_resource

DATA = Path(__file__).parents[1] / "data"
EXAMPLES = sorted((DATA / "r4-examples").glob("*.json"))
SYNTHEA = sorted((DATA / "synthea").glob("*.json"))
# The spec's regexes, copied from the R4 primitive type definitions, as independent oracles.
DATE_RE = re.compile(r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
                     r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")
ID_RE = re.compile(r"[A-Za-z0-9\-\.]{1,64}")

CODING_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def failure(resource: Any, **kwargs: Any) -> FhirError:
    with pytest.raises(FhirError) as info:
        validate_resource(resource, **kwargs)
    return info.value


def expressions(err: FhirError) -> list[str | None]:
    return [i.expression for i in err.issues]


def observation(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "Mạch"}, **extra}


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", **extra}


def medication_request(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/1"}, "medicationCodeableConcept": {"text": "x"}, **extra}


# --- real data is accepted -------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_official_r4_example_is_valid(path: Path) -> None:
    validate_resource(load(path))


def test_example_and_synthea_sets_are_present() -> None:
    assert len(EXAMPLES) == 100
    assert len(SYNTHEA) == 32


@pytest.mark.parametrize("path", SYNTHEA, ids=lambda p: p.stem[:24])
def test_synthea_bundle_and_each_of_its_resources_are_valid(path: Path) -> None:
    bundle = load(path)
    validate_resource(bundle, resource_type="Bundle")
    assert bundle["entry"]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        validate_resource(resource, resource_type=resource["resourceType"])


def test_vietnamese_text_and_unusual_whitespace_are_valid_strings() -> None:
    name = {"family": "Nguyễn", "given": ["Văn\u00a0An"], "text": "Nguyễn\tVăn An\n"}
    validate_resource(patient(name=[name]))


def test_primitive_extensions_aligned_with_values_are_valid() -> None:
    validate_resource(patient(
        birthDate="1974-12-25",
        _birthDate={"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                   "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
        name=[{"given": ["An", None],
               "_given": [None, {"extension": [{"url": "http://x", "valueString": "B"}]}]}],
    ))


def test_extension_only_primitive_without_value_is_valid() -> None:
    validate_resource(patient(_gender={"extension": [{"url": "http://x", "valueCode": "unknown"}]}))


def test_binding_that_cannot_be_expanded_offline_is_not_checked() -> None:
    # Attachment.contentType is bound to BCP-13 MIME types, which are not in the definition files.
    validate_resource(patient(photo=[{"contentType": "application/x-vendor-specific"}]))


def test_nested_concept_of_a_required_code_system_is_accepted() -> None:
    # 'relapse' sits under 'active' in the condition-clinical hierarchy.
    validate_resource({"resourceType": "Condition", "subject": {"reference": "Patient/1"},
                       "clinicalStatus": {"coding": [{"system": CODING_CLINICAL, "code": "relapse"}]}})


# --- precise negative cases --------------------------------------------------------------------

CASES: list[tuple[str, Any, int, list[str | None]]] = [
    ("unknown element", patient(foo=1), 400, ["Patient.foo"]),
    ("unknown nested element", patient(name=[{"family": "A", "nick": "B"}]), 400, ["Patient.name[0].nick"]),
    ("unknown element in data type", observation(subject={"reference": "Patient/1", "foo": 1}), 400,
     ["Observation.subject.foo"]),
    ("boolean as string", patient(active="true"), 400, ["Patient.active"]),
    ("string as number", patient(name=[{"family": 123}]), 400, ["Patient.name[0].family"]),
    ("month 13", patient(birthDate="2024-13-45"), 400, ["Patient.birthDate"]),
    ("unpadded date", patient(birthDate="1990-1-1"), 400, ["Patient.birthDate"]),
    ("29 February of a common year", patient(birthDate="2023-02-29"), 400, ["Patient.birthDate"]),
    ("date with time", patient(birthDate="2020-01-01T00:00:00Z"), 400, ["Patient.birthDate"]),
    ("dateTime without zone", observation(effectiveDateTime="2020-01-01T10:00:00"), 400,
     ["Observation.effectiveDateTime"]),
    ("dateTime with space", observation(effectiveDateTime="2020-01-01 10:00:00Z"), 400,
     ["Observation.effectiveDateTime"]),
    ("instant without time", observation(issued="2020-01-01"), 400, ["Observation.issued"]),
    ("decimal as string", observation(valueQuantity={"value": "1.5"}), 400,
     ["Observation.valueQuantity.value"]),
    ("decimal NaN", observation(valueQuantity={"value": float("nan")}), 400,
     ["Observation.valueQuantity.value"]),
    ("integer with fraction", patient(multipleBirthInteger=1.5), 400, ["Patient.multipleBirthInteger"]),
    ("integer beyond 32 bits", patient(multipleBirthInteger=2**31), 400, ["Patient.multipleBirthInteger"]),
    ("integer as boolean", patient(multipleBirthInteger=True), 400, ["Patient.multipleBirthInteger"]),
    ("positiveInt zero",
     medication_request(dosageInstruction=[{"timing": {"repeat": {"count": 0}}}]), 400,
     ["MedicationRequest.dosageInstruction[0].timing.repeat.count"]),
    ("uri with a space", patient(identifier=[{"system": "http://a b", "value": "1"}]), 400,
     ["Patient.identifier[0].system"]),
    ("code with leading space", patient(gender=" male"), 400, ["Patient.gender"]),
    ("bad uuid", patient(extension=[{"url": "http://x", "valueUuid": "urn:uuid:XYZ"}]), 400,
     ["Patient.extension[0].valueUuid"]),
    ("oid without urn prefix", patient(extension=[{"url": "http://x", "valueOid": "1.2.3"}]), 400,
     ["Patient.extension[0].valueOid"]),
    ("base64Binary with bad characters", patient(photo=[{"data": "abc$"}]), 400, ["Patient.photo[0].data"]),
    ("time with zone", patient(extension=[{"url": "http://x", "valueTime": "10:00:00Z"}]), 400,
     ["Patient.extension[0].valueTime"]),
    ("missing Observation.status and code", {"resourceType": "Observation"}, 422,
     ["Observation.status", "Observation.code"]),
    ("missing element in backbone", patient(link=[{"type": "seealso"}]), 422, ["Patient.link[0].other"]),
    ("missing choice element",
     {k: v for k, v in medication_request().items() if k != "medicationCodeableConcept"},
     422, ["MedicationRequest.medication[x]"]),
    ("gender not in value set", patient(gender="x"), 422, ["Patient.gender"]),
    ("Observation.status not in value set", observation(status="foo"), 422, ["Observation.status"]),
    ("code array item not in value set",
     medication_request(dosageInstruction=[{"timing": {"repeat": {"dayOfWeek": ["mon", "xyz"]}}}]), 422,
     ["MedicationRequest.dosageInstruction[0].timing.repeat.dayOfWeek[1]"]),
    ("CodeableConcept not in required value set",
     {"resourceType": "Condition", "subject": {"reference": "Patient/1"},
      "clinicalStatus": {"coding": [{"system": CODING_CLINICAL, "code": "bogus"}]}}, 422,
     ["Condition.clinicalStatus"]),
    ("CodeableConcept with right code, wrong system",
     {"resourceType": "Condition", "subject": {"reference": "Patient/1"},
      "clinicalStatus": {"coding": [{"system": "http://snomed.info/sct", "code": "active"}]}}, 422,
     ["Condition.clinicalStatus"]),
    ("wrong choice type name", observation(valueFoo=1), 400, ["Observation.valueFoo"]),
    ("choice type not allowed here", patient(deceasedString="yes"), 400, ["Patient.deceasedString"]),
    ("two types for one choice", patient(deceasedBoolean=True, deceasedDateTime="2020"), 422,
     ["Patient.deceasedDateTime"]),
    ("array where single expected", patient(gender=["male"]), 400, ["Patient.gender"]),
    ("array of objects where single expected", observation(code=[{"text": "x"}]), 400, ["Observation.code"]),
    ("single where array expected", patient(name={"family": "A"}), 400, ["Patient.name"]),
    ("empty string", patient(name=[{"family": ""}]), 400, ["Patient.name[0].family"]),
    ("empty array", patient(name=[{"given": []}]), 400, ["Patient.name[0].given"]),
    ("empty object in array", patient(name=[{}]), 400, ["Patient.name[0]"]),
    ("empty object", patient(maritalStatus={}), 400, ["Patient.maritalStatus"]),
    ("null value", patient(birthDate=None), 400, ["Patient.birthDate"]),
    ("null in array without extension", patient(name=[{"given": ["A", None]}]), 400,
     ["Patient.name[0].given[1]"]),
    ("bad id character", patient(id="a_b"), 400, ["Patient.id"]),
    ("id too long", patient(id="x" * 65), 400, ["Patient.id"]),
    ("unknown resourceType", {"resourceType": "Foo"}, 400, ["resourceType"]),
    ("missing resourceType", {"id": "1"}, 400, ["resourceType"]),
    ("not an object", ["Patient"], 400, [None]),
    ("contained resource error",
     patient(contained=[{"resourceType": "Organization", "id": "o", "name": "X", "foo": 1}]), 400,
     ["Patient.contained[0].foo"]),
    ("contained resource of unknown type", patient(contained=[{"resourceType": "Nope"}]), 400,
     ["Patient.contained[0].resourceType"]),
    ("contained resource with versionId",
     patient(contained=[{"resourceType": "Organization", "id": "o", "meta": {"versionId": "1"}}]), 422,
     ["Patient.contained[0].meta"]),
    ("contained resource containing another",
     patient(contained=[{"resourceType": "Organization", "id": "o",
                         "contained": [{"resourceType": "Organization", "id": "p"}]}]), 422,
     ["Patient.contained[0].contained"]),
    ("extension without url", patient(extension=[{"valueString": "x"}]), 422, ["Patient.extension[0].url"]),
    ("extension with value and nested extensions",
     patient(extension=[{"url": "http://x", "valueString": "a",
                         "extension": [{"url": "y", "valueInteger": 1}]}]),
     422, ["Patient.extension[0]"]),
    ("extension with neither value nor extensions", patient(modifierExtension=[{"url": "http://x"}]), 422,
     ["Patient.modifierExtension[0]"]),
    ("extension with unknown value type", patient(extension=[{"url": "http://x", "valueFoo": 1}]), 400,
     ["Patient.extension[0].valueFoo", "Patient.extension[0]"]),
    ("extension on a primitive without url",
     patient(birthDate="2000", _birthDate={"extension": [{"valueCode": "x"}]}), 422,
     ["Patient.birthDate.extension[0].url"]),
    ("primitive extension that is not an object", patient(birthDate="2000", _birthDate="x"), 400,
     ["Patient._birthDate"]),
    ("primitive extensions misaligned",
     patient(name=[{"given": ["A", "B"], "_given": [{"id": "1"}]}]), 400, ["Patient.name[0]._given"]),
    ("underscore on a complex element", patient(_name={"id": "x"}), 400, ["Patient._name"]),
    ("narrative div not xhtml", patient(text={"status": "generated", "div": "hello"}), 400,
     ["Patient.text.div"]),
    ("narrative div that is another element",
     patient(text={"status": "generated", "div": "<divx>a</divx>"}), 400, ["Patient.text.div"]),
    ("narrative without status", patient(text={"div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}),
     422, ["Patient.text.status"]),
    ("SimpleQuantity with comparator",
     observation(referenceRange=[{"low": {"value": 1, "comparator": "<"}}]), 422,
     ["Observation.referenceRange[0].low.comparator"]),
    ("Bundle entry resource error",
     {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient(gender="m")}]}, 422,
     ["Bundle.entry[0].resource.gender"]),
    ("Bundle without type", {"resourceType": "Bundle"}, 422, ["Bundle.type"]),
    ("contentReference element (Questionnaire.item.item)",
     {"resourceType": "Questionnaire", "status": "draft",
      "item": [{"linkId": "1", "type": "group", "item": [{"type": "string", "foo": 1}]}]}, 400,
     ["Questionnaire.item[0].item[0].foo", "Questionnaire.item[0].item[0].linkId"]),
]


@pytest.mark.parametrize(("resource", "status", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_resource_is_rejected_with_status_and_location(resource: Any, status: int,
                                                               where: list[str | None]) -> None:
    err = failure(resource)
    assert err.status == status, err
    assert expressions(err) == where, err
    for issue in err.issues:
        assert issue.vi and issue.en and issue.vi != issue.en


def test_all_issues_are_reported_not_only_the_first() -> None:
    err = failure({"resourceType": "Observation", "foo": 1, "valueQuantity": {"value": "x"}, "status": "bad"})
    assert err.status == 400  # structural problems win over rule violations
    assert expressions(err) == ["Observation.foo", "Observation.valueQuantity.value", "Observation.status",
                                "Observation.code"]
    assert [i.code for i in err.issues] == ["structure", "structure", "code-invalid", "required"]


def test_messages_are_vietnamese_then_english() -> None:
    err = failure(patient(foo=1))
    issue = err.issues[0]
    assert issue.vi == "Phần tử 'foo' không được định nghĩa trong FHIR R4"
    assert issue.en == "Unknown element 'foo'"
    assert err.outcome()["issue"][0]["details"]["text"] == f"{issue.vi} / {issue.en}"


def test_invalid_code_message_lists_the_allowed_codes() -> None:
    err = failure(patient(gender="x"))
    assert "female, male, other, unknown" in err.issues[0].en


def test_resource_type_must_match_the_url() -> None:
    err = failure(patient(), resource_type="Observation")
    assert err.status == 400
    assert expressions(err) == ["resourceType"]
    validate_resource(patient(), resource_type="Patient")


def test_hostile_nesting_is_a_400_not_a_crash() -> None:
    ext: dict[str, Any] = {"url": "http://x", "valueString": "a"}
    for _ in range(5000):
        ext = {"url": "http://x", "extension": [ext]}
    assert failure(patient(extension=[ext])).status == 400


# --- properties ----------------------------------------------------------------------------------


def _objects(value: Any, path: str) -> list[tuple[dict[str, Any], str]]:
    """Every JSON object in a resource with the FHIRPath the validator should report for it."""
    found: list[tuple[dict[str, Any], str]] = []
    if isinstance(value, dict):
        found.append((value, path))
        for key, child in value.items():
            name = key.lstrip("_")
            if isinstance(child, list):
                for i, item in enumerate(child):
                    found.extend(_objects(item, f"{path}.{name}[{i}]"))
            else:
                found.extend(_objects(child, f"{path}.{name}"))
    return found


SAMPLES = [load(p) for p in EXAMPLES[::7]] + [e["resource"] for e in load(SYNTHEA[0])["entry"][:40]]
UNKNOWN_KEY = st.builds(lambda u, s: u + "zz" + s, st.sampled_from(["", "_"]),
                        st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                                max_size=8))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data(), UNKNOWN_KEY)
def test_an_unknown_key_anywhere_is_rejected_and_named(resource: dict[str, Any], data: st.DataObject,
                                                       key: str) -> None:
    mutated = copy.deepcopy(resource)
    target, path = data.draw(st.sampled_from(_objects(mutated, mutated["resourceType"])))
    target[key] = "x"
    err = failure(mutated)
    assert err.status == 400
    assert f"{path}.{key}" in expressions(err)


@given(st.dates(), st.integers(0, 2))
def test_any_real_date_at_any_precision_is_accepted(d: date, precision: int) -> None:
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"[: (4, 7, 10)[precision]]
    validate_resource(patient(birthDate=text))


@given(st.datetimes(), st.integers(-14 * 60 + 1, 14 * 60), st.booleans(), st.integers(0, 999_999))
def test_any_real_datetime_with_zone_is_accepted(dt: datetime, offset: int, fraction: bool,
                                                 micro: int) -> None:
    sign = "-" if offset < 0 else "+"
    zone = "Z" if offset == 0 else f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    text = f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}" + (f".{micro:06d}" if fraction else "") + zone
    validate_resource(observation(effectiveDateTime=text, issued=text))


def _is_real_date(text: str) -> bool:
    if len(text) < 10:
        return True
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@given(st.one_of(st.text(max_size=12), st.from_regex(DATE_RE, fullmatch=True)))
def test_a_date_is_accepted_exactly_when_it_matches_the_spec_regex_and_the_calendar(text: str) -> None:
    assume(text != "")
    expected = DATE_RE.fullmatch(text) is not None and text.isascii() and _is_real_date(text)
    try:
        validate_resource(patient(birthDate=text))
        accepted = True
    except FhirError as err:
        assert expressions(err) == ["Patient.birthDate"]
        accepted = False
    assert accepted == expected, text


@given(st.one_of(st.text(max_size=70), st.from_regex(ID_RE, fullmatch=True)))
def test_an_id_is_accepted_exactly_when_it_matches_the_spec_regex(text: str) -> None:
    expected = ID_RE.fullmatch(text) is not None and text.isascii()
    try:
        validate_resource(patient(id=text))
        accepted = True
    except FhirError:
        accepted = False
    assert accepted == expected, repr(text)


@given(st.one_of(st.integers(), st.floats()))
def test_a_decimal_is_any_finite_json_number(value: float) -> None:
    resource = observation(valueQuantity={"value": value})
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        assert failure(resource).status == 400
    else:
        validate_resource(resource)


@given(st.integers(-(2**40), 2**40))
def test_integer_kinds_respect_their_ranges(value: int) -> None:
    resource = patient(multipleBirthInteger=value)
    if -(2**31) <= value < 2**31:
        validate_resource(resource)
    else:
        assert failure(resource).status == 400


# --- speed ---------------------------------------------------------------------------------------
