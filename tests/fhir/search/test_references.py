"""Reference search: Type/id, id, absolute URLs, :Type, :identifier, chains, _has, composites, uri."""

from __future__ import annotations

import pytest

from benhan.fhir.errors import FhirError

from .conftest import BASE, CCCD, LOINC, VN_PATIENTS, find, observation, store

ORG = {"resourceType": "Organization", "id": "bvbm", "name": "Bệnh viện Bạch Mai",
       "identifier": [{"system": "http://fhir.ehealth.gov.vn/core/sid/facility", "value": "01929"}]}
PRAC = {"resourceType": "Practitioner", "id": "bs1", "name": [{"family": "Phạm", "given": ["Quốc", "Bảo"]}]}


def encounter(eid: str, subject: str, **extra):
    return {"resourceType": "Encounter", "id": eid, "status": "finished", "class": {"code": "AMB"},
            "subject": {"reference": subject}, **extra}


@pytest.fixture
def world(engine):
    anh, dao, duc, hoa = (dict(p) for p in VN_PATIENTS)
    anh["managingOrganization"] = {"reference": "Organization/bvbm"}
    anh["generalPractitioner"] = [{"reference": "Practitioner/bs1"}]
    store(engine, ORG, PRAC, anh, dao, duc, hoa,
          encounter("e1", "Patient/anh", serviceProvider={"reference": "Organization/bvbm"}),
          encounter("e2", "Patient/dao"),
          observation("o1", "Patient/anh", "8480-6", value=130, encounter="Encounter/e1"),
          observation("o2", "Patient/anh", "8462-4", value=85, encounter="Encounter/e1"),
          observation("o3", "Patient/dao", "8480-6", value=110, encounter="Encounter/e2"),
          observation("o4", f"{BASE}/Patient/duc", "8480-6", value=150),
          observation("o5", "http://other.org/fhir/Patient/anh", "8480-6", value=90),
          observation("o6", "Group/g1", "8480-6", value=95) | {"subject": {"display": "x"}},
          {"resourceType": "Observation", "id": "o7", "status": "final", "code": {"text": "x"},
           "subject": {"identifier": {"system": CCCD, "value": "079185000002"}}})
    return engine


@pytest.mark.parametrize(("query", "expected"), [
    ("subject=Patient/anh", {"o1", "o2"}),
    ("subject=anh", {"o1", "o2"}),
    ("subject:Patient=anh", {"o1", "o2"}),
    ("subject:Group=anh", set()),
    ("patient=dao", {"o3"}),
    (f"subject={BASE}/Patient/anh", {"o1", "o2"}),
    ("subject=Patient/duc", {"o4"}),
    ("subject=http://other.org/fhir/Patient/anh", {"o5"}),
    ("subject=Patient/anh,Patient/dao", {"o1", "o2", "o3"}),
    ("encounter=Encounter/e1", {"o1", "o2"}),
    (f"subject:identifier={CCCD}|079185000002", {"o7"}),
    ("subject:missing=true", {"o6"}),
    ("encounter:missing=false", {"o1", "o2", "o3"}),
])
def test_reference_values(world, query, expected):
    assert find(world, "Observation", query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("subject:Patient.name=nguyen", {"o1", "o2"}),
    ("subject.name=tran thi", {"o3"}),
    ("patient.name=dang", {"o4"}),
    (f"subject:Patient.identifier={CCCD}|001090000001", {"o1", "o2"}),
    ("subject:Patient.organization.name=benh vien bach", {"o1", "o2"}),
    ("patient.organization.identifier=01929", {"o1", "o2"}),
    ("encounter.subject.name=anh", {"o1", "o2"}),
    ("encounter.subject:Patient.general-practitioner.name=pham quoc", {"o1", "o2"}),
    ("encounter.service-provider=Organization/bvbm", {"o1", "o2"}),
    ("subject.name=nguyen,dao", {"o1", "o2", "o3"}),
    ("subject.name=nguyen&subject.name=tran", set()),
    ("subject.gender=female", {"o3"}),
])
def test_chains(world, query, expected):
    assert find(world, "Observation", query) == expected


@pytest.mark.parametrize(("rtype", "query", "expected"), [
    ("Patient", "_has:Observation:patient:code=8462-4", {"anh"}),
    ("Patient", "_has:Observation:subject:code=8480-6", {"anh", "dao", "duc"}),
    ("Patient", "_has:Observation:patient:value-quantity=gt120", {"anh", "duc"}),
    ("Patient", "_has:Encounter:subject:_has:Observation:encounter:code=8462-4", {"anh"}),
    ("Organization", "_has:Patient:organization:_has:Observation:patient:code=8480-6", {"bvbm"}),
    ("Patient", "_has:Observation:patient:code=8462-4&gender=female", set()),
    ("Encounter", "_has:Observation:encounter:value-quantity=lt120", {"e1", "e2"}),
    ("Encounter", "_has:Observation:encounter:value-quantity=gt120", {"e1"}),
])
def test_reverse_chains(world, rtype, query, expected):
    assert find(world, rtype, query) == expected


def test_deleted_targets_do_not_match_chains(world):
    from benhan.fhir.repository import Repository

    with world.begin() as conn:
        Repository(conn, base_url=BASE).delete("Observation", "o3")
    assert find(world, "Patient", "_has:Observation:patient:code=8480-6") == {"anh", "duc"}
    assert find(world, "Observation", "code=8480-6") == {"o1", "o4", "o5", "o6"}


@pytest.mark.parametrize("query", ["subject:Practitioner=x", "subject:Nope=x", "subject.name:Patient=x",
                                   "code.name=x", "subject:above=x"])
def test_bad_reference_queries(world, query):
    with pytest.raises(FhirError) as err:
        find(world, "Observation", query)
    assert err.value.status == 400


def test_composites(engine):
    comp = {"resourceType": "Observation", "id": "bp1", "status": "final", "subject": {"reference": "Patient/p"},
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
            "component": [
                {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                 "valueQuantity": {"value": 140, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                 "valueQuantity": {"value": 90, "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]}
    store(engine, dict(VN_PATIENTS[0], id="p"), comp,
          observation("o1", "Patient/p", "8480-6", value=120),
          observation("o2", "Patient/p", "8462-4", value=150))
    assert find(engine, "Observation", f"code-value-quantity={LOINC}|8480-6$gt100") == {"o1"}
    assert find(engine, "Observation", "code-value-quantity=8462-4$gt100") == {"o2"}
    assert find(engine, "Observation", "code-value-quantity=8462-4$lt100") == set()
    assert find(engine, "Observation", "component-code-value-quantity=8480-6$gt130") == {"bp1"}
    # 8462-4 is 90 in the component: the 140 of the other component must not pair with it
    assert find(engine, "Observation", "component-code-value-quantity=8462-4$gt100") == set()
    assert find(engine, "Observation", "combo-code-value-quantity=8462-4$gt100") == {"o2"}
    assert find(engine, "Observation", "combo-code-value-quantity=8462-4$gt80") == {"o2", "bp1"}
    assert find(engine, "Observation",
                "combo-code-value-quantity=8462-4$gt200,8480-6$lt130") == {"o1"}
    with pytest.raises(FhirError):
        find(engine, "Observation", "code-value-quantity=8480-6")


def test_uri(engine):
    vs = {"resourceType": "ValueSet", "status": "active"}
    store(engine, {**vs, "id": "a", "url": "http://fhir.ehealth.gov.vn/core/ValueSet/dan-toc"},
          {**vs, "id": "b", "url": "http://fhir.ehealth.gov.vn/core/ValueSet/dan-toc/v2"},
          {**vs, "id": "c", "url": "http://hl7.org/fhir/ValueSet/x"})
    assert find(engine, "ValueSet", "url=http://fhir.ehealth.gov.vn/core/ValueSet/dan-toc") == {"a"}
    assert find(engine, "ValueSet", "url:below=http://fhir.ehealth.gov.vn/core") == {"a", "b"}
    assert find(engine, "ValueSet", "url:above=http://fhir.ehealth.gov.vn/core/ValueSet/dan-toc/v2/x") == {"a", "b"}
    assert find(engine, "ValueSet", "url=http://fhir.ehealth.gov.vn/core/ValueSet/DAN-TOC") == set()
