"""Date prefixes with range semantics, _lastUpdated, numbers and quantities with precision."""

from __future__ import annotations

import pytest

from benhan.fhir.errors import FhirError

from .conftest import find, observation, patient, run, store


@pytest.fixture
def dated(engine):
    store(engine,
          patient("y2000", "A", ["x"], birthDate="2000"),
          patient("m2000", "B", ["x"], birthDate="2000-06"),
          patient("d2000", "C", ["x"], birthDate="2000-06-15"),
          patient("d1999", "D", ["x"], birthDate="1999-12-31"),
          patient("d2001", "E", ["x"], birthDate="2001-01-01"),
          patient("none", "F", ["x"]))
    return engine


@pytest.mark.parametrize(("query", "expected"), [
    ("birthdate=2000", {"y2000", "m2000", "d2000"}),
    ("birthdate=eq2000-06", {"m2000", "d2000"}),
    ("birthdate=2000-06-15", {"d2000"}),
    ("birthdate=ne2000", {"d1999", "d2001"}),
    ("birthdate=gt2000", {"d2001"}),
    ("birthdate=gt2000-06", {"y2000", "d2001"}),
    ("birthdate=lt2000-06", {"y2000", "d1999"}),
    ("birthdate=ge2000-06", {"y2000", "m2000", "d2000", "d2001"}),
    ("birthdate=le2000-06", {"y2000", "m2000", "d2000", "d1999"}),
    ("birthdate=sa2000", {"d2001"}),
    ("birthdate=sa2000-06", {"d2001"}),
    ("birthdate=eb2000-06", {"d1999"}),
    ("birthdate=eb2000", {"d1999"}),
    ("birthdate=ge2000&birthdate=le2000", {"y2000", "m2000", "d2000"}),
    ("birthdate=lt2000,gt2000", {"d1999", "d2001"}),
    ("birthdate=2000-06-15T10:00:00Z", set()),
    ("birthdate:missing=true", {"none"}),
])
def test_date_prefixes(dated, query, expected):
    assert find(dated, "Patient", query) == expected


def test_period_ranges(engine):
    enc = {"resourceType": "Encounter", "status": "finished", "class": {"code": "IMP"}}
    store(engine,
          {**enc, "id": "may", "period": {"start": "2024-05-02T08:00:00+07:00", "end": "2024-05-09T10:00:00+07:00"}},
          {**enc, "id": "open", "period": {"start": "2024-05-20"}},
          {**enc, "id": "cross", "period": {"start": "2024-04-28", "end": "2024-05-03"}})
    assert find(engine, "Encounter", "date=2024-05") == {"may"}
    assert find(engine, "Encounter", "date=ge2024-05-10") == {"open"}
    assert find(engine, "Encounter", "date=lt2024-05-01") == {"cross"}
    assert find(engine, "Encounter", "date=gt2024-05") == {"open"}
    assert find(engine, "Encounter", "date=sa2024-04-30") == {"may", "open"}
    assert find(engine, "Encounter", "date=eb2024-05-10") == {"may", "cross"}


def test_approximately_uses_the_gap_to_now(dated):
    from benhan.fhir.dates import date_range

    near = date_range("2000-06-20")[0]  # 5 days away: the window is widened by the 1-day minimum
    assert find(dated, "Patient", "birthdate=ap2000-06-15", now=near) == {"y2000", "m2000", "d2000"}
    far = date_range("2026-01-01")[0]  # ~25 years away: widened by ~2.5 years on each side
    assert find(dated, "Patient", "birthdate=ap2000-06-15", now=far) == {"y2000", "m2000", "d2000", "d1999", "d2001"}


@pytest.mark.parametrize("value", ["2024-13", "20240501", "hôm-nay", "xx2024", "2024-02-30", "ge"])
def test_malformed_date_is_400_naming_the_parameter(dated, value):
    with pytest.raises(FhirError) as err:
        find(dated, "Patient", f"birthdate={value}")
    assert err.value.status == 400
    issue = err.value.issues[0]
    assert issue.expression == "birthdate"
    assert "birthdate" in issue.en and "birthdate" in issue.vi


def test_last_updated(engine):
    from benhan.fhir.repository import Repository

    times = iter([1_700_000_000_000_000, 1_800_000_000_000_000])  # 2023-11-14, 2027-01-15
    with engine.begin() as conn:
        repo = Repository(conn, clock=lambda: next(times))
        repo.update("Patient", "old", patient("old", "A", ["x"]))
        repo.update("Patient", "new", patient("new", "B", ["x"]))
    assert find(engine, "Patient", "_lastUpdated=2023-11-14") == {"old"}
    assert find(engine, "Patient", "_lastUpdated=gt2024") == {"new"}
    assert find(engine, "Patient", "_lastUpdated=le2026") == {"old"}
    assert find(engine, "Patient", "_lastUpdated=ge2023&_lastUpdated=lt2030") == {"old", "new"}
    assert [e["resource"]["id"] for e in run(engine, "Patient", "_sort=-_lastUpdated")["entry"]] == ["new", "old"]


@pytest.fixture
def bp(engine):
    store(engine, patient("p", "A", ["x"]),
          observation("o100", "Patient/p", "8480-6", value=100),
          observation("o995", "Patient/p", "8480-6", value=99.5),
          observation("o1005", "Patient/p", "8480-6", value=100.5),
          observation("o120", "Patient/p", "8480-6", value=120, unit="mmHg"),
          observation("o80", "Patient/p", "8462-4", value=80),
          observation("onone", "Patient/p", "8462-4"))
    return engine


@pytest.mark.parametrize(("query", "expected"), [
    ("value-quantity=100", {"o100", "o995"}),
    ("value-quantity=100.0", {"o100"}),
    ("value-quantity=1e2", {"o100", "o995", "o1005", "o80", "o120"}),
    ("value-quantity=ne100", {"o1005", "o120", "o80"}),
    ("value-quantity=gt100", {"o1005", "o120"}),
    ("value-quantity=ge100", {"o100", "o1005", "o120"}),
    ("value-quantity=lt100", {"o995", "o80"}),
    ("value-quantity=le99.5", {"o995", "o80"}),
    ("value-quantity=sa100", {"o1005", "o120"}),
    ("value-quantity=eb100", {"o995", "o80"}),
    ("value-quantity=ap110", {"o100", "o995", "o1005", "o120"}),
    ("value-quantity=gt90|http://unitsofmeasure.org|mm[Hg]", {"o100", "o995", "o1005"}),
    ("value-quantity=gt90||mmHg", {"o120"}),
    ("value-quantity=gt90|http://other|mm[Hg]", set()),
    ("value-quantity:missing=true", {"onone"}),
])
def test_quantity(bp, query, expected):
    assert find(bp, "Observation", query) == expected


def test_number(engine):
    base = {"resourceType": "RiskAssessment", "status": "final", "subject": {"reference": "Patient/p"}}
    store(engine, patient("p", "A", ["x"]),
          {**base, "id": "r1", "prediction": [{"probabilityDecimal": 0.25}]},
          {**base, "id": "r2", "prediction": [{"probabilityDecimal": 0.8}]},
          {**base, "id": "r3", "prediction": [{"probabilityRange": {"low": {"value": 0.1}, "high": {"value": 0.3}}}]})
    assert find(engine, "RiskAssessment", "probability=0.25") == {"r1"}
    assert find(engine, "RiskAssessment", "probability=gt0.5") == {"r2"}
    assert find(engine, "RiskAssessment", "probability=lt0.2") == {"r3"}
    assert find(engine, "RiskAssessment", "probability=ge0.3") == {"r2", "r3"}
    assert find(engine, "RiskAssessment", "probability=0") == {"r1", "r3"}


@pytest.mark.parametrize("query", ["value-quantity=abc", "value-quantity=xx10", "value-quantity=1|2",
                                   "value-quantity=10 ", "value-quantity=1_0"])
def test_bad_numbers_are_400(bp, query):
    with pytest.raises(FhirError) as err:
        find(bp, "Observation", query)
    assert err.value.status == 400


def test_eq_reads_a_closed_range_of_the_low_index(engine):
    """eq bounds both ends of the indexed ``low`` (an index range [lo, hi], not every later date); a Period
    written backwards (end before start: per-1 is not enforced on write) is indexed as its ordered span,
    so it is found exactly as the forward one."""
    from sqlalchemy import column

    from benhan.fhir.search.datetimes import condition

    sql = str(condition(column("low"), column("high"), "eq", 10, 20, 0).compile(
        compile_kwargs={"literal_binds": True}))
    assert "low >= 10" in sql and "low <= 20" in sql
    forward = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"},
               "period": {"start": "2024-03-01", "end": "2024-03-03"}}
    backward = {**forward, "id": "e2", "period": {"start": "2024-03-03", "end": "2024-03-01"}}
    store(engine, forward, backward)
    assert find(engine, "Encounter", "date=2024-03") == {"e1", "e2"}
    assert find(engine, "Encounter", "date=2024-03-02") == set()
    assert find(engine, "Encounter", "date=ap2024-03-02") == {"e1", "e2"}
