"""Gapless sequences (mã bệnh nhân, số thứ tự khám) advanced inside the caller's transaction.

:func:`next_value` is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on the ``counter`` row: the row
stays locked until the caller's transaction ends, so concurrent callers queue on it (PostgreSQL; SQLite has
one writer at a time anyway), a rolled-back transaction gives its number back (no gaps), and the first use
of a sequence creates its row in the same statement (no race between two creators).

Until migration 0013 the sequences were FHIR ``Basic`` resources updated through the Repository: a
registration then wrote two resources (seven statements for the counter alone) and held an advisory
lock from the counter read to its commit. The migration carries their last values over.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Connection, TextClause, bindparam, text

from .schema import counter

_UPSERT = ("INSERT INTO counter (name, period, value) VALUES (:name, :period, 1) "
           "ON CONFLICT (name) DO UPDATE SET "
           "value = CASE WHEN counter.period {same} excluded.period THEN counter.value + 1 ELSE 1 END, "
           "period = excluded.period "
           "RETURNING value")


@cache
def _statement(dialect: str) -> TextClause:
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"  # NULL-safe equality
    return text(_UPSERT.format(same=same)).bindparams(
        bindparam("name", type_=counter.c.name.type), bindparam("period", type_=counter.c.period.type))


def next_value(conn: Connection, name: str, period: str | None = None) -> int:
    """The next number of sequence ``name`` (1 first), restarting at 1 when ``period`` differs from the
    last call's; inside the caller's transaction."""
    return int(conn.execute(_statement(conn.dialect.name), {"name": name, "period": period}).scalar_one())
