"""Finding the records a new registration may duplicate, always through the FHIR search index.

* :func:`identifier_matches`: exact CCCD / BHXH number (hard duplicates), via ``Patient?identifier``
  and ``Coverage?identifier`` → beneficiary.
* :func:`name_candidates`: blocking queries, each answered from the index tables (never a scan):
  the whole name (diacritics-insensitive prefix) + birth year ±1, the exact birth date and its
  day/month swap, and the phone number. The union is scored by :mod:`.scoring`. A typo in the name
  is found through the birth date, a typo in the birth date through the name; a record with both
  wrong is not. (Family name + year and given name + year were the first keys: at hospital scale each
  matches thousands — Nguyễn is a third of the population — so the 50 read were an arbitrary
  slice and the true duplicate was usually not among them.)
* :func:`surviving` / :func:`find_patients`: follow ``Patient.link`` ``replaced-by`` so a search that
  finds a merged-away record returns the record that replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from benhan.fhir.errors import FhirError
from benhan.fhir.references import parse_local
from benhan.fhir.repository import Repository
from benhan.fhir.search import search
from benhan.vn import systems

from .scoring import PersonKey

MAX_LINK_HOPS = 10


def search_resources(repo: Repository, rtype: str, params: list[tuple[str, str]],
                     count: int) -> list[dict[str, Any]]:
    """The matches of one FHIR search (strict: an unknown parameter is an error), first ``count``."""
    repo.flush()
    bundle = search(repo.conn, rtype, [*params, ("_count", str(count)), ("_total", "none")],
                    base_url=repo.base_url, strict=True)
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def identifier_matches(repo: Repository, *, national_id: str | None, card_values: list[str],
                       limit: int = 20) -> list[dict[str, Any]]:
    """Patients holding this CCCD or BHYT card/number, as stored (merged-away ones included)."""
    found: dict[str, dict[str, Any]] = {}
    if national_id:
        query = [("identifier", f"{systems.NATIONAL_ID}|{national_id}")]
        for p in search_resources(repo, "Patient", query, limit):
            found.setdefault(p["id"], p)
    values = sorted(set(card_values))
    if values:
        tokens = ",".join(f"{systems.INSURANCE_NUMBER}|{v}" for v in values)
        for p in search_resources(repo, "Patient", [("identifier", tokens)], limit):
            found.setdefault(p["id"], p)
        for cov in search_resources(repo, "Coverage", [("identifier", tokens)], limit):
            ref = parse_local((cov.get("beneficiary") or {}).get("reference", ""), repo.base_url)
            if ref and ref[0] == "Patient" and ref[1] not in found:
                current = repo.current("Patient", ref[1])
                if current is not None and not current.deleted:
                    found[ref[1]] = current.resource()
    return list(found.values())


def _year_range(year: int) -> list[tuple[str, str]]:
    """Born in ``year`` ±1, as ONE criterion (three ORed years): ``ge``/``le`` as two criteria are two open
    ranges each matching half the patients, 80-130 ms with a family name at 1 M resources."""
    return [("birthdate", ",".join(str(y) for y in (year - 1, year, year + 1)))]


def _swapped(birth_date: str) -> str | None:
    if len(birth_date) != 10:
        return None
    y, m, d = (int(p) for p in birth_date.split("-"))
    if m == d or d > 12:
        return None
    try:
        return date(y, d, m).isoformat()
    except ValueError:
        return None


def blocking_queries(key: PersonKey) -> list[list[tuple[str, str]]]:
    """The index-backed Patient searches whose union is the candidate set (see the module doc)."""
    words = key.words
    year = int(key.birth_date[:4]) if key.birth_date and key.birth_date[:4].isdigit() else None
    queries: list[list[tuple[str, str]]] = []
    if words and year is not None:
        queries.append([("name", " ".join(words)), *_year_range(year)])
    if key.birth_date and len(key.birth_date) == 10:
        queries.append([("birthdate", key.birth_date)])
        swapped = _swapped(key.birth_date)
        if swapped:
            queries.append([("birthdate", swapped)])
    if words and year is None:
        queries.append([("name", " ".join(words))])
    for phone in sorted(key.phones):
        queries.append([("phone", phone)])
    return queries


def name_candidates(repo: Repository, key: PersonKey, *, per_query: int = 50) -> list[dict[str, Any]]:
    """Patients found by any blocking query (each bounded by ``per_query``), de-duplicated."""
    found: dict[str, dict[str, Any]] = {}
    for query in blocking_queries(key):
        for patient in search_resources(repo, "Patient", query, per_query):
            found.setdefault(patient["id"], patient)
    return list(found.values())


def replaced_by(patient: dict[str, Any], base_url: str = "") -> str | None:
    """The id of the Patient that replaced this one (``link.type = replaced-by``), or None."""
    for link in patient.get("link", []):
        if link.get("type") == "replaced-by":
            ref = parse_local((link.get("other") or {}).get("reference", ""), base_url)
            if ref and ref[0] == "Patient":
                return ref[1]
    return None


@dataclass(frozen=True, slots=True)
class Found:
    """A surviving Patient and the merged-away ids the search went through to reach it."""

    patient: dict[str, Any]
    via: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"patient": self.patient, "via": [f"Patient/{i}" for i in self.via]}


def surviving(repo: Repository, patient: dict[str, Any]) -> Found:
    """Follow ``replaced-by`` links to the record in use (refusing loops and over-long chains)."""
    via: list[str] = []
    while (next_id := replaced_by(patient, repo.base_url)) is not None:
        via.append(patient["id"])
        if next_id in via or len(via) > MAX_LINK_HOPS:
            raise FhirError.one(409, "conflict", "Chuỗi liên kết hồ sơ gộp bị vòng lặp",
                                "The merged-record links form a loop")
        patient = repo.read("Patient", next_id).resource()
    return Found(patient, tuple(via))


def find_patients(repo: Repository, params: list[tuple[str, str]], *, count: int = 20) -> list[Found]:
    """A Patient search whose merged-away hits are replaced by their surviving record (once each)."""
    results: dict[str, Found] = {}
    for patient in search_resources(repo, "Patient", params, count):
        hit = surviving(repo, patient)
        previous = results.get(hit.patient["id"])
        if previous is None or len(hit.via) < len(previous.via):
            results[hit.patient["id"]] = hit
    return list(results.values())
