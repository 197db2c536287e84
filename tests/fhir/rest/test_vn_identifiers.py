"""Vietnamese identifier rules apply to every door into the store (create, update, transaction)."""

from __future__ import annotations

CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"
BHYT = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"


def _patient(cccd: str, gender: str = "male", birth: str = "1985-04-12") -> dict:
    return {"resourceType": "Patient", "identifier": [{"system": CCCD, "value": cccd}],
            "gender": gender, "birthDate": birth, "name": [{"family": "Nguyễn", "given": ["Văn", "Ánh"]}]}


def test_valid_cccd_is_accepted(client):
    assert client.post("Patient", _patient("001085012345")).status_code == 201


def test_malformed_cccd_is_refused_with_precise_location(client):
    resp = client.post("Patient", _patient("00108501234"))
    assert resp.status_code == 422
    issue = resp.json()["issue"][0]
    assert issue["expression"] == ["Patient.identifier[0].value"]
    assert "CCCD" in issue["details"]["text"]


def test_cccd_inconsistent_with_gender_is_refused(client):
    # digit 4 = 0 means a man born in the 1900s
    resp = client.post("Patient", _patient("001085012345", gender="female"))
    assert resp.status_code == 422


def test_bad_bhyt_card_refused_in_update_and_transaction(client):
    created = client.create(_patient("001085012345"))
    bad = {**created, "identifier": [*created["identifier"], {"system": BHYT, "value": "DN4ZZ1234567890"}]}
    resp = client.put(f"Patient/{created['id']}", bad)
    assert resp.status_code == 422
    assert resp.json()["issue"][0]["expression"] == ["Patient.identifier[1].value"]
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {**_patient("001085012345"), "identifier": [{"system": BHYT,
                                                                                            "value": "XX"}]},
         "request": {"method": "POST", "url": "Patient"}}]}
    assert client.post("", tx).status_code == 422
    assert client.get(f"Patient/{created['id']}").json()["meta"]["versionId"] == "1"


def test_other_identifier_systems_are_not_checked(client):
    patient = {"resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.3", "value": "anything"}]}
    assert client.post("Patient", patient).status_code == 201
