"""Rebuild the search index of stored resources (``benhan db reindex``).

Index rows are extracted when a resource is written, so they must be rebuilt when extraction changes
after the data was written: resources stored before migration 0009 have no rows for their contained
resources (``_contained`` searches miss them), and a fix to how a value is indexed only reaches new
writes. Reindexing walks the current resources in key order, in batches of one transaction each: a
batch's old index, compartment and contained rows are deleted and the rows extracted now are written
in the same transaction, so a search sees a resource's old rows or its new ones, never neither.
Versions, content and ``meta.lastUpdated`` are untouched (this is not a change of data, so no version
and no audit row per resource). An interrupted run is resumed with ``--from-pk``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from benhan.db import schema as s

from . import contained
from .indexing import IndexRows, extract_index
from .repository import forget_index_rows, write_index


@dataclass(slots=True)
class _Stored:
    """What the index writers need of a stored resource."""

    pk: int
    type: str
    content: str
    last_updated: int
    index: IndexRows
    deleted: bool = False


def reindex(engine: Engine, *, types: Sequence[str] | None = None, batch: int = 500, from_pk: int = 0,
            progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Re-extract the index rows of every current resource (of ``types``, with key > ``from_pk``).

    Returns the count per resource type; ``progress(done, last_pk)`` is called after each batch.
    """
    r = s.resource
    counts: Counter[str] = Counter()
    last = from_pk
    while True:
        query = select(r.c.pk, r.c.type, r.c.content, r.c.last_updated).where(r.c.pk > last, r.c.deleted.is_(False))
        if types:
            query = query.where(r.c.type.in_(list(types)))
        with engine.connect() as conn:
            conn.info["write"] = True  # SQLite: take the write lock at BEGIN
            with conn.begin():
                rows = conn.execute(query.order_by(r.c.pk).limit(batch)).all()
                if not rows:
                    break
                stored = [_Stored(pk, rtype, content, updated, extract_index(orjson.loads(content)))
                          for pk, rtype, content, updated in rows]
                forget_index_rows(conn, [x.pk for x in stored])
                write_index(conn, stored)
                contained.write_rows(conn, stored)
        last = rows[-1][0]
        counts.update(x.type for x in stored)
        if progress is not None:
            progress(sum(counts.values()), last)
    return dict(counts)


def count_current(engine: Engine, types: Sequence[str] | None = None) -> int:
    """How many current (not deleted) resources a reindex would visit."""
    r = s.resource
    query: Any = select(func.count()).select_from(r).where(r.c.deleted.is_(False))
    if types:
        query = query.where(r.c.type.in_(list(types)))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


__all__ = ["count_current", "reindex"]
