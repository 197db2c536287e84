"""Identifier-system URIs match the VN Core IG NamingSystems and profiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benhan.vn import systems

IG = Path(__file__).parents[3] / "shared" / "data" / "vn-core-ig"
needs_ig = pytest.mark.skipif(not IG.is_dir(), reason="shared/data/vn-core-ig not beside the repository")


def _unique_id(file: str) -> str:
    text = (IG / f"NamingSystem.{file}.xml").read_text("utf-8")
    match = re.search(r'<uniqueId>.*?<value value="([^"]+)"', text, re.S)
    assert match is not None
    return match.group(1)


@needs_ig
@pytest.mark.parametrize(("file", "uri"), [
    ("sid-national-id", systems.NATIONAL_ID),
    ("sid-citizen-id", systems.CITIZEN_ID),
    ("sid-insurance_number", systems.INSURANCE_NUMBER),
    ("sid-passport_number", systems.PASSPORT_NUMBER),
    ("sid-patient-internal-id", systems.PATIENT_INTERNAL_ID),
    ("sid-driver-license-number", systems.DRIVER_LICENSE_NUMBER),
    ("sid-provider-license-number", systems.PROVIDER_LICENSE_NUMBER),
    ("sid-provider-medical-license-number", systems.PROVIDER_MEDICAL_LICENSE_NUMBER),
])
def test_naming_system_unique_ids(file: str, uri: str) -> None:
    assert _unique_id(file) == uri


@needs_ig
def test_documented_ig_inconsistencies_are_still_there() -> None:
    # If the IG fixes these, revisit the notes in benhan.vn.systems.
    assert _unique_id("sid-provider-code") == systems.PROVIDER_MEDICAL_LICENSE_NUMBER
    provider = (IG / "StructureDefinition.VN-Core.Provider_v1.0.0.xml").read_text("utf-8")
    assert f'<fixedUri value="{systems.PROVIDER_CODE}"' in provider
    patient = (IG / "StructureDefinition.VN-Core.Patient_v1.0.0.xml").read_text("utf-8")
    assert '<fixedUri value="http://fhir.ehealth.gov.vn/core/sid/driver_license_number"' in patient


@needs_ig
def test_every_profile_identifier_system_is_known() -> None:
    known = {v for k, v in vars(systems).items() if k.isupper() and isinstance(v, str)} | set(systems.ALIASES)
    for path in IG.glob("StructureDefinition.*.xml"):
        text = path.read_text("utf-8")
        for uri in re.findall(r'fixedUri value="(http://fhir\.ehealth\.gov\.vn/core/sid/[^"]+)"', text):
            assert uri in known, (path.name, uri)


@needs_ig
def test_code_system_urls() -> None:
    for name in ("RACE", "ETHNIC_GROUP", "EDUCATION_LEVEL", "OCCUPATION", "OCCUPATION_4069",
                 "ADMINISTRATIVE_ADDRESS", "MEDICATION_CODE", "PROCEDURE_CODE"):
        url = getattr(systems, name)
        files = [p for p in IG.glob("CodeSystem-*.xml") if f'<url value="{url}"/>' in p.read_text("utf-8")]
        assert files, url


def test_canonical_maps_the_profile_spelling() -> None:
    profile_spelling = "http://fhir.ehealth.gov.vn/core/sid/driver_license_number"
    assert systems.canonical(profile_spelling) == systems.DRIVER_LICENSE_NUMBER
    assert systems.canonical(systems.NATIONAL_ID) == systems.NATIONAL_ID


def test_identifier_type_codes() -> None:
    assert systems.IDENTIFIER_TYPE[systems.NATIONAL_ID] == "NI"
    assert systems.IDENTIFIER_TYPE[systems.INSURANCE_NUMBER] == "SB"
    assert systems.IDENTIFIER_TYPE[systems.PASSPORT_NUMBER] == "PPN"


# Our own names that are not FHIR systems: the JWT issuer/audience and a transaction's never-stored placeholder.
NOT_SYSTEMS = {"security/tokens.py", "fhir/bundles.py",
               "db/migrations/versions/0013_counters.py"}  # a migration keeps frozen copies of what it reads


def test_our_own_uris_are_declared_in_vn_systems_only() -> None:
    """Issue 4: every identifier/code-system/extension URI in one documented place; modules import it."""
    import ast

    package = Path(systems.__file__).parents[1]
    offenders = []
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        if name == "vn/systems.py" or name in NOT_SYSTEMS:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        offenders += [f"{name}:{node.lineno}" for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and node.value.startswith("urn:benhan:") and id(node) not in docstrings]
    assert offenders == []


def test_our_uri_values_are_the_ones_stored_in_existing_databases() -> None:
    """Moving the constants must not change a value already written to databases and the demo data."""
    assert systems.RECORD_STATE == "urn:benhan:fhir:record-state"
    assert systems.QUEUE_NUMBER == "urn:benhan:fhir:queue-number"
    assert systems.EXT_PAYMENT_CATEGORY == "urn:benhan:fhir:StructureDefinition/payment-category"
    assert systems.EXT_QUEUE_PRIORITY == "urn:benhan:fhir:StructureDefinition/queue-priority"
    assert systems.EXT_COUNTER_VALUE == "urn:benhan:fhir:extension:counter-value"
    assert systems.PRESCRIPTION_CODE == "urn:benhan:sid:ma-don-thuoc"
    assert systems.DEPARTMENT_BHYT == "urn:benhan:fhir:CodeSystem:ma-khoa"
