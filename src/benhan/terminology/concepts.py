"""Reads of the concept index: which version applies at a date, one code, a code's children."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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


def versions(conn: Connection, *, url: str | None = None, valueset_url: str | None = None,
             resource_id: str | None = None) -> list[Version]:
    """Loaded versions of a code system (by its URL, its value set's URL or the CodeSystem id), newest first."""
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
    row = conn.execute(select(*_CONCEPT_COLS).where(_C.c.cs_pk == version.pk, _C.c.code == code)).first()
    return ConceptRow(*row) if row else None


def children(conn: Connection, version: Version, code: str) -> list[str]:
    rows = conn.execute(select(_C.c.code).where(_C.c.cs_pk == version.pk, _C.c.parent == code).order_by(_C.c.code))
    return [r[0] for r in rows]
