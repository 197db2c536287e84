"""A resource whose current version is tagged signed (record-state|signed) cannot be changed through the API."""

from __future__ import annotations

SIGNED = {"system": "urn:benhan:fhir:record-state", "code": "signed"}


def _observation(patient_id: str, tags: list[dict]) -> dict:
    return {"resourceType": "Observation", "status": "final", "meta": {"tag": tags},
            "code": {"text": "Mạch"}, "subject": {"reference": f"Patient/{patient_id}"},
            "valueQuantity": {"value": 80, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def test_signed_resources_refuse_update_patch_and_delete_with_409(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Trần Thị Bích"}]})
    signed = client.create(_observation(patient["id"], [SIGNED]))
    path = f"Observation/{signed['id']}"
    changed = {**signed, "valueQuantity": {**signed["valueQuantity"], "value": 90}}
    for resp in (client.put(path, changed),
                 client.patch(path, [{"op": "replace", "path": "/valueQuantity/value", "value": 90}]),
                 client.delete(path)):
        assert resp.status_code == 409, resp.text
        issue = resp.json()["issue"][0]
        assert issue["code"] == "conflict"
        assert "đã ký số" in issue["details"]["text"] and "write an addendum" in issue["details"]["text"]
    after = client.get(path).json()
    assert after["meta"]["versionId"] == "1" and after["valueQuantity"]["value"] == 80


def test_removing_the_signed_tag_is_itself_a_change_and_is_refused(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Lê Văn Cường"}]})
    signed = client.create(_observation(patient["id"], [SIGNED]))
    resp = client.put(f"Observation/{signed['id']}", {**signed, "meta": {}})
    assert resp.status_code == 409


def test_unsigned_resources_stay_editable(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Phạm Thu Hà"}]})
    draft = client.create(_observation(patient["id"], [{"system": "urn:benhan:fhir:record-state", "code": "draft"}]))
    resp = client.put(f"Observation/{draft['id']}", {**draft, "status": "amended"})
    assert resp.status_code == 200, resp.text
    assert client.delete(f"Observation/{draft['id']}").status_code == 204
