"""Type-ahead: Vietnamese queries with and without diacritics, codes, ranking, paging."""

from __future__ import annotations

from datetime import date

import pytest

from benhan.terminology import concepts, expand, systems

QUERIES = [
    ("dai thao duong", "E11"),
    ("đái tháo đường", "E11"),
    ("ĐÁI THÁO ĐƯỜNG", "E11"),
    ("dai thao duong khong phu thuoc", "E11"),
    ("tang huyet ap", "I10"),
    ("tăng huyết áp", "I10"),
    ("viem phoi", "J18"),
    ("benh ta", "A00"),
    ("diabetes", "E11"),
]


@pytest.fixture
def icd(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        choice = concepts.choose(concepts.versions(conn, url=systems.ICD10), on=date(2025, 1, 1))
        assert choice is not None and not choice.outdated
        yield conn, choice.version


@pytest.mark.parametrize(("query", "code"), QUERIES)
def test_vietnamese_queries_find_the_code(icd, query, code):  # type: ignore[no-untyped-def]
    conn, version = icd
    page = expand.search(conn, version, query, count=100)
    assert code in [c.code for c in page.concepts]


def test_code_prefix_ranks_exact_code_first_then_children(icd):  # type: ignore[no-untyped-def]
    conn, version = icd
    page = expand.search(conn, version, "e11", count=50)
    codes = [c.code for c in page.concepts]
    assert codes[0] == "E11"
    assert set(codes[1:]) == {c for c in codes if c.startswith("E11.")} and len(codes) == page.total == 11


def test_names_rank_general_codes_first(icd):  # type: ignore[no-untyped-def]
    conn, version = icd
    page = expand.search(conn, version, "dai thao duong", count=10)
    assert all(len(c.code) == 3 for c in page.concepts[:5])
    assert page.total > 50


def test_dotted_code_and_paging(icd):  # type: ignore[no-untyped-def]
    conn, version = icd
    assert [c.code for c in expand.search(conn, version, "E11.2").concepts] == ["E11.2"]
    first = expand.search(conn, version, "viem", count=5)
    second = expand.search(conn, version, "viem", count=5, offset=5)
    assert first.total == second.total and not {c.code for c in first.concepts} & {c.code for c in second.concepts}


def test_no_match_and_empty_filter(icd):  # type: ignore[no-untyped-def]
    conn, version = icd
    assert expand.search(conn, version, "zzzzqqq").total == 0
    assert expand.search(conn, version, "", count=3).total == 12137


@pytest.mark.parametrize(("accented", "plain"),
                         [("Đa", "da"), ("đái th", "dai th"), ("Bệnh phổi tắc", "benh phoi tac")])
def test_diacritics_never_change_the_answer(icd, accented, plain):  # type: ignore[no-untyped-def]
    """A letter like 'đ' is not dropped from the code key: 'Đa' must not rank the A codes first."""
    conn, version = icd
    a, p = expand.search(conn, version, accented, count=20), expand.search(conn, version, plain, count=20)
    assert a.total == p.total and [c.code for c in a.concepts] == [c.code for c in p.concepts]


def test_the_rarest_word_is_looked_up_first_and_the_answer_does_not_depend_on_the_order(icd):  # type: ignore[no-untyped-def]
    conn, version = icd
    freq = expand._frequencies(conn, version.pk)
    assert freq.estimate("benh") > 5 * freq.estimate("tac")  # "benh" starts most Vietnamese disease names
    forward = expand.search(conn, version, "benh phoi tac", count=50)
    backward = expand.search(conn, version, "tac phoi benh", count=50)
    assert forward.total == backward.total > 0
    assert [c.code for c in forward.concepts] == [c.code for c in backward.concepts]
