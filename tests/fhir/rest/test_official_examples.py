"""Real data nobody here wrote: HL7's R4 examples round-trip; Synthea bundles load as transactions."""

from __future__ import annotations

from pathlib import Path

import orjson

DATA = Path(__file__).parents[2] / "data"


def _examples() -> list[dict]:
    return [orjson.loads(p.read_bytes()) for p in sorted((DATA / "r4-examples").glob("*.json"))]


def _without_meta(resource: dict) -> dict:
    out = dict(resource)
    meta = dict(out.pop("meta", {}) or {})
    meta.pop("versionId", None)
    meta.pop("lastUpdated", None)
    if meta:
        out["meta"] = meta
    return out


def test_r4_examples_round_trip_unchanged(client):
    examples = _examples()
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in examples]}
    resp = client.post("", bundle)
    assert resp.status_code == 200, resp.text[:2000]
    for original in examples:
        stored = client.get(f"{original['resourceType']}/{original['id']}").json()
        assert _without_meta(stored) == _without_meta(original), original["id"]
        assert stored["meta"]["versionId"] == "1"


def test_synthea_bundles_load_and_are_searchable(client):
    files = sorted((DATA / "synthea").glob("*.json"))[:4]
    total = 0
    for path in files:
        bundle = orjson.loads(path.read_bytes())
        resp = client.post("", bundle)
        assert resp.status_code == 200, resp.text[:2000]
        entries = resp.json()["entry"]
        assert len(entries) == len(bundle["entry"])
        assert all(e["response"]["status"].startswith("201") for e in entries)
        total += len(entries)
        patient_id = next(e["response"]["location"].split("/")[1] for e in entries
                          if e["response"]["location"].startswith("Patient/"))
        everything = client.get(f"Patient/{patient_id}/$everything?_count=1000").json()
        assert everything["resourceType"] == "Bundle"
        ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in everything["entry"]}
        assert ("Patient", patient_id) in ids
        n_obs = sum(1 for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
        searched = client.get(f"Observation?subject=Patient/{patient_id}&_summary=count").json()
        assert searched["total"] == n_obs
    assert total > 100
