"""Concept-index lookups are read once per transaction, and a catalogue load makes them read again."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import event

from benhan.terminology import catalogs, concepts
from benhan.terminology.loader import load_catalogs
from benhan.terminology.model import Concept


def _statements(conn):  # type: ignore[no-untyped-def]
    seen: list[str] = []
    event.listen(conn, "before_cursor_execute",
                 lambda *a: seen.append(a[2]) if a[2].lstrip().upper().startswith("SELECT") else None)
    return seen


def test_versions_and_codes_are_read_once_per_transaction(term_engine):  # type: ignore[no-untyped-def]
    gender = catalogs.gender()
    with term_engine.connect() as conn:
        seen = _statements(conn)
        with conn.begin():
            first = concepts.versions(conn, url=gender.url)
            code = concepts.concept(conn, first[0], "male")
            again = concepts.versions(conn, url=gender.url)
            assert again == first and concepts.concept(conn, first[0], "male") == code
            assert concepts.concept(conn, first[0], "no-such-code") is None
            assert concepts.concept(conn, first[0], "no-such-code") is None
            assert len(seen) == 3  # versions, "male", "no-such-code"
        with conn.begin():  # a new transaction reads again
            assert concepts.versions(conn, url=gender.url) == first
            assert len(seen) == 4


def test_a_catalogue_load_forgets_what_was_read(term_engine):  # type: ignore[no-untyped-def]
    gender = catalogs.gender()
    changed = replace(gender, concepts=(*gender.concepts, Concept("intersex-x", "Liên giới", "Intersex")))
    newer = replace(gender, version="5.0.0", valid_from="2030-01-01")
    with term_engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            before = concepts.versions(conn, url=gender.url)
            assert concepts.concept(conn, before[0], "intersex-x") is None
            load_catalogs(conn, [changed, newer])
            after = concepts.versions(conn, url=gender.url)
            assert [v.version for v in after] == ["5.0.0", "4.0.1"] and len(before) == 1
            old = next(v for v in after if v.version == "4.0.1")
            assert concepts.concept(conn, old, "intersex-x") is not None
