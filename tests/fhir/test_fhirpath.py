"""The FHIRPath compiler: the R4 search expressions all compile, and agree with fhirpathpy."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from benhan.fhir.fhirpath import compile_path
from benhan.fhir.fhirpath_fallback import compile_fhirpathpy
from benhan.fhir.fhirpath_parser import FhirPathSyntaxError, parse, split_union
from benhan.fhir.searchparams import search_params

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = sorted((DATA / "r4-examples").glob("*.json"))
SYNTHEA = sorted((DATA / "synthea").glob("*.json"))


def definitions() -> list[dict[str, Any]]:
    folder = resources.files("benhan.fhir").joinpath("definitions")
    with folder.joinpath("search-parameters.json.gz").open("rb") as raw:
        return json.loads(gzip.decompress(raw.read()))["params"]


def all_expressions() -> list[tuple[str, str | None]]:
    """Every expression of the 1,378 definitions, components with their context."""
    found: list[tuple[str, str | None]] = []
    for sp in definitions():
        if "expression" in sp:
            found.append((sp["expression"], None))
        for _, expression, _ in sp.get("component", []):
            found.append((expression, None))
    return found


def test_all_r4_expressions_compile_without_fallback() -> None:
    params = definitions()
    assert len(params) == 1378
    expressions = all_expressions()
    assert len(expressions) == 1375 + sum(len(sp.get("component", [])) for sp in params)
    fallbacks = [expression for expression, base in expressions if compile_path(expression, base).fallback]
    assert fallbacks == []


def test_per_type_expressions_compile_without_fallback() -> None:
    checked = 0
    for resource_type in ("Patient", "Observation", "Encounter", "Condition", "MolecularSequence", "Bundle"):
        for param in search_params(resource_type).values():
            if param.expression is None:
                continue
            compiled = compile_path(param.expression, resource_type)
            assert not compiled.fallback, param.expression
            for stream in compiled.streams:
                for _, expression in param.components:
                    assert not compile_path(expression, stream.path).fallback
            checked += 1
    assert checked > 150


# -- differential test against fhirpathpy ------------------------------------------------------

def _canonical(value: Any) -> str:
    def plain(item: Any) -> Any:
        if item.__class__ is bool:
            return item
        if isinstance(item, int | float | Decimal):
            return float(item)
        if isinstance(item, dict):
            return {key: plain(element) for key, element in item.items()}
        if isinstance(item, list):
            return [plain(element) for element in item]
        return item

    return json.dumps(plain(value), sort_keys=True)


def _as_fhirpathpy_reads_it(expression: str, resource_type: str) -> str:
    """The same expression in the form fhirpathpy understands (two known fhirpathpy limits).

    * ``Resource.meta.tag`` on a Patient: FHIRPath lets the leading type name be a supertype of the
      context; fhirpathpy only accepts the exact type.
    * ``value.ofType(DateTime)`` (Observation-code-value-date): the definition writes the System type
      where it means FHIR ``dateTime``; the compiler reads it so on purpose, fhirpathpy finds nothing.
    """
    return expression.replace("Resource.", f"{resource_type}.").replace("ofType(DateTime)", "ofType(dateTime)")


_reference_cache: dict[tuple[str, str | None], Any] = {}


def _fhirpathpy(expression: str, base: str | None) -> Any:
    key = (expression, base)
    if key not in _reference_cache:
        _reference_cache[key] = compile_fhirpathpy(expression, base)
    return _reference_cache[key]


def _compare(resource: dict[str, Any]) -> tuple[int, list[str]]:
    """Evaluate every parameter of the resource's type both ways; return (count, mismatches)."""
    resource_type = resource["resourceType"]
    count, mismatches = 0, []

    def check(expression: str, base: str | None, item: Any, reference_base: str | None) -> list[Any]:
        nonlocal count
        compiled = compile_path(expression, base)
        mine = compiled.evaluate(item, resource)
        theirs = _fhirpathpy(_as_fhirpathpy_reads_it(expression, resource_type), reference_base)(item, resource)
        count += 1
        if Counter(map(_canonical, mine)) != Counter(map(_canonical, theirs)):
            mismatches.append(f"{resource_type}/{resource.get('id')}: {expression} @ {base}: {mine} != {theirs}")
        return mine

    for param in search_params(resource_type).values():
        if param.expression is None:
            continue
        check(param.expression, None, resource, None)
        check(param.expression, resource_type, resource, None)
        for stream in compile_path(param.expression, resource_type).streams if param.components else ():
            for item in stream.step([resource], resource):
                for _, expression in param.components:
                    check(expression, stream.path, item, stream.path)
    return count, mismatches


def _resources(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data["resourceType"] == "Bundle":
        return [entry["resource"] for entry in data.get("entry", [])] + [data]
    return [data]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_same_results_as_fhirpathpy_on_r4_examples(path: Path) -> None:
    count, mismatches = 0, []
    for resource in _resources(path):
        checked, bad = _compare(resource)
        count, mismatches = count + checked, mismatches + bad
    assert mismatches == []
    assert count > 10


@pytest.mark.parametrize("path", SYNTHEA, ids=lambda path: path.stem[:20])
def test_same_results_as_fhirpathpy_on_synthea(path: Path) -> None:
    count, mismatches = 0, []
    for resource in _resources(path):
        checked, bad = _compare(resource)
        count, mismatches = count + checked, mismatches + bad
    assert mismatches == []
    assert count > 1000


EDGE_CASES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "dead", "deceasedDateTime": "2020-01-02T03:04:05+07:00",
     "link": [{"other": {"reference": "http://other.example/fhir/Patient/9"}, "type": "seealso"},
              {"other": {"reference": "RelatedPerson/r1"}, "type": "seealso"}]},
    {"resourceType": "Patient", "id": "alive", "deceasedBoolean": False, "active": True},
    {"resourceType": "Patient", "id": "yes", "deceasedBoolean": True,
     "telecom": [{"system": "email", "value": "a@b.vn"}, {"system": "phone", "value": "0912"}]},
    {"resourceType": "Observation", "id": "o1", "status": "final",
     "contained": [{"resourceType": "Patient", "id": "p"}],
     "subject": {"reference": "#p"}, "performer": [{"reference": "urn:uuid:1234", "type": "Practitioner"},
                                                   {"identifier": {"system": "s", "value": "v"}}],
     "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}], "text": "Nhiệt độ"},
     "valueRange": {"low": {"value": 1}, "high": {"value": 2}},
     "effectivePeriod": {"start": "2024-05-01"},
     "component": [{"code": {"text": "a"}, "valueCodeableConcept": {"text": "x"}},
                   {"code": {"text": "a"}, "valueCodeableConcept": {"text": "x"}},
                   {"code": {"text": "b"}, "valueDateTime": "2024"},
                   {"code": {"text": "c"}, "valueQuantity": {"value": 3.5, "unit": "mmHg"}}]},
    {"resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1/_history/2"},
     "participant": [{"individual": {"reference": "https://x.vn/fhir/Practitioner/d1"}},
                     {"individual": {"reference": "PractitionerRole/r1"}}],
     "length": {"value": 2, "unit": "d"}, "period": {"end": "2024-05-02T10:00:00+07:00"}},
    {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Group/g1"},
     "onsetAge": {"value": 30, "unit": "a"}, "abatementString": "khỏi"},
    {"resourceType": "ActivityDefinition", "id": "ad1", "status": "active", "url": "http://benhan.vn/ad/1",
     "library": ["http://benhan.vn/Library/l1|1.0"],
     "useContext": [{"code": {"code": "age"}, "valueRange": {"low": {"value": 18}}},
                    {"code": {"code": "focus"}, "valueCodeableConcept": {"text": "x"}},
                    {"code": {"code": "program"}, "valueQuantity": {"value": 2}}],
     "relatedArtifact": [{"type": "depends-on", "resource": "http://benhan.vn/Library/l2"},
                         {"type": "composed-of", "resource": "http://benhan.vn/PlanDefinition/p"}]},
    {"resourceType": "MolecularSequence", "id": "ms1", "type": "dna", "coordinateSystem": 0,
     "referenceSeq": {"chromosome": {"coding": [{"code": "1"}]}, "windowStart": 10, "windowEnd": 20},
     "variant": [{"start": 12, "end": 13}, {"start": 15, "end": 16}]},
    {"resourceType": "Bundle", "id": "b1", "type": "message",
     "entry": [{"resource": {"resourceType": "MessageHeader", "id": "m"}},
               {"resource": {"resourceType": "Patient", "id": "p"}}]},
]


@pytest.mark.parametrize("resource", EDGE_CASES, ids=lambda resource: resource["id"])
def test_same_results_as_fhirpathpy_on_edge_cases(resource: dict[str, Any]) -> None:
    count, mismatches = _compare(resource)
    assert mismatches == []
    assert count > 20


# -- the compiler's own behaviour ---------------------------------------------------------------

OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "bp",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
    "effectiveDateTime": "2024-05-01T08:00:00+07:00",
    "valueQuantity": {"value": 120, "unit": "mmHg"},
    "extension": [{"url": "http://example.vn/ext", "valueString": "một"},
                  {"url": "http://example.vn/other", "valueInteger": 2}],
    "component": [
        {"code": {"text": "systolic"}, "valueQuantity": {"value": 120}},
        {"code": {"text": "diastolic"}, "valueQuantity": {"value": 80}},
        {"code": {"text": "note"}, "valueString": "ok"},
    ],
}


def evaluate(expression: str, resource: dict[str, Any] = OBSERVATION, base: str | None = None) -> list[Any]:
    compiled = compile_path(expression, base)
    assert not compiled.fallback
    return compiled.evaluate(resource)


def test_choice_types_find_the_typed_key() -> None:
    assert evaluate("Observation.value") == [{"value": 120, "unit": "mmHg"}]
    assert evaluate("Observation.effective") == ["2024-05-01T08:00:00+07:00"]
    assert evaluate("Observation.value.ofType(Quantity).value") == [120]
    assert evaluate("Observation.value.ofType(string)") == []
    assert evaluate("(Observation.value as Quantity).unit") == ["mmHg"]
    assert evaluate("Observation.component.value.ofType(string)") == ["ok"]
    assert evaluate("Observation.value is Quantity") == [True]
    assert evaluate("Observation.value is Period") == [False]


def test_as_is_read_like_of_type() -> None:
    """HL7's 4.0.1 definitions write ``(Observation.component.value as Quantity)``; the redistributed
    copy has ``.ofType(Quantity)``. Both must index the same, even over several components."""
    as_form = compile_path("(Observation.component.value as Quantity)")
    of_type_form = compile_path("(Observation.component.value.ofType(Quantity))")
    assert not as_form.fallback
    assert as_form.evaluate(OBSERVATION) == of_type_form.evaluate(OBSERVATION) == [{"value": 120}, {"value": 80}]


def test_streams_carry_fhir_types() -> None:
    compiled = compile_path("Observation.value | Observation.code | Observation.subject", "Observation")
    types = {stream.type for stream in compiled.streams}
    assert {"Quantity", "CodeableConcept", "Reference", "dateTime", "Period"} <= types
    assert compile_path("Patient.name", "Patient").streams[0].type == "HumanName"


def test_where_resolve_is_type() -> None:
    assert evaluate("Observation.subject.where(resolve() is Patient)") == [{"reference": "Patient/p1"}]
    assert evaluate("Observation.subject.where(resolve() is Group)") == []
    encounter = {"resourceType": "Encounter", "subject": {"reference": "https://x.vn/fhir/Patient/7/_history/1"},
                 "participant": [{"individual": {"reference": "urn:uuid:1", "type": "Practitioner"}},
                                 {"individual": {"reference": "#d"}}],
                 "contained": [{"resourceType": "Practitioner", "id": "d"}]}
    assert evaluate("Encounter.subject.where(resolve() is Patient)", encounter) == [encounter["subject"]]
    practitioners = evaluate("Encounter.participant.individual.where(resolve() is Practitioner)", encounter)
    assert practitioners == [{"reference": "urn:uuid:1", "type": "Practitioner"}, {"reference": "#d"}]


def test_where_with_equality_and_boolean_logic() -> None:
    patient = {"resourceType": "Patient", "telecom": [{"system": "email", "value": "a@b.vn"},
                                                      {"system": "phone", "value": "0912"}]}
    assert evaluate("Patient.telecom.where(system='email').value", patient) == ["a@b.vn"]
    assert evaluate("Patient.telecom.where(system!='email').value", patient) == ["0912"]
    assert evaluate("Patient.telecom.where(system='email' or system='phone').value", patient) == ["a@b.vn", "0912"]
    assert evaluate("Patient.telecom.where(system='email' and value='x')", patient) == []
    assert evaluate("Patient.telecom.where(use.exists())", patient) == []
    assert evaluate("Patient.telecom.where(use.empty()).count()", patient) == [2]


def test_deceased_expression() -> None:
    expression = "Patient.deceased.exists() and Patient.deceased != false"
    assert evaluate(expression, {"resourceType": "Patient"}) == [False]
    assert evaluate(expression, {"resourceType": "Patient", "deceasedBoolean": False}) == [False]
    assert evaluate(expression, {"resourceType": "Patient", "deceasedBoolean": True}) == [True]
    assert evaluate(expression, {"resourceType": "Patient", "deceasedDateTime": "2020"}) == [True]


def test_three_valued_logic() -> None:
    patient = {"resourceType": "Patient", "active": True}
    assert evaluate("Patient.active and Patient.deceased", patient) == []
    assert evaluate("Patient.active or Patient.deceased", patient) == [True]
    assert evaluate("Patient.deceased.exists() and Patient.gender", patient) == [False]
    assert evaluate("Patient.active.not()", patient) == [False]
    assert evaluate("Patient.active implies Patient.gender.exists()", patient) == [False]
    assert evaluate("Patient.active xor false", patient) == [True]


def test_positions_and_extensions() -> None:
    assert evaluate("Observation.component[1].code.text") == ["diastolic"]
    assert evaluate("Observation.component.first().code.text") == ["systolic"]
    assert evaluate("Observation.component.last().value") == ["ok"]
    assert evaluate("Observation.component[7]") == []
    assert evaluate("Observation.extension('http://example.vn/ext').value") == ["một"]
    assert evaluate("Observation.extension('http://example.vn/other').value.ofType(integer)") == [2]
    assert evaluate("Observation.component.exists()") == [True]
    assert evaluate("Observation.component.empty()") == [False]
    bundle = {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Composition", "id": "c"}},
                                                   {"resource": {"resourceType": "Patient", "id": "p"}}]}
    assert evaluate("Bundle.entry[0].resource", bundle) == [{"resourceType": "Composition", "id": "c"}]


def test_union_removes_duplicates() -> None:
    assert evaluate("Observation.component.code.text | Observation.component.code.text") == [
        "systolic", "diastolic", "note"]
    assert evaluate("Observation.code | Observation.code") == [OBSERVATION["code"]]


def test_leading_type_name_filters_resources() -> None:
    assert evaluate("Patient.id") == []
    assert evaluate("Resource.id") == ["bp"]
    assert evaluate("DomainResource.id") == ["bp"]
    assert evaluate("Observation.id", base="Observation") == ["bp"]
    assert evaluate("id", base="Observation") == ["bp"]


def test_relative_expressions_with_a_backbone_base() -> None:
    component = OBSERVATION["component"][0]
    compiled = compile_path("value.ofType(Quantity)", "Observation.component")
    assert compiled.evaluate(component, OBSERVATION) == [{"value": 120}]
    sequence = {"resourceType": "MolecularSequence", "referenceSeq": {"chromosome": {"text": "1"}},
                "variant": [{"start": 1}]}
    compiled = compile_path("%resource.referenceSeq.chromosome", "MolecularSequence.variant")
    assert compiled.evaluate(sequence["variant"][0], sequence) == [{"text": "1"}]


def test_unsupported_functions_fall_back_to_fhirpathpy() -> None:
    patient = {"resourceType": "Patient", "name": [{"given": ["Văn", "Ánh"]}], "birthDate": "1985-03-02"}
    compiled = compile_path("Patient.name.given.select($this.length())")
    assert compiled.fallback
    assert compiled.evaluate(patient) == [3, 3]
    assert compile_path("Patient.name.given.where($this.startsWith('Á'))").evaluate(patient) == ["Ánh"]
    assert compile_path("Patient.birthDate > @1980-01-01").evaluate(patient) == [True]
    assert compile_path("Patient.name.given.count() > 1").evaluate(patient) == [True]


def test_compiled_is_cached() -> None:
    assert compile_path("Patient.name", "Patient") is compile_path("Patient.name", "Patient")


def test_parser_precedence_and_errors() -> None:
    assert parse("a | b = c")[1] == "="
    assert parse("a = b and c")[1] == "and"
    assert parse("a.b is Quantity | c") == ("op", "|", ("type", "is", ("dot", ("ident", "a"), ("ident", "b")),
                                                          "Quantity"), ("ident", "c"))
    assert parse("'it\\'s'") == ("lit", "it's")
    for bad in ("a.", "(a", "a b", "a ^ b", "where(", "a[1"):
        with pytest.raises(FhirPathSyntaxError):
            parse(bad)


def test_split_union_respects_nesting() -> None:
    assert split_union("(A.b.ofType(x)) | (A.c).d | A.e.where(f='|')") == [
        "(A.b.ofType(x))", "(A.c).d", "A.e.where(f='|')"]
    assert split_union("A.b") == ["A.b"]
