"""Edge cases real FHIR clients hit (issue 2 audit): ``:missing`` on every parameter type, ``_summary=count``
with ``_total``, strict handling messages, ``_include:iterate`` cycles, ``_sort`` with missing values."""

from __future__ import annotations

import pytest

from benhan.fhir.errors import FhirError

from .conftest import VN_PATIENTS, find, ids, observation, run, store

QUESTIONNAIRES = [
    {"resourceType": "Questionnaire", "id": "q-url", "status": "draft", "url": "http://benhan.test/q/kham-benh"},
    {"resourceType": "Questionnaire", "id": "q-none", "status": "draft"},
]
RISKS = [
    {"resourceType": "RiskAssessment", "id": "r-dec", "status": "final", "subject": {"reference": "Patient/anh"},
     "prediction": [{"probabilityDecimal": 0.3}]},
    {"resourceType": "RiskAssessment", "id": "r-range", "status": "final", "subject": {"reference": "Patient/dao"},
     "prediction": [{"probabilityRange": {"low": {"value": 0.1}, "high": {"value": 0.2}}}]},
    {"resourceType": "RiskAssessment", "id": "r-none", "status": "final", "subject": {"reference": "Patient/duc"},
     "prediction": [{"outcome": {"text": "Đột quỵ"}}]},
]


@pytest.fixture
def mixed(engine):
    store(engine, *VN_PATIENTS, *QUESTIONNAIRES, *RISKS,
          observation("o-bp", "Patient/anh", "8480-6", value=130, date="2024-05-17T08:00:00+07:00"),
          observation("o-text", "Patient/dao", "8480-6"),
          {"resourceType": "Patient", "id": "no-name", "meta": {"profile": ["http://benhan.test/p"]}})
    return engine


@pytest.mark.parametrize(("rtype", "param", "present", "absent"), [
    ("Patient", "name", {"anh", "dao", "duc", "hoa"}, {"no-name"}),  # string
    ("Patient", "gender", {"anh", "dao", "duc", "hoa"}, {"no-name"}),  # token
    ("Patient", "birthdate", {"anh", "dao", "duc", "hoa"}, {"no-name"}),  # date
    ("Patient", "_profile", {"no-name"}, {"anh", "dao", "duc", "hoa"}),  # uri (common)
    ("Questionnaire", "url", {"q-url"}, {"q-none"}),  # uri
    ("RiskAssessment", "probability", {"r-dec", "r-range"}, {"r-none"}),  # number, Range included
    ("Observation", "value-quantity", {"o-bp"}, {"o-text"}),  # quantity
    ("Observation", "code-value-quantity", {"o-bp"}, {"o-text"}),  # composite
    ("Observation", "date", {"o-bp"}, {"o-text"}),
    ("RiskAssessment", "subject", {"r-dec", "r-range", "r-none"}, set()),  # reference
])
def test_missing_on_every_parameter_type(mixed, rtype, param, present, absent):
    assert find(mixed, rtype, f"{param}:missing=false") == present
    assert find(mixed, rtype, f"{param}:missing=true") == absent
    assert find(mixed, rtype, f"{param}:missing=true,false") == present | absent


def test_number_search_covers_plain_values_and_ranges(mixed):
    assert find(mixed, "RiskAssessment", "probability=0.3") == {"r-dec"}
    assert find(mixed, "RiskAssessment", "probability=gt0.25") == {"r-dec"}
    assert find(mixed, "RiskAssessment", "probability=lt0.15") == {"r-range"}


def test_summary_count_always_counts(mixed):
    for query in ("_summary=count", "_summary=count&_total=none", "_summary=count&_total=estimate"):
        bundle = run(mixed, "Patient", query)
        assert bundle["total"] == 5, query
        assert "entry" not in bundle
    assert run(mixed, "Patient", "gender=female&_summary=count&_include=Patient:link")["total"] == 2
    assert "total" not in run(mixed, "Patient", "_total=none&_count=2")


def test_strict_errors_do_not_claim_the_parameter_was_ignored(mixed):
    with pytest.raises(FhirError) as err:
        run(mixed, "Patient", "nickname=x", strict=True)
    issue = err.value.issues[0]
    assert err.value.status == 400 and issue.expression == "nickname"
    assert "ignored" not in issue.en and "bỏ qua" not in issue.vi
    warning = run(mixed, "Patient", "nickname=x")["entry"][-1]["resource"]["issue"][0]
    assert "it was ignored" in warning["details"]["text"] and "đã bỏ qua" in warning["details"]["text"]


def test_include_iterate_stops_on_cycles(engine):
    a = {"resourceType": "Patient", "id": "a"}
    b = {"resourceType": "Patient", "id": "b", "link": [{"other": {"reference": "Patient/a"}, "type": "seealso"}]}
    c = {"resourceType": "Patient", "id": "c", "link": [{"other": {"reference": "Patient/b"}, "type": "seealso"}]}
    store(engine, a, b, c)
    a_linked = {**a, "link": [{"other": {"reference": "Patient/c"}, "type": "seealso"}]}
    store(engine, a_linked)  # a -> c -> b -> a: a cycle
    bundle = run(engine, "Patient", "_id=a&_include:iterate=Patient:link")
    assert ids(bundle) == ["a"]
    assert sorted(ids(bundle, "include")) == ["b", "c"]  # each once, the match itself not repeated
    rev = run(engine, "Patient", "_id=a&_revinclude:iterate=Patient:link")
    assert sorted(ids(rev, "include")) == ["b", "c"]


def test_sort_puts_missing_values_last_both_ways(mixed):
    asc = ids(run(mixed, "Patient", "_sort=birthdate"))
    desc = ids(run(mixed, "Patient", "_sort=-birthdate"))
    assert asc[-1] == "no-name" and desc[-1] == "no-name"
    assert asc[:-1] == list(reversed(desc[:-1]))
