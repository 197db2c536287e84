"""Bulk inserts: the one place where writing many rows differs between the engines.

On PostgreSQL, ``COPY ... FROM STDIN`` (psycopg 3) inside the caller's transaction is several times
faster than ``executemany`` of INSERTs, which psycopg sends one row at a time. SQLite gets a plain
``executemany`` (in-process, already cheap).

Rows are tuples in the order of ``columns`` (:func:`insert_tuples`): the write path builds them
directly, so no per-row dict is made and taken apart again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, text
from sqlalchemy.exc import IntegrityError


def insert_tuples(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` within the current transaction."""
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.name != "postgresql":
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
                             [row if row.__class__ is tuple else tuple(row) for row in rows])
        return
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except psycopg.errors.IntegrityError as exc:
        # The driver's own error: give callers the same exception as any other statement would.
        raise IntegrityError(statement, None, exc) from exc


# Up to this many rows in all, a write's tables are filled by multi-row INSERTs sent together in one
# psycopg pipeline (one round trip); above it (bundles, loads) COPY is cheaper per row. A single API
# write used one COPY per table, two round trips each: ~14 per resource, each costing a wake-up of the
# server process and of the database backend, which under load (workday, 200 users) stretched each
# COPY of one or two rows to ~18 ms of waiting.
PIPELINE_ROWS = 200


def insert_batches(conn: Connection, batches: Sequence[tuple[Table, Sequence[str], Sequence[Sequence[Any]]]]) -> None:
    """Insert several tables' rows in order (``(table, columns, rows)`` each), in the current transaction."""
    batches = [b for b in batches if b[2]]
    if conn.dialect.name != "postgresql" or sum(len(b[2]) for b in batches) > PIPELINE_ROWS:
        for table, columns, rows in batches:
            insert_tuples(conn, table, columns, rows)
        return
    if not batches:
        return
    raw = conn.connection.driver_connection
    statement = ""
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for table, columns, rows in batches:
                one = "(" + ", ".join(["%s"] * len(columns)) + ")"
                names = ", ".join(f'"{c}"' for c in columns)
                statement = f'INSERT INTO "{table.name}" ({names}) VALUES {", ".join([one] * len(rows))}'
                cursor.execute(statement, [value for row in rows for value in row])
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` within the current transaction."""
    if not rows:
        return
    columns = list(rows[0].keys())
    insert_tuples(conn, table, columns, [tuple([row[c] for c in columns]) for row in rows])


def next_keys(conn: Connection, table: Table, column: str, count: int) -> list[int]:
    """Reserve ``count`` values of a PostgreSQL serial column's sequence (several workers can do this at once)."""
    sequence = f"{table.name}_{column}_seq"
    result = conn.execute(text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": sequence, "n": count})
    return [row[0] for row in result]
