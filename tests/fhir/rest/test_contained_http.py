"""``_contained`` over HTTP: the container decides who may see a contained resource; the audit names it."""

from __future__ import annotations

from starlette.testclient import TestClient

from benhan.app import create_app
from benhan.settings import Settings
from tests.conftest import FhirClient, system_token

ORDER = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
         "contained": [{"resourceType": "Medication", "id": "m1",
                        "code": {"coding": [{"system": "http://benhan.test/thuoc", "code": "PARA500"}]}}],
         "medicationReference": {"reference": "#m1"}, "subject": {"reference": "Patient/p1"}}


def _client(database_url: str, scope: str) -> tuple[TestClient, FhirClient]:
    app = create_app(Settings(database_url=database_url, base_url="http://testserver/fhir"))
    http = TestClient(app, headers={"Authorization": f"Bearer {system_token(app.state.engine, scope)}"})
    return http, FhirClient(http)


def test_contained_resources_are_seen_only_with_their_container(client, database_url):
    client.put("Patient/p1", {"resourceType": "Patient", "id": "p1", "name": [{"family": "Võ"}]})
    order = client.create(ORDER)
    query = "Medication?code=PARA500&_contained=true&_containedType=contained"
    found = client.get(query).json()
    assert [e["fullUrl"] for e in found["entry"]] == [f"http://testserver/fhir/MedicationRequest/{order['id']}#m1"]
    http, medication_only = _client(database_url, "system/Medication.rs")
    with http:
        assert medication_only.get(query).json()["total"] == 0  # may not see MedicationRequests
        assert medication_only.get("Medication?code=PARA500&_contained=true").json()["total"] == 0
    http, both = _client(database_url, "system/Medication.rs system/MedicationRequest.rs")
    with http:
        assert both.get(query).json()["total"] == 1
    audit = client.get("AuditEvent?_count=200").json()
    searches = [e["resource"] for e in audit.get("entry", [])
                if "_contained" in str(e["resource"].get("entity", ""))]
    assert searches, "the _contained search is audited"
    assert any("Patient/p1" in str(ev) for ev in searches)  # the container's patient is recorded
