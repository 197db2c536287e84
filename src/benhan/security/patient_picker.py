"""The patient picker of the authorization server (SMART ``launch/patient`` in a standalone launch by
staff): the patients the signed-in user may see, found by name or code.

The search runs through the FHIR search engine under the user's own access rules (relationship,
labels, break-glass), so it shows nothing the user could not read on the FHIR API, and each search is
audited with the patients it showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from benhan.fhir.search.engine import ACCESS_KEY

from .guard import FhirGuard

LIMIT = 20


@dataclass(frozen=True, slots=True)
class PatientChoice:
    id: str
    name: str
    birth_date: str
    gender: str
    code: str


def find_patients(conn: Connection, guard: FhirGuard, query: str, *, base_url: str) -> list[PatientChoice]:
    """Up to :data:`LIMIT` visible patients: every word of ``query`` in a name, or ``query`` as an identifier or
    id; without a query, the most recently updated."""
    from benhan.fhir.search import search

    words = query.split()
    searches: list[list[tuple[str, str]]]
    if not words:
        searches = [[("_sort", "-_lastUpdated")]]
    else:
        searches = [[("name", w) for w in words]]
        if len(words) == 1:
            searches += [[("identifier", words[0])], [("_id", words[0])]]
    found: dict[str, dict[str, Any]] = {}
    conn.info[ACCESS_KEY] = guard
    try:
        for params in searches:
            bundle = search(conn, "Patient", [*params, ("_count", str(LIMIT)), ("_total", "none")],
                            base_url=base_url, default_count=LIMIT, max_count=LIMIT)
            for entry in bundle.get("entry", []):
                found.setdefault(entry["resource"]["id"], entry["resource"])
    finally:
        conn.info.pop(ACCESS_KEY, None)
    return [_choice(p) for p in list(found.values())[:LIMIT]]


def _choice(patient: dict[str, Any]) -> PatientChoice:
    names = patient.get("name") or [{}]
    name = names[0].get("text") or " ".join([names[0].get("family", ""), *names[0].get("given", [])]).strip()
    identifiers = patient.get("identifier") or [{}]
    return PatientChoice(patient["id"], name or patient["id"], patient.get("birthDate", ""),
                         patient.get("gender", ""), identifiers[0].get("value", ""))
