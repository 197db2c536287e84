"""The audit trail: a row for each access, hash chain verified, tampering detected and named,
append-only in the database, readable as FHIR AuditEvent by auditors (and by a patient for their own)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from benhan.security import audit
from benhan.security.tables import audit_log

from .conftest import observation, patient, put


def _rows(secure):  # type: ignore[no-untyped-def]
    with secure.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()]


def test_each_access_leaves_a_row(secure):
    put(secure.admin, patient("p1"))
    put(secure.admin, observation("o1", "p1"))
    before = len(_rows(secure))
    doc = secure.as_user("kt.an", ["technician"])
    assert doc.get("Observation/o1").status_code == 200
    assert doc.get("Observation?subject=Patient/p1").status_code == 200
    assert doc.put("Observation/o1", observation("o1", "p1")).status_code == 200
    assert doc.get("Observation/o404").status_code == 404
    assert doc.delete("Patient/p1").status_code == 403
    created = doc.post("Observation", {k: v for k, v in observation("o2", "p1").items() if k != "id"})
    assert created.status_code == 201
    assert doc.delete(f"Observation/{created.json()['id']}").status_code == 403  # technicians: crus, no d
    rows = _rows(secure)[before:]
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("read", 200), ("search", 200), ("update", 200), ("read", 404), ("delete", 403), ("create", 200),
        ("delete", 403)]
    assert rows[5]["patients"] == rows[6]["patients"] == ",p1,"
    assert rows[5]["entity"] == f"Observation/{created.json()['id']}"
    read = rows[0]
    assert read["username"] == "kt.an" and read["roles"] == "technician"
    assert read["entity"] == "Observation/o1" and read["patients"] == ",p1,"
    assert read["ip"] and read["purpose"] == "TREAT"
    assert rows[1]["entity"] == "Observation?subject=Patient%2Fp1" and rows[1]["patients"] == ",p1,"
    with secure.engine.connect() as conn:
        assert audit.verify(conn) == []


def test_invalid_token_attempt_is_recorded(secure):
    secure.client_for("garbage").get("Patient")
    rows = _rows(secure)
    assert rows[-1]["outcome"] == 401 and rows[-1]["username"] is None


def test_tampering_is_detected_and_named(secure, database_url):
    put(secure.admin, patient("p1"))
    for _ in range(3):
        secure.admin.get("Patient/p1")
    rows = _rows(secure)
    target = rows[2]["seq"]
    # The application cannot change the log ...
    with secure.engine.connect() as conn, conn.begin(), pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE audit_log SET username = 'someone-else' WHERE seq = :s"), {"s": target})
    # ... so an attacker with database-owner rights removes the guard first.
    with secure.engine.connect() as conn, conn.begin():
        if database_url.startswith("sqlite"):
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("UPDATE audit_log SET username = 'someone-else' WHERE seq = :s"), {"s": target})
    with secure.engine.connect() as conn:
        problems = audit.verify(conn)
    assert [p.seq for p in problems] == [target]
    assert "altered" in str(problems[0])
    removed = rows[3]
    with secure.engine.connect() as conn, conn.begin():
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": removed["seq"]})
    with secure.engine.connect() as conn:
        problems = audit.verify(conn)
    # Named at the next row of the removed row's chain, or at that chain's head when it was the last.
    after = [r["seq"] for r in _rows(secure) if r["chain"] == removed["chain"] and r["seq"] > removed["seq"]]
    named = after[0] if after else removed["seq"]
    assert {p.seq for p in problems} == {target, named}
    assert any("removed" in str(p) for p in problems if p.seq == named)


def test_a_row_moved_to_another_chain_is_detected(secure, database_url):
    put(secure.admin, patient("p1"))
    rows = _rows(secure)
    row = rows[-1]
    with secure.engine.connect() as conn, conn.begin():
        if database_url.startswith("sqlite"):
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("UPDATE audit_log SET chain = :c WHERE seq = :s"),
                     {"c": row["chain"] % audit.CHAINS + 1, "s": row["seq"]})
    with secure.engine.connect() as conn:
        problems = audit.verify(conn)
    assert row["seq"] in {p.seq for p in problems}  # out of place in the chain it was moved to
    assert any("chain" in str(p) for p in problems)  # and the chain it left ends short


def test_concurrent_appends_do_not_wait_for_each_other(engine):
    """A transaction holding one chain's head does not block another request's audit append (PostgreSQL);
    all rows verify. SQLite has one writer at a time and one chain."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; one chain")
    with engine.connect() as conn:
        before = audit.count(conn)
    holder = engine.connect()
    try:
        holder.info["write"] = True
        held = holder.begin()
        audit.append(holder, [audit.AuditEntry("read", username="a")])
        held_chain = holder.execute(select(audit_log.c.chain).order_by(audit_log.c.seq.desc())).scalar_one()
        chains = set()
        for i in range(20):
            with engine.connect() as conn, conn.begin():
                conn.execute(text("SET LOCAL lock_timeout = '2s'"))  # a wait would fail the test, not hang it
                audit.append(conn, [audit.AuditEntry("read", username=f"b{i}"), audit.AuditEntry("search")])
                chains.add(conn.execute(select(audit_log.c.chain).order_by(audit_log.c.seq.desc())).scalars().first())
        assert held_chain not in chains and len(chains) > 1
        held.commit()
    finally:
        holder.close()
    with engine.connect() as conn:
        assert audit.verify(conn) == []
        seqs = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq)).scalars().all()
    assert len(seqs) == len(set(seqs)) == before + 41


def test_cli_verify(secure, database_url, capsys, monkeypatch):
    from benhan.cli import main

    put(secure.admin, patient("p1"))
    monkeypatch.setenv("BENHAN_DATABASE_URL", database_url)
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out


def test_auditevent_for_auditors_only(secure):
    put(secure.admin, patient("p1"))
    put(secure.admin, patient("p2"))
    doctor = secure.as_user("kt.binh", ["technician"])
    doctor.get("Patient/p1")
    doctor.get("Patient/p2")
    assert doctor.get("AuditEvent").status_code == 403
    auditor = secure.as_user("kiemtra", ["auditor"])
    bundle = auditor.get("AuditEvent?agent=kt.binh&patient=Patient/p1").json()
    assert bundle["total"] == 1
    event = bundle["entry"][0]["resource"]
    assert event["resourceType"] == "AuditEvent" and event["action"] == "R"
    assert event["agent"][0]["who"]["identifier"]["value"] == "kt.binh"
    assert {"reference": "Patient/p1"} in [e.get("what") for e in event["entity"]]
    # the projection is valid R4
    from benhan.fhir.validation import validate_resource

    validate_resource(event, resource_type="AuditEvent")
    one = auditor.get(f"AuditEvent/{event['id']}")
    assert one.status_code == 200 and one.json()["id"] == event["id"]
    assert auditor.get("AuditEvent?date=ge2000-01-01&type=read").json()["total"] >= 2
    assert auditor.post("AuditEvent", event).status_code == 405
    assert auditor.get("AuditEvent?date=bad").status_code == 400


def test_patient_sees_who_accessed_their_record(secure):
    put(secure.admin, patient("p1"))
    put(secure.admin, patient("p2"))
    tech = secure.as_user("kt.cuong", ["technician"])
    tech.get("Patient/p1")
    tech.get("Patient/p2")
    portal = secure.as_user("nb.p1", ["patient"], scope="patient/*.rs", patient="p1")
    bundle = portal.get("AuditEvent").json()
    users = {e["resource"]["agent"][0]["who"]["identifier"]["value"] for e in bundle["entry"]}
    assert "kt.cuong" in users
    for e in bundle["entry"]:
        assert any(x.get("what") == {"reference": "Patient/p1"} for x in e["resource"]["entity"])


_FORGED = {"resourceType": "AuditEvent", "type": {"code": "rest"}, "recorded": "2026-01-01T00:00:00Z",
           "agent": [{"requestor": True}], "source": {"observer": {"display": "forged"}}}


def test_auditevent_cannot_be_written_through_a_bundle(secure):
    """The trail is written by the server alone: a transaction fails with the reason, a batch refuses the entry."""
    put(secure.admin, patient("p1"))
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient("p2"), "request": {"method": "PUT", "url": "Patient/p2"}},
        {"resource": _FORGED, "request": {"method": "POST", "url": "AuditEvent"}}]}
    resp = secure.admin.post("", transaction)
    assert resp.status_code == 405, resp.text
    issue = resp.json()["issue"][0]
    assert "chỉ đọc" in issue["details"]["text"] and "read-only" in issue["details"]["text"]
    assert issue["expression"] == ["Bundle.entry[1]"]
    assert secure.admin.get("Patient/p2").status_code == 404  # nothing of the transaction was kept
    assert secure.admin.get("AuditEvent?_total=accurate").status_code == 200
    assert secure.admin.get("_history").json()["total"] == 1  # no AuditEvent in the resource store
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": _FORGED, "request": {"method": "POST", "url": "AuditEvent"}},
        {"resource": {**_FORGED, "id": "1"}, "request": {"method": "PUT", "url": "AuditEvent/1"}},
        {"request": {"method": "GET", "url": "Patient/p1"}}]}
    resp = secure.admin.post("", batch)
    assert resp.status_code == 200
    entries = resp.json()["entry"]
    assert [e["response"]["status"][:3] for e in entries] == ["405", "405", "200"]
    assert entries[0]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    refused = [r for r in _rows(secure) if r["outcome"] == 405]
    assert [r["action"] for r in refused][-2:] == ["create", "update"]  # the attempts are in the trail


def test_auditor_reads_auditevents_inside_a_batch(secure):
    put(secure.admin, patient("p1"))
    secure.admin.get("Patient/p1")
    auditor = secure.as_user("kt.minh", ["auditor"], scope="user/*.rs")
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "AuditEvent?patient=Patient/p1"}},
        {"request": {"method": "GET", "url": "AuditEvent/1"}},
        {"request": {"method": "GET", "url": "Patient/p1"}}]}
    resp = auditor.post("", batch)
    assert resp.status_code == 200, resp.text
    entries = resp.json()["entry"]
    assert [e["response"]["status"][:3] for e in entries] == ["200", "200", "403"]
    found = entries[0]["resource"]
    assert found["type"] == "searchset" and found["total"] >= 1
    assert all(e["resource"]["resourceType"] == "AuditEvent" for e in found["entry"])
    assert entries[1]["resource"]["id"] == "1"
    doctor = secure.as_user("bs.an", ["doctor"], departments=["k"])
    resp = doctor.post("", {**batch, "entry": batch["entry"][:1]})
    assert [e["response"]["status"][:3] for e in resp.json()["entry"]] == ["403"]
    last = _rows(secure)[-1]
    assert (last["action"], last["username"], last["outcome"]) == ("search", "bs.an", 403)


def test_append_statement_compiles_once() -> None:
    """It runs on every request: SQLAlchemy must be able to cache its compiled form (a multi-row INSERT in a
    CTE built with Core had no cache key and was compiled again each time)."""
    from benhan.security.audit import _append_statement

    for count in (1, 3):
        assert _append_statement(count)._generate_cache_key() is not None


def test_single_chain_rows_verify_across_the_chains_migration(database_url):
    """Rows written before 0011 (one chain, head id 1) verify after the upgrade, and new rows follow them."""
    from benhan.db.engine import make_engine
    from benhan.db.migrate import upgrade
    from benhan.security.tables import audit_head

    def downgrade_to_0010() -> None:
        from alembic import command

        from benhan.db.migrate import alembic_config

        command.downgrade(alembic_config(database_url), "0010")

    downgrade_to_0010()
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:  # three rows the way the single chain wrote them
            prev = conn.execute(text("SELECT hash FROM audit_head WHERE id = 1")).scalar_one()
            last = conn.execute(text("SELECT coalesce(max(seq), 0) FROM audit_log")).scalar_one()
            for seq in range(last + 1, last + 4):
                values = {"recorded": 1, "action": "read", "outcome": 200, "username": "old", "roles": None,
                          "client_id": None, "entity": "Patient/p1", "patients": ",p1,", "ip": None,
                          "purpose": "TREAT", "detail": None}
                digest = audit.row_hash(seq, prev, values)
                conn.execute(text("INSERT INTO audit_log (seq, recorded, action, outcome, username, roles, client_id, "
                                  "entity, patients, ip, purpose, detail, prev_hash, hash) VALUES (:seq, :recorded, "
                                  ":action, :outcome, :username, :roles, :client_id, :entity, :patients, :ip, "
                                  ":purpose, :detail, :prev, :hash)"),
                             {"seq": seq, **values, "prev": prev, "hash": digest})
                prev = digest
            conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"), {"s": last + 3, "h": prev})
        engine.dispose()
        upgrade(database_url)
        with engine.connect() as conn:
            assert audit.verify(conn) == []
            assert conn.execute(select(func.count()).select_from(audit_head)).scalar_one() == audit.CHAINS
        with engine.begin() as conn:
            conn.info["write"] = True
            audit.append(conn, [audit.AuditEntry("read", username="new")])
        with engine.connect() as conn:
            assert audit.verify(conn) == []
            newest = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc())).scalars().first()
        assert newest == last + 4  # numbering goes on after the old rows
    finally:
        engine.dispose()


def test_an_append_waits_when_every_chain_head_is_taken(engine):
    """With every head locked, an append waits for one (then appends) rather than failing."""
    import threading

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; one chain")
    done: list[int] = []

    def append_one() -> None:
        with engine.connect() as conn, conn.begin():
            audit.append(conn, [audit.AuditEntry("read", username="waiting")])
        done.append(1)

    with engine.connect() as blocker:
        tx = blocker.begin()
        assert len(blocker.execute(text("SELECT id FROM audit_head FOR UPDATE")).all()) == audit.CHAINS
        worker = threading.Thread(target=append_one)
        worker.start()
        worker.join(0.5)
        assert not done  # waiting for a head
        tx.commit()
    worker.join(10)
    assert done == [1]
    with engine.connect() as conn:
        assert audit.verify(conn) == []
