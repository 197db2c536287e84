"""The hand-written SQL baseline: the same data in bare tables, queried directly with the driver.

What a developer would write for exactly these five queries and nothing else: one wide row per
resource with the few columns the queries need already extracted, a side table of normalised name
parts for prefix search, and an index per query. No HTTP, no validation, no generic index tables,
no FHIR Bundle. The ratio *ours / bare* is then the cost of our layers, measured, not guessed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg

from benhan.fhir.text import normalize

PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_resource (
    pk bigint PRIMARY KEY, type text NOT NULL, id text NOT NULL, patient_id text, code text,
    date bigint, identifier text, encounter_id text, content text NOT NULL);
CREATE TABLE IF NOT EXISTS bare_name (res_pk bigint NOT NULL, part text NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS bare_resource_type_id ON bare_resource (type, id);
CREATE INDEX IF NOT EXISTS bare_resource_identifier ON bare_resource (identifier);
CREATE INDEX IF NOT EXISTS bare_resource_patient ON bare_resource (patient_id, type, code, date);
CREATE INDEX IF NOT EXISTS bare_resource_encounter ON bare_resource (encounter_id);
CREATE INDEX IF NOT EXISTS bare_name_part ON bare_name (part text_pattern_ops, res_pk);
"""
SQLITE_SCHEMA = PG_SCHEMA.replace(" text_pattern_ops", "").replace("bigint PRIMARY KEY", "INTEGER PRIMARY KEY")

_INSERT = ("INSERT INTO bare_resource (pk, type, id, patient_id, code, date, identifier, encounter_id, content) "
           "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})")
_INSERT_NAME = "INSERT INTO bare_name (res_pk, part) VALUES ({p}, {p})"
PAGE = 20  # the FHIR server's default page size; the bare queries fetch the same page (+1 to know "next")


@dataclass(slots=True)
class BareRows:
    """The rows of one bundle for the bare tables."""

    resources: list[tuple[Any, ...]]
    names: list[tuple[int, str]]


def _micros(value: str) -> int | None:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1_000_000)


def bundle_rows(body: bytes, ids: dict[str, tuple[str, str]], next_pk: int) -> BareRows:
    """Bare rows for a posted bundle; ``ids`` maps each fullUrl to the ``(type, id)`` the server gave it."""
    doc = orjson.loads(body)
    resources: list[tuple[Any, ...]] = []
    names: list[tuple[int, str]] = []

    def target(ref: dict[str, Any] | None) -> str | None:
        if not isinstance(ref, dict):
            return None
        found = ids.get(ref.get("reference", ""))
        return found[1] if found else None

    for entry in doc["entry"]:
        r = entry["resource"]
        rtype, rid = ids[entry["fullUrl"]]
        r["id"] = rid
        pk = next_pk
        next_pk += 1
        patient_id = rid if rtype == "Patient" else target(r.get("subject") or r.get("patient"))
        code = date = identifier = None
        if rtype == "Observation":
            coding = (r.get("code") or {}).get("coding") or [{}]
            code = f"{coding[0].get('system')}|{coding[0].get('code')}"
            date = _micros(r["effectiveDateTime"]) if r.get("effectiveDateTime") else None
        elif rtype == "Patient":
            ident = r["identifier"][0]
            identifier = f"{ident['system']}|{ident['value']}"
            parts = {normalize(w) for n in r.get("name", []) for w in
                     [n.get("family", ""), *n.get("given", [])] if w}
            names.extend((pk, part) for part in sorted(parts))
        encounter = target(r.get("encounter"))
        resources.append((pk, rtype, rid, patient_id, code, date, identifier, encounter,
                          orjson.dumps(r).decode()))
    return BareRows(resources, names)


class BareStore:
    """Bare tables in the benchmark database, written and read with the plain DB-API driver."""

    def __init__(self, backend: str, dsn: str) -> None:
        self.backend = backend
        if backend == "postgres":
            self.conn: Any = psycopg.connect(dsn, autocommit=True)
            self.p = "%s"
            for stmt in PG_SCHEMA.split(";"):
                if stmt.strip():
                    self.conn.execute(stmt)
        else:
            self.conn = sqlite3.connect(dsn, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.conn.execute("PRAGMA cache_size=-65536")
            self.conn.executescript(SQLITE_SCHEMA)
            self.p = "?"
        self.next_pk = 1

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ writes

    def insert(self, rows: BareRows) -> float:
        """Insert one bundle's rows in one transaction (like one transaction bundle); seconds taken."""
        ins, ins_name = _INSERT.format(p=self.p), _INSERT_NAME.format(p=self.p)
        start = time.perf_counter()
        if self.backend == "postgres":
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.executemany(ins, rows.resources)
                if rows.names:
                    cur.executemany(ins_name, rows.names)
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(ins, rows.resources)
            if rows.names:
                self.conn.executemany(ins_name, rows.names)
            self.conn.execute("COMMIT")
        return time.perf_counter() - start

    def analyze(self) -> None:
        self.conn.execute("ANALYZE bare_resource")
        self.conn.execute("ANALYZE bare_name")

    # ------------------------------------------------------------------ reads (content fetched)

    def _all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql.format(p=self.p), params).fetchall()

    def by_identifier(self, system: str, value: str) -> int:
        rows = self._all("SELECT id, content FROM bare_resource WHERE identifier = {p} AND type = 'Patient' "
                         f"ORDER BY pk LIMIT {PAGE + 1}", [f"{system}|{value}"])
        return len(rows[:PAGE])

    def by_name_prefix(self, prefix: str) -> int:
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        rows = self._all("SELECT r.id, r.content FROM bare_resource r WHERE r.pk IN "
                         "(SELECT res_pk FROM bare_name WHERE part >= {p} AND part < {p}) "
                         f"ORDER BY r.pk LIMIT {PAGE + 1}", [prefix, upper])
        return len(rows[:PAGE])

    def observations(self, patient_id: str, code: str, since: str) -> int:
        low = _micros(since + "T00:00:00+00:00")
        rows = self._all("SELECT id, content FROM bare_resource WHERE patient_id = {p} AND type = 'Observation' "
                         "AND code = {p} AND date >= {p} ORDER BY date DESC, pk "
                         f"LIMIT {PAGE + 1}", [patient_id, code, low])
        return len(rows[:PAGE])

    def encounters_with_observations(self, patient_id: str) -> int:
        encounters = self._all("SELECT id, content FROM bare_resource WHERE patient_id = {p} "
                               f"AND type = 'Encounter' ORDER BY pk LIMIT {PAGE + 1}", [patient_id])[:PAGE]
        if not encounters:
            return 0
        marks = ", ".join([self.p] * len(encounters))
        obs = self.conn.execute(f"SELECT id, content FROM bare_resource WHERE encounter_id IN ({marks}) "
                                "AND type = 'Observation'", [e[0] for e in encounters]).fetchall()
        return len(encounters) + len(obs)

    def everything(self, patient_id: str) -> int:
        rows = self._all("SELECT type, id, content FROM bare_resource WHERE patient_id = {p}", [patient_id])
        return len(rows)
