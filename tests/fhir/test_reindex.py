"""``benhan db reindex``: index rows rebuilt from the stored resources, in batches, nothing else touched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, select

from benhan.db import schema as s
from benhan.fhir import special_tables
from benhan.fhir.contained import contained_resource
from benhan.fhir.reindex import reindex

from .search.conftest import VN_PATIENTS, find, observation, store
from .search.test_contained import _med, _order

TABLES = (*s.INDEX_TABLES.values(), s.compartment, contained_resource, *special_tables.TABLES)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t.name: sorted(conn.execute(select(t)).all(), key=repr) for t in TABLES}


def _history(engine: Engine) -> list[tuple[Any, ...]]:
    r, v = s.resource, s.resource_version
    with engine.connect() as conn:
        return [*conn.execute(select(r).order_by(r.c.pk)).all(), *conn.execute(select(v).order_by(v.c.res_pk)).all()]


def test_reindex_rebuilds_lost_rows_exactly_and_changes_no_data(engine: Engine) -> None:
    store(engine, *VN_PATIENTS, _order("don-1", "anh", _med("m1", "PARA500", "TAB")),
          _order("don-2", "dao", _med("m1", "AMOX250", "CAP"), _med("m2", "PARA500", "SYR")),
          observation("mach", "Patient/anh", "8867-4", value=80, unit="/min", date="2026-11-20"))
    store(engine, {**VN_PATIENTS[0], "gender": "other"})  # a second version: only the current one is indexed
    before, data = _snapshot(engine), _history(engine)
    used = {name for name, rows in before.items() if rows}
    assert used >= {"idx_string", "idx_token", "idx_date", "idx_reference", "idx_quantity", "compartment",
                    "contained_resource", "idx_text"}, used
    with engine.begin() as conn:  # as if written before extraction knew about these rows
        for t in TABLES:
            conn.execute(delete(t))
    assert find(engine, "Patient", "name=nguyen") == set()
    assert find(engine, "Medication", "code=PARA500&_contained=true") == set()
    assert find(engine, "Patient", "_content=nguyen") == set()

    seen: list[tuple[int, int]] = []
    counts = reindex(engine, batch=3, progress=lambda done, last: seen.append((done, last)))

    assert _snapshot(engine) == before and _history(engine) == data
    assert counts == {"Patient": len(VN_PATIENTS), "MedicationRequest": 2, "Observation": 1}
    total = len(VN_PATIENTS) + 3
    assert [done for done, _ in seen] == [*range(3, total + 1, 3), *([total] if total % 3 else [])]
    assert find(engine, "Medication", "code=PARA500&_contained=true") == {"don-1", "don-2"}
    assert find(engine, "Patient", "_content=nguyen") == {"anh"}
    assert find(engine, "Medication", "_content=para500&_contained=true") == {"don-1", "don-2"}


def test_reindex_of_one_type_from_a_key_leaves_the_rest(engine: Engine) -> None:
    store(engine, *VN_PATIENTS, _order("don-1", "anh", _med("m1", "PARA500", "TAB")))
    before = _snapshot(engine)
    with engine.begin() as conn:
        for t in TABLES:
            conn.execute(delete(t))
    first_pk = min(row[0] for row in before["idx_string"])
    counts = reindex(engine, types=["Patient"], from_pk=first_pk)  # skips the first patient
    assert counts == {"Patient": len(VN_PATIENTS) - 1}
    after = _snapshot(engine)
    assert after["contained_resource"] == [] and all(row[0] != first_pk for row in after["idx_string"])
    assert {row for row in after["idx_string"]} <= set(before["idx_string"])


def test_cli_reindex(engine: Engine, database_url: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from benhan.cli import main

    store(engine, *VN_PATIENTS)
    monkeypatch.setenv("BENHAN_DATABASE_URL", database_url)
    assert main(["db", "reindex", "--type", "Patient", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert f"reindexed {len(VN_PATIENTS):,}" in out and f"Patient: {len(VN_PATIENTS):,}" in out
