"""_include/_revinclude (with :iterate), compartment and system searches, $everything, find_ids,
and the number of SQL statements a search issues."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from benhan.fhir.errors import FhirError
from benhan.fhir.search import everything, find_ids

from .conftest import BASE, CCCD, VN_PATIENTS, find, ids, observation, run, store
from .test_references import ORG, PRAC, encounter


@pytest.fixture
def world(engine):
    anh, dao, duc, hoa = (dict(p) for p in VN_PATIENTS)
    anh["managingOrganization"] = {"reference": "Organization/bvbm"}
    anh["generalPractitioner"] = [{"reference": "Practitioner/bs1"}]
    med = {"resourceType": "Medication", "id": "para", "code": {"text": "Paracetamol 500mg"}}
    store(engine, ORG, PRAC, med, anh, dao, duc, hoa,
          encounter("e1", "Patient/anh", participant=[{"individual": {"reference": "Practitioner/bs1"}}]),
          encounter("e2", "Patient/dao"),
          observation("o1", "Patient/anh", "8480-6", value=130, encounter="Encounter/e1"),
          observation("o2", "Patient/anh", "8462-4", value=85, encounter="Encounter/e1"),
          observation("o3", "Patient/dao", "8480-6", value=110, encounter="Encounter/e2"),
          {"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": "order",
           "subject": {"reference": "Patient/anh"}, "medicationReference": {"reference": "Medication/para"},
           "requester": {"reference": "Practitioner/bs1"}})
    return engine


def entries(bundle, mode):
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle.get("entry", [])
            if e["search"]["mode"] == mode}


def test_include(world):
    bundle = run(world, "Observation", "code=8480-6&_include=Observation:subject")
    assert entries(bundle, "match") == {"Observation/o1", "Observation/o3"}
    assert entries(bundle, "include") == {"Patient/anh", "Patient/dao"}
    bundle = run(world, "Observation", "_id=o1&_include=Observation:subject:Group")
    assert entries(bundle, "include") == set()
    bundle = run(world, "Observation", "_id=o1&_include=*")
    assert entries(bundle, "include") == {"Patient/anh", "Encounter/e1"}
    bundle = run(world, "Observation", "_id=o1&_include=Observation:encounter&_include=Observation:patient")
    assert entries(bundle, "include") == {"Patient/anh", "Encounter/e1"}


def test_include_iterate(world):
    q = "_id=o1&_include=Observation:encounter&_include:iterate=Encounter:participant"
    assert entries(run(world, "Observation", q), "include") == {"Encounter/e1", "Practitioner/bs1"}
    q = "_id=o1&_include=Observation:encounter&_include=Encounter:participant"
    assert entries(run(world, "Observation", q), "include") == {"Encounter/e1"}
    q = "_id=o1&_include:iterate=Observation:patient&_include:iterate=Patient:organization"
    assert entries(run(world, "Observation", q), "include") == {"Patient/anh", "Organization/bvbm"}


def test_revinclude(world):
    bundle = run(world, "Encounter", "patient=anh&_revinclude=Observation:encounter")
    assert entries(bundle, "match") == {"Encounter/e1"}
    assert entries(bundle, "include") == {"Observation/o1", "Observation/o2"}
    bundle = run(world, "Patient", "_id=anh,dao&_revinclude=Observation:subject&_revinclude=Encounter:subject")
    assert entries(bundle, "include") == {"Observation/o1", "Observation/o2", "Observation/o3",
                                          "Encounter/e1", "Encounter/e2"}
    bundle = run(world, "Patient", "_id=anh&_revinclude=*")
    assert entries(bundle, "include") == {"Observation/o1", "Observation/o2", "Encounter/e1",
                                          "MedicationRequest/mr1"}
    bundle = run(world, "Patient", "_id=dao&_revinclude=Observation:subject"
                                   "&_include:iterate=Observation:encounter")
    assert entries(bundle, "include") == {"Observation/o3", "Encounter/e2"}


def test_include_errors(world):
    for bad in ("_include=Observation", "_include=Nope:subject", "_include:deep=Observation:subject",
                "_include=Observation:subject:Nope"):
        with pytest.raises(FhirError):
            run(world, "Observation", bad)
    bundle = run(world, "Observation", "_id=o1&_include=Observation:code")
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["match", "outcome"]
    with pytest.raises(FhirError):
        run(world, "Observation", "_include=Observation:code", strict=True)


def test_compartment_search(world):
    assert find(world, "Observation", "", compartment=("Patient", "anh")) == {"o1", "o2"}
    assert find(world, "Observation", "code=8462-4", compartment=("Patient", "anh")) == {"o2"}
    assert find(world, "Encounter", "", compartment=("Patient", "dao")) == {"e2"}
    assert find(world, "Observation", "", compartment=("Patient", "nobody")) == set()
    bundle = run(world, "Observation", "_count=1", compartment=("Patient", "anh"))
    assert all(lk["url"].startswith(f"{BASE}/Patient/anh/Observation?") for lk in bundle["link"])
    assert find(world, None, "", compartment=("Patient", "dao")) == {"dao", "e2", "o3"}


def test_system_search(world):
    assert find(world, None, "_id=anh,e1,bs1") == {"anh", "e1", "bs1"}
    assert find(world, None, "_type=Patient,Practitioner&_id=anh,e1,bs1") == {"anh", "bs1"}
    assert find(world, None, "_type=Patient,Practitioner&name=pham") == {"bs1"}
    assert find(world, None, "_type=Observation&code=8480-6") == {"o1", "o3"}
    bundle = run(world, None, "_type=Observation,Patient&code=8480-6")  # code is not a Patient parameter
    assert set(ids(bundle)) == {"o1", "o2", "o3", "anh", "dao", "duc", "hoa"}
    assert bundle["entry"][-1]["search"]["mode"] == "outcome"
    with pytest.raises(FhirError):
        run(world, None, "_type=Nope")
    bundle = run(world, None, "_type=Patient&_count=2&_sort=_id")
    assert ids(bundle) == ["anh", "dao"]
    assert bundle["link"][0]["url"].startswith(f"{BASE}?")


def test_everything(world):
    with world.connect() as conn:
        bundle = everything(conn, "anh", [("_count", "100")], base_url=BASE)
    assert bundle["entry"][0]["resource"]["id"] == "anh"
    assert entries(bundle, "match") == {"Patient/anh", "Encounter/e1", "Observation/o1", "Observation/o2",
                                        "MedicationRequest/mr1"}
    assert entries(bundle, "include") == {"Organization/bvbm", "Practitioner/bs1", "Medication/para"}
    assert bundle["total"] == 5
    with world.connect() as conn:
        typed = everything(conn, "anh", [("_type", "Encounter,Practitioner")], base_url=BASE)
        paged = everything(conn, "anh", [("_count", "2")], base_url=BASE)
        late = everything(conn, "anh", [("_since", "2999-01-01")], base_url=BASE)
        with pytest.raises(FhirError) as missing:
            everything(conn, "nobody", [], base_url=BASE)
    assert entries(typed, "match") == {"Encounter/e1"}
    assert entries(typed, "include") == {"Practitioner/bs1"}
    assert len(entries(paged, "match")) == 2 and any(lk["relation"] == "next" for lk in paged["link"])
    assert "$everything" in paged["link"][0]["url"]
    assert late["total"] == 0
    assert missing.value.status == 404
    from benhan.fhir.repository import Repository

    with world.begin() as conn:
        Repository(conn, base_url=BASE).delete("Patient", "hoa")
    with world.connect() as conn, pytest.raises(FhirError) as gone:
        everything(conn, "hoa", [], base_url=BASE)
    assert gone.value.status == 410


def test_find_ids(world):
    with world.connect() as conn:
        assert find_ids(conn, "Patient", f"identifier={CCCD}|001090000001") == ["anh"]
        assert sorted(find_ids(conn, "Patient", "name=thi")) == ["dao", "hoa"]
        assert find_ids(conn, "Patient", "name=zz") == []
        with pytest.raises(FhirError) as err:
            find_ids(conn, "Patient", "nickname=x")
        assert err.value.status == 400
        with pytest.raises(FhirError):
            find_ids(conn, "Patient", "birthdate=yesterday")


def test_conditional_create_uses_find_ids(world):
    from benhan.fhir.repository import Repository

    with world.begin() as conn:
        result = Repository(conn, base_url=BASE).create(dict(VN_PATIENTS[0], id=None) | {"id": "x"},
                                                        if_none_exist=f"identifier={CCCD}|001090000001")
    assert result.status == 200 and result.stored.id == "anh"


def test_bounded_statement_count(engine):
    store(engine, *VN_PATIENTS, *[encounter(f"e{i}", "Patient/anh") for i in range(5)],
          *[observation(f"o{i}", f"Patient/{VN_PATIENTS[i % 4]['id']}", "8480-6", value=100 + i,
                        encounter=f"Encounter/e{i % 5}") for i in range(120)])
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        bundle = run(engine, "Observation", "code=8480-6&_count=50&_include=Observation:subject"
                                            "&_include=Observation:encounter&_revinclude=Provenance:target"
                                            "&_sort=-value-quantity")
        assert len(ids(bundle)) == 50 and len(ids(bundle, "include")) == 9
        assert len(statements) <= 3, statements  # page, one include level, count
        statements.clear()
        run(engine, "Observation", "code=8480-6&_count=50&_include:iterate=Observation:encounter"
                                   "&_include:iterate=Encounter:subject&_total=accurate")
        assert len(statements) <= 5, statements  # page, count, include levels (+ one empty level)
    finally:
        event.remove(engine, "before_cursor_execute", count)
