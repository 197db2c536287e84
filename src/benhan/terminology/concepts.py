"""Reads of the concept index: which version applies at a date, one code, a code's children."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from .tables import term_codesystem, term_concept


@dataclass(frozen=True, slots=True)
class Version:
    """A loaded code-system version; ``valid_to`` is exclusive."""

    pk: int
    url: str
    version: str
    name: str
    resource_id: str
    valueset_url: str
    valid_from: str | None
    valid_to: str | None

    def covers(self, day: date) -> bool:
        iso = day.isoformat()
        return (self.valid_from is None or self.valid_from <= iso) and (self.valid_to is None or iso < self.valid_to)


@dataclass(frozen=True, slots=True)
class ConceptRow:
    code: str
    display: str
    display_en: str
    parent: str | None
    flags: int

    def display_in(self, language: str | None) -> str:
        return self.display_en if language and language.lower().startswith("en") and self.display_en else self.display


@dataclass(frozen=True, slots=True)
class Choice:
    """The version chosen for a date; ``outdated`` when none covers the date and the latest one was used."""

    version: Version
    outdated: bool = False


_V = term_codesystem
_C = term_concept
_VERSION_COLS = (_V.c.pk, _V.c.url, _V.c.version, _V.c.name, _V.c.resource_id, _V.c.valueset_url, _V.c.valid_from,
                 _V.c.valid_to)
_CONCEPT_COLS = (_C.c.code, _C.c.display, _C.c.display_en, _C.c.parent, _C.c.flags)


_MEMO_KEY = "benhan.terminology.memo"


def _memo(conn: Connection) -> dict[tuple[Any, ...], Any] | None:
    """Lookups already made in the connection's current transaction (``None`` outside one).

    The concept index changes only when a catalogue is loaded (:mod:`.loader`, which calls
    :func:`forget`), so within one transaction a version list or a code reads the same every time: a
    bundle or a demo batch with many diagnoses asks once.
    """
    tx = conn.get_transaction()
    if tx is None:
        return None
    held = conn.info.get(_MEMO_KEY)
    if held is None or held[0] is not tx:
        held = (tx, {})
        conn.info[_MEMO_KEY] = held
    return held[1]


def forget(conn: Connection) -> None:
    """Drop the memo of :func:`versions` and :func:`concept` (the concept index was just written)."""
    conn.info.pop(_MEMO_KEY, None)


def versions(conn: Connection, *, url: str | None = None, valueset_url: str | None = None,
             resource_id: str | None = None) -> list[Version]:
    """Loaded versions of a code system (by its URL, its value set's URL or the CodeSystem id), newest first."""
    memo = _memo(conn)
    key = ("versions", url, valueset_url, resource_id)
    if memo is not None and key in memo:
        return list(memo[key])
    found = _read_versions(conn, url, valueset_url, resource_id)
    if memo is not None:
        memo[key] = tuple(found)
    return found


def _read_versions(conn: Connection, url: str | None, valueset_url: str | None,
                   resource_id: str | None) -> list[Version]:
    q = select(*_VERSION_COLS)
    if url is not None:
        q = q.where(_V.c.url == url)
    if valueset_url is not None:
        q = q.where(_V.c.valueset_url == valueset_url)
    if resource_id is not None:
        q = q.where(_V.c.resource_id == resource_id)
    found = [Version(*row) for row in conn.execute(q)]
    return sorted(found, key=lambda v: (v.valid_from or "", v.version), reverse=True)


def choose(candidates: list[Version], *, version: str | None = None, on: date) -> Choice | None:
    """The explicitly asked ``version``, else the one valid ``on`` the date, else the newest (outdated)."""
    if version is not None:
        match = next((v for v in candidates if v.version == version), None)
        return Choice(match) if match else None
    valid = next((v for v in candidates if v.covers(on)), None)
    if valid is not None:
        return Choice(valid)
    return Choice(candidates[0], outdated=True) if candidates else None


def concept(conn: Connection, version: Version, code: str) -> ConceptRow | None:
    memo = _memo(conn)
    key = ("concept", version.pk, code)
    if memo is not None and key in memo:
        return memo[key]
    row = conn.execute(select(*_CONCEPT_COLS).where(_C.c.cs_pk == version.pk, _C.c.code == code)).first()
    found = ConceptRow(*row) if row else None
    if memo is not None:
        memo[key] = found
    return found


def children(conn: Connection, version: Version, code: str) -> list[str]:
    rows = conn.execute(select(_C.c.code).where(_C.c.cs_pk == version.pk, _C.c.parent == code).order_by(_C.c.code))
    return [r[0] for r in rows]
