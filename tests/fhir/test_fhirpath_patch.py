"""FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): each operation type, the spec's rules, and
the PATCH interaction with a ``Parameters`` body (If-Match, validation, signed lock) over HTTP."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from benhan.fhir.errors import FhirError
from benhan.fhir.fhirpath_patch import apply

CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"
BHYT = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"

PATIENT: dict[str, Any] = {
    "resourceType": "Patient", "id": "p1", "active": True, "gender": "female", "birthDate": "1985-12-01",
    "name": [{"family": "Trần", "given": ["Thị", "Đào"]}],
    "identifier": [{"system": CCCD, "value": "079185000002"}, {"system": BHYT, "value": "HC4790000000002"}],
    "contact": [{"name": {"text": "Trần Văn Bình"}, "telecom": [{"system": "phone", "value": "0912345678"}]}],
}


def op(kind: str, path: str, **parts: Any) -> dict[str, Any]:
    out = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    for name, value in parts.items():
        if name == "value":
            out.append({"name": "value", **value})
        else:
            key = "valueString" if name == "name" else "valueInteger"
            out.append({"name": name, key: value})
    return {"name": "operation", "part": out}


def patch(resource: dict[str, Any], *ops: dict[str, Any]) -> dict[str, Any]:
    return apply(resource, {"resourceType": "Parameters", "parameter": list(ops)})


def test_add_to_a_list_and_to_an_absent_single_element():
    out = patch(PATIENT, op("add", "Patient", name="telecom", value={"valueContactPoint":
                                                                     {"system": "phone", "value": "0987"}}),
                op("add", "Patient", name="deceased", value={"valueBoolean": False}),
                op("add", "Patient.name[0]", name="given", value={"valueString": "Bích"}))
    assert out["telecom"] == [{"system": "phone", "value": "0987"}]  # telecom is 0..*: a list
    assert out["deceasedBoolean"] is False  # a choice element takes the value's type
    assert out["name"][0]["given"] == ["Thị", "Đào", "Bích"]
    assert PATIENT["name"][0]["given"] == ["Thị", "Đào"]  # the input is not modified


def test_add_a_backbone_element_given_as_parts():
    value = {"part": [{"name": "relationship", "valueCodeableConcept": {"text": "Chồng"}},
                      {"name": "name", "valueHumanName": {"text": "Lê Văn Cường"}},
                      {"name": "telecom", "valueContactPoint": {"system": "phone", "value": "0901"}}]}
    out = patch(PATIENT, op("add", "Patient", name="contact", value=value))
    assert out["contact"][1] == {"relationship": [{"text": "Chồng"}], "name": {"text": "Lê Văn Cường"},
                                 "telecom": [{"system": "phone", "value": "0901"}]}


def test_add_to_a_present_single_element_is_refused():
    with pytest.raises(FhirError) as err:
        patch(PATIENT, op("add", "Patient", name="birthDate", value={"valueDate": "1990-01-01"}))
    assert err.value.status == 422 and "already has a value" in err.value.issues[0].en


def test_insert_at_an_index_and_into_an_absent_list():
    new = {"valueIdentifier": {"system": "urn:benhan:mrn", "value": "BN001"}}
    out = patch(PATIENT, op("insert", "Patient.identifier", index=1, value=new),
                op("insert", "Patient.name[0].prefix", index=0, value={"valueString": "Bà"}))
    assert [i["value"] for i in out["identifier"]] == ["079185000002", "BN001", "HC4790000000002"]
    assert out["name"][0]["prefix"] == ["Bà"]
    with pytest.raises(FhirError) as err:
        patch(PATIENT, op("insert", "Patient.identifier", index=3, value=new))
    assert err.value.status == 422 and "beyond" in err.value.issues[0].en


def test_delete_one_element_none_is_fine_several_is_an_error():
    out = patch(PATIENT, op("delete", f"Patient.identifier.where(system = '{BHYT}')"),
                op("delete", "Patient.birthDate"), op("delete", "Patient.maritalStatus"))
    assert out["identifier"] == [{"system": CCCD, "value": "079185000002"}] and "birthDate" not in out
    out = patch(PATIENT, op("delete", "Patient.contact[0].telecom[0]"))
    assert "telecom" not in out["contact"][0]  # an emptied list goes away
    out = patch(PATIENT, op("delete", "Patient.contact.name"), op("delete", "Patient.contact.telecom"))
    assert "contact" not in out  # and so does an emptied object (ele-1)
    with pytest.raises(FhirError) as err:
        patch(PATIENT, op("delete", "Patient.identifier"))
    assert err.value.status == 422 and "only one" in err.value.issues[0].en


def test_replace_primitive_complex_list_item_and_choice_type():
    obs = {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "Mạch"},
           "valueQuantity": {"value": 80, "unit": "/min"}}
    out = patch(obs, op("replace", "Observation.value", value={"valueString": "không đo được"}))
    assert out["valueString"] == "không đo được" and "valueQuantity" not in out
    out = patch(obs, op("replace", "Observation.value.ofType(Quantity).value", value={"valueDecimal": 92}))
    assert out["valueQuantity"] == {"value": 92, "unit": "/min"}
    out = patch(PATIENT, op("replace", "Patient.birthDate", value={"valueDate": "1986-01-02"}),
                op("replace", "Patient.name.given[1]", value={"valueString": "Hoa"}),
                op("replace", f"Patient.identifier.where(system = '{CCCD}').first()",
                   value={"valueIdentifier": {"system": CCCD, "value": "079185000009"}}))
    assert out["birthDate"] == "1986-01-02" and out["name"][0]["given"] == ["Thị", "Hoa"]
    assert out["identifier"][0]["value"] == "079185000009"
    with pytest.raises(FhirError) as err:
        patch(PATIENT, op("replace", "Patient.maritalStatus", value={"valueCodeableConcept": {"text": "x"}}))
    assert err.value.status == 422 and "exactly one" in err.value.issues[0].en


def test_move_within_a_list():
    out = patch(PATIENT, op("move", "Patient.identifier", source=0, destination=1))
    assert [i["system"] for i in out["identifier"]] == [BHYT, CCCD]
    with pytest.raises(FhirError):
        patch(PATIENT, op("move", "Patient.identifier", source=0, destination=2))


def test_operations_apply_in_order_on_a_copy():
    original = copy.deepcopy(PATIENT)
    out = patch(PATIENT, op("insert", "Patient.identifier", index=0, value={"valueIdentifier": {"value": "A"}}),
                op("move", "Patient.identifier", source=0, destination=2),
                op("delete", "Patient.identifier[0]"))
    assert [i["value"] for i in out["identifier"]] == ["HC4790000000002", "A"]
    assert original == PATIENT


@pytest.mark.parametrize(("ops", "status", "words"), [
    ([op("add", "Patient.managingOrganization.resolve()", name="name", value={"valueString": "x"})], 422,
     "resolve()"),
    ([op("rename", "Patient")], 400, "Invalid operation type"),
    ([op("add", "Patient", value={"valueString": "x"})], 400, "missing: name"),
    ([op("replace", "Patient.name.(", value={"valueString": "x"})], 400, "Invalid FHIRPath"),
    ([op("replace", "Patient.name.descendants()", value={"valueString": "x"})], 400, "does not support"),
    ([op("add", "Patient", name="colour", value={"valueString": "x"})], 422, "not a property"),
    ([{"name": "op", "part": []}], 400, "named 'operation'"),
])
def test_malformed_or_impossible_patches(ops, status, words):
    with pytest.raises(FhirError) as err:
        patch(PATIENT, *ops)
    assert err.value.status == status and words in err.value.issues[0].en, err.value.issues
    assert err.value.issues[0].expression is not None


# --- over HTTP: the PATCH interaction with a Parameters body -------------------------------------------------


def _params(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(ops)}


def _fhir_patch(client: Any, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.request("PATCH", path, body, headers={"Content-Type": "application/fhir+json", **headers})


def test_patch_interaction_with_a_parameters_body(client):
    rid = client.create({k: v for k, v in PATIENT.items() if k != "id"})["id"]
    resp = _fhir_patch(client, f"Patient/{rid}", _params(
        op("replace", "Patient.birthDate", value={"valueDate": "1985-06-15"}),
        op("add", "Patient", name="telecom", value={"valueContactPoint": {"system": "phone", "value": "0987"}})),
        **{"If-Match": 'W/"1"'})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["birthDate"] == "1985-06-15" and body["telecom"][0]["value"] == "0987"
    assert body["meta"]["versionId"] == "2" and resp.headers["ETag"] == 'W/"2"'
    assert client.get(f"Patient/{rid}").json()["birthDate"] == "1985-06-15"


def test_patch_interaction_checks_if_match_and_validates_the_result(client):
    rid = client.create({k: v for k, v in PATIENT.items() if k != "id"})["id"]
    path = f"Patient/{rid}"
    stale = _fhir_patch(client, path, _params(op("delete", "Patient.birthDate")), **{"If-Match": 'W/"9"'})
    assert stale.status_code == 412
    invalid = _fhir_patch(client, path, _params(op("replace", "Patient.gender", value={"valueCode": "nam"})))
    assert invalid.status_code in (400, 422) and invalid.json()["resourceType"] == "OperationOutcome"
    no_match = _fhir_patch(client, path, _params(op("replace", "Patient.deceased", value={"valueBoolean": True})))
    assert no_match.status_code == 422
    issue = no_match.json()["issue"][0]
    assert "FHIRPath Patch" in issue["details"]["text"] and issue["expression"] == ["Parameters.parameter[0]"]
    renamed = _fhir_patch(client, path, _params(op("replace", "Patient.id", value={"valueId": "other"})))
    assert renamed.status_code == 422
    assert client.get(path).json()["meta"]["versionId"] == "1"


def test_patch_interaction_respects_the_signed_lock(client):
    from tests.fhir.test_signed_lock import _signed_observation

    signed = _signed_observation(client, "Phạm Văn Dũng")
    resp = _fhir_patch(client, f"Observation/{signed['id']}",
                       _params(op("replace", "Observation.value.ofType(Quantity).value", value={"valueDecimal": 90})))
    assert resp.status_code == 409, resp.text


def test_capability_statement_lists_fhirpath_patch(client):
    assert "application/fhir+json" in client.get("metadata").json()["patchFormat"]


def test_fhirpath_patch_as_a_transaction_entry(client):
    rid = client.create({k: v for k, v in PATIENT.items() if k != "id"})["id"]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": _params(op("add", "Patient", name="telecom",
                                value={"valueContactPoint": {"system": "phone", "value": "0987"}})),
         "request": {"method": "PATCH", "url": f"Patient/{rid}", "ifMatch": 'W/"1"'}}]}
    resp = client.post("", bundle)
    assert resp.status_code == 200, resp.text
    assert resp.json()["entry"][0]["response"]["status"].startswith("200")
    assert client.get(f"Patient/{rid}").json()["telecom"] == [{"system": "phone", "value": "0987"}]
