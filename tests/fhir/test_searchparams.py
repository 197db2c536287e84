"""The search-parameter registry built from the official R4 SearchParameter definitions."""

from __future__ import annotations

import gzip
import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from benhan.fhir.fhirpath_parser import split_union
from benhan.fhir.searchparams import (
    RESOURCE_TABLE_PARAMS,
    compartment_params,
    expression_for,
    resource_types,
    search_param,
    search_params,
)

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = Path("/work/shared/data/fhir-r4")


def test_resource_types_are_the_r4_ones() -> None:
    types = resource_types()
    assert len(types) == 146
    assert {"Patient", "Observation", "Bundle", "Binary", "Parameters", "MolecularSequence"} <= types
    assert "SubscriptionStatus" not in types  # R4B, not R4
    assert "Resource" not in types and "DomainResource" not in types


def test_every_definition_is_registered() -> None:
    urls = {param.url for name in resource_types() for param in search_params(name).values()}
    assert len(urls) == 1378


def test_common_parameters_on_every_type() -> None:
    for name in resource_types():
        params = search_params(name)
        assert params["_id"].type == "token"
        assert params["_lastUpdated"].type == "date"
        assert params["_tag"].type == "token" and params["_tag"].expression == "Resource.meta.tag"
        assert params["_security"].type == "token"
        assert params["_profile"].type == "uri"
        assert params["_source"].type == "uri"
        assert params["_content"].supported and not params["_query"].supported
        assert params["_content"].expression is None  # idx_text, not a FHIRPath-driven index
    assert {"_id", "_lastUpdated"} == RESOURCE_TABLE_PARAMS
    assert search_param("Patient", "_text").supported  # type: ignore[union-attr]
    assert search_param("Bundle", "_text") is None  # Bundle is not a DomainResource


def test_patient_parameters() -> None:
    params = search_params("Patient")
    assert {"name", "family", "given", "identifier", "birthdate", "gender", "address", "telecom", "phone",
            "email", "deceased", "general-practitioner", "organization", "link"} <= set(params)
    assert params["name"].type == "string"
    assert params["name"].expression == "Patient.name"
    assert params["family"].expression == "Patient.name.family"
    assert params["deceased"].expression == "Patient.deceased.exists() and Patient.deceased != false"
    assert params["email"].expression == "Patient.telecom.where(system='email')"
    assert set(params["general-practitioner"].target) == {"Organization", "Practitioner", "PractitionerRole"}


def test_multi_type_definitions_are_split_per_type() -> None:
    observation = search_param("Observation", "patient")
    allergy = search_param("AllergyIntolerance", "patient")
    assert observation is not None and allergy is not None
    assert observation.url == allergy.url == "http://hl7.org/fhir/SearchParameter/clinical-patient"
    assert observation.expression == "Observation.subject.where(resolve() is Patient)"
    assert allergy.expression == "AllergyIntolerance.patient"
    assert len(observation.base) == 32
    code = search_param("Observation", "code")
    assert code is not None and code.expression == "Observation.code"
    medication = search_param("MedicationRequest", "code")
    assert medication is not None
    assert medication.expression == "(MedicationRequest.medication.ofType(CodeableConcept))"


def test_every_split_expression_only_names_its_own_type() -> None:
    types = resource_types()
    for name in types:
        for param in search_params(name).values():
            if param.expression is None or len(param.base) == 1:
                continue
            for branch in split_union(param.expression):
                root = branch.lstrip("( ").split(".", 1)[0].split(")", 1)[0]
                assert root == name or root not in types, (name, param.code, branch)


def test_expression_for_keeps_untyped_branches() -> None:
    types = resource_types()
    assert expression_for("name | alias", "InsurancePlan", types) == "name | alias"
    assert expression_for("Patient.name | Person.name", "Person", types) == "Person.name"
    assert expression_for("Patient.name | Person.name", "Group", types) is None
    assert expression_for(None, "Patient", types) is None


def test_composites() -> None:
    composite = search_param("Observation", "code-value-quantity")
    assert composite is not None
    assert composite.type == "composite"
    assert composite.expression == "Observation"
    assert composite.components == (("code", "code"), ("value-quantity", "value.ofType(Quantity)"))
    assert composite.component_types == ("token", "quantity")
    assert composite.multiple_or is False
    combo = search_param("Observation", "combo-code-value-quantity")
    assert combo is not None and combo.expression == "Observation | Observation.component"
    for name in resource_types():
        for param in search_params(name).values():
            if param.type == "composite":
                assert len(param.components) == len(param.component_types) >= 2
                assert all(kind in {"token", "quantity", "date", "string", "reference", "number", "uri"}
                           for kind in param.component_types)


def test_near_is_a_supported_special_parameter_without_index_rows() -> None:
    near = search_param("Location", "near")
    assert near is not None and near.type == "special" and near.supported
    assert near.expression is None  # idx_position (fhir/geo.py), not the per-value idx_* rows


def test_comparators_are_kept() -> None:
    birthdate = search_param("Patient", "birthdate")
    assert birthdate is not None
    assert {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"} == set(birthdate.comparators)


def test_unknown_types_have_no_parameters() -> None:
    assert dict(search_params("NotAType")) == {}
    assert search_param("Patient", "no-such-param") is None


def test_patient_compartment() -> None:
    assert compartment_params("Observation") == ("subject", "performer")
    assert compartment_params("Patient") == ("link",)
    assert compartment_params("Encounter") == ("subject",)
    assert compartment_params("Organization") == ()
    assert compartment_params("AllergyIntolerance") == ("patient", "recorder", "asserter")
    count = 0
    for name in resource_types():
        for code in compartment_params(name):
            param = search_param(name, code)
            assert param is not None and param.type == "reference", (name, code)
            count += 1
    assert count > 100
    with pytest.raises(ValueError, match="Encounter"):
        compartment_params("Observation", "Encounter")


def test_shipped_files_are_compact_and_standalone() -> None:
    folder = resources.files("benhan.fhir").joinpath("definitions")
    raw = folder.joinpath("search-parameters.json.gz").read_bytes()
    assert len(raw) < 100_000
    data = json.loads(gzip.decompress(raw))
    assert data["fhirVersion"] == "4.0.1"
    assert all("xpath" not in param and "description" not in param for param in data["params"])
    source = folder.joinpath("SOURCE.md").read_text(encoding="utf-8")
    assert "search-parameters.json.gz" in source and "compartment-patient.json" in source


@pytest.mark.skipif(not OFFICIAL.exists(), reason="official definitions not available")
def test_shipped_files_match_the_build_tool() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_search_parameters as tool
    finally:
        sys.path.pop(0)
    registry, compartment = tool.build(OFFICIAL)
    folder = resources.files("benhan.fhir").joinpath("definitions")
    shipped = json.loads(gzip.decompress(folder.joinpath("search-parameters.json.gz").read_bytes()))
    assert shipped == json.loads(json.dumps(registry))
    assert json.loads(folder.joinpath("compartment-patient.json").read_text(encoding="utf-8")) == compartment
