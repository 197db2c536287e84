"""Load catalogs: CodeSystem + ValueSet through the repository (the one write path), and the concept
index rows in the same transaction. Idempotent: an unchanged catalog writes nothing; a changed one
writes a new resource version and rewrites its index rows; a new version goes beside the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from benhan.fhir.clock import system_clock
from benhan.fhir.repository import Repository

from . import concepts, resources
from .model import Catalog
from .tables import term_codesystem, term_concept, term_word
from .text import code_key, word_field, words

Progress = Callable[[Catalog, str], None]


@dataclass(frozen=True, slots=True)
class LoadResult:
    key: str
    url: str
    version: str
    status: str  # created | updated | unchanged
    concepts: int


def load_catalogs(conn: Connection, catalogs: Iterable[Catalog], *, progress: Progress | None = None,
                  repo: Repository | None = None) -> list[LoadResult]:
    """Load each catalog inside the caller's transaction; ``progress(catalog, status)`` after each."""
    repo = repo or Repository(conn)
    results = []
    for cat in catalogs:
        result = load_catalog(conn, cat, repo=repo)
        results.append(result)
        if progress is not None:
            progress(cat, result.status)
    repo.flush()
    return results


def load_catalog(conn: Connection, cat: Catalog, *, repo: Repository | None = None) -> LoadResult:
    repo = repo or Repository(conn)
    cs = resources.codesystem(cat)
    vs = resources.valueset(cat)
    digest = hashlib.sha256(orjson.dumps([cs, vs, cat.valid_from, cat.valid_to],
                                         option=orjson.OPT_SORT_KEYS)).hexdigest()
    t = term_codesystem
    row = conn.execute(select(t.c.pk, t.c.content_hash).where(t.c.url == cat.url, t.c.version == cat.version)).first()
    if row is not None and row.content_hash == digest:
        return LoadResult(cat.key, cat.url, cat.version, "unchanged", len(cat.concepts))
    _write_if_changed(repo, cs)
    _write_if_changed(repo, vs)
    repo.flush()
    values = {"name": cat.name, "resource_id": cat.codesystem_id, "valueset_url": cat.valueset_url,
              "valid_from": cat.valid_from, "valid_to": cat.valid_to, "content_hash": digest,
              "concept_count": len(cat.concepts), "loaded_at": system_clock()}
    if row is None:
        cs_pk = conn.execute(insert(t).values(url=cat.url, version=cat.version, **values)
                             .returning(t.c.pk)).scalar_one()
        status = "created"
    else:
        cs_pk = row.pk
        conn.execute(update(t).where(t.c.pk == cs_pk).values(**values))
        conn.execute(delete(term_word).where(term_word.c.cs_pk == cs_pk))
        conn.execute(delete(term_concept).where(term_concept.c.cs_pk == cs_pk))
        status = "updated"
    _insert_concepts(conn, cs_pk, cat)
    concepts.forget(conn)
    return LoadResult(cat.key, cat.url, cat.version, status, len(cat.concepts))


def _write_if_changed(repo: Repository, resource: dict[str, Any]) -> None:
    current = repo.current(resource["resourceType"], resource["id"])
    if current is not None and not current.deleted:
        old = current.resource()
        old.pop("meta", None)
        if old == resource:
            return
    repo.update(resource["resourceType"], resource["id"], resource)


def _insert_concepts(conn: Connection, cs_pk: int, cat: Catalog) -> None:
    order = sorted(range(len(cat.concepts)),
                   key=lambda i: (len(cat.concepts[i].code), len(cat.concepts[i].display), cat.concepts[i].code))
    sort_key = {cat.concepts[i].code: n for n, i in enumerate(order)}
    rows = [{"cs_pk": cs_pk, "code": c.code, "code_key": code_key(c.code), "display": c.display[:500],
             "display_en": c.display_en[:500], "words_vi": word_field(c.display), "words_en": word_field(c.display_en),
             "parent": c.parent, "flags": c.flags, "sort_key": sort_key[c.code],
             "valid_from": cat.valid_from, "valid_to": cat.valid_to}
            for c in cat.concepts]
    for start in range(0, len(rows), 2000):
        conn.execute(insert(term_concept), rows[start:start + 2000])
    c = term_concept
    pks = dict(conn.execute(select(c.c.code, c.c.pk).where(c.c.cs_pk == cs_pk)).all())
    word_rows = [{"cs_pk": cs_pk, "word": w[:64], "concept_pk": pks[con.code], "sort_key": sort_key[con.code]}
                 for con in cat.concepts for w in sorted(set(words(con.display)) | set(words(con.display_en)))]
    for start in range(0, len(word_rows), 5000):
        conn.execute(insert(term_word), word_rows[start:start + 5000])
