"""Type-ahead over the concept index: diacritics-insensitive, code or word-prefix match, ranked.

Ranking: exact code, then code prefix, then names in which every query word starts a word (of the
Vietnamese or the English name); inside a rank the shorter (more general) code first, then the shorter
name, then the code (precomputed at load as ``sort_key``).

Speed: only covering-index range scans decide what matches (``term_concept`` by ``code_key`` for codes,
``term_word`` per query word for names, intersected here); rows are read only for the page returned.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from .concepts import ConceptRow, Version
from .tables import term_concept, term_word
from .text import code_key, normalize, words

_C = term_concept
_W = term_word
MAX_WORDS = 8  # longer queries are cut: nobody types more into a type-ahead box
MIN_WORD = 2  # a one-letter word would select most of the list: it matches codes only
NARROW = 400  # below this many candidates, later words are checked per candidate
PROBE_MAX = 2000  # never probe more candidates than this by concept (the IN list)
_RANGE_LAST = frozenset("abcdefghijklmnopqrstuvwxy012345678")


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    concepts: list[ConceptRow]


def _prefix(column, prefix: str):  # type: ignore[no-untyped-def]
    """``column`` starts with ``prefix`` ([a-z0-9]+), as a range the B-tree index can serve."""
    if prefix[-1] in _RANGE_LAST:
        return and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    return column.like(prefix + "%")


def search(conn: Connection, version: Version, text: str | None, *, count: int = 20, offset: int = 0,
           parent: str | None = None) -> Page:
    """One page of the concepts of ``version`` matching ``text`` (all concepts, by code, when empty).

    ``parent`` keeps only the children of that code (the communes of one province).
    """
    key = code_key(normalize(text or ""))  # 'Đa' is 'da', not 'a' (which would rank the A codes first)
    if not key:
        return _all(conn, version, count, offset, parent)
    ranked: dict[int, tuple[int, int]] = {}  # pk -> (rank, sort_key)
    rows = conn.execute(select(_C.c.pk, _C.c.code_key, _C.c.sort_key)
                        .where(_C.c.cs_pk == version.pk, _prefix(_C.c.code_key, key)))
    for pk, ckey, sort_key in rows:
        ranked[pk] = (0 if ckey == key else 1, sort_key)
    names: dict[int, int] | None = None
    freq = _frequencies(conn, version.pk)
    tokens = {t for t in words(text or "")[:MAX_WORDS] if len(t) >= MIN_WORD}
    for tok in sorted(tokens, key=lambda t: (freq.estimate(t), -len(t), t)):  # rarest word first
        q = select(_W.c.concept_pk, _W.c.sort_key).where(_W.c.cs_pk == version.pk, _prefix(_W.c.word, tok))
        if names is not None and (len(names) <= NARROW or len(names) <= min(PROBE_MAX, freq.estimate(tok) // 2)):
            q = q.where(_W.c.concept_pk.in_(list(names)))  # fewer candidates than the word's rows: probe them
        hits = dict(conn.execute(q).all())
        names = hits if names is None else {pk: s for pk, s in names.items() if pk in hits}
        if not names:
            break
    for pk, sort_key in (names or {}).items():
        ranked.setdefault(pk, (2, sort_key))
    if parent is not None and ranked:
        inside = {r[0] for r in conn.execute(select(_C.c.pk).where(_C.c.cs_pk == version.pk, _C.c.parent == parent))}
        ranked = {pk: rank for pk, rank in ranked.items() if pk in inside}
    order = sorted(ranked, key=ranked.__getitem__)
    return Page(len(order), _fetch(conn, order[offset:offset + count]))


def _fetch(conn: Connection, pks: list[int]) -> list[ConceptRow]:
    if not pks:
        return []
    cols = (_C.c.pk, _C.c.code, _C.c.display, _C.c.display_en, _C.c.parent, _C.c.flags)
    by_pk = {r[0]: ConceptRow(*r[1:]) for r in conn.execute(select(*cols).where(_C.c.pk.in_(pks)))}
    return [by_pk[pk] for pk in pks]


def _all(conn: Connection, version: Version, count: int, offset: int, parent: str | None = None) -> Page:
    where = [_C.c.cs_pk == version.pk] + ([_C.c.parent == parent] if parent is not None else [])
    total = conn.execute(select(func.count()).select_from(_C).where(*where)).scalar_one()
    cols = (_C.c.code, _C.c.display, _C.c.display_en, _C.c.parent, _C.c.flags)
    rows = conn.execute(select(*cols).where(*where).order_by(_C.c.code).limit(count)
                        .offset(offset)) if count else []
    return Page(total, [ConceptRow(*r) for r in rows])


class _WordFrequencies:
    """How many index rows each word of one code system version has, to look up the rarest query word first.

    "benh phoi tac" must not start with "benh" (a word of most Vietnamese disease names, thousands of rows):
    the rarest word gives a few candidates and the others are then checked per candidate. Only the ORDER
    of the lookups depends on this, never the result, so a copy made before a catalog reload is harmless.
    """

    def __init__(self, counts: list[tuple[str, int]]) -> None:
        self.words = [w for w, _ in counts]
        self.cumulative = [0]
        for _, n in counts:
            self.cumulative.append(self.cumulative[-1] + n)

    def estimate(self, prefix: str) -> int:
        """Rows of the words starting with ``prefix``."""
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\uffff")
        return self.cumulative[hi] - self.cumulative[lo]


_FREQUENCIES: dict[int, _WordFrequencies] = {}
_FREQUENCIES_LOCK = threading.Lock()


def _frequencies(conn: Connection, cs_pk: int) -> _WordFrequencies:
    found = _FREQUENCIES.get(cs_pk)
    if found is None:
        rows = conn.execute(select(_W.c.word, func.count()).where(_W.c.cs_pk == cs_pk)
                            .group_by(_W.c.word).order_by(_W.c.word)).all()
        found = _WordFrequencies([(str(w), int(n)) for w, n in rows])
        with _FREQUENCIES_LOCK:
            _FREQUENCIES[cs_pk] = found
    return found
