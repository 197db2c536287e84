"""``_contained`` / ``_containedType``: contained resources are indexed under keys of their own and searched
with the same SQL as stored ones, without ever leaking into ordinary searches."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from benhan.db import schema as s
from benhan.fhir.contained_tables import contained_resource
from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository

from ..test_query_counts import counting
from .conftest import BASE, VN_PATIENTS, find, ids, run, store

DRUGS = "http://benhan.test/thuoc"


def _med(mid: str, code: str, form: str | None = None) -> dict:
    med = {"resourceType": "Medication", "id": mid, "code": {"coding": [{"system": DRUGS, "code": code}],
                                                               "text": f"Thuốc {code}"}}
    if form:
        med["form"] = {"coding": [{"system": DRUGS, "code": form}]}
    return med


def _order(oid: str, patient: str, *contained: dict, ref: str | None = None) -> dict:
    res = {"resourceType": "MedicationRequest", "id": oid, "status": "active", "intent": "order",
           "subject": {"reference": f"Patient/{patient}"},
           "medicationReference": {"reference": ref or f"#{contained[0]['id']}"}}
    if contained:
        res["contained"] = list(contained)
    return res


@pytest.fixture
def pharmacy(engine):
    store(engine, *VN_PATIENTS, _med("para-kho", "PARA500", "TAB"),
          _order("don-1", "anh", _med("m1", "PARA500", "TAB")),
          _order("don-2", "dao", _med("m1", "AMOX250", "CAP"), _med("m2", "PARA500", "SYR")),
          _order("don-3", "duc", ref="Medication/para-kho"))
    return engine


def _urls(bundle: dict) -> list[str]:
    return [e["fullUrl"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_contained_scope_and_what_is_returned(pharmacy):
    assert find(pharmacy, "Medication", "code=PARA500") == {"para-kho"}  # _contained=false by default
    assert find(pharmacy, "Medication", "code=PARA500&_contained=false") == {"para-kho"}
    containers = run(pharmacy, "Medication", "code=PARA500&_contained=true")
    assert sorted(ids(containers)) == ["don-1", "don-2"]
    assert {e["resource"]["resourceType"] for e in containers["entry"]} == {"MedicationRequest"}
    assert containers["total"] == 2
    alone = run(pharmacy, "Medication", "code=PARA500&_contained=true&_containedType=contained&_sort=form")
    assert _urls(alone) == [f"{BASE}/MedicationRequest/don-2#m2", f"{BASE}/MedicationRequest/don-1#m1"]
    first = alone["entry"][0]["resource"]
    assert first == _med("m2", "PARA500", "SYR")  # the contained resource itself, as written
    both = run(pharmacy, "Medication", "code=PARA500&_contained=both")
    assert sorted(ids(both)) == ["don-1", "don-2", "para-kho"]
    both_alone = run(pharmacy, "Medication", "code=PARA500&_contained=both&_containedType=contained")
    assert sorted(_urls(both_alone)) == [f"{BASE}/Medication/para-kho", f"{BASE}/MedicationRequest/don-1#m1",
                                         f"{BASE}/MedicationRequest/don-2#m2"]


def test_criteria_match_within_one_contained_resource(pharmacy):
    # don-2 contains AMOX250 as a capsule and PARA500 as a syrup: no single medication is a PARA500 capsule
    assert find(pharmacy, "Medication", "code=PARA500&form=CAP&_contained=true") == set()
    assert find(pharmacy, "Medication", "code=PARA500&form=SYR&_contained=true") == {"don-2"}
    assert find(pharmacy, "Medication", "code:text=thuoc amox&_contained=true") == {"don-2"}
    assert find(pharmacy, "Medication", "_id=m2&_contained=true") == {"don-2"}
    assert find(pharmacy, "Medication", "code:missing=false&_contained=true&form=TAB,CAP") == {"don-1", "don-2"}


def test_new_versions_replace_and_deletes_remove_contained_rows(pharmacy):
    store(pharmacy, _order("don-1", "anh", _med("m1", "IBU400", "TAB")))
    assert find(pharmacy, "Medication", "code=PARA500&_contained=true") == {"don-2"}
    assert find(pharmacy, "Medication", "code=IBU400&_contained=true") == {"don-1"}
    with pharmacy.begin() as conn:
        Repository(conn, base_url=BASE).delete("MedicationRequest", "don-2")
    assert find(pharmacy, "Medication", "code=PARA500&_contained=true") == set()
    with pharmacy.connect() as conn:
        assert conn.execute(select(func.count()).select_from(contained_resource)).scalar_one() == 1
        keys = select(contained_resource.c.pk)
        for table in s.INDEX_TABLES.values():  # no orphan index rows of dropped contained resources
            orphans = select(func.count()).select_from(table).where(table.c.res_pk < 0,
                                                                    table.c.res_pk.not_in(keys))
            assert conn.execute(orphans).scalar_one() == 0, table.name


def test_contained_resources_never_leak_into_ordinary_searches(engine):
    obs = {"resourceType": "Observation", "id": "glu", "status": "final", "subject": {"reference": "Patient/anh"},
           "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]}}
    report = {"resourceType": "DiagnosticReport", "id": "xn-1", "status": "final",
              "code": {"coding": [{"system": "http://loinc.org", "code": "24323-8"}]},
              "subject": {"reference": "Patient/dao"}, "result": [{"reference": "#glu"}], "contained": [obs]}
    store(engine, *VN_PATIENTS, report)
    assert find(engine, "Observation", "code=2345-7") == set()
    assert find(engine, "Patient", "_has:Observation:subject:code=2345-7") == set()
    assert find(engine, "Patient", "_has:Observation:subject:code=2345-7&_contained=true") == set()
    assert ids(run(engine, "Patient", "_id=anh&_revinclude=Observation:subject"), "include") == []
    assert find(engine, None, "_type=Observation&code=2345-7") == set()
    assert find(engine, "DiagnosticReport", "code=2345-7") == set()
    assert find(engine, "Observation", "subject=Patient/anh&_contained=true") == {"xn-1"}
    # includes follow the contained resource's own references to stored resources
    alone = run(engine, "Observation", "code=2345-7&_contained=true&_containedType=contained"
                                       "&_include=Observation:subject")
    assert ids(alone, "include") == ["anh"]


def test_last_updated_compartment_paging_and_summary(pharmacy):
    assert find(pharmacy, "Medication", "code=PARA500&_contained=true&_lastUpdated=gt2000-01-01") == {"don-1", "don-2"}
    assert find(pharmacy, "Medication", "code=PARA500&_contained=true&_lastUpdated=lt2000-01-01") == set()
    assert find(pharmacy, "Medication", "code=PARA500&_contained=true", compartment=("Patient", "dao")) == {"don-2"}
    assert run(pharmacy, "Medication", "_contained=true&_summary=count")["total"] == 2
    assert run(pharmacy, "Medication", "_contained=true&_containedType=contained&_summary=count")["total"] == 3
    page = run(pharmacy, "Medication", "_contained=both&_containedType=contained&_count=2&_sort=code&_total=accurate")
    assert len(ids(page)) == 2 and page["total"] == 4
    nxt = next(lk["url"] for lk in page["link"] if lk["relation"] == "next")
    assert "_contained=both" in nxt and "_snapshot=" in nxt
    store(pharmacy, _order("don-9", "hoa", _med("m1", "PARA500")))  # written while paging: not in later pages
    rest = run(pharmacy, "Medication", nxt.split("?", 1)[1])
    assert _urls(page) == [f"{BASE}/MedicationRequest/don-2#m1", f"{BASE}/MedicationRequest/don-2#m2"]  # AMOX first
    assert _urls(rest) == [f"{BASE}/MedicationRequest/don-1#m1", f"{BASE}/Medication/para-kho"]


def test_bad_values_and_system_level_are_400(pharmacy):
    for query in ("_contained=maybe", "_containedType=both", "_contained=true&_containedType=x"):
        with pytest.raises(FhirError) as err:
            run(pharmacy, "Medication", query)
        assert err.value.status == 400 and err.value.issues[0].expression in ("_contained", "_containedType")
    with pytest.raises(FhirError) as err:
        run(pharmacy, None, "_contained=true")
    assert err.value.status == 400


def test_contained_search_is_one_statement_and_plain_writes_add_none(engine):
    store(engine, *VN_PATIENTS)
    with counting(engine) as plain, engine.begin() as conn:
        Repository(conn, base_url=BASE).update("MedicationRequest", "x", _order("x", "anh", ref="Patient/anh"))
    assert "DELETE" not in plain  # a create without contained resources: no extra statement
    store(engine, _order("y", "anh", _med("m1", "PARA500")))
    with counting(engine) as searched, engine.connect() as conn:
        from benhan.fhir.search import search

        bundle = search(conn, "Medication", [("code", "PARA500"), ("_contained", "true"),
                                             ("_containedType", "contained")], base_url=BASE)
    assert len(bundle["entry"]) == 1
    assert searched["SELECT"] == 1, searched  # the page; the total is known from a short page
