"""The REST behaviours of issue 2 that only show over HTTP (audit): POST ``_search``, ``Prefer: handling``,
``Last-Modified``, ``_format``/``Accept``/``Content-Type`` negotiation, bundle preconditions."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from urllib.parse import quote

from .test_crud import VN_PATIENT

CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"


def _patient(family: str, gender: str) -> dict:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Văn"]}], "gender": gender}


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_post_search_equals_get(client):
    for family, gender in (("Nguyễn", "male"), ("Nguyễn", "female"), ("Trần", "male")):
        client.create(_patient(family, gender))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    got = client.get("Patient?name=nguyen&gender=male").json()
    posted = client.request("POST", "Patient/_search", "name=nguyen&gender=male", headers=form).json()
    assert got["total"] == posted["total"] == 1
    assert _ids(got) == _ids(posted)
    # parameters may come in both the URL and the body; they are ANDed
    mixed = client.request("POST", "Patient/_search?gender=female", "name=nguy%E1%BB%85n", headers=form).json()
    assert mixed["total"] == 1 and _ids(mixed) != _ids(got)
    # the paging links carry the body's parameters, so a GET on them continues the same search
    nxt = client.request("POST", "Patient/_search", "name=nguyen&_count=1", headers=form).json()
    follow = next(lk["url"] for lk in nxt["link"] if lk["relation"] == "next")
    assert "name=nguyen" in follow
    assert client.http.get(follow.replace("http://testserver", "")).json()["total"] == 2


def test_prefer_handling_strict_and_lenient(client):
    client.create(_patient("Lê", "male"))
    strict = client.get("Patient?nickname=x&gender=male", headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    issue = strict.json()["issue"][0]
    assert issue["expression"] == ["nickname"]
    assert " / " in issue["details"]["text"] and "ignored" not in issue["details"]["text"]
    lenient = client.get("Patient?nickname=x&gender=male", headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200
    body = lenient.json()
    assert body["total"] == 1
    assert body["entry"][-1]["search"]["mode"] == "outcome"
    # a malformed value of a known parameter is an error whatever the handling
    bad = client.get("Patient?birthdate=hôm-qua", headers={"Prefer": "handling=lenient"})
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["birthdate"]


def test_last_modified_matches_meta_last_updated(client):
    created = client.create(VN_PATIENT)
    resp = client.get(f"Patient/{created['id']}")
    header = parsedate_to_datetime(resp.headers["last-modified"])
    stamp = created["meta"]["lastUpdated"]
    assert header.strftime("%Y-%m-%dT%H:%M:%S") == stamp[:19]
    vread = client.get(f"Patient/{created['id']}/_history/1")
    assert vread.headers["last-modified"] == resp.headers["last-modified"]
    assert vread.headers["etag"] == 'W/"1"'


def test_format_negotiation(client):
    created = client.create(VN_PATIENT)
    for fmt in ("json", "application/json", "application/fhir+json"):
        resp = client.get(f"Patient/{created['id']}?_format={quote(fmt)}")
        assert resp.status_code == 200, fmt
        assert resp.headers["content-type"].startswith("application/fhir+json")
    for fmt in ("xml", "text/xml", "application/fhir+xml", "application/xml"):
        resp = client.get(f"Patient?_format={quote(fmt)}")
        assert resp.status_code == 406, fmt
        issue = resp.json()["issue"][0]
        assert issue["code"] == "not-supported" and " / " in issue["details"]["text"]
    assert client.get("Patient", headers={"Accept": "application/fhir+xml"}).status_code == 406
    assert client.get("Patient", headers={"Accept": "application/fhir+xml, application/fhir+json"}).status_code == 200
    put = client.put(f"Patient/{created['id']}", b"<Patient/>", headers={"Content-Type": "application/fhir+xml"})
    assert put.status_code == 415 and put.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"  # nothing written


def _tx(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_transaction_if_match_stale_is_412_and_rolls_back(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    client.put(f"Patient/{rid}", {**created, "active": True})  # now version 2
    bundle = _tx(
        {"fullUrl": "urn:uuid:new", "resource": _patient("Phạm", "female"),
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {**created, "active": False}, "request": {"method": "PUT", "url": f"Patient/{rid}",
                                                               "ifMatch": 'W/"1"'}},
    )
    resp = client.post("", bundle)
    assert resp.status_code == 412
    assert resp.json()["issue"][0]["expression"][0].startswith("Bundle.entry[1]")
    assert client.get("Patient?family=Phạm").json()["total"] == 0  # the POST entry was rolled back
    assert client.get(f"Patient/{rid}").json()["meta"]["versionId"] == "2"


def test_transaction_if_none_exist_with_several_matches_is_412(client):
    for _ in range(2):
        client.create({"resourceType": "Patient", "identifier": [{"system": CCCD, "value": "001090000777"}]})
    bundle = _tx(
        {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient",
                                               "identifier": [{"system": CCCD, "value": "001090000777"}]},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={CCCD}|001090000777"}},
        {"fullUrl": "urn:uuid:o", "resource": {"resourceType": "Observation", "status": "final",
                                               "code": {"text": "Mạch"}, "subject": {"reference": "urn:uuid:p"}},
         "request": {"method": "POST", "url": "Observation"}},
    )
    resp = client.post("", bundle)
    assert resp.status_code == 412
    assert resp.json()["issue"][0]["expression"] == ["Bundle.entry[0].request.ifNoneExist"]
    assert client.get("Observation?_summary=count").json()["total"] == 0
    assert client.get(f"Patient?identifier={CCCD}|001090000777&_summary=count").json()["total"] == 2


def test_conditional_update_with_several_matches_writes_nothing(client):
    for _ in range(2):
        client.create(_patient("Hoàng", "male"))
    resp = client.put("Patient?family=Hoàng", _patient("Hoàng", "female"))
    assert resp.status_code == 412
    assert resp.json()["issue"][0]["code"] == "multiple-matches"
    assert client.get("Patient?gender=female&_summary=count").json()["total"] == 0


def test_if_none_match_star_and_lists(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    client.put(f"Patient/{rid}", {**created, "active": True})  # version 2
    assert client.get(f"Patient/{rid}", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(f"Patient/{rid}", headers={"If-None-Match": 'W/"1", W/"2"'}).status_code == 304
    resp = client.get(f"Patient/{rid}", headers={"If-None-Match": 'W/"1", "x"'})
    assert resp.status_code == 200 and resp.json()["meta"]["versionId"] == "2"
    assert client.get("Patient/nobody", headers={"If-None-Match": "*"}).status_code == 404


def test_conditions_made_only_of_result_parameters_are_refused(client):
    only = client.create(_patient("Đinh", "male"))
    for query in ("_count=1", "_sort=family", "_contained=true&family=Dinh", "_summary=count", "family="):
        put = client.put(f"Patient?{query}", _patient("Đinh", "female"))
        assert put.status_code == 400, (query, put.text[:200])
        assert client.delete(f"Patient?{query}").status_code == 400
        created = client.post("Patient", _patient("Mạc", "male"), headers={"If-None-Exist": query})
        assert created.status_code == 400
    assert client.get("Patient?_summary=count").json()["total"] == 1  # nothing written, nothing deleted
    assert client.get(f"Patient/{only['id']}").json()["meta"]["versionId"] == "1"
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:o", "request": {"method": "POST", "url": "Observation"},
         "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                      "subject": {"reference": "Patient?_count=1"}}}]}
    resp = client.post("", tx)
    assert resp.status_code == 400
