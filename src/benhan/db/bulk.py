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
