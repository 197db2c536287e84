"""``column IN (values)`` as one bind parameter on PostgreSQL.

An expanding ``IN`` renders one placeholder per value: SQLAlchemy re-renders the statement on every
execution, and psycopg re-parses the placeholders of any statement with more than 50 parameters (its
statement cache stops there), so a page of 50 keys cost both on every request. ``= ANY(:array)`` is one
parameter and one SQL text whatever the count, and PostgreSQL uses the same index for it. SQLite has no
arrays: it keeps ``IN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement


def among(column: ColumnElement[Any], values: Iterable[Any], dialect: str) -> ColumnElement[bool]:
    """``column`` equals one of ``values`` (``dialect``: the connection's ``dialect.name``)."""
    listed = list(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, listed, type_=ARRAY(column.type)))
    return column.in_(listed)
