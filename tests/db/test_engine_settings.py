"""Session settings our PostgreSQL connections carry (the URL's own ``options`` are kept)."""

from __future__ import annotations

from sqlalchemy import text

from benhan.db.engine import make_engine


def test_postgres_connections_run_without_jit_and_keep_url_options(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        return  # SQLite has no JIT and no session options
    for url, timeout in ((database_url, None), (database_url + "?options=-c%20statement_timeout%3D4321", "4321ms")):
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SHOW jit")).scalar_one() == "off"
                if timeout:
                    assert conn.execute(text("SHOW statement_timeout")).scalar_one() == timeout
        finally:
            engine.dispose()


def test_sqlite_write_flag_lasts_one_checkout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A writer's ``conn.info["write"]`` must not make the next borrower of the pooled connection take the
    write lock (BEGIN IMMEDIATE) for a read."""
    from sqlalchemy import event

    engine = make_engine(f"sqlite:///{tmp_path}/flag.db")
    begins: list[str] = []

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                conn.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT count(*) FROM t")).scalar_one()
        assert engine.pool.checkedin() == 1  # the same pooled connection both times
        assert begins == ["BEGIN IMMEDIATE", "BEGIN"]
    finally:
        engine.dispose()
