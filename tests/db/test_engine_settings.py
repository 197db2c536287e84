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
