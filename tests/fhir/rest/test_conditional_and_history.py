"""Conditional create/update/delete and the history interaction."""

from __future__ import annotations

from .test_crud import VN_PATIENT

CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"


def _patient(cccd: str, family: str = "Trần") -> dict:
    return {"resourceType": "Patient", "identifier": [{"system": CCCD, "value": cccd}],
            "name": [{"family": family, "given": ["Thị", "Đào"]}]}


def test_conditional_create(client):
    cond = {"If-None-Exist": f"identifier={CCCD}|001190000001"}
    first = client.post("Patient", _patient("001190000001"), headers=cond)
    assert first.status_code == 201
    again = client.post("Patient", _patient("001190000001"), headers=cond)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    client.create(_patient("001190000002"))
    client.create(_patient("001190000002"))
    cond = {"If-None-Exist": f"identifier={CCCD}|001190000002"}
    multi = client.post("Patient", _patient("001190000002"), headers=cond)
    assert multi.status_code == 412


def test_conditional_update(client):
    created = client.put(f"Patient?identifier={CCCD}|079200000003", _patient("079200000003"))
    assert created.status_code == 201
    rid = created.json()["id"]
    updated = client.put(f"Patient?identifier={CCCD}|079200000003", _patient("079200000003", "Lê"))
    assert updated.status_code == 200
    assert updated.json()["id"] == rid and updated.json()["meta"]["versionId"] == "2"
    client.create(_patient("079200000004"))
    client.create(_patient("079200000004"))
    assert client.put(f"Patient?identifier={CCCD}|079200000004", _patient("079200000004")).status_code == 412


def test_conditional_delete(client):
    created = client.create(_patient("001300000005"))
    assert client.delete(f"Patient?identifier={CCCD}|001300000005").status_code == 204
    assert client.get(f"Patient/{created['id']}").status_code == 410
    assert client.delete(f"Patient?identifier={CCCD}|nothing").status_code == 204
    client.create(_patient("001300000006"))
    client.create(_patient("001300000006"))
    assert client.delete(f"Patient?identifier={CCCD}|001300000006").status_code == 412


def test_conditional_without_criteria_is_400(client):
    assert client.put("Patient", VN_PATIENT).status_code in (400, 405)
    assert client.delete("Patient").status_code in (400, 405)


def test_history_levels_and_since(client):
    a = client.create(_patient("001000000010"))
    client.put(f"Patient/{a['id']}", {**a, "active": False})
    b = client.create({"resourceType": "Organization", "name": "Bệnh viện Bạch Mai"})
    instance = client.get(f"Patient/{a['id']}/_history").json()
    assert instance["type"] == "history" and instance["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in instance["entry"]] == ["2", "1"]
    type_level = client.get("Patient/_history").json()
    assert type_level["total"] == 2
    system = client.get("_history").json()
    assert system["total"] == 3
    assert {e["resource"]["resourceType"] for e in system["entry"]} == {"Patient", "Organization"}
    since = b["meta"]["lastUpdated"]
    newer = client.get(f"_history?_since={since}").json()
    assert [e["resource"]["id"] for e in newer["entry"]] == [b["id"]]


def test_history_paging(client):
    a = client.create(_patient("001000000011"))
    for flag in (True, False, True, False):
        a = client.put(f"Patient/{a['id']}", {**a, "active": flag}).json()
    page = client.get(f"Patient/{a['id']}/_history?_count=2").json()
    assert page["total"] == 5 and len(page["entry"]) == 2
    versions = [e["resource"]["meta"]["versionId"] for e in page["entry"]]
    while any(link["relation"] == "next" for link in page["link"]):
        url = next(link["url"] for link in page["link"] if link["relation"] == "next")
        page = client.http.get(url.replace("http://testserver", "")).json()
        versions += [e["resource"]["meta"]["versionId"] for e in page["entry"]]
    assert versions == ["5", "4", "3", "2", "1"]


def test_history_of_unknown_resource_is_404(client):
    assert client.get("Patient/nobody/_history").status_code == 404
