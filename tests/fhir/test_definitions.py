"""The compact R4 definitions the product carries: complete, exact, and in step with their source."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from benhan.fhir import definitions

ROOT = Path(__file__).parents[2]
OFFICIAL = Path("/work/shared/data/fhir-r4")


def test_resource_types_are_the_146_concrete_r4_types() -> None:
    types = definitions.resource_types()
    assert len(types) == 146
    assert {"Patient", "Observation", "Bundle", "Parameters", "Binary", "Encounter"} <= types
    # abstract bases, the logical MetadataResource and the R4B SubscriptionStatus are not R4 resources
    assert not {"Resource", "DomainResource", "MetadataResource", "SubscriptionStatus"} & types


def test_is_resource_type() -> None:
    assert definitions.is_resource_type("Patient")
    assert not definitions.is_resource_type("patient")
    assert not definitions.is_resource_type("HumanName")
    assert not definitions.is_resource_type(None)


def test_summary_elements_expand_choices() -> None:
    patient = definitions.summary_elements("Patient")
    assert {"id", "meta", "identifier", "name", "gender", "birthDate", "deceasedBoolean",
            "deceasedDateTime", "active", "link"} <= patient
    assert not {"photo", "contact", "text", "contained", "maritalStatus"} & patient
    observation = definitions.summary_elements("Observation")
    assert {"effectiveDateTime", "effectivePeriod", "valueQuantity", "status", "code"} <= observation
    assert "note" not in observation


def test_mandatory_elements() -> None:
    assert definitions.mandatory_elements("Observation") == {"status", "code"}
    assert definitions.mandatory_elements("Patient") == frozenset()
    assert definitions.mandatory_elements("MedicationRequest") == {
        "status", "intent", "subject", "medicationCodeableConcept", "medicationReference"}
    with pytest.raises(KeyError):
        definitions.mandatory_elements("Nope")


def test_modifier_elements() -> None:
    assert {"active", "deceasedBoolean", "modifierExtension", "implicitRules"} <= \
        definitions.modifier_elements("Patient")


def test_element_types_follow_data_types_choices_and_content_references() -> None:
    assert definitions.element_types("Observation", "valueQuantity.value") == ("decimal",)
    assert definitions.element_types("Observation", "value[x]") == ()
    assert definitions.element_types("Patient", "name.given") == ("string",)
    assert definitions.element_types("Patient", "id") == ("id",)  # not the 'string' the snapshots say
    assert definitions.element_types("Extension", "url") == ("uri",)
    assert definitions.element_types("Questionnaire", "item.item") == ("BackboneElement",)
    assert definitions.element_types("Questionnaire", "item.item.item.linkId") == ("string",)
    assert definitions.element_types("Observation", "referenceRange.low") == ("SimpleQuantity",)
    assert definitions.element_types("Patient", "name.nope") == ()


def test_element_cardinality_and_flags() -> None:
    status = definitions.type_definition("Observation").elements["status"]
    assert (status.min, status.max, status.summary, status.modifier) == (1, 1, True, True)
    assert status.binding == "http://hl7.org/fhir/ValueSet/observation-status"
    assert definitions.type_definition("Patient").elements["name"].is_array
    item_item = definitions.type_definition("Questionnaire").elements["item.item"]
    assert item_item.content_reference == "item"


def test_vendor_additions_to_the_redistributed_files_are_not_r4() -> None:
    assert "project" not in definitions.type_definition("Meta").elements
    assert "studyDesign" not in definitions.type_definition("ResearchStudy").elements
    assert definitions.type_definition("ResearchStudy").elements["status"].binding == \
        "http://hl7.org/fhir/ValueSet/research-study-status"
    # R4's (odd but official) binding of DetectedIssue.status to ObservationStatus
    assert definitions.type_definition("DetectedIssue").elements["status"].binding == \
        "http://hl7.org/fhir/ValueSet/observation-status"
    characteristic = definitions.json_properties("EvidenceVariable", "characteristic")
    assert "definitionReference" in characteristic
    assert "definitionByCombination" not in characteristic
    assert definitions.type_definition("Bundle").elements["entry.response.outcome"].types == ("Resource",)


def test_required_value_sets_are_expanded_with_nested_concepts() -> None:
    gender = definitions.value_set_codes("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    assert gender == {"http://hl7.org/fhir/administrative-gender": {"male", "female", "other", "unknown"}}
    clinical = definitions.value_set_codes("http://hl7.org/fhir/ValueSet/condition-clinical")
    assert clinical is not None
    assert {"active", "recurrence", "relapse", "resolved"} <= \
        clinical["http://terminology.hl7.org/CodeSystem/condition-clinical"]
    timing = definitions.value_set_codes("http://hl7.org/fhir/ValueSet/event-timing")
    assert timing is not None and "HS" in timing["http://terminology.hl7.org/CodeSystem/v3-TimingEvent"]


def test_value_sets_drawing_on_external_systems_are_marked_unchecked() -> None:
    for url in ("http://hl7.org/fhir/ValueSet/mimetypes", "http://hl7.org/fhir/ValueSet/currencies",
                "http://hl7.org/fhir/ValueSet/ucum-units"):
        assert definitions.value_set_codes(url) is None


def test_primitive_types_carry_the_spec_regexes() -> None:
    prims = definitions.primitive_types()
    assert prims["id"].regex == "[A-Za-z0-9\\-\\.]{1,64}"
    assert prims["decimal"].json == "number" and prims["positiveInt"].json == "integer"
    assert prims["string"].max_length == 1048576


def test_generated_file_is_small() -> None:
    assert definitions.DEFINITIONS_FILE.stat().st_size <= 2 * 1024 * 1024


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="official R4 bundles not available here")
def test_generated_file_is_up_to_date_with_the_official_bundles() -> None:
    spec = importlib.util.spec_from_file_location("build_sd", ROOT / "tools/build_structure_definitions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_sd"] = module
    spec.loader.exec_module(module)
    built, _notes = module.build(OFFICIAL)
    with gzip.open(definitions.DEFINITIONS_FILE, "rb") as f:
        shipped = json.load(f)
    assert built == shipped
