"""The one patient lookup behind every "find a patient" box: the chart's search and the SMART patient picker.

What was typed decides the searches (``search_query``): digits are an identifier of any system (CCCD, BHXH
number, patient code) or a phone number (``+84`` folded to ``0``); a letters-and-digits token is an identifier
(BHYT card, patient code, record id) on Patient and Coverage (whose beneficiary is the patient); words must each
start a part of the name, without regard to case or diacritics (the search index is normalised: "nguyen van an"
finds "Nguyễn Văn An"). Every search is a FHIR search on the caller's connection, so the access policy the
caller put on it (``conn.info`` ``benhan.access``) filters and audits it like any API search.

This module imports only the FHIR core, so :mod:`benhan.security` may use it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from benhan.fhir.search import search

_DIGITS = re.compile(r"^\+?[0-9 .-]+$")
_TOKEN = re.compile(r"^[A-Za-z0-9-]+$")
MAX_NAME_WORDS = 6

Query = tuple[str, list[tuple[str, str]]]  # (resource type, FHIR search parameters)


def search_query(text: str, *, by_id: bool = False) -> list[Query]:
    """The searches (resource type, params) that answer what was typed in a patient search box.

    ``by_id``: a letters-and-digits token may also be a record id (the picker's ``Patient/<id>``).
    """
    text = " ".join(text.split())
    if not text:
        return []
    if _DIGITS.match(text):
        digits = re.sub(r"[^0-9]", "", text)
        queries: list[Query] = [("Patient", [("identifier", digits)])]
        if len(digits) >= 6:
            phone = "0" + digits[2:] if digits.startswith("84") and len(digits) == 11 else digits
            queries.append(("Patient", [("phone", phone)]))
        return queries
    if _TOKEN.match(text) and any(ch.isdigit() for ch in text):
        upper = text.upper()
        queries = [("Patient", [("identifier", upper)]), ("Coverage", [("identifier", upper)])]
        if by_id and len(text) <= 64:
            queries.append(("Patient", [("_id", text)]))
        return queries
    return [("Patient", [("name", word) for word in text.split()[:MAX_NAME_WORDS]])]


def _matches(conn: Connection, rtype: str, params: list[tuple[str, str]], limit: int,
             base_url: str) -> list[dict[str, Any]]:
    bundle = search(conn, rtype, [*params, ("_count", str(limit)), ("_total", "none")], base_url=base_url,
                    default_count=limit, max_count=max(limit, 20))
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def lookup_patients(conn: Connection, text: str, *, base_url: str, limit: int = 20, by_id: bool = False,
                    recent_when_empty: bool = False) -> list[dict[str, Any]]:
    """Patients matching ``text`` (in the order found, each once, at most ``limit``).

    An empty ``text`` finds nothing, or the most recently updated patients with ``recent_when_empty``.
    """
    queries = search_query(text, by_id=by_id)
    if not queries and recent_when_empty:
        queries = [("Patient", [("_sort", "-_lastUpdated")])]
    found: dict[str, dict[str, Any]] = {}
    beneficiaries: list[str] = []
    for rtype, params in queries:
        for resource in _matches(conn, rtype, params, limit, base_url):
            if rtype == "Coverage":
                ref = (resource.get("beneficiary") or {}).get("reference", "")
                pid = ref.split("/", 1)[1] if ref.startswith("Patient/") else ""
                if pid and pid not in beneficiaries:
                    beneficiaries.append(pid)
            else:
                found.setdefault(resource["id"], resource)
    missing = [pid for pid in beneficiaries if pid not in found]
    if missing:
        for patient in _matches(conn, "Patient", [("_id", ",".join(missing[:limit]))], limit, base_url):
            found.setdefault(patient["id"], patient)
    return list(found.values())[:limit]
