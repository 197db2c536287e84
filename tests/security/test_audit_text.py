"""Audit rows take any text a request can carry (a NUL in a query value is still audited, not a 500)."""

from __future__ import annotations

from sqlalchemy import select

from benhan.security import audit
from benhan.security.audit import AuditEntry
from benhan.security.tables import audit_log


def test_nul_in_entity_and_detail_is_stored_escaped_and_the_chain_verifies(engine) -> None:
    with engine.begin() as conn:
        conn.info["write"] = True
        audit.append(conn, [AuditEntry("search", 400, username="u", entity="Patient?name=a\x00b",
                                       detail="bad \x00 value")])
    with engine.connect() as conn:
        row = conn.execute(select(audit_log.c.entity, audit_log.c.detail).order_by(audit_log.c.seq.desc())).first()
        assert row == ("Patient?name=a\\x00b", "bad \\x00 value")
        assert audit.verify(conn) == []
