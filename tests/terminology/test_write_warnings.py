"""Non-blocking issues on write: the ICD-10 annex A1 warning is stored and returned, never refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from benhan.fhir.repository import Repository

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                         "code": "encounter-diagnosis"}]}]
OO = {"Prefer": "return=OperationOutcome"}


def _condition(cid: str, code: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"}, "category": CATEGORY,
            "code": {"coding": [{"system": ICD10, "code": code}]}}


def _encounter(*cids: str) -> dict[str, Any]:
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                 "subject": {"reference": "Patient/p1"}, "period": {"start": "2025-02-01", "end": "2025-02-03"}}
    if cids:
        encounter["diagnosis"] = [{"condition": {"reference": f"Condition/{c}"}, "rank": n + 1}
                                  for n, c in enumerate(cids)]
    return encounter


def _setup(client: Any) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}
    assert client.put("Patient/p1", patient).status_code in (200, 201)
    for cid, code in (("c1", "E11.9"), ("c2", "F02.8"), ("c3", "E03.0")):
        resp = client.put(f"Condition/{cid}", _condition(cid, code))
        assert resp.status_code in (200, 201), resp.text


def _warnings(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    assert outcome["resourceType"] == "OperationOutcome"
    return [i for i in outcome["issue"] if i["severity"] == "warning"]


def test_warning_returned_with_prefer_operation_outcome_and_write_kept(term_client):  # type: ignore[no-untyped-def]
    _setup(term_client)
    resp = term_client.put("Encounter/e1", _encounter("c1", "c2"), headers=OO)
    assert resp.status_code == 201, resp.text
    issues = _warnings(resp.json())
    assert len(issues) == 1
    assert issues[0]["code"] == "business-rule"
    assert issues[0]["expression"] == ["Encounter.diagnosis[1]"]
    vi, en = issues[0]["details"]["text"].split(" / ", 1)
    assert "F02.8" in vi and "A1" in vi and "dagger" in en
    assert resp.json()["issue"][0]["severity"] == "information"  # the write itself succeeded
    stored = term_client.get("Encounter/e1").json()
    assert [d["condition"]["reference"] for d in stored["diagnosis"]] == ["Condition/c1", "Condition/c2"]
    # Without the asterisk code (or with a dagger code) there is nothing to warn about.
    clean = term_client.put("Encounter/e1", _encounter("c3"), headers=OO)
    assert clean.status_code == 200 and _warnings(clean.json()) == []
    # The default answer is the resource, as before.
    plain = term_client.put("Encounter/e1", _encounter("c1", "c2"))
    assert plain.status_code == 200 and plain.json()["resourceType"] == "Encounter"


def test_warning_in_transaction_and_batch_entry_response_outcome(term_client):  # type: ignore[no-untyped-def]
    _setup(term_client)
    assert term_client.put("Encounter/e1", _encounter()).status_code == 201
    # A Condition of that visit is checked against the list valid when it ended (no outdated-list warning).
    new = _condition("x", "E03.0") | {"encounter": {"reference": "Encounter/e1"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:5c2b6b8e-1f7e-4a6f-9d0e-1a2b3c4d5e6f", "resource": new,
         "request": {"method": "POST", "url": "Condition"}},
        {"resource": _encounter("c1", "c2"), "request": {"method": "PUT", "url": "Encounter/e1"}},
    ]}
    del bundle["entry"][0]["resource"]["id"]
    resp = term_client.post("", bundle)
    assert resp.status_code == 200, resp.text
    entries = resp.json()["entry"]
    assert "outcome" not in entries[0]["response"]
    issues = _warnings(entries[1]["response"]["outcome"])
    assert [i["expression"] for i in issues] == [["Encounter.diagnosis[1]"]]
    assert entries[1]["resource"]["resourceType"] == "Encounter"

    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": _encounter("c1", "c2"), "request": {"method": "PUT", "url": "Encounter/e1"}},
        {"resource": _condition("bad", "E11.9") | {"code": {"coding": [{"system": ICD10, "code": "NOPE9"}]}},
         "request": {"method": "PUT", "url": "Condition/bad"}},
    ]}
    resp = term_client.post("", batch, headers=OO)
    assert resp.status_code == 200, resp.text
    ok, bad = resp.json()["entry"]
    assert ok["response"]["status"].startswith("200")
    assert "resource" not in ok  # return=OperationOutcome: the outcome replaces the resource
    assert [i["expression"] for i in _warnings(ok["response"]["outcome"])] == [["Encounter.diagnosis[1]"]]
    assert bad["response"]["status"].startswith("422")
    assert [i["severity"] for i in bad["response"]["outcome"]["issue"]] == ["error"]
    assert term_client.get("Condition/bad").status_code == 404

    # A transaction create with return=OperationOutcome answers the outcome in the entry, not the resource.
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b6f7a7e-3c1d-4e55-8f7a-2d9c4b1e6a10", "resource": new,
         "request": {"method": "POST", "url": "Condition"}}]}
    [entry] = term_client.post("", bundle, headers=OO).json()["entry"]
    assert entry["response"]["status"].startswith("201") and "resource" not in entry
    assert [i["severity"] for i in entry["response"]["outcome"]["issue"]] == ["information"]


def _at(day: str) -> Any:
    micros = int(datetime.fromisoformat(f"{day}T03:00:00+00:00").timestamp() * 1_000_000)
    return lambda: micros


def test_repository_reports_warnings_per_write(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            repo = Repository(conn, clock=_at("2025-03-01"))  # QĐ 4469 is the list valid that day
            repo.update("Patient", "p1", {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01"})
            for cid, code in (("c1", "E11.9"), ("c2", "F02.8")):
                assert repo.update("Condition", cid, _condition(cid, code)).warnings == []
            result = repo.update("Encounter", "e1", _encounter("c1", "c2"))
            assert [(i.severity, i.expression) for i in result.warnings] == [("warning", "Encounter.diagnosis[1]")]
            assert repo.warnings == {("Encounter", "e1"): result.warnings}
            # A later write of the same resource without the problem clears what the repository remembers.
            assert repo.update("Encounter", "e1", _encounter("c1")).warnings == []
            assert repo.warnings == {}
            # After 01/07/2026 no loaded list is valid: the write succeeds with the outdated-list warning.
            late = Repository(conn, clock=_at("2026-08-01"))
            result = late.update("Condition", "c9", _condition("c9", "E11.9"))
            assert result.status == 201
            assert [(i.severity, i.expression) for i in result.warnings] == [("warning", "Condition.code")]
            assert "2026" in result.warnings[0].vi and "4469" in result.warnings[0].en
