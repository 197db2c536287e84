"""Malformed or extreme input is a 4xx OperationOutcome with a location, never a 500 (issue 2 audit)."""

from __future__ import annotations

import pytest

BIG = "9" * 30

QUERIES = [
    "Patient?_sort=", "Patient?_sort=-", "Patient?_count=", f"Patient?_count={BIG}", f"Patient?_offset={BIG}",
    f"Patient?_snapshot={BIG}", f"Patient?_snapshot=-{BIG}", "Patient?_offset=1e3",
    "Patient?birthdate=ge", "Patient?birthdate=9999-12-31", "Patient?birthdate=0001-01-01", "Patient?birthdate=ge10000",
    "Patient?birthdate=2024-02-30", "Patient?_lastUpdated=gt", "Patient?birthdate=ap0001",
    "Patient?_include=", "Patient?_include=Patient", "Patient?_include=Patient:", "Patient?_revinclude=:x",
    "Patient?name:=x", "Patient?.=x", "Patient?_has=x", "Patient?_has:Observation", "Patient?_has:Observation:patient",
    "Patient?identifier=|||", "Patient?identifier=" + "|" * 50, "Patient?name=%00", "Patient?name=" + "ạ" * 2000,
    "Observation?value-quantity=abc", "Observation?value-quantity=1e400", "Observation?value-quantity=-1e400",
    "Observation?value-quantity=1e-400", f"Observation?value-quantity={BIG}{BIG}", "Observation?value-quantity=NaN",
    "Observation?value-quantity=inf", "Observation?code-value-quantity=$", "Observation?code-value-quantity=a$b$c",
    "Observation?subject" + ".subject" * 10 + "=x", "Observation?subject:Patient.name:Patient=x",
    "Patient?_elements=", "Patient?_summary=x", "Patient?_total=x", "Patient?_contained=x", "Patient?_type=x",
    "?_type=Patient&_contained=true", "Patient?_id:missing=maybe", "Patient?gender:below=male",
    "Patient?_lastUpdated=ap" + "9" * 8, "Patient?birthdate=2024-05-17T25:00:00Z", "Patient?_tag=" + "x" * 5000,
    "Patient/" + "a" * 200, "Patient/%00", "Patient/%00/_history", "Patient/a%01b",
    "Patient/x/_history/abc", f"Patient/x/_history/{BIG}",
    f"Patient/_history?_count={BIG}", "Patient/_history?_since=x", f"_history?_offset={BIG}",
]


@pytest.mark.parametrize("query", QUERIES)
def test_bad_queries_never_give_500(client, query):
    resp = client.get(query)
    assert resp.status_code < 500, (query, resp.text[:300])
    if resp.status_code >= 400:
        body = resp.json()
        assert body["resourceType"] == "OperationOutcome"
        assert " / " in body["issue"][0]["details"]["text"]  # Vietnamese / English


@pytest.mark.parametrize("family", ["A\u0000B", "A\u0001B", "A\u001fB"])
def test_control_characters_in_strings_are_400_not_500(client, family):
    """R4 datatypes: strings SHALL NOT contain code points below 32 except tab, CR and LF."""
    resp = client.post("Patient", {"resourceType": "Patient", "name": [{"family": family}]})
    assert resp.status_code == 400, resp.text[:300]
    assert resp.json()["issue"][0]["expression"] == ["Patient.name[0].family"]
    assert client.get("Patient?_summary=count").json()["total"] == 0
    ok = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Lê\tVăn\r\nAn"}]})
    assert ok.status_code == 201


BIG = 10**30
BODIES = [
    ("", {"resourceType": "Bundle", "type": "transaction", "entry": [{}]}, 400),
    ("", {"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {"method": "FOO", "url": "Patient"}}]},
     400),
    ("", {"resourceType": "Bundle", "type": "transaction",
          "entry": [{"request": {"method": "GET", "url": f"Patient?_offset={BIG}"}}]}, 400),
    ("", {"resourceType": "Bundle", "type": "transaction",
          "entry": [{"request": {"method": "GET", "url": "Patient?name=%00"}}]}, 400),
    ("", {"resourceType": "Bundle", "type": "transaction",
          "entry": [{"request": {"method": "POST", "url": "Patient"}, "resource": "x"}]}, 400),
    ("", {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": 5, "request": {"method": "POST", "url": "Patient"},
         "resource": {"resourceType": "Patient"}}]}, 400),
    ("", {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": 7}, "resource": {"resourceType": "Patient"}}]}, 400),
    ("", {"resourceType": "Bundle", "type": "batch",
          "entry": [{"request": {"method": "GET", "url": f"Patient/a/_history/{BIG}"}}]}, 200),
    ("Patient", {"resourceType": "Patient", "multipleBirthInteger": BIG}, 400),
    ("Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                     "valueQuantity": {"value": BIG}}, 201),
    ("Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                     "effectiveDateTime": "9999-12-31T23:59:59.999+14:00"}, 201),
    ("Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                     "effectiveDateTime": "0001-01-01T00:00:00-12:00"}, 201),
    ("Patient", {"resourceType": "Patient", "name": [{"family": "Nguyễn" * 100}],
                 "identifier": [{"system": "urn:x:" + "s" * 600, "value": "v" * 600}]}, 201),
    ("Patient/$validate", {"resourceType": "Parameters", "parameter": [{"name": "resource"}]}, 400),
]


@pytest.mark.parametrize(("path", "body", "status"), BODIES)
def test_bad_or_extreme_bodies_never_give_500(client, path, body, status):
    import json

    resp = client.post(path, json.dumps(body).encode())  # json: orjson refuses integers beyond 64 bits
    assert resp.status_code == status, resp.text[:300]
    if status >= 400:
        assert resp.json()["resourceType"] == "OperationOutcome"
    if status == 201:  # stored and findable: the extreme values made it into the index too
        rid = resp.json()["id"]
        assert client.get(f"{path}?_id={rid}").json()["total"] == 1
