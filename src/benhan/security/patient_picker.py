"""The pickers of the authorization server: the patient (SMART ``launch/patient`` in a standalone launch
by staff), found by name or code among the patients the signed-in user may see, and the encounter
(``launch/encounter``) among that patient's encounters the user may see.

The patient search is the shared lookup (:mod:`benhan.clinical.mpi.lookup`, also used by the chart); it runs
through the FHIR search engine under the user's own access rules (relationship,
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
    """Up to :data:`LIMIT` visible patients found by the shared lookup (name without diacritics, CCCD, BHXH or
    BHYT number, phone, patient code, record id); without a query, the most recently updated."""
    from benhan.clinical.mpi.lookup import lookup_patients

    conn.info[ACCESS_KEY] = guard
    try:
        found = lookup_patients(conn, query, base_url=base_url, limit=LIMIT, by_id=True, recent_when_empty=True)
    finally:
        conn.info.pop(ACCESS_KEY, None)
    return [_choice(p) for p in found]


def _choice(patient: dict[str, Any]) -> PatientChoice:
    names = patient.get("name") or [{}]
    name = names[0].get("text") or " ".join([names[0].get("family", ""), *names[0].get("given", [])]).strip()
    identifiers = patient.get("identifier") or [{}]
    return PatientChoice(patient["id"], name or patient["id"], patient.get("birthDate", ""),
                         patient.get("gender", ""), identifiers[0].get("value", ""))


@dataclass(frozen=True, slots=True)
class EncounterChoice:
    id: str
    start: str
    status: str
    kind: str
    where: str


def find_encounters(conn: Connection, guard: FhirGuard, patient: str, *, base_url: str) -> list[EncounterChoice]:
    """The latest :data:`LIMIT` encounters of ``patient`` that the user may see (audited as a search)."""
    from benhan.fhir.search import search

    conn.info[ACCESS_KEY] = guard
    try:
        bundle = search(conn, "Encounter", [("patient", f"Patient/{patient}"), ("_sort", "-date"),
                                            ("_count", str(LIMIT)), ("_total", "none")],
                        base_url=base_url, default_count=LIMIT, max_count=LIMIT)
    finally:
        conn.info.pop(ACCESS_KEY, None)
    out = []
    for entry in bundle.get("entry", []):
        enc = entry["resource"]
        provider = enc.get("serviceProvider") or {}
        kind = enc.get("class") or {}
        out.append(EncounterChoice(enc["id"], (enc.get("period") or {}).get("start", ""), enc.get("status", ""),
                                   kind.get("display") or kind.get("code", ""),
                                   provider.get("display") or provider.get("reference", "")))
    return out
