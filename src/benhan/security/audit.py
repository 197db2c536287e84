"""The audit trail: append-only and hash-chained.

Each row's ``hash`` is SHA-256 over its own fields and the previous row's hash, and ``audit_head``
keeps the last sequence number and hash. Appending locks the head row (``SELECT ... FOR UPDATE``
on PostgreSQL; the write lock on SQLite), so the chain stays linear whatever the number of
workers. Entries of a request are buffered and appended right before its commit, in the same
transaction as the data access; a denied or failed request is recorded in its own transaction.

:func:`verify` recomputes the chain and names the first altered, removed or reordered row.
Entries never carry personal data beyond identifiers (who, which record, which patient).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import orjson
from sqlalchemy import Connection, Engine, TextClause, bindparam, select, text, update

from benhan.db import bulk
from benhan.fhir.clock import Clock, system_clock

from .tables import audit_head, audit_log

GENESIS = "0" * 64

# Purposes of use (v3-PurposeOfUse codes).
TREATMENT = "TREAT"
BREAK_GLASS = "BTG"
OPERATIONS = "HOPERAT"
PATIENT_REQUEST = "PATRQT"
SYSTEM = "SYSDEV"


@dataclass(slots=True)
class AuditEntry:
    """One thing that happened: who (user, roles, client), what (action, entity), whose (patients)."""

    action: str  # read, vread, search, create, update, patch, delete, history, operation, login, ...
    outcome: int = 200
    username: str | None = None
    roles: str | None = None
    client_id: str | None = None
    entity: str | None = None
    patients: list[str] = field(default_factory=list)
    ip: str | None = None
    purpose: str | None = None
    detail: str | None = None


_FIELDS = ("recorded", "action", "outcome", "username", "roles", "client_id", "entity", "patients", "ip",
           "purpose", "detail")


def row_hash(seq: int, prev_hash: str, values: dict[str, object]) -> str:
    payload = orjson.dumps([seq, prev_hash, *[values[f] for f in _FIELDS]])
    return hashlib.sha256(payload).hexdigest()


def _storable(text: str | None) -> str | None:
    """NUL written as ``\\x00``: PostgreSQL text cannot hold it, and a query naming it must still be audited."""
    return text.replace("\x00", "\\x00") if text and "\x00" in text else text


def encode_patients(ids: Iterable[str]) -> str | None:
    """``,a,b,`` so that ``LIKE '%,a,%'`` finds a patient; None when there are none."""
    unique = sorted(set(ids))
    return "," + ",".join(unique) + "," if unique else None


def decode_patients(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


def append(conn: Connection, entries: list[AuditEntry], *, clock: Clock = system_clock) -> None:
    """Append ``entries`` to the chain inside the caller's transaction."""
    if not entries:
        return
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
                        .with_for_update()).one()
    seq, prev = int(head[0]), head[1]
    now = clock()
    rows = []
    for e in entries:
        seq += 1
        values: dict[str, object] = {
            "recorded": now, "action": e.action, "outcome": int(e.outcome), "username": e.username,
            "roles": e.roles, "client_id": e.client_id, "entity": _storable((e.entity or "")[:2000]) or None,
            "patients": encode_patients(e.patients), "ip": e.ip, "purpose": e.purpose,
            "detail": _storable(e.detail)}
        digest = row_hash(seq, prev, values)
        rows.append({"seq": seq, **values, "prev_hash": prev, "hash": digest})
        prev = digest
    if conn.dialect.name == "postgresql" and len(rows) <= _INLINE_ROWS:
        # A request's few rows and the new head in ONE statement (a data-modifying CTE): this runs on
        # every API request, and each round trip costs server and database CPU.
        params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
        conn.execute(_append_statement(len(rows)), {**params, "head_seq": seq, "head_hash": prev})
        return
    bulk.insert_rows(conn, audit_log, rows)  # COPY on PostgreSQL: one statement, not one INSERT per entry
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))


_INLINE_ROWS = 50  # above this, COPY is cheaper than a multi-row VALUES list


@cache
def _append_statement(count: int) -> TextClause:
    """``count`` new rows and the moved head, one statement built once per count.

    Written as text: SQLAlchemy cannot make a cache key for a multi-row ``INSERT ... VALUES`` inside a
    CTE, so the Core form was compiled again on every request (a tenth of the server's CPU in a
    profile of the workday); a ``TextClause`` with typed parameters compiles once.
    """
    columns = ["seq", *_FIELDS, "prev_hash", "hash"]
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(count))
    sql = (f"WITH new_audit_rows AS (INSERT INTO audit_log ({', '.join(columns)}) VALUES {values}) "
           "UPDATE audit_head SET seq = :head_seq, hash = :head_hash WHERE audit_head.id = 1")
    params = [bindparam(f"{c}_{i}", type_=audit_log.c[c].type) for i in range(count) for c in columns]
    return text(sql).bindparams(*params, bindparam("head_seq", type_=audit_head.c.seq.type),
                                bindparam("head_hash", type_=audit_head.c.hash.type))


def append_now(engine: Engine, entries: list[AuditEntry]) -> None:
    """Append in a transaction of its own (denials and failures, whose data transaction rolled back)."""
    if not entries:
        return
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            append(conn, entries)


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    vi: str
    en: str

    def __str__(self) -> str:
        return f"#{self.seq}: {self.vi} / {self.en}"


def _rows(conn: Connection, batch: int = 5000) -> Iterator[dict[str, object]]:
    last = 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq)
                            .limit(batch)).mappings().all()
        if not rows:
            return
        yield from (dict(r) for r in rows)
        last = int(rows[-1]["seq"])


def verify(conn: Connection) -> list[Problem]:
    """Every break in the chain: an altered row, a removed or reordered one, a cut-off tail."""
    problems: list[Problem] = []
    expected_seq, prev = 1, GENESIS
    for row in _rows(conn):
        seq = int(row["seq"])  # type: ignore[call-overload]
        if seq != expected_seq:
            problems.append(Problem(expected_seq, f"thiếu bản ghi {expected_seq}..{seq - 1} (đã bị xoá)",
                                    f"records {expected_seq}..{seq - 1} are missing (removed)"))
        if row["prev_hash"] != prev:
            problems.append(Problem(seq, "không nối tiếp bản ghi trước (bị xoá hoặc đảo thứ tự)",
                                    "does not follow the previous record (removed or reordered)"))
        if row_hash(seq, str(row["prev_hash"]), row) != row["hash"]:
            problems.append(Problem(seq, "nội dung đã bị sửa", "content was altered"))
        prev, expected_seq = str(row["hash"]), seq + 1
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one()
    if int(head[0]) != expected_seq - 1 or head[1] != prev:
        problems.append(Problem(int(head[0]), "cuối chuỗi không khớp (bản ghi cuối bị xoá hoặc thay)",
                                "the end of the chain does not match (last records removed or replaced)"))
    return problems


def count(conn: Connection) -> int:
    return int(conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one())
