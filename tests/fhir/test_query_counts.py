"""Query-count tests: each interaction issues a fixed number of SQL statements, whatever the data size.

An N+1 regression (a statement per index row, per entry or per version) makes these fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from benhan.fhir.repository import Repository
from benhan.fhir.search import everything, search


@contextmanager
def counting(engine: Engine) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb not in ("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA"):
            counts[verb] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def _patient(i: int) -> dict:
    return {"resourceType": "Patient", "name": [{"family": "Nguyễn", "given": ["Văn", f"An{i}"]}],
            "telecom": [{"system": "phone", "value": f"09{i:08d}"}], "gender": "male", "birthDate": "1980-01-01",
            "address": [{"line": ["12 Lý Thường Kiệt"], "city": "Hà Nội", "country": "VN"}]}


def _observation(pid: str, i: int) -> dict:
    return {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
            "effectiveDateTime": f"2026-01-{(i % 28) + 1:02d}T08:00:00+07:00",
            "valueQuantity": {"value": 70 + i, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}


def test_create_costs_the_same_for_one_or_fifty_resources(engine):
    with engine.begin() as conn:
        pid = Repository(conn).create(_patient(0)).stored.id
    with counting(engine) as one, engine.begin() as conn:
        Repository(conn).create(_observation(pid, 0))
    with counting(engine) as many, engine.begin() as conn:
        repo = Repository(conn)
        repo.defer_integrity = True
        for i in range(50):
            repo.create(_observation(pid, i))
        repo.check_deferred_references()
    assert sum(one.values()) <= 10, one  # idx_text (_content) is one more INSERT
    assert many == one  # bulk flush: one statement per table, not per resource


def test_read_and_update_are_constant(engine):
    with engine.begin() as conn:
        stored = Repository(conn).create(_patient(1)).stored
    with counting(engine) as reads, engine.begin() as conn:
        Repository(conn).read("Patient", stored.id)
    assert reads == Counter({"SELECT": 1})
    with counting(engine) as updates, engine.begin() as conn:
        resource = stored.resource()
        resource["active"] = True
        Repository(conn).update("Patient", stored.id, resource)
    # current row, then: update current, delete old index rows (7 tables + compartments + idx_text and
    # idx_position: one statement on PostgreSQL, data-modifying CTEs; one per table on SQLite) and the old
    # version's contained resources
    # (one DELETE ... RETURNING; their index rows only if there were any), insert version, insert index rows
    assert updates["SELECT"] == 1 and updates["UPDATE"] == 1, updates
    if engine.dialect.name == "postgresql":
        assert updates["WITH"] == 1 and updates["DELETE"] == 1, updates
    else:
        assert updates["DELETE"] == 11, updates
    assert updates["INSERT"] <= 8, updates


def test_search_and_everything_are_bounded(engine):
    with engine.begin() as conn:
        repo = Repository(conn)
        pid = repo.create(_patient(2)).stored.id
        repo.defer_integrity = True
        for i in range(60):
            repo.create(_observation(pid, i))
        repo.check_deferred_references()
    params = [("subject", f"Patient/{pid}"), ("code", "http://loinc.org|8867-4"), ("_sort", "-date"),
              ("_count", "50"), ("_include", "Observation:subject")]
    with counting(engine) as searched, engine.connect() as conn:
        bundle = search(conn, "Observation", params, base_url="http://x/fhir")
    assert len([e for e in bundle["entry"] if e["search"]["mode"] == "match"]) == 50
    assert searched["SELECT"] <= 3, searched
    with counting(engine) as all_of_it, engine.connect() as conn:
        bundle = everything(conn, pid, [("_count", "100")], base_url="http://x/fhir")
    assert len(bundle["entry"]) == 61
    assert all_of_it["SELECT"] <= 5, all_of_it


def test_a_conflicting_concurrent_create_is_a_409_not_a_500(engine):
    """Two transactions creating the same client id: the second gets 409 on both engines (COPY included)."""
    import pytest

    from benhan.fhir.errors import FhirError

    patient = {"resourceType": "Patient", "id": "same", "name": [{"family": "Lê"}]}
    with engine.begin() as conn:
        Repository(conn).update("Patient", "same", dict(patient))
    with pytest.raises(FhirError) as err, engine.begin() as conn:
        repo = Repository(conn)
        repo.defer_integrity = True
        # bypass the existence check: write as if this transaction had not seen the first one
        repo._write("Patient", "same", dict(patient), previous=None, method="PUT")
        repo.flush()
    assert err.value.status == 409
