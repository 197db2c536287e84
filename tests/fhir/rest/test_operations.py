"""CapabilityStatement and the $operations."""

from __future__ import annotations

from .test_crud import VN_PATIENT


def test_capability_statement_is_generated_from_the_registry(client):
    resp = client.get("metadata")
    assert resp.status_code == 200
    cs = resp.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert len(resources) >= 140  # every R4 resource type
    patient_params = {p["name"]: p for p in resources["Patient"]["searchParam"]}
    for name in ("name", "identifier", "birthdate", "family", "given", "gender", "_id", "_lastUpdated"):
        assert name in patient_params
    assert patient_params["birthdate"]["type"] == "date"
    obs_params = {p["name"] for p in resources["Observation"]["searchParam"]}
    assert {"code-value-quantity", "subject", "date", "value-quantity"} <= obs_params
    interactions = {i["code"] for i in resources["Observation"]["interaction"]}
    assert {"read", "vread", "update", "patch", "delete", "create", "search-type", "history-instance"} <= interactions
    assert any(op["name"] == "everything" for op in resources["Patient"]["operation"])
    medication_params = {p["name"]: p for p in resources["Medication"]["searchParam"]}
    assert medication_params["_contained"]["type"] == "token" and "_containedType" in medication_params
    assert resources["Patient"]["conditionalRead"] == "full-support"  # If-None-Match / If-Modified-Since
    assert not any(op["name"] == "everything" for op in resources["Observation"].get("operation", []))


def test_validate_operation(client):
    ok = client.post("Patient/$validate", VN_PATIENT)
    assert ok.status_code == 200
    assert ok.json()["issue"][0]["severity"] == "information"
    bad = client.post("Patient/$validate", {"resourceType": "Patient", "gender": "nam"})
    assert bad.status_code == 200
    assert bad.json()["issue"][0]["severity"] == "error"
    wrapped = client.post("Patient/$validate", {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "birthDate": "1990-02-30x"}}]})
    assert wrapped.json()["issue"][0]["severity"] == "error"
    assert client.get("Patient?_summary=count").json()["total"] == 0  # $validate never stores


def test_meta_operations(client):
    created = client.create(VN_PATIENT)
    rid = created["id"]
    tag = {"system": "http://benhan.vn/tag", "code": "vip"}
    add = client.post(f"Patient/{rid}/$meta-add", {"resourceType": "Parameters", "parameter": [
        {"name": "meta", "valueMeta": {"tag": [tag], "profile": ["http://example.org/p"]}}]})
    assert add.status_code == 200, add.text
    meta = add.json()["parameter"][0]["valueMeta"]
    assert meta["tag"] == [tag] and meta["profile"] == ["http://example.org/p"]
    assert client.get("Patient?_tag=http://benhan.vn/tag|vip").json()["total"] == 1
    instance = client.get(f"Patient/{rid}/$meta").json()["parameter"][0]["valueMeta"]
    assert instance["tag"] == [tag]
    type_level = client.get("Patient/$meta").json()["parameter"][0]["valueMeta"]
    assert tag in type_level["tag"]
    delete = client.post(f"Patient/{rid}/$meta-delete", {"resourceType": "Parameters", "parameter": [
        {"name": "meta", "valueMeta": {"tag": [tag]}}]})
    assert delete.status_code == 200
    assert "tag" not in delete.json()["parameter"][0]["valueMeta"]
    assert client.get("Patient?_tag=http://benhan.vn/tag|vip").json()["total"] == 0


def test_everything(client):
    patient = client.create(VN_PATIENT)
    org = client.create({"resourceType": "Organization", "name": "Bệnh viện Chợ Rẫy"})
    pid = patient["id"]
    enc = client.create({"resourceType": "Encounter", "status": "finished", "subject": {"reference": f"Patient/{pid}"},
                         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                         "serviceProvider": {"reference": f"Organization/{org['id']}"}})
    obs = client.create({"resourceType": "Observation", "status": "final", "code": {"text": "Nhiệt độ"},
                         "subject": {"reference": f"Patient/{pid}"},
                         "encounter": {"reference": f"Encounter/{enc['id']}"}})
    other = client.create({**VN_PATIENT})
    client.create({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                   "subject": {"reference": f"Patient/{other['id']}"}})
    bundle = client.get(f"Patient/{pid}/$everything").json()
    got = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert {("Patient", pid), ("Encounter", enc["id"]), ("Observation", obs["id"]), ("Organization", org["id"])} <= got
    assert ("Patient", other["id"]) not in got
    assert client.get("Patient/nobody/$everything").status_code == 404
    assert client.get("Observation/$everything").status_code in (400, 404)
