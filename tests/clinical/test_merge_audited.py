"""A merge through the application is audited: every re-pointed record and the Provenance leave audit rows."""

from __future__ import annotations

from sqlalchemy import select

from benhan.security.tables import audit_log

from .test_api import BODY


def test_merge_and_unmerge_through_the_app_are_audited(client):  # type: ignore[no-untyped-def]
    http = client.http
    first = http.post("/api/registration", json=BODY)
    assert first.status_code == 201, first.text
    second = http.post("/api/registration?confirmedNew=true",
                       json={**BODY, "name": "Nguyen Van An", "bhyt": None, "birthDate": "1985-12-03"})
    assert second.status_code == 201, second.text
    source, target = second.json()["patient"]["id"], first.json()["patient"]["id"]
    engine = http.app.state.engine
    with engine.connect() as conn:
        last = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc()).limit(1)).scalar_one()
    merged = http.post("/api/registration/merge", json={"source": source, "target": target})
    assert merged.status_code == 200, merged.text
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.seq > last)).mappings()]
    entities = {r["entity"] for r in rows}
    assert f"Patient/{source}" in entities and f"Patient/{target}" in entities
    assert any(e.startswith("Provenance/") for e in entities)
    assert all(r["outcome"] < 400 for r in rows)
    assert any(source in (r["patients"] or "") for r in rows)
    undone = http.post("/api/registration/unmerge", json={"source": source})
    assert undone.status_code == 200, undone.text
    with engine.connect() as conn:
        later = [dict(r) for r in conn.execute(select(audit_log).where(audit_log.c.seq > rows[-1]["seq"])).mappings()]
    assert sum(1 for r in later if (r["entity"] or "").startswith("Provenance/")) >= 1
