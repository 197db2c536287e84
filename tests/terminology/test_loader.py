"""Loading: idempotent reload, a new version beside the old one, index rows follow the resource."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from benhan.db import schema as s
from benhan.terminology import catalogs
from benhan.terminology.loader import load_catalogs
from benhan.terminology.model import Concept
from benhan.terminology.tables import term_codesystem, term_concept


def _counts(conn):  # type: ignore[no-untyped-def]
    versions = conn.execute(select(func.count()).select_from(s.resource_version)).scalar_one()
    concepts = conn.execute(select(func.count()).select_from(term_concept)).scalar_one()
    return versions, concepts


def test_reload_is_idempotent(term_engine):  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            before = _counts(conn)
            results = load_catalogs(conn, catalogs.shipped(["gender", "ethnicity", "department"]))
            assert {r.status for r in results} == {"unchanged"}
            assert _counts(conn) == before


def test_changed_and_new_versions(term_engine):  # type: ignore[no-untyped-def]
    gender = catalogs.gender()
    changed = replace(gender, concepts=(*gender.concepts[:3], Concept("unknown", "Chưa rõ", "Unknown")))
    newer = replace(gender, version="5.0.0", valid_from="2030-01-01")
    with term_engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            assert [r.status for r in load_catalogs(conn, [changed, newer])] == ["updated", "created"]
        t = term_codesystem
        rows = conn.execute(select(t.c.version).where(t.c.url == gender.url).order_by(t.c.version)).all()
        assert [r[0] for r in rows] == ["4.0.1", "5.0.0"]
        display = conn.execute(select(term_concept.c.display).join(t, t.c.pk == term_concept.c.cs_pk)
                               .where(t.c.version == "4.0.1", term_concept.c.code == "unknown")).scalar_one()
        assert display == "Chưa rõ"
        r = s.resource_version
        versions = conn.execute(select(r.c.version).where(r.c.id == gender.codesystem_id)).all()
        assert sorted(v[0] for v in versions) == [1, 2]
