"""Search-index rows of contained resources (``Resource.contained``), for ``_contained`` searches.

Each contained resource of a written version gets a row in ``contained_resource`` with a negative key
(:func:`contained_key`) and is indexed by the ordinary extraction (:func:`benhan.fhir.indexing.extract_index`)
under that key, so ``Medication?code=...&_contained=true`` is the same SQL as any search, run over
``contained_resource`` instead of ``resource``. Resources without contained resources cost one substring
test on their JSON text; an update costs one extra ``DELETE`` (the container's old contained rows).

Not indexed: contained resources without a usable ``id`` (dom-3 expects one: they are referred to as
``#id``), of an unknown type, or beyond the first :data:`MAX_CONTAINED` of a container.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete

from benhan.db import bulk
from benhan.db import schema as s

from . import special_tables
from .contained_tables import contained_resource
from .definitions import is_resource_type
from .indexing import COLUMNS, extract_index

MAX_CONTAINED = 1024
_MARK = '"contained":['  # how the key looks in the stored (orjson) text
_CHUNK = 500
_RECORD_COLUMNS = ("pk", "container_pk", "type", "id", "last_updated")
# Where each kind of row of contained_rows goes: the idx_* tables, and idx_text/idx_position (_text, near).
_TABLES = {**{kind: (table, ("res_pk", "res_type", *COLUMNS[kind])) for kind, table in s.INDEX_TABLES.items()},
           "text": (special_tables.idx_text, special_tables.TEXT_COLUMNS),
           "position": (special_tables.idx_position, special_tables.POSITION_COLUMNS)}


def contained_key(container_pk: int, n: int) -> int:
    """The key of the ``n``-th contained resource of a container: negative, so never a ``resource.pk``."""
    return -(container_pk * MAX_CONTAINED + n + 1)


def container_pk(key: int) -> int:
    """The container's ``resource.pk`` from a contained resource's key."""
    return (-key - 1) // MAX_CONTAINED


def contained_rows(container: int, resource: dict[str, Any], last_updated: int
                   ) -> tuple[list[tuple[Any, ...]], dict[str, list[tuple[Any, ...]]]]:
    """``contained_resource`` records and index rows (per kind, with ``res_pk``/``res_type``; ``text`` and
    ``position`` are the :mod:`benhan.fhir.special_tables` rows) of one container."""
    records: list[tuple[Any, ...]] = []
    by_kind: dict[str, list[tuple[Any, ...]]] = {}
    items = resource.get("contained")
    if items.__class__ is not list:
        return records, by_kind
    for n, item in enumerate(items[:MAX_CONTAINED]):
        if item.__class__ is not dict:
            continue
        rtype, rid = item.get("resourceType"), item.get("id")
        if rid.__class__ is not str or not 1 <= len(rid) <= 64 or rtype.__class__ is not str \
                or not is_resource_type(rtype):
            continue
        key = contained_key(container, n)
        records.append((key, container, rtype, rid, last_updated))
        owner = (key, rtype)
        index = extract_index(item)
        for kind, rows in index.tuples.items():
            by_kind.setdefault(kind, []).extend([owner + row for row in rows])
        special_tables.rows(owner, index, by_kind.setdefault("text", []), by_kind.setdefault("position", []))
    return records, by_kind


def write_rows(conn: Connection, pending: Iterable[Any]) -> None:
    """Index the contained resources of freshly written versions (objects with ``pk``, ``deleted``,
    ``content`` and ``last_updated``); their containers' rows are already in ``resource``."""
    records: list[tuple[Any, ...]] = []
    by_kind: dict[str, list[tuple[Any, ...]]] = {}
    for p in pending:
        if p.deleted or _MARK not in p.content:
            continue
        found, rows = contained_rows(p.pk, orjson.loads(p.content), p.last_updated)
        records.extend(found)
        for kind, kind_rows in rows.items():
            by_kind.setdefault(kind, []).extend(kind_rows)
    if not records:
        return
    bulk.insert_tuples(conn, contained_resource, _RECORD_COLUMNS, records)
    bulk.insert_batches(conn, [(*_TABLES[kind], rows) for kind, rows in by_kind.items()])


def forget(conn: Connection, containers: Sequence[int]) -> None:
    """Drop the contained resources (and their index rows) of containers getting a new version."""
    cr = contained_resource
    keys: list[int] = []
    for start in range(0, len(containers), _CHUNK):
        chunk = containers[start:start + _CHUNK]
        keys.extend(conn.execute(delete(cr).where(cr.c.container_pk.in_(chunk)).returning(cr.c.pk)).scalars())
    if not keys:
        return
    for table in (*s.INDEX_TABLES.values(), *special_tables.TABLES):
        for start in range(0, len(keys), _CHUNK):
            conn.execute(delete(table).where(table.c.res_pk.in_(keys[start:start + _CHUNK])))
