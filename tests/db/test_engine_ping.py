"""Pooled PostgreSQL connections survive a server restart: idle ones are pinged before use."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from benhan.db import engine as engine_module
from benhan.db.engine import make_engine
from benhan.db.pgcluster import PgCluster, find_bindir

pytestmark = pytest.mark.skipif(find_bindir() is None, reason="PostgreSQL binaries not installed")


@pytest.fixture
def cluster():  # type: ignore[no-untyped-def]
    c = PgCluster().start()
    yield c
    c.stop()


def _restart(cluster: PgCluster) -> None:
    cluster._run("pg_ctl", "-D", str(cluster.data), "-m", "fast", "-w", "restart")


def _select_one(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT 1")).scalar_one())


def test_idle_connection_is_replaced_after_a_restart(cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    engine = make_engine(cluster.url())
    try:
        assert _select_one(engine) == 1  # one pooled connection, now idle
        _restart(cluster)
        assert _select_one(engine) == 1  # the ping found it dead; the pool opened a new one
    finally:
        engine.dispose()


def test_without_the_ping_a_restart_breaks_the_pooled_connection(cluster: PgCluster,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: a connection used again at once is not pinged, and meets the restart itself."""
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 3600.0)
    engine = make_engine(cluster.url())
    try:
        assert _select_one(engine) == 1
        _restart(cluster)
        with pytest.raises(OperationalError):
            _select_one(engine)
        assert _select_one(engine) == 1  # the error invalidated the pool: the next request is fine
    finally:
        engine.dispose()
