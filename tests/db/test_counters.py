"""Gapless sequences in the ``counter`` table (db/counters.py) and migration 0013's carry-over."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from sqlalchemy import Engine, select

from benhan.db.counters import next_value
from benhan.db.engine import make_engine
from benhan.db.migrate import alembic_config, upgrade
from benhan.db.schema import counter
from benhan.fhir.repository import Repository


def _next(engine: Engine, name: str, period: str | None = None) -> int:
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            return next_value(conn, name, period)


def test_numbers_follow_each_other_per_sequence(engine: Engine) -> None:
    assert [_next(engine, "a") for _ in range(3)] == [1, 2, 3]
    assert _next(engine, "b") == 1
    assert _next(engine, "a") == 4


def test_a_new_period_restarts_at_one(engine: Engine) -> None:
    assert [_next(engine, "room", "2026-11-24") for _ in range(2)] == [1, 2]
    assert _next(engine, "room", "2026-11-25") == 1
    assert _next(engine, "room", "2026-11-25") == 2


def test_a_rolled_back_number_is_issued_again(engine: Engine) -> None:
    assert _next(engine, "a") == 1
    with pytest.raises(RuntimeError), engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            assert next_value(conn, "a") == 2
            raise RuntimeError("the registration failed")
    assert _next(engine, "a") == 2


def test_concurrent_callers_never_share_a_number(engine: Engine) -> None:
    with ThreadPoolExecutor(4) as pool:
        numbers = list(pool.map(lambda _: _next(engine, "shared"), range(40)))
    assert sorted(numbers) == list(range(1, 41))


def test_migration_carries_the_basic_counters_over(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0012")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            repo = Repository(conn)
            repo.update("Basic", "patient-code-counter-01001", {
                "resourceType": "Basic", "id": "patient-code-counter-01001", "code": {"text": "patient code counter"},
                "extension": [{"url": "urn:benhan:fhir:extension:counter-value", "valueInteger": 41}]})
            repo.update("Basic", "queue-counter-room-1", {
                "resourceType": "Basic", "id": "queue-counter-room-1", "code": {"text": "queue counter"},
                "extension": [{"url": "urn:benhan:fhir:extension:counter-day", "valueDate": "2026-11-23"},
                              {"url": "urn:benhan:fhir:extension:counter-value", "valueInteger": 7}]})
            repo.update("Basic", "something-else", {"resourceType": "Basic", "id": "something-else",
                                                     "code": {"text": "not a counter"}})
        engine.dispose()
        upgrade(database_url)
        with engine.connect() as conn:
            rows = sorted(tuple(row) for row in conn.execute(select(counter.c.name, counter.c.period, counter.c.value)))
        assert rows == [("patient-code-counter-01001", None, 41), ("queue-counter-room-1", "2026-11-23", 7)]
        assert _next(engine, "patient-code-counter-01001") == 42
        assert _next(engine, "queue-counter-room-1", "2026-11-23") == 8
        assert _next(engine, "queue-counter-room-1", "2026-11-24") == 1
    finally:
        engine.dispose()
