"""Result parameters: _sort, paging links and snapshots, _total, _summary, _elements, warnings."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from benhan.fhir.errors import FhirError

from .conftest import BASE, VN_PATIENTS, ids, observation, patient, run, store


def follow(engine, url: str) -> dict:
    parts = urlsplit(url)
    assert url.startswith(BASE + "/")
    rtype = parts.path.rsplit("/", 1)[1]
    return run(engine, rtype, parts.query)


def link(bundle: dict, relation: str) -> str | None:
    return next((lk["url"] for lk in bundle["link"] if lk["relation"] == relation), None)


def test_sort_by_string_token_date_and_missing_last(vn):
    assert ids(run(vn, "Patient", "_sort=family")) == ["duc", "hoa", "anh", "dao"]
    assert ids(run(vn, "Patient", "_sort=-family")) == ["dao", "anh", "hoa", "duc"]
    assert ids(run(vn, "Patient", "_sort=birthdate")) == ["hoa", "dao", "anh", "duc"]
    assert ids(run(vn, "Patient", "_sort=-birthdate")) == ["duc", "anh", "dao", "hoa"]
    assert ids(run(vn, "Patient", "_sort=gender,-birthdate")) == ["dao", "hoa", "duc", "anh"]
    assert ids(run(vn, "Patient", "_sort=active,_id")) == ["duc", "anh", "dao", "hoa"]
    assert ids(run(vn, "Patient", "_sort=-active,-_id")) == ["dao", "anh", "duc", "hoa"]
    assert ids(run(vn, "Patient", "_sort=-_id")) == ["hoa", "duc", "dao", "anh"]


def test_sort_reference_and_quantity(engine):
    store(engine, *VN_PATIENTS,
          observation("o1", "Patient/hoa", "x", value=5), observation("o2", "Patient/anh", "x", value=7),
          observation("o3", "Patient/dao", "x"))
    assert ids(run(engine, "Observation", "_sort=subject")) == ["o2", "o3", "o1"]
    assert ids(run(engine, "Observation", "_sort=-value-quantity")) == ["o2", "o1", "o3"]
    assert ids(run(engine, "Observation", "_sort=value-quantity")) == ["o1", "o2", "o3"]


def test_paging_walks_every_result_once_despite_new_resources(engine):
    store(engine, *[patient(f"p{i:02d}", "Lê", [f"Văn {i}"]) for i in range(25)])
    first = run(engine, "Patient", "name=le&_sort=-_id&_count=10&_total=accurate")
    assert first["total"] == 25
    assert link(first, "previous") is None
    seen = ids(first)
    store(engine, patient("p99", "Lê", ["Mới"]))  # created while the client pages: must not shift pages
    page = first
    while (nxt := link(page, "next")) is not None:
        page = follow(engine, nxt)
        assert dict(parse_qsl(urlsplit(nxt).query))["name"] == "le"
        seen += ids(page)
    assert seen == [f"p{i:02d}" for i in range(24, -1, -1)]
    prev = follow(engine, link(page, "previous"))
    assert ids(prev) == [f"p{i:02d}" for i in range(14, 4, -1)]
    assert ids(follow(engine, link(page, "first"))) == ids(first)
    assert "p99" in ids(run(engine, "Patient", "name=le&_sort=-_id&_count=10"))


def test_links_are_absolute_and_keep_the_query(vn):
    bundle = run(vn, "Patient", "name=thi&_count=1")
    assert {lk["relation"] for lk in bundle["link"]} == {"self", "first", "next"}
    for lk in bundle["link"]:
        assert lk["url"].startswith(f"{BASE}/Patient?")
        assert ("name", "thi") in parse_qsl(urlsplit(lk["url"]).query)
    assert bundle["entry"][0]["fullUrl"] == f"{BASE}/Patient/{ids(bundle)[0]}"


def test_totals(engine):
    store(engine, *[patient(f"p{i}", "Vũ", ["X"]) for i in range(12)])
    assert run(engine, "Patient", "_count=5&_total=accurate")["total"] == 12
    assert "total" not in run(engine, "Patient", "_count=5")  # default: a full page is not counted
    assert run(engine, "Patient", "_count=12")["total"] == 12  # ... a page holding every match is
    assert run(engine, "Patient", "_count=5&_total=estimate")["total"] == 12
    assert "total" not in run(engine, "Patient", "_count=5&_total=none")
    assert run(engine, "Patient", "_count=50&_total=none")["type"] == "searchset"
    only = run(engine, "Patient", "_count=0")
    assert only["total"] == 12 and "entry" not in only
    counted = run(engine, "Patient", "_summary=count&family=vu")
    assert counted["total"] == 12 and "entry" not in counted
    assert run(engine, "Patient", "_count=5&_offset=10")["total"] == 12
    assert run(engine, "Patient", "_count=5&_offset=40&_total=accurate")["total"] == 12  # past the end
    with pytest.raises(FhirError):
        run(engine, "Patient", "_total=maybe")


def test_total_cap(engine, monkeypatch):
    from benhan.fhir.search import engine as search_engine

    monkeypatch.setattr(search_engine, "ESTIMATE_CAP", 3)
    store(engine, *[patient(f"p{i}", "Vũ", ["X"]) for i in range(6)])
    assert "total" not in run(engine, "Patient", "_count=2&_total=estimate")  # above the cap
    assert run(engine, "Patient", "_count=2&_total=accurate")["total"] == 6


def test_default_total_is_given_only_when_free(engine):
    """Without _total a full page is not counted (each counted match pays its access test); the first page
    holding every match and the last page give it for nothing."""
    store(engine, *[patient(f"p{i}", "Vũ", ["X"]) for i in range(25)])
    first = run(engine, "Patient", "_count=10")
    assert "total" not in first and len(ids(first)) == 10
    assert run(engine, "Patient", "_count=10&_offset=20")["total"] == 25  # the last page
    assert run(engine, "Patient", "_count=30")["total"] == 25
    assert run(engine, "Patient", "_count=2&_total=estimate")["total"] == 25  # estimate: up to ESTIMATE_CAP
    assert run(engine, "Patient", "_count=2&_total=accurate")["total"] == 25


def test_count_limits(vn):
    assert len(ids(run(vn, "Patient", "_count=2"))) == 2
    assert len(ids(run(vn, "Patient", "_count=100", max_count=3))) == 3
    assert len(ids(run(vn, "Patient", "", default_count=1))) == 1
    for bad in ("_count=-1", "_count=x", "_offset=-3"):
        with pytest.raises(FhirError):
            run(vn, "Patient", bad)


def test_summary_and_elements(vn):
    full = run(vn, "Patient", "_id=anh")["entry"][0]["resource"]
    assert "SUBSETTED" not in str(full.get("meta"))
    summary = run(vn, "Patient", "_id=anh&_summary=true")["entry"][0]["resource"]
    assert set(summary) == {"resourceType", "id", "meta", "identifier", "active", "name", "gender", "birthDate"}
    assert any(t["code"] == "SUBSETTED" for t in summary["meta"]["tag"])
    assert summary["meta"]["versionId"] == "1"
    text = run(vn, "Patient", "_id=anh&_summary=text")["entry"][0]["resource"]
    assert set(text) == {"resourceType", "id", "meta"}
    elements = run(vn, "Patient", "_id=anh&_elements=gender,Patient.birthDate")["entry"][0]["resource"]
    assert set(elements) == {"resourceType", "id", "meta", "gender", "birthDate"}
    assert elements["meta"]["tag"][-1]["system"] == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
    data = run(vn, "Patient", "_id=anh&_summary=data")["entry"][0]["resource"]
    assert data == full
    with pytest.raises(FhirError):
        run(vn, "Patient", "_summary=maybe")


def test_as_stored_bundle_serializes_to_the_parsed_bundle(vn):
    """The HTTP path splices stored JSON unparsed; its bytes must decode to what parsing would have given."""
    store(vn, observation("o1", "Patient/anh", "x", value=5))
    for query in ("_sort=family", "_id=o1&_include=Observation:subject", "_id=anh&_summary=true",
                  "_id=anh&_elements=gender", "_summary=count"):
        rtype = "Observation" if "o1" in query else "Patient"
        parsed = run(vn, rtype, query)
        stored = run(vn, rtype, query, as_stored=True)
        assert orjson.loads(orjson.dumps(stored)) == parsed
    whole = run(vn, "Patient", "_id=anh", as_stored=True)["entry"][0]["resource"]
    assert isinstance(whole, orjson.Fragment)
    shaped = run(vn, "Patient", "_id=anh&_summary=true", as_stored=True)["entry"][0]["resource"]
    assert isinstance(shaped, dict) and any(t["code"] == "SUBSETTED" for t in shaped["meta"]["tag"])


def test_summary_keeps_choice_elements(engine):
    store(engine, patient("p", "A", ["x"]), observation("o", "Patient/p", "x", value=1, date="2024-01-01",
                                                         note=[{"text": "ghi chú"}]))
    obs = run(engine, "Observation", "_summary=true")["entry"][0]["resource"]
    assert "valueQuantity" in obs and "effectiveDateTime" in obs and "note" not in obs
    elements = run(engine, "Observation", "_elements=value")["entry"][0]["resource"]
    assert "valueQuantity" in elements and "effectiveDateTime" not in elements
    assert set(elements) >= {"status", "code"}  # mandatory elements are always returned


def test_unknown_parameters_are_reported_or_rejected(vn):
    bundle = run(vn, "Patient", "nickname=x&gender=male&_elements2=abc")
    assert set(ids(bundle)) == {"anh", "duc"}
    outcome = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1
    issues = outcome[0]["resource"]["issue"]
    assert {i["severity"] for i in issues} == {"warning"}
    assert any("nickname" in i["diagnostics"] for i in issues) and any("_elements2" in i["diagnostics"] for i in issues)
    assert " / " in issues[0]["details"]["text"]  # Vietnamese / English
    with pytest.raises(FhirError) as err:
        run(vn, "Patient", "nickname=x", strict=True)
    assert err.value.status == 400
    with pytest.raises(FhirError):  # _filter=x: malformed (no operator)
        run(vn, "Patient", "_filter=x", strict=True)
    with pytest.raises(FhirError) as err:  # an unknown named query is an error even without strict handling
        run(vn, "Patient", "gender=male&_query=abc")
    assert (err.value.status, err.value.issues[0].location) == (400, "http._query")


def test_empty_values_do_not_restrict(vn):
    assert set(ids(run(vn, "Patient", "name=&gender=female"))) == {"dao", "hoa"}


def test_deleted_resources_never_match(vn):
    from benhan.fhir.repository import Repository

    with vn.begin() as conn:
        Repository(conn, base_url=BASE).delete("Patient", "anh")
    assert set(ids(run(vn, "Patient", ""))) == {"dao", "duc", "hoa"}
    assert ids(run(vn, "Patient", "_id=anh")) == []
    assert run(vn, "Patient", "_total=accurate")["total"] == 3


def test_unknown_type_is_404(vn):
    with pytest.raises(FhirError) as err:
        run(vn, "BenhNhan", "")
    assert err.value.status == 404
