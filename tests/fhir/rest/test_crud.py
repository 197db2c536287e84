"""Create, read, vread, update (incl. update-as-create), delete and patch over HTTP."""

from __future__ import annotations

VN_PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "http://fhir.ehealth.gov.vn/core/sid/national_id", "value": "001085012345"}],
    "name": [{"text": "Nguyễn Văn Ánh", "family": "Nguyễn", "given": ["Văn", "Ánh"]}],
    "gender": "male",
    "birthDate": "1985-04-12",
}


def test_create_assigns_id_version_and_headers(client):
    resp = client.post("Patient", {**VN_PATIENT, "id": "client-chosen", "meta": {"versionId": "99"}})
    assert resp.status_code == 201
    body = resp.json()
    assert body["id"] != "client-chosen"  # POST ignores the client's id
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")
    assert body["name"][0]["family"] == "Nguyễn"
    assert resp.headers["etag"] == 'W/"1"'
    assert resp.headers["location"] == f"http://testserver/fhir/Patient/{body['id']}/_history/1"
    assert resp.headers["content-type"].startswith("application/fhir+json")
    assert "last-modified" in resp.headers


def test_read_returns_what_was_stored(client):
    created = client.create(VN_PATIENT)
    resp = client.get(f"Patient/{created['id']}")
    assert resp.status_code == 200
    assert resp.json() == created
    assert resp.headers["etag"] == 'W/"1"'


def test_read_unknown_is_404_with_bilingual_outcome(client):
    resp = client.get("Patient/does-not-exist")
    assert resp.status_code == 404
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"
    assert "Không tìm thấy" in outcome["issue"][0]["details"]["text"]
    assert "not found" in outcome["issue"][0]["details"]["text"]


def test_unknown_resource_type_is_404(client):
    assert client.get("Patientt/1").status_code == 404
    assert client.post("Patientt", {"resourceType": "Patientt"}).status_code == 404


def test_update_creates_new_version_and_keeps_history(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    changed = {**created, "active": False}
    resp = client.put(f"Patient/{rid}", changed)
    assert resp.status_code == 200
    assert resp.json()["meta"]["versionId"] == "2"
    assert "active" not in client.get(f"Patient/{rid}/_history/1").json()
    assert client.get(f"Patient/{rid}/_history/2").json()["active"] is False
    assert client.get(f"Patient/{rid}").json()["active"] is False
    assert client.get(f"Patient/{rid}/_history/3").status_code == 404


def test_update_as_create_with_client_id(client):
    resp = client.put("Patient/bn-0001", {**VN_PATIENT, "id": "bn-0001"})
    assert resp.status_code == 201
    assert resp.json()["id"] == "bn-0001"
    assert resp.json()["meta"]["versionId"] == "1"
    assert client.get("Patient/bn-0001").status_code == 200


def test_update_id_mismatch_or_missing_is_400(client):
    assert client.put("Patient/a1", {**VN_PATIENT, "id": "b2"}).status_code == 400
    assert client.put("Patient/a1", VN_PATIENT).status_code == 400
    assert client.get("Patient/a1").status_code == 404  # nothing written


def test_if_match_optimistic_locking(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    ok = client.put(f"Patient/{rid}", {**created, "active": True}, headers={"If-Match": 'W/"1"'})
    assert ok.status_code == 200
    stale = client.put(f"Patient/{rid}", {**created, "active": False}, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    current = client.get(f"Patient/{rid}").json()
    assert current["active"] is True and current["meta"]["versionId"] == "2"


def test_delete_writes_tombstone_then_410_and_history_kept(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    resp = client.delete(f"Patient/{rid}")
    assert resp.status_code == 204
    gone = client.get(f"Patient/{rid}")
    assert gone.status_code == 410
    assert gone.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"Patient/{rid}/_history/1").status_code == 200
    assert client.get(f"Patient/{rid}/_history/2").status_code == 410
    history = client.get(f"Patient/{rid}/_history").json()
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    # deleting again is a no-op, and re-creating after delete gives a new version
    assert client.delete(f"Patient/{rid}").status_code == 204
    again = client.put(f"Patient/{rid}", {**VN_PATIENT, "id": rid})
    assert again.status_code == 201
    assert again.json()["meta"]["versionId"] == "3"


def test_delete_unknown_is_204(client):
    assert client.delete("Patient/never-was").status_code == 204


def test_json_patch(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    ops = [{"op": "replace", "path": "/birthDate", "value": "1985-05-20"},
           {"op": "add", "path": "/telecom", "value": [{"system": "phone", "value": "0912345678"}]}]
    resp = client.patch(f"Patient/{rid}", ops)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["birthDate"] == "1985-05-20" and body["telecom"][0]["value"] == "0912345678"
    assert body["meta"]["versionId"] == "2"


def test_json_patch_that_breaks_the_resource_is_rejected(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    bad = client.patch(f"Patient/{rid}", [{"op": "replace", "path": "/gender", "value": "nam"}])
    assert bad.status_code in (400, 422)
    bad_path = client.patch(f"Patient/{rid}", [{"op": "remove", "path": "/nonexistent"}])
    assert bad_path.status_code == 422
    change_id = client.patch(f"Patient/{rid}", [{"op": "replace", "path": "/id", "value": "x"}])
    assert change_id.status_code == 422
    stale = client.patch(f"Patient/{rid}", [{"op": "replace", "path": "/gender", "value": "other"}],
                         headers={"If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert client.get(f"Patient/{rid}").json()["meta"]["versionId"] == "1"


def test_prefer_return_minimal_and_operation_outcome(client):
    minimal = client.post("Patient", VN_PATIENT, headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b""
    assert minimal.headers["location"]
    oo = client.post("Patient", VN_PATIENT, headers={"Prefer": "return=OperationOutcome"})
    assert oo.status_code == 201 and oo.json()["resourceType"] == "OperationOutcome"


def test_conditional_read_304(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    assert client.get(f"Patient/{rid}", headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert client.get(f"Patient/{rid}", headers={"If-None-Match": 'W/"2"'}).status_code == 200
    last_modified = client.get(f"Patient/{rid}").headers["last-modified"]
    assert client.get(f"Patient/{rid}", headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(f"Patient/{rid}",
                      headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200


def test_gzip_when_asked(client):
    for _ in range(3):
        client.create(VN_PATIENT)
    resp = client.get("Patient", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers.get("content-encoding") == "gzip"
