"""Loading through the repository, on SQLite and PostgreSQL; the small demo for ``make run``."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from benhan.db import schema
from benhan.demo import DemoSpec, Generator, load, load_small_demo
from benhan.demo.writer import DemoLoadError, load_shared
from benhan.fhir.repository import Repository

TODAY = date(2026, 11, 22)


def _stored_counts(engine) -> Counter[str]:
    r = schema.resource
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(r.c.type, func.count()).group_by(r.c.type)).all()))


def test_load_writes_exactly_what_the_generator_makes(engine):
    spec = DemoSpec(seed=21, patients=8, years=1, today=TODAY)
    progress: list[tuple[int, int]] = []
    counts = load(engine, spec, batch=3, progress=lambda p, r: progress.append((p, r)))
    generator = Generator(spec)
    expected = Counter(r["resourceType"] for r in generator.shared())
    for i in range(spec.patients):
        expected.update(r["resourceType"] for r in generator.patient(i))
    assert counts == expected == _stored_counts(engine)
    assert [p for p, _ in progress] == [3, 3, 2]
    patient = generator.patient(0)[0]
    with engine.connect() as conn:
        stored = Repository(conn).read("Patient", patient["id"]).resource()
    assert stored["name"] == patient["name"] and stored["identifier"] == patient["identifier"]


def test_loading_the_same_seed_twice_is_refused(engine):
    generator = Generator(DemoSpec(seed=22, patients=1, years=1, today=TODAY))
    load_shared(engine, generator)
    with pytest.raises(DemoLoadError) as refused:
        load_shared(engine, generator)
    assert refused.value.conflict


def test_parallel_workers_write_the_same_data(database_url):
    spec = DemoSpec(seed=23, patients=6, years=1, today=TODAY)
    counts = load(database_url, spec, workers=2, batch=2)
    generator = Generator(spec)
    expected = Counter(r["resourceType"] for r in generator.shared())
    for i in range(spec.patients):
        expected.update(r["resourceType"] for r in generator.patient(i))
    assert counts == expected


def test_small_demo_loads_once(engine):
    first = load_small_demo(engine, today=TODAY, patients=40)
    assert first["Patient"] == 40 and first["Appointment"] > 0
    stored = _stored_counts(engine)
    assert stored == first
    assert load_small_demo(engine, today=TODAY, patients=40) == Counter()
    assert _stored_counts(engine) == stored


def test_small_demo_has_todays_clinic(engine):
    load_small_demo(engine, today=TODAY, patients=40)
    with engine.connect() as conn:
        r = schema.resource
        rows = conn.execute(select(r.c.content).where(r.c.type == "Encounter")).scalars().all()
    import orjson

    statuses = Counter(orjson.loads(c)["status"] for c in rows)
    assert statuses["arrived"] > 0 and statuses["in-progress"] > 0 and statuses["finished"] > 0


def test_small_demo_leaves_a_used_database_alone(engine):
    load(engine, DemoSpec(seed=24, patients=1, years=1, today=TODAY))
    before = _stored_counts(engine)
    assert load_small_demo(engine, today=TODAY, patients=40) == Counter()
    assert _stored_counts(engine) == before


def test_diagnoses_pass_the_icd10_rules_of_the_write_path(engine):
    """With the ICD-10 list loaded, the repository refuses unknown codes, Z-codes as main diagnosis
    (QĐ 4469 sheet A2) and sex-specific codes for the other sex: the demo's case mix must pass."""
    from benhan.terminology.catalogs import shipped
    from benhan.terminology.loader import load_catalogs
    from benhan.terminology.systems import ICD10

    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            load_catalogs(conn, [c for c in shipped() if c.url == ICD10])
    counts = load(engine, DemoSpec(seed=25, patients=60, years=2, today=TODAY))
    assert counts["Condition"] > 0 and counts["Encounter"] > 0


def test_small_demo_loads_after_the_catalogs(engine):
    """``benhan init`` loads the shipped catalogs (as CodeSystem/ValueSet resources) before the demo: the demo
    must still see an empty database. (It did not, and ``make run`` opened on a hospital with no patients.)"""
    from benhan.terminology.catalogs import shipped
    from benhan.terminology.loader import load_catalogs

    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            load_catalogs(conn, shipped(None))
    assert sum(_stored_counts(engine).values()) > 0  # the catalogs are there
    assert load_small_demo(engine, today=TODAY, patients=40)["Patient"] == 40
