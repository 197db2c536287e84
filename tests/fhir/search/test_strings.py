"""String search: starts-with on normalised text, :exact, :contains, escaping of LIKE wildcards."""

from __future__ import annotations

import pytest

from .conftest import find, patient, store


@pytest.mark.parametrize(("query", "expected"), [
    ("name=nguyen van anh", {"anh"}),
    ("name=Nguyễn", {"anh"}),
    ("name=NGUYEN", {"anh"}),
    ("name=Đỗ", {"hoa"}),
    ("name=do", {"hoa"}),
    ("name=thi", {"dao", "hoa"}),
    ("name=d", {"dao", "duc", "hoa"}),
    ("family=tran", {"dao"}),
    ("given=duc", {"duc"}),
    ("name=anh van", set()),
    ("name=van anh nguyen", {"anh"}),
    ("name=dang minh duc", {"duc"}),
    ("name=minh duc dang", {"duc"}),
    ("name=x", set()),
])
def test_starts_with_normalised(vn, query, expected):
    assert find(vn, "Patient", query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("name:exact=Nguyễn", {"anh"}),
    ("name:exact=Nguyen", set()),
    ("name:exact=nguyễn", set()),
    ("family:exact=Đỗ", {"hoa"}),
    ("name:exact=Đỗ Thị", set()),
    ("name:contains=inh", {"duc"}),
    ("name:contains=HI", {"dao", "hoa"}),
    ("name:contains=ao", {"dao"}),
])
def test_exact_and_contains(vn, query, expected):
    assert find(vn, "Patient", query) == expected


def test_or_and_and(vn):
    assert find(vn, "Patient", "name=anh,hoa") == {"anh", "hoa"}
    assert find(vn, "Patient", "name=thi&name=hoa") == {"hoa"}
    assert find(vn, "Patient", "name=thi&gender=male") == set()


def test_like_wildcards_are_literal(engine):
    store(engine, patient("p1", "50%_off", ["A"]), patient("p2", "50xoff", ["B"]), patient("p3", "a\\b", ["C"]))
    assert find(engine, "Patient", "family=50%") == {"p1"}
    assert find(engine, "Patient", "family=50%_") == {"p1"}
    assert find(engine, "Patient", "family:contains=%_") == {"p1"}
    assert find(engine, "Patient", "family=50_") == set()
    assert find(engine, "Patient", "family=a\\b") == {"p3"}


def test_escaped_comma_is_not_or(engine):
    store(engine, patient("p1", "Lê, Văn", ["X"]), patient("p2", "Lê", ["Y"]))
    assert find(engine, "Patient", "family:exact=Lê\\, Văn") == {"p1"}
    assert find(engine, "Patient", "family:exact=Lê,Lê\\, Văn") == {"p1", "p2"}
