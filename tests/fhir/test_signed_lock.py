"""The signed tag (record-state|signed): only the signing service adds it, and a signed version cannot be changed.

Signed resources are made here the way signing makes them: through a repository inside ``as_signer()``.
Every other door (create, update, conditional update, patch, transaction and batch entries, ``$meta-add``)
that tries to add the tag gets 422 naming ``meta.tag``, and nothing of the request is written.
"""

from __future__ import annotations

from typing import Any

import pytest

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository

SIGNED = {"system": "urn:benhan:fhir:record-state", "code": "signed"}


def _observation(patient_id: str, tags: list[dict]) -> dict:
    return {"resourceType": "Observation", "status": "final", **({"meta": {"tag": tags}} if tags else {}),
            "code": {"text": "Mạch"}, "subject": {"reference": f"Patient/{patient_id}"},
            "valueQuantity": {"value": 80, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def _repository(client: Any, work: Any) -> Any:
    """Run ``work(repo)`` with a trusted repository in one committed write transaction of the client's app."""
    with client.http.app.state.engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            repo = Repository(conn, base_url="http://testserver/fhir")
            result = work(repo)
            repo.flush()
    return result


def _sign(client: Any, rtype: str, rid: str) -> dict:
    """Tag the current version signed the way clinical/signing.py does: inside ``as_signer()``."""
    def work(repo: Repository) -> dict:
        resource = repo.read(rtype, rid).resource()
        resource["meta"] = {"tag": [*resource.get("meta", {}).get("tag", []), SIGNED]}
        with repo.as_signer():
            return repo.update(rtype, rid, resource).stored.resource()
    return _repository(client, work)


def _signed_observation(client: Any, name: str) -> dict:
    patient = client.create({"resourceType": "Patient", "name": [{"text": name}]})
    return _sign(client, "Observation", client.create(_observation(patient["id"], []))["id"])


def _assert_refused_tag(resp: Any, expression: str = "Observation.meta.tag") -> None:
    assert resp.status_code == 422, resp.text
    (issue,) = resp.json()["issue"]
    assert issue["code"] == "business-rule" and issue["expression"] == [expression]
    assert "dịch vụ ký số" in issue["details"]["text"] and "Only the signing service" in issue["details"]["text"]


def test_signed_resources_refuse_update_patch_and_delete_with_409(client):
    signed = _signed_observation(client, "Trần Thị Bích")
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
    assert after["meta"]["versionId"] == "2" and after["valueQuantity"]["value"] == 80


def test_removing_the_signed_tag_is_itself_a_change_and_is_refused(client):
    signed = _signed_observation(client, "Lê Văn Cường")
    resp = client.put(f"Observation/{signed['id']}", {**signed, "meta": {}})
    assert resp.status_code == 409


def test_unsigned_resources_stay_editable(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Phạm Thu Hà"}]})
    draft = client.create(_observation(patient["id"], [{"system": "urn:benhan:fhir:record-state", "code": "draft"}]))
    resp = client.put(f"Observation/{draft['id']}", {**draft, "status": "amended"})
    assert resp.status_code == 200, resp.text
    assert client.delete(f"Observation/{draft['id']}").status_code == 204


def test_no_fhir_interaction_may_add_the_signed_tag(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Đỗ Minh Khoa"}]})
    pid = patient["id"]
    tagged = _observation(pid, [SIGNED])
    _assert_refused_tag(client.post("Observation", tagged))  # create
    _assert_refused_tag(client.put("Observation/obs-1", {**tagged, "id": "obs-1"}))  # update-as-create
    _assert_refused_tag(client.put(f"Observation?subject=Patient/{pid}", tagged))  # conditional create
    draft = client.create(_observation(pid, []))
    path = f"Observation/{draft['id']}"
    _assert_refused_tag(client.put(path, {**draft, "meta": {"tag": [SIGNED]}}))  # update
    _assert_refused_tag(client.put(f"Observation?subject=Patient/{pid}", {**tagged, "id": draft["id"]}))
    _assert_refused_tag(client.patch(path, [{"op": "add", "path": "/meta", "value": {"tag": [SIGNED]}}]))
    meta_add = {"resourceType": "Parameters", "parameter": [{"name": "meta", "valueMeta": {"tag": [SIGNED]}}]}
    _assert_refused_tag(client.post(f"{path}/$meta-add", meta_add))
    _assert_refused_tag(client.put(f"Patient/{pid}", {**patient, "meta": {"tag": [SIGNED]}}), "Patient.meta.tag")
    after = client.get(path).json()
    assert after["meta"]["versionId"] == "1" and "tag" not in after["meta"]
    assert client.get("Observation/obs-1").status_code == 404
    assert len(client.get(f"Observation?subject=Patient/{pid}").json().get("entry", [])) == 1


def test_a_transaction_adding_the_tag_writes_nothing_and_a_batch_refuses_that_entry(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Vũ Thị Lan"}]})
    pid = patient["id"]
    entries = [{"request": {"method": "POST", "url": "Observation"}, "resource": _observation(pid, [])},
               {"request": {"method": "POST", "url": "Observation"}, "resource": _observation(pid, [SIGNED])}]
    resp = client.post("", {"resourceType": "Bundle", "type": "transaction", "entry": entries})
    _assert_refused_tag(resp, "Bundle.entry[1].resource.meta.tag")
    assert client.get(f"Observation?subject=Patient/{pid}").json().get("entry") is None  # all or nothing
    resp = client.post("", {"resourceType": "Bundle", "type": "batch", "entry": entries})
    assert resp.status_code == 200, resp.text
    first, second = (e["response"] for e in resp.json()["entry"])
    assert first["status"].startswith("201") and second["status"].startswith("422")
    assert second["outcome"]["issue"][0]["expression"] == ["Observation.meta.tag"]
    assert len(client.get(f"Observation?subject=Patient/{pid}").json()["entry"]) == 1


def test_the_repository_refuses_the_tag_outside_as_signer_and_restores_after_it(client):
    patient = client.create({"resourceType": "Patient", "name": [{"text": "Hồ Văn Nam"}]})

    def work(repo: Repository) -> None:
        with pytest.raises(FhirError) as err:
            repo.create(_observation(patient["id"], [SIGNED]))
        assert err.value.status == 422 and err.value.issues[0].expression == "Observation.meta.tag"
        with repo.as_signer():
            repo.create(_observation(patient["id"], [SIGNED]))
        with pytest.raises(FhirError):  # the permission ends with the block
            repo.create(_observation(patient["id"], [SIGNED]))

    _repository(client, work)
    (entry,) = client.get(f"Observation?subject=Patient/{patient['id']}").json()["entry"]
    assert entry["resource"]["meta"]["tag"] == [SIGNED]
