"""How to write a batch of rows on PostgreSQL: multi-row INSERT in a pipeline, executemany, or COPY.

    .venv/bin/python benchmarks/bulk_insert.py [--repeats 300]

Starts a private PostgreSQL cluster (``benhan.db.pgcluster``), creates three tables shaped like
``audit_log`` (15 columns), ``idx_token`` (7) and ``idx_reference`` (8), and times, per shape of
write, the three ways ``benhan.db.bulk`` could send it inside one transaction (rolled back each
time): the client's CPU time (this process: psycopg's work, parsing placeholders included) and the
wall-clock time, medians over ``--repeats``. Shapes: a transaction bundle's audit rows (90), one
resource written through the API (9 token rows, 4 reference rows, 1 audit row), and 20 token rows.
It decides ``bulk.PIPELINE_TABLE_ROWS``: psycopg re-parses statements of more than 50 parameters on
every execution. Writes ``benchmarks/results/bulk_insert.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import psycopg

from benhan.db.pgcluster import PgCluster

AUDIT = ("b_audit", 15, lambda i: (i, 1_700_000_000, "search", 200, "bacsi", "doctor", None, "Patient/x", "p1",
                                     "127.0.0.1", "TREAT", None, "ab" * 32, "cd" * 32, 3))
TOKEN = ("b_token", 7, lambda i: (i, "Observation", "code", 0, "http://loinc.org", "8480-6", None))
REFERENCE = ("b_reference", 8, lambda i: (i, "Observation", "subject", 0, "Patient", "abc", None, None))
DDL = ("CREATE TABLE b_audit (c1 bigint, c2 bigint, c3 text, c4 int, c5 text, c6 text, c7 text, c8 text, c9 text,"
       " c10 text, c11 text, c12 text, c13 text, c14 text, c15 smallint)",
       "CREATE TABLE b_token (res_pk bigint, res_type text, param text, grp smallint, system text, code text,"
       " text text)",
       "CREATE TABLE b_reference (res_pk bigint, res_type text, param text, grp smallint, target_type text,"
       " target_id text, target_version text, url text)")
Batch = tuple[str, int, list[tuple[Any, ...]]]


def _rows(shape: tuple[str, int, Any], n: int) -> Batch:
    return shape[0], shape[1], [shape[2](i) for i in range(n)]


SHAPES: dict[str, list[Batch]] = {
    "bundle audit rows (90 x 15 columns)": [_rows(AUDIT, 90)],
    "one API write (9 token, 4 reference, 1 audit)": [_rows(TOKEN, 9), _rows(REFERENCE, 4), _rows(AUDIT, 1)],
    "20 token rows": [_rows(TOKEN, 20)],
}


def multirow(conn: psycopg.Connection, batches: list[Batch]) -> None:
    with conn.pipeline(), conn.cursor() as cur:
        for name, ncol, rows in batches:
            one = "(" + ", ".join(["%s"] * ncol) + ")"
            cur.execute(f"INSERT INTO {name} VALUES {', '.join([one] * len(rows))}", [v for r in rows for v in r])


def executemany(conn: psycopg.Connection, batches: list[Batch]) -> None:
    with conn.pipeline(), conn.cursor() as cur:
        for name, ncol, rows in batches:
            cur.executemany(f"INSERT INTO {name} VALUES ({', '.join(['%s'] * ncol)})", rows)


def copy(conn: psycopg.Connection, batches: list[Batch]) -> None:
    with conn.cursor() as cur:
        for name, _, rows in batches:
            with cur.copy(f"COPY {name} FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)


def measure(dsn: str, repeats: int) -> list[dict[str, Any]]:
    out = []
    with psycopg.connect(dsn) as conn:
        for ddl in DDL:
            conn.execute(ddl)
        conn.commit()
        for label, batches in SHAPES.items():
            for way in (multirow, executemany, copy):
                cpu, wall = [], []
                for _ in range(repeats):
                    c0, w0 = time.process_time(), time.perf_counter()
                    way(conn, batches)
                    cpu.append(time.process_time() - c0)
                    wall.append(time.perf_counter() - w0)
                    conn.rollback()
                out.append({"shape": label, "way": way.__name__,
                            "client_cpu_ms": round(1e3 * statistics.median(cpu), 3),
                            "wall_ms": round(1e3 * statistics.median(wall), 3)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    cluster = PgCluster().start()
    try:
        results = measure(cluster.url("postgres").replace("postgresql+psycopg://", "postgresql://"), args.repeats)
    finally:
        cluster.stop()
    path = Path(__file__).parent / "results" / "bulk_insert.json"
    path.write_text(json.dumps({"psycopg": psycopg.__version__, "repeats": args.repeats, "results": results},
                               indent=2) + "\n")
    print("| shape | way | client CPU ms (median) | wall ms (median) |\n|---|---|---|---|")
    for r in results:
        print(f"| {r['shape']} | {r['way']} | {r['client_cpu_ms']:.2f} | {r['wall_ms']:.2f} |")
    print(f"written {path}")


if __name__ == "__main__":
    main()
