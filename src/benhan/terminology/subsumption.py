"""Subsumption and membership over the concept index, as SQL sub-selects (never expanded in Python).

Used by the token search modifiers ``:below``, ``:above``, ``:in`` and ``:not-in``: each function returns a
``SELECT code ...`` that a search predicate puts in ``code IN (...)``, so the database walks the hierarchy
(a recursive CTE over ``term_concept.parent``) however many codes lie below a concept.

A code system may be loaded in several versions (QĐ 4469 now, TT 06/2026 later). Stored codings carry no
version in the search index, so the versions asked for are taken together: a code is below ``X`` when
some loaded version says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Select, exists, literal, select

from .tables import term_codesystem, term_concept

_V = term_codesystem
_C = term_concept


@dataclass(frozen=True, slots=True)
class Loaded:
    """The loaded versions of one code system (``pks`` empty: not loaded) and what a lookup found."""

    url: str
    pks: tuple[int, ...]
    hierarchical: bool
    has_code: bool


def loaded(conn: Connection, url: str, *, version: str | None = None, code: str | None = None) -> Loaded:
    """Which versions of ``url`` are loaded, whether they have a hierarchy and whether ``code`` is in one.

    One statement: the flags are EXISTS probes of the concept index.
    """
    has_parent = exists(select(literal(1)).where(_C.c.cs_pk == _V.c.pk, _C.c.parent.is_not(None)))
    has_code = (exists(select(literal(1)).where(_C.c.cs_pk == _V.c.pk, _C.c.code == code))
                if code is not None else literal(False))
    q = select(_V.c.pk, has_parent.label("hier"), has_code.label("known")).where(_V.c.url == url)
    if version is not None:
        q = q.where(_V.c.version == version)
    rows = conn.execute(q).all()
    return Loaded(url, tuple(r[0] for r in rows), any(bool(r[1]) for r in rows), any(bool(r[2]) for r in rows))


def descendants_or_self(pks: Sequence[int], code: str, name: str) -> Select[tuple[str]]:
    """Codes that are ``code`` or below it (is-a, transitively): a recursive CTE down ``parent``."""
    start = select(_C.c.code.label("code")).where(_C.c.cs_pk.in_(list(pks)), _C.c.code == code)
    tree = start.cte(name, recursive=True)
    child = _C.alias(f"{name}_c")
    tree = tree.union(select(child.c.code).where(child.c.cs_pk.in_(list(pks)), child.c.parent == tree.c.code))
    return select(tree.c.code)


def strict_descendants(pks: Sequence[int], code: str, name: str) -> Select[tuple[str]]:
    """Codes strictly below ``code`` (FHIR filter ``descendent-of``)."""
    below = descendants_or_self(pks, code, name).subquery(f"{name}_s")
    return select(below.c.code).where(below.c.code != code)


def ancestors_or_self(pks: Sequence[int], code: str, name: str) -> Select[tuple[str]]:
    """Codes that are ``code`` or subsume it: a recursive CTE up ``parent`` (served by the unique code index)."""
    start = select(_C.c.code.label("code")).where(_C.c.cs_pk.in_(list(pks)), _C.c.code == code)
    tree = start.cte(name, recursive=True)
    node = _C.alias(f"{name}_c")
    tree = tree.union(select(node.c.parent).where(node.c.cs_pk.in_(list(pks)), node.c.code == tree.c.code,
                                                  node.c.parent.is_not(None)))
    return select(tree.c.code)


def all_codes(pks: Sequence[int]) -> Select[tuple[str]]:
    """Every code of the given versions (an "all codes of the system" value set include)."""
    return select(_C.c.code).where(_C.c.cs_pk.in_(list(pks)))
