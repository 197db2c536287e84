"""$lookup, $validate-code and $expand over REST: R4 Parameters / ValueSet shapes, bilingual messages."""

from __future__ import annotations

ICD10 = "http://hl7.org/fhir/sid/icd-10"
VS_ICD10 = "urn:benhan:fhir:ValueSet:icd-10-vn"


def _params(body: dict) -> dict:  # type: ignore[type-arg]
    assert body["resourceType"] == "Parameters"
    out: dict = {}  # type: ignore[type-arg]
    for p in body["parameter"]:
        out.setdefault(p["name"], []).append(p)
    return out


def test_lookup_returns_names_designations_and_flags(term_client):  # type: ignore[no-untyped-def]
    resp = term_client.get(f"CodeSystem/$lookup?system={ICD10}&code=N40&date=2025-05-01")
    assert resp.status_code == 200, resp.text
    p = _params(resp.json())
    assert p["version"][0]["valueString"] == "4469-2020"
    assert p["display"][0]["valueString"].startswith("Tăng sản")
    langs = {next(x["valueCode"] for x in d["part"] if x["name"] == "language") for d in p["designation"]}
    assert langs == {"vi", "en"}
    props = {d["part"][0]["valueCode"]: d["part"][1] for d in p["property"]}
    assert props["male-only"] == {"name": "value", "valueBoolean": True}
    assert props["female-only"]["valueBoolean"] is False


def test_lookup_in_english_and_unknown_code(term_client):  # type: ignore[no-untyped-def]
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": ICD10, "code": "A00"}},
        {"name": "displayLanguage", "valueCode": "en"}, {"name": "date", "valueDate": "2024-01-01"}]}
    resp = term_client.post("CodeSystem/$lookup", body)
    assert resp.status_code == 200, resp.text
    assert _params(resp.json())["display"][0]["valueString"] == "Cholera"
    assert term_client.get(f"CodeSystem/$lookup?system={ICD10}&code=XX9").status_code == 404


def test_validate_code_on_codesystem_and_valueset(term_client):  # type: ignore[no-untyped-def]
    ok = _params(term_client.get(f"CodeSystem/$validate-code?url={ICD10}&code=E11.9&date=2025-01-01").json())
    assert ok["result"][0]["valueBoolean"] is True
    bad = _params(term_client.get(f"ValueSet/$validate-code?url={VS_ICD10}&code=E11.99&date=2025-01-01").json())
    assert bad["result"][0]["valueBoolean"] is False
    assert "không có" in bad["message"][0]["valueString"] and "is not in" in bad["message"][0]["valueString"]
    wrong = _params(term_client.get(f"CodeSystem/$validate-code?url={ICD10}&code=A00&display=Benh ta"
                                    "&date=2025-01-01").json())
    assert wrong["result"][0]["valueBoolean"] is True  # display compared without diacritics


def test_expand_type_ahead(term_client):  # type: ignore[no-untyped-def]
    resp = term_client.get(f"ValueSet/$expand?url={VS_ICD10}&filter=dai thao duong&count=5&date=2025-01-01")
    assert resp.status_code == 200, resp.text
    vs = resp.json()
    assert vs["resourceType"] == "ValueSet" and vs["expansion"]["total"] > 5
    assert len(vs["expansion"]["contains"]) == 5 and "timestamp" in vs["expansion"]
    assert all(c["system"] == ICD10 and c["version"] == "4469-2020" for c in vs["expansion"]["contains"])
    e11 = term_client.get(f"ValueSet/$expand?url={VS_ICD10}&filter=e11&count=20&date=2025-01-01").json()
    assert e11["expansion"]["contains"][0]["code"] == "E11"


def test_other_catalogs_and_stored_resources(term_client):  # type: ignore[no-untyped-def]
    eth = term_client.get("ValueSet/$expand?url=http://fhir.ehealth.gov.vn/core/ValueSet/vn-core-race&filter=kinh")
    assert [c["code"] for c in eth.json()["expansion"]["contains"]] == ["01"]
    prov = term_client.get("ValueSet/$expand?url=http://fhir.ehealth.gov.vn/core/ValueSet/"
                           "vn-core-administrative-address&filter=ho chi minh&date=2026-01-01").json()
    assert prov["expansion"]["contains"][0]["code"] == "79"
    assert prov["expansion"]["contains"][0]["version"] == "NQ202-2025"
    found = term_client.get(f"CodeSystem?url={ICD10}&_elements=url,version").json()
    assert [e["resource"]["version"] for e in found["entry"]] == ["4469-2020"]
