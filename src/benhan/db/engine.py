"""Engine creation and the few places where SQLite and PostgreSQL differ."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

# A pooled PostgreSQL connection idle longer than this is pinged before use (see _ping_when_idle).
IDLE_PING_SECONDS = 10.0


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, a busy timeout and immediate write locks."""
    parsed = make_url(url)
    if parsed.drivername.startswith("postgresql") and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(parsed, echo=echo, pool_size=10, max_overflow=20,
                           connect_args={"options": _without_jit(parsed.query.get("options"))})
    _ping_when_idle(engine)
    return engine


def _without_jit(options: str | tuple[str, ...] | None) -> str:
    """The connection's ``options`` plus ``-c jit=off``.

    PostgreSQL compiles a query to machine code when its estimated cost passes ``jit_above_cost``. Our
    searches' per-row access tests (EXISTS subplans) make estimates cross it while the real work is a
    few milliseconds: a doctor's ``Patient?name=ngu`` page spent 27 ms compiling for 10 ms of execution.
    A request-sized workload never earns the compilation back, so it is off for our connections only.
    """
    given = " ".join(options) if isinstance(options, tuple) else (options or "")
    return f"{given} -c jit=off".strip()


def _ping_when_idle(engine: Engine) -> None:
    """Test a pooled connection with ``SELECT 1`` only when it has been idle for a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip on every request, ~5% of
    a simple read's server CPU. Connections in steady use do not need it: a server restart breaks their
    next statement, SQLAlchemy then invalidates the whole pool. Idle connections are the ones that meet a
    restarted server first, so they are pinged; a failed ping makes the pool open a fresh connection.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT 1")
            dbapi_conn.rollback()
        except Exception as err:
            raise exc.DisconnectionError("idle connection failed its ping") from err


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, open transactions, so we can use BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        # ``conn.info`` lives as long as the pooled connection: one writer's flag must not make the next
        # borrower's reads take the write lock. Every writer sets it for itself.
        record.info.pop("write", None)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # Take the write lock at the start: several workers then queue instead of deadlocking.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")
