"""The audit trail: append-only and hash-chained.

Each row's ``hash`` is SHA-256 over its own fields (sequence number included) and the previous
row's hash *in the same chain*. There are several chains: ``audit_head`` keeps each one's last
sequence number and hash, and ``audit_log.chain`` says which chain a row belongs to. Appending
locks one head until the transaction ends, so each chain stays linear; on PostgreSQL a request
takes any head that is free (``FOR UPDATE SKIP LOCKED``), so concurrent requests no longer commit
one after another behind a single row. SQLite has one writer at a time and uses chain 1 only.
Entries of a request are buffered and appended right before its commit, in the same transaction as
the data access; a denied or failed request is recorded in its own transaction.

Sequence numbers are global and increasing (a PostgreSQL sequence; a rolled-back append may leave a
gap). :func:`verify` recomputes every chain and names the first altered row and the row after a
removed or reordered one; a removed tail shows as a head that does not match.
Entries never carry personal data beyond identifiers (who, which record, which patient).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import orjson
from sqlalchemy import Connection, Engine, TextClause, bindparam, func, select, text, update

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
    """Append ``entries`` to one chain inside the caller's transaction."""
    if not entries:
        return
    chain, prev, seqs = _take_head(conn, len(entries))
    now = clock()
    rows = []
    for e, seq in zip(entries, seqs, strict=True):
        values: dict[str, object] = {
            "recorded": now, "action": e.action, "outcome": int(e.outcome), "username": e.username,
            "roles": e.roles, "client_id": e.client_id, "entity": _storable((e.entity or "")[:2000]) or None,
            "patients": encode_patients(e.patients), "ip": e.ip, "purpose": e.purpose,
            "detail": _storable(e.detail)}
        digest = row_hash(seq, prev, values)
        rows.append({"seq": seq, "chain": chain, **values, "prev_hash": prev, "hash": digest})
        prev = digest
    head = {"head_id": chain, "head_seq": seqs[-1], "head_hash": prev}
    if conn.dialect.name == "postgresql" and len(rows) <= _INLINE_ROWS:
        # A request's few rows and the new head in ONE statement (a data-modifying CTE): this runs on
        # every API request, and each round trip costs server and database CPU.
        params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
        conn.execute(_append_statement(len(rows)), {**params, **head})
        return
    bulk.insert_rows(conn, audit_log, rows)  # COPY on PostgreSQL: one statement, not one INSERT per entry
    conn.execute(update(audit_head).where(audit_head.c.id == chain).values(seq=seqs[-1], hash=prev))


_INLINE_ROWS = 50  # above this, COPY is cheaper than a multi-row VALUES list

# A free chain head (random among the free ones, so chains grow evenly) and ``n`` sequence numbers,
# in one round trip. The CTE is evaluated once (it locks rows and calls random()), so nextval runs
# only for the head taken.
_HEAD_AND_SEQS = "SELECT id, hash, ARRAY(SELECT nextval('audit_log_seq') FROM generate_series(1, :n)) FROM head"
_FREE_HEAD = text("WITH head AS (SELECT id, hash FROM audit_head ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED) "
                  + _HEAD_AND_SEQS)
# Every head is taken: wait for the one named (chosen at random in Python: a volatile subquery here
# would be evaluated once per row and could match none).
_WAIT_HEAD = text("WITH head AS (SELECT id, hash FROM audit_head WHERE id = :id FOR UPDATE) " + _HEAD_AND_SEQS)
CHAINS = 32  # rows of audit_head (migration 0011)


def _take_head(conn: Connection, n: int) -> tuple[int, str, list[int]]:
    """Lock a chain head until the transaction ends; its id, last hash and ``n`` new sequence numbers."""
    if conn.dialect.name == "postgresql":
        row = (conn.execute(_FREE_HEAD, {"n": n}).first()
               or conn.execute(_WAIT_HEAD, {"n": n, "id": random.randint(1, CHAINS)}).one())
        return int(row[0]), str(row[1]), [int(s) for s in row[2]]
    # SQLite: the caller holds the database's write lock, so one chain and max(seq) + 1 are safe.
    prev = conn.execute(select(audit_head.c.hash).where(audit_head.c.id == 1)).scalar_one()
    last = int(conn.execute(select(func.coalesce(func.max(audit_log.c.seq), 0))).scalar_one())
    return 1, str(prev), list(range(last + 1, last + n + 1))


@cache
def _append_statement(count: int) -> TextClause:
    """``count`` new rows and the moved head, one statement built once per count.

    Written as text: SQLAlchemy cannot make a cache key for a multi-row ``INSERT ... VALUES`` inside a
    CTE, so the Core form was compiled again on every request (a tenth of the server's CPU in a
    profile of the workday); a ``TextClause`` with typed parameters compiles once.
    """
    columns = ["seq", "chain", *_FIELDS, "prev_hash", "hash"]
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(count))
    sql = (f"WITH new_audit_rows AS (INSERT INTO audit_log ({', '.join(columns)}) VALUES {values}) "
           "UPDATE audit_head SET seq = :head_seq, hash = :head_hash WHERE audit_head.id = :head_id")
    params = [bindparam(f"{c}_{i}", type_=audit_log.c[c].type) for i in range(count) for c in columns]
    return text(sql).bindparams(*params, bindparam("head_id", type_=audit_head.c.id.type),
                                bindparam("head_seq", type_=audit_head.c.seq.type),
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
    """Every break in every chain: an altered row, a removed or reordered one, a cut-off tail.

    The heads are read first; rows appended after that (sequence number past their chain's head)
    are left for the next run, so a verification during normal work reports nothing false.
    """
    heads = {int(r[0]): (int(r[1]), str(r[2])) for r in
             conn.execute(select(audit_head.c.id, audit_head.c.seq, audit_head.c.hash))}
    prev = dict.fromkeys(heads, GENESIS)
    last = dict.fromkeys(heads, 0)
    problems: list[Problem] = []
    for row in _rows(conn):
        seq, chain = int(row["seq"]), int(row["chain"])  # type: ignore[call-overload]
        if chain not in heads:
            problems.append(Problem(seq, f"thuộc chuỗi không tồn tại ({chain})", f"belongs to no chain ({chain})"))
            continue
        if seq > heads[chain][0]:
            continue
        if row["prev_hash"] != prev[chain]:
            problems.append(Problem(seq, "không nối tiếp bản ghi trước trong chuỗi (bản ghi trước bị xoá hoặc "
                                         "đảo thứ tự)",
                                    "does not follow the previous record of its chain (one before it was removed "
                                    "or the order changed)"))
        if row_hash(seq, str(row["prev_hash"]), row) != row["hash"]:
            problems.append(Problem(seq, "nội dung đã bị sửa", "content was altered"))
        prev[chain], last[chain] = str(row["hash"]), seq
    for chain, (seq, digest) in sorted(heads.items()):
        if last[chain] != seq or prev[chain] != digest:
            problems.append(Problem(seq, f"cuối chuỗi {chain} không khớp (bản ghi cuối bị xoá hoặc thay)",
                                    f"the end of chain {chain} does not match (last records removed or replaced)"))
    return problems


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())
