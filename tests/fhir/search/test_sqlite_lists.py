"""SQLite builds every ``pk IN (SELECT ...)`` list in full: one criterion drives, the others are probes.

(search/sql.one_list.) Results are the whole search suite's business; this pins the statement's shape.
"""

from __future__ import annotations

from benhan.fhir.search.engine import build_where

from .conftest import BASE, LOINC, VN_PATIENTS, find, observation, store


def _where_sql(engine, query: list[tuple[str, str]], rtype: str | None = "Observation") -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        where, _ctx, _types = build_where(conn, rtype, query, base_url=BASE, strict=False, warnings=[])
        return " AND ".join(str(c.compile(dialect=conn.dialect)) for c in where)


def test_one_list_drives_and_the_other_criteria_probe(engine):  # type: ignore[no-untyped-def]
    query = [("code", f"{LOINC}|8480-6"), ("date", "ge2024-01-01"), ("subject", "Patient/anh")]
    sql = _where_sql(engine, query)
    if engine.dialect.name == "sqlite":
        assert sql.count("IN (SELECT") == 1 and sql.count("EXISTS") == 2
        # the reference criterion is the list kept (a patient's rows, not every Observation of the code)
        assert "IN (SELECT ref_" in sql
    else:
        assert sql.count("IN (SELECT") == 0 and sql.count("EXISTS") == 3
    single = _where_sql(engine, [("code", f"{LOINC}|8480-6")])
    assert single.count("EXISTS") == (0 if engine.dialect.name == "sqlite" else 1)


def test_results_do_not_depend_on_which_criterion_drives(engine):  # type: ignore[no-untyped-def]
    store(engine, *VN_PATIENTS,
          observation("o1", "Patient/anh", "8480-6", value=120, date="2024-05-01"),
          observation("o2", "Patient/anh", "8480-6", value=130, date="2023-05-01"),
          observation("o3", "Patient/anh", "8462-4", value=80, date="2024-05-01"))
    assert find(engine, "Observation", "subject=Patient/anh&code=8480-6&date=ge2024-01-01") == {"o1"}
    assert find(engine, "Observation", "code=8480-6&date=ge2024-01-01&value-quantity=gt100") == {"o1"}
    assert find(engine, "Observation", "subject=Patient/anh&code:not=8480-6") == {"o3"}
    assert find(engine, "Observation", "date=ge2023-01-01&_sort=-date&subject=Patient/anh") == {"o1", "o2", "o3"}


def test_system_searches_with_type_drive_one_list_too(engine):  # type: ignore[no-untyped-def]
    query = [("_type", "Observation"), ("code", f"{LOINC}|8480-6"), ("date", "ge2024-01-01"),
             ("subject", "Patient/anh")]
    sql = _where_sql(engine, query, rtype=None)
    lists = 1 if engine.dialect.name == "sqlite" else 0
    assert sql.count("IN (SELECT") == lists and sql.count("EXISTS") == 3 - lists
    # several types: one UNION ALL branch per type, each with its own driving list
    several = _where_sql(engine, [("_type", "Observation,Condition"), ("subject", "Patient/anh"),
                                  ("code", "8480-6")], rtype=None)
    assert several.count("UNION ALL") == 1
    if engine.dialect.name == "sqlite":
        assert several.count("EXISTS") == 2 and "IN (SELECT ref_" in several
    store(engine, *VN_PATIENTS,
          observation("o1", "Patient/anh", "8480-6", value=120, date="2024-05-01"),
          observation("o2", "Patient/anh", "8480-6", value=130, date="2023-05-01"))
    assert find(engine, None, "_type=Observation&subject=Patient/anh&code=8480-6&date=ge2024-01-01") == {"o1"}
    assert find(engine, None, "_type=Observation,Condition&subject=Patient/anh&code=8480-6") == {"o1", "o2"}
