"""transaction (all or nothing) and batch (independent entries) Bundles."""

from __future__ import annotations

CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"


def _tx(*entries, kind="transaction"):
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _post(full_url, resource, **request):
    return {"fullUrl": full_url, "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"], **request}}


def test_transaction_rewrites_urn_uuid_references(client):
    patient = {"resourceType": "Patient", "name": [{"family": "Đặng", "given": ["Minh", "Đức"]}],
               "identifier": [{"system": CCCD, "value": "001099000111"}]}
    obs = {"resourceType": "Observation", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "subject": {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
           "valueQuantity": {"value": 78, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}
    # the Observation comes first: order in the bundle must not matter
    resp = client.post("", _tx(_post("urn:uuid:22222222-2222-2222-2222-222222222222", obs),
                               _post("urn:uuid:11111111-1111-1111-1111-111111111111", patient)))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created", "201 Created"]
    obs_loc = body["entry"][0]["response"]["location"]
    pat_loc = body["entry"][1]["response"]["location"]
    assert obs_loc.startswith("Observation/") and pat_loc.startswith("Patient/")
    stored_obs = client.get(obs_loc.split("/_history")[0]).json()
    assert stored_obs["subject"]["reference"] == pat_loc.split("/_history")[0]


def test_transaction_is_all_or_nothing(client):
    good = {"resourceType": "Patient", "name": [{"family": "Hoàng"}]}
    bad = {"resourceType": "Patient", "gender": "nam"}
    resp = client.post("", _tx(_post("urn:uuid:a", good), _post("urn:uuid:b", bad)))
    assert resp.status_code in (400, 422)
    outcome = resp.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[1]" in outcome["issue"][0]["expression"][0]
    assert client.get("Patient?_summary=count").json()["total"] == 0


def test_transaction_unresolved_reference_rolls_back(client):
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": "Patient/not-here"}}
    good = {"resourceType": "Patient", "name": [{"family": "Phạm"}]}
    resp = client.post("", _tx(_post("urn:uuid:p", good), _post("urn:uuid:o", obs)))
    assert resp.status_code == 400
    assert client.get("Patient?_summary=count").json()["total"] == 0


def test_transaction_conditional_create_and_conditional_reference(client):
    existing = client.create({"resourceType": "Patient", "identifier": [{"system": CCCD, "value": "001200000222"}]})
    patient = {"resourceType": "Patient", "identifier": [{"system": CCCD, "value": "001200000222"}]}
    enc = {"resourceType": "Encounter", "status": "finished",
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
           "subject": {"reference": f"Patient?identifier={CCCD}|001200000222"}}
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": "urn:uuid:pp"}}
    resp = client.post("", _tx(_post("urn:uuid:pp", patient, ifNoneExist=f"identifier={CCCD}|001200000222"),
                               _post("urn:uuid:ee", enc), _post("urn:uuid:oo", obs)))
    assert resp.status_code == 200, resp.text
    entries = resp.json()["entry"]
    assert entries[0]["response"]["status"].startswith("200")
    enc_stored = client.get(entries[1]["response"]["location"].split("/_history")[0]).json()
    assert enc_stored["subject"]["reference"] == f"Patient/{existing['id']}"
    obs_stored = client.get(entries[2]["response"]["location"].split("/_history")[0]).json()
    assert obs_stored["subject"]["reference"] == f"Patient/{existing['id']}"


def test_transaction_processing_order_delete_post_put_get(client):
    old = client.create({"resourceType": "Patient", "name": [{"family": "Cũ"}]})
    bundle = _tx(
        {"request": {"method": "GET", "url": "Patient?family=Mới"}},
        {"resource": {"resourceType": "Patient", "id": "fixed-1", "name": [{"family": "Mới"}]},
         "request": {"method": "PUT", "url": "Patient/fixed-1"}},
        _post("urn:uuid:n", {"resourceType": "Patient", "name": [{"family": "Mới"}]}),
        {"request": {"method": "DELETE", "url": f"Patient/{old['id']}"}},
    )
    resp = client.post("", bundle)
    assert resp.status_code == 200, resp.text
    entries = resp.json()["entry"]
    # GET ran last: it sees both new patients; the response keeps the request order
    assert entries[0]["resource"]["type"] == "searchset"
    assert entries[0]["resource"]["total"] == 2
    assert entries[1]["response"]["status"].startswith("201")
    assert entries[3]["response"]["status"].startswith("204")
    assert client.get(f"Patient/{old['id']}").status_code == 410


def test_batch_entries_are_independent(client):
    good = {"resourceType": "Patient", "name": [{"family": "Vũ"}]}
    bad = {"resourceType": "Patient", "birthDate": "không phải ngày"}
    resp = client.post("", _tx({"resource": good, "request": {"method": "POST", "url": "Patient"}},
                               {"resource": bad, "request": {"method": "POST", "url": "Patient"}},
                               {"request": {"method": "GET", "url": "Patient/missing"}}, kind="batch"))
    assert resp.status_code == 200
    entries = resp.json()["entry"]
    assert resp.json()["type"] == "batch-response"
    assert entries[0]["response"]["status"].startswith("201")
    assert entries[1]["response"]["status"].startswith("400")
    assert entries[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert entries[2]["response"]["status"].startswith("404")
    assert client.get("Patient?_summary=count").json()["total"] == 1


def test_bundle_must_be_transaction_or_batch(client):
    assert client.post("", {"resourceType": "Bundle", "type": "collection"}).status_code == 400
    assert client.post("", {"resourceType": "Patient"}).status_code == 400


def test_batch_rollback_does_not_leave_a_phantom_for_later_references(client):
    # entry 0 fails (its savepoint rolls back); entry 1 refers to the id entry 0 would have created
    bad = {"resourceType": "Patient", "id": "ghost", "gender": "nam"}
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": "Patient/ghost"}}
    resp = client.post("", _tx({"resource": bad, "request": {"method": "PUT", "url": "Patient/ghost"}},
                               {"resource": obs, "request": {"method": "POST", "url": "Observation"}}, kind="batch"))
    statuses = [e["response"]["status"][:3] for e in resp.json()["entry"]]
    assert statuses[0] in ("400", "422") and statuses[1] == "400"
    assert client.get("Patient/ghost").status_code == 404


def test_transaction_delete_then_reference_is_refused(client):
    victim = client.create({"resourceType": "Patient", "name": [{"family": "Lý"}]})
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "subject": {"reference": f"Patient/{victim['id']}"}}
    resp = client.post("", _tx({"request": {"method": "DELETE", "url": f"Patient/{victim['id']}"}},
                               _post("urn:uuid:o", obs)))
    assert resp.status_code == 400
    assert client.get(f"Patient/{victim['id']}").status_code == 200  # rolled back
