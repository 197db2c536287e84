"""System-level search over several types (``/fhir?_type=A,B&patient=...``): results and plan shape.

The criteria used to be ORed per type (``type = A AND EXISTS ... OR type = B AND EXISTS ...``), which
PostgreSQL cannot turn into joins: it walked every ``resource`` row testing subplans (9.6 s on a 42k
database, against 1.1 s for one search per type). Each type is now a ``UNION ALL`` branch with its own
criteria, so the plan must not test subplans on ``resource`` rows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import Engine, event

from benhan.fhir.search import search

from .conftest import BASE, find, observation, patient, store


def _data(engine: Engine) -> None:
    cond = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/an"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}}
    med = {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
           "subject": {"reference": "Patient/binh"},
           "medicationCodeableConcept": {"text": "Amlodipin 5 mg"}}
    store(engine, patient("an", "Nguyễn", ["An"]), patient("binh", "Lê", ["Bình"]),
          observation("o1", "Patient/an", "8480-6", value=140, date="2024-05-01"),
          observation("o2", "Patient/binh", "8480-6", value=120, date="2024-05-02"),
          observation("o3", "Patient/an", "8462-4", value=90, date="2024-05-03"),
          cond, {**cond, "id": "c2", "subject": {"reference": "Patient/binh"}}, med)


def test_multi_type_search_matches_each_type_with_its_own_criteria(engine):
    _data(engine)
    types = "_type=Observation,Condition,MedicationRequest"
    assert find(engine, None, f"{types}&patient=Patient/an") == {"o1", "o3", "c1"}
    assert find(engine, None, f"{types}&patient=Patient/binh") == {"o2", "c2", "m1"}
    assert find(engine, None, f"{types}&patient=Patient/binh&_id=o2,m1,c1") == {"o2", "m1"}
    assert find(engine, None, "_type=Observation,Condition&code=http://loinc.org|8480-6") == {"o1", "o2"}
    assert find(engine, None, "_type=Observation,Condition") == {"o1", "o2", "o3", "c1", "c2"}
    bundle = _run(engine, f"{types}&patient=Patient/an&_count=2&_total=accurate&_sort=_id")
    assert bundle["total"] == 3 and [e["resource"]["id"] for e in bundle["entry"]] == ["c1", "o1"]


def _run(engine: Engine, query: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return search(conn, None, parse_qsl(query), base_url=BASE)


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = [plan]
    for child in plan.get("Plans", []):
        out += _nodes(child)
    return out


def test_postgres_plans_each_type_as_a_join_not_a_subplan_per_resource_row(engine):
    if engine.dialect.name != "postgresql":
        return  # the plan shape is PostgreSQL's; SQLite already ran the criteria as IN subqueries
    _data(engine)
    captured: list[tuple[str, Any]] = []

    def seen(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "content" in statement:
            captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        _run(engine, "_type=Observation,Condition,MedicationRequest&patient=Patient/an")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(captured) == 1
    statement, params = captured[0]
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: make PostgreSQL show its index plan
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar_one()[0]["Plan"]
    on_resource = [n for n in _nodes(plan) if n.get("Relation Name") == "resource"]
    assert on_resource
    for node in on_resource:
        assert "SubPlan" not in node.get("Filter", ""), node  # no per-row test of the criteria
    # one branch per type, each starting from its own index lookup
    reference_scans = [n for n in _nodes(plan) if n.get("Relation Name") == "idx_reference"]
    assert len(reference_scans) == 3, reference_scans
    assert all(n.get("Parent Relationship") != "SubPlan" for n in reference_scans)
