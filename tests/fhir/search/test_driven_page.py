"""A search whose only criterion is a string is paged from its index rows sorted by key (PostgreSQL).

``engine._driven_page`` sorts the matching index rows first and reads resource rows (and tests access
conditions) in that order only until the page is full. The answer must be exactly the one of the plain
shape: same resources, same order, same pages, same totals, on both engines.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import Engine, event

from benhan.fhir.search import search

from .conftest import BASE, ids, patient, run, store
from .test_properties import string_match

FAMILIES = ["Nguyễn", "Nguyên", "Ngô", "Trần", "Lê", "Nguyễn Thị"]


def _people(engine: Engine) -> list[dict[str, Any]]:
    people = [patient(f"p{i:02d}", FAMILIES[i % len(FAMILIES)], ["Văn" if i % 2 else "Thị", f"Tên{i}"],
                      birth=f"19{50 + i}-01-0{1 + i % 9}") for i in range(30)]
    store(engine, *people)
    return people


def _all_pages(engine: Engine, query: str, count: int) -> list[str]:
    out: list[str] = []
    offset = 0
    while True:
        page = ids(run(engine, "Patient", f"{query}&_count={count}&_offset={offset}"))
        out += page
        if len(page) < count:
            return out
        offset += count


def test_pages_follow_creation_order_and_match_brute_force(engine):
    people = _people(engine)  # one transaction, in id order: key order is id order

    def expected(*values: str) -> list[str]:
        return [p["id"] for p in people if any(string_match(p, v, "") for v in values)]

    for query, values in (("name=ngu", ["ngu"]), ("name=NG", ["NG"]), ("name=trầ", ["trầ"]), ("name=xyz", ["xyz"]),
                          ("name=ngu,tr", ["ngu", "tr"]), ("family=nguyen", ["nguyen"]),
                          ("name:contains=en", None), ("given:exact=Thị", None)):
        want = expected(*values) if values else ids(run(engine, "Patient", f"{query}&_sort=_id&_count=100"))
        assert want or query == "name=xyz", query  # the data must exercise the query
        assert _all_pages(engine, query, 4) == want, query
        assert run(engine, "Patient", f"{query}&_count=2&_total=accurate")["total"] == len(want), query
    assert ids(run(engine, "Patient", "family=nguyen&_count=3&_offset=3")) == expected("nguyen")[3:6]


def _page_statements(engine: Engine, query: str) -> list[str]:
    captured: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "content" in statement:
            captured.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.connect() as conn:
            search(conn, "Patient", parse_qsl(query), base_url=BASE)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(captured) == 1
    return captured


def test_only_a_sole_string_criterion_drives_the_page_on_postgres(engine):
    _people(engine)
    driven = _page_statements(engine, "name=ngu")[0]
    assert ("driver" in driven) == (engine.dialect.name == "postgresql")
    for query in ("name=ngu&birthdate=ge1960", "name=ngu&_sort=birthdate", "name:missing=false", "gender=male",
                  "name=ngu&_id=p00"):
        assert "driver" not in _page_statements(engine, query)[0], query


class _Hiding:
    """An access filter that hides the given Patient ids (as care-relationship rules hide patients)."""

    def __init__(self, hidden: set[str]) -> None:
        self.hidden = hidden

    def search_conditions(self, r: Any, rtype: str | None) -> list[Any]:
        return [r.c.id.not_in(sorted(self.hidden))] if self.hidden else []

    def after_search(self, conn, rtype, params, rows, included, compartment=None):  # type: ignore[no-untyped-def]
        return included


def _visible_pages(engine: Engine, query: str, count: int, hidden: set[str]) -> tuple[list[str], list[int]]:
    """Every page's ids, following offsets, and how many statements read each page."""
    out: list[str] = []
    statements: list[int] = []
    offset = 0
    captured: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "content" in statement:
            captured.append(statement)

    while True:
        captured.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            with engine.connect() as conn:
                bundle = search(conn, "Patient", parse_qsl(f"{query}&_count={count}&_offset={offset}"), base_url=BASE,
                                access=_Hiding(hidden))
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        page = ids(bundle)
        statements.append(len(captured))
        out += page
        if not any(link["relation"] == "next" for link in bundle["link"]):
            return out, statements
        offset += count


def test_access_conditions_that_drop_part_of_the_cut_give_the_plain_answer(engine):
    people = _people(engine)
    nguyen = [p["id"] for p in people if string_match(p, "ngu", "")]
    assert len(nguyen) >= 10
    for hidden in (set(), {nguyen[1]}, set(nguyen[:6]), set(nguyen), {p["id"] for p in people}):
        want = [pid for pid in nguyen if pid not in hidden]
        got, statements = _visible_pages(engine, "name=ngu", 4, hidden)
        assert got == want, hidden
        if engine.dialect.name == "postgresql":
            # a cut whose every key passes answers alone; a cut that lost a key is read again whole
            assert statements[0] == (1 if not hidden & set(nguyen[:5]) else 2), hidden
    # the cut holding every match (fewer than a page) answers alone even when some are hidden
    got, statements = _visible_pages(engine, "name=nguyễn thị", 20, {nguyen[0]})
    assert got == [pid for pid in nguyen if string_match(people[int(pid[1:])], "nguyễn thị", "")
                   and pid != nguyen[0]]
    assert statements == [1]
