"""``benhan db roles --app-role``: the application's PostgreSQL role may append to the audit trail and
use the data, but cannot update, delete, truncate the trail or switch its triggers off."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from benhan.cli import main
from benhan.db.engine import make_engine
from benhan.security import audit
from benhan.security.db_roles import RoleError, grant_app_role

from .conftest import patient


def _as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def test_sqlite_has_no_roles(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    engine = make_engine(database_url)
    with engine.connect() as conn, pytest.raises(RoleError, match="PostgreSQL only"):
        grant_app_role(conn, "benhan_app")
    engine.dispose()


def test_app_role_cannot_rewrite_the_audit_trail(database_url, monkeypatch, capsys):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL roles")
    monkeypatch.setenv("BENHAN_DATABASE_URL", database_url)
    role = f"app_{make_url(database_url).database}"[:63]
    assert main(["db", "roles", "--app-role", role]) == 0
    assert main(["db", "roles", "--app-role", role]) == 0  # again (after an upgrade): idempotent
    assert "REVOKE UPDATE, DELETE, TRUNCATE" in capsys.readouterr().out
    owner = make_url(database_url).username
    assert main(["db", "roles", "--app-role", owner]) == 1  # the owner could switch the triggers off

    # The application, connected as that role, works normally and its accesses are audited.
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings
    from tests.conftest import FhirClient, system_token

    app_url = _as_role(database_url, role)
    app = create_app(Settings(database_url=app_url, base_url="http://testserver/fhir"))
    with TestClient(app):
        token = system_token(app.state.engine, "system/*.cruds")
        client = FhirClient(TestClient(app, headers={"Authorization": f"Bearer {token}"}))
        assert client.put("Patient/p1", patient("p1")).status_code == 201
        assert client.get("Patient/p1").status_code == 200
    engine = make_engine(app_url)
    try:
        with engine.connect() as conn:
            assert audit.count(conn) >= 2 and audit.verify(conn) == []
        for sql in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                    "ALTER TABLE audit_log DISABLE TRIGGER ALL", "DELETE FROM audit_head",
                    "INSERT INTO alembic_version VALUES ('x')"):
            with engine.connect() as conn, pytest.raises(DBAPIError) as caught, conn.begin():
                conn.execute(text(sql))
            message = str(caught.value.orig)
            assert "permission denied" in message or "must be owner" in message, (sql, message)
    finally:
        engine.dispose()
        app.state.engine.dispose()
