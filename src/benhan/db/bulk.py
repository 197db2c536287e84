"""Bulk inserts: the one place where writing many rows differs between the engines.

On PostgreSQL a write of at most :data:`PIPELINE_TABLE_ROWS` rows per table is sent as multi-row INSERTs
in one psycopg pipeline (one round trip, whatever the number of tables); larger ones use ``COPY ... FROM
STDIN`` per table inside the caller's transaction, several times faster per row than INSERTs. SQLite
gets a plain ``executemany`` (in-process, already cheap).

Rows are tuples in the order of ``columns`` (:func:`insert_tuples`): the write path builds them
directly, so no per-row dict is made and taken apart again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection, Table, text
from sqlalchemy.exc import IntegrityError

Batch = tuple[Table, Sequence[str], Sequence[Sequence[Any]]]  # (table, columns, rows)

# When no table gets more than this many rows, one pipeline of multi-row INSERTs; otherwise (bundles,
# loads, a bundle's audit rows) COPY per table. A single API write used one COPY per table, two round
# trips each: ~14 per resource, each costing a wake-up of the server process and of the database
# backend, which under load (workday, 200 users) stretched each COPY of one or two rows to ~18 ms of
# waiting. But psycopg parses a statement's placeholders on every execution once it has more than 50
# parameters (its cache stops there), at a cost that grows faster than the rows: one INSERT of a
# bundle's 90 audit rows (15 columns) took 6.8 ms of client CPU against 0.4 ms by COPY, and 20 token
# rows 0.89 ms against 0.21 ms (`benchmarks/bulk_insert.py`, quiet local PostgreSQL).
PIPELINE_TABLE_ROWS = 16


def insert_tuples(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` within the current transaction."""
    insert_batches(conn, [(table, columns, rows)])


def insert_batches(conn: Connection, batches: Sequence[Batch]) -> None:
    """Insert several tables' rows, in the order given, within the current transaction."""
    batches = [b for b in batches if b[2]]
    if not batches:
        return
    if conn.dialect.name != "postgresql":
        for table, columns, rows in batches:
            marks = ", ".join("?" * len(columns))
            conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({_names(columns)}) VALUES ({marks})',
                                 [row if row.__class__ is tuple else tuple(row) for row in rows])
        return
    raw = conn.connection.driver_connection
    if max(len(b[2]) for b in batches) > PIPELINE_TABLE_ROWS:
        for table, columns, rows in batches:
            statement = f'COPY "{table.name}" ({_names(columns)}) FROM STDIN'
            with _driver_errors(statement), raw.cursor() as cursor, cursor.copy(statement) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        return
    with _driver_errors("INSERT (pipeline)"), raw.pipeline(), raw.cursor() as cursor:
        for table, columns, rows in batches:
            one = "(" + ", ".join(["%s"] * len(columns)) + ")"
            cursor.execute(f'INSERT INTO "{table.name}" ({_names(columns)}) VALUES {", ".join([one] * len(rows))}',
                           [value for row in rows for value in row])


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


@contextmanager
def _driver_errors(statement: str) -> Iterator[None]:
    """The driver's own integrity error as SQLAlchemy's, the same exception as any other statement gives."""
    try:
        yield
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
