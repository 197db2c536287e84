"""Index tables of the special search parameters ``_text``, ``_content`` (``idx_text``) and ``near``
(``idx_position``), written with the other index rows in the same transaction (migration 0012).

Unlike the ``idx_*`` tables of :mod:`benhan.db.schema` (one row per value, ``param``/``grp``), each holds at
most one row per resource, keyed by its ``res_pk`` (negative for contained resources, as everywhere):

* ``idx_text``: the ``narrative`` and ``content`` documents of :mod:`benhan.fhir.textindex`, with a native
  full-text index that the schema here cannot declare, made by the migration: on PostgreSQL GIN indexes of
  ``string_to_array(<document>, ' ')`` (the words), on SQLite the FTS5 table ``idx_text_fts`` over both
  documents, kept in step by triggers (external content: the text is stored once, in ``idx_text``).
* ``idx_position``: :func:`benhan.fhir.geo.position_row` of a Location.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Float, Index, String, Table, Text

from benhan.db.schema import PK, metadata

idx_text = Table(
    "idx_text",
    metadata,
    Column("res_pk", PK, primary_key=True, autoincrement=False),
    Column("res_type", String(64), nullable=False),
    Column("narrative", Text),  # words of text.div; NULL without a narrative
    Column("content", Text, nullable=False),  # words of every string of the resource (narrative included)
)

idx_position = Table(
    "idx_position",
    metadata,
    Column("res_pk", PK, primary_key=True, autoincrement=False),
    Column("latitude", Float, nullable=False),  # degrees, WGS84
    Column("longitude", Float, nullable=False),  # degrees, in [-180, 180)
    Column("x", Float, nullable=False),  # the unit vector of the position (see geo.py)
    Column("y", Float, nullable=False),
    Column("z", Float, nullable=False),
    Index("ix_idx_position_lat", "latitude", "longitude"),
)

TABLES = (idx_text, idx_position)
"""Deleted with the other index rows when a resource gets a new version."""
TEXT_COLUMNS = ("res_pk", "res_type", "narrative", "content")
POSITION_COLUMNS = ("res_pk", "latitude", "longitude", "x", "y", "z")


def rows(owner: tuple[int, str], index: Any, text: list[tuple[Any, ...]], positions: list[tuple[Any, ...]]) -> None:
    """Append the ``idx_text``/``idx_position`` rows of one extracted resource (``index``: IndexRows)."""
    if index.text is not None:
        text.append((*owner, *index.text))
    if index.position is not None:
        positions.append((owner[0], *index.position))


def batches(text: Sequence[tuple[Any, ...]], positions: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The bulk-insert batches (:data:`benhan.db.bulk.Batch`) of those rows."""
    return [(idx_text, TEXT_COLUMNS, text), (idx_position, POSITION_COLUMNS, positions)]
