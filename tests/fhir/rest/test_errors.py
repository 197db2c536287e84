"""Bad input gets a clear OperationOutcome and writes nothing."""

from __future__ import annotations

import pytest

from .test_crud import VN_PATIENT


def _count(client, rtype: str) -> int:
    return client.get(f"{rtype}?_summary=count").json()["total"]


def test_invalid_json_is_400(client):
    resp = client.post("Patient", b"{not json")
    assert resp.status_code == 400
    assert resp.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("bad", [
    {"resourceType": "Patient", "foo": 1},
    {"resourceType": "Patient", "birthDate": "2024-13-45"},
    {"resourceType": "Patient", "gender": "nam"},
    {"resourceType": "Patient", "name": {"family": "Lê"}},
    {"resourceType": "Observation", "code": {"text": "x"}},
])
def test_invalid_resources_are_rejected_with_location(client, bad):
    resp = client.post(bad["resourceType"], bad)
    assert resp.status_code in (400, 422), resp.text
    issues = resp.json()["issue"]
    assert issues and all(i["severity"] in ("error", "fatal") for i in issues)
    assert any(i.get("expression") for i in issues)
    assert all(" / " in i["details"]["text"] for i in issues)  # Vietnamese / English
    assert _count(client, bad["resourceType"]) == 0


def test_wrong_resource_type_for_endpoint(client):
    resp = client.post("Observation", VN_PATIENT)
    assert resp.status_code == 400


def test_reference_to_missing_resource_is_400_and_nothing_written(client):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "Mạch"},
           "subject": {"reference": "Patient/khong-co"}}
    resp = client.post("Observation", obs)
    assert resp.status_code == 400
    issue = resp.json()["issue"][0]
    assert issue["expression"] == ["Observation.subject.reference"]
    assert _count(client, "Observation") == 0


def test_external_and_contained_references_are_allowed(client):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "Mạch"},
           "contained": [{"resourceType": "Patient", "id": "p1", "name": [{"family": "Lê"}]}],
           "subject": {"reference": "#p1"},
           "performer": [{"reference": "https://other-hospital.example.vn/fhir/Practitioner/7"}]}
    assert client.post("Observation", obs).status_code == 201


def test_reference_to_existing_resource_is_accepted(client):
    patient = client.create(VN_PATIENT)
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "Mạch"},
           "subject": {"reference": f"Patient/{patient['id']}"}}
    assert client.post("Observation", obs).status_code == 201


def test_payload_too_large_is_413(database_url):
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings

    app = create_app(Settings(database_url=database_url, max_bundle_bytes=2000, max_resource_bytes=1000))
    with TestClient(app) as http:
        big = {"resourceType": "Patient", "name": [{"text": "x" * 5000}]}
        import orjson

        resp = http.post("/fhir/Patient", content=orjson.dumps(big),
                         headers={"Content-Type": "application/fhir+json"})
        assert resp.status_code == 413
        bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"text": "y" * 900}]},
             "request": {"method": "POST", "url": "Patient"}} for _ in range(3)]}
        resp = http.post("/fhir", content=orjson.dumps(bundle), headers={"Content-Type": "application/fhir+json"})
        assert resp.status_code == 413
        assert resp.json()["resourceType"] == "OperationOutcome"


def test_xml_is_not_acceptable(client):
    assert client.get("metadata?_format=xml").status_code == 406
    assert client.get("metadata", headers={"Accept": "application/fhir+xml"}).status_code == 406


def test_unsupported_content_type_is_415(client):
    resp = client.post("Patient", b"<Patient/>", headers={"Content-Type": "application/xml"})
    assert resp.status_code == 415


def test_method_not_allowed(client):
    created = client.create(VN_PATIENT)
    assert client.post(f"Patient/{created['id']}", VN_PATIENT).status_code == 405
