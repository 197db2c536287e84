"""Shared fixtures: every test that takes ``database_url`` runs on SQLite AND on PostgreSQL.

Each test gets its own fresh database (copied from a migrated template), so tests never see each
other's data and never clean up after themselves. PostgreSQL is a private cluster started on
127.0.0.1 for the session; set ``BENHAN_TEST_BACKENDS=sqlite`` to skip it while iterating.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from benhan.db.engine import make_engine
from benhan.db.migrate import upgrade
from benhan.db.pgcluster import PgCluster

BACKENDS = [b.strip() for b in os.environ.get("BENHAN_TEST_BACKENDS", "sqlite,postgres").split(",") if b.strip()]
DATA = Path(__file__).parent / "data"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster().start()
    with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
        conn.execute("CREATE DATABASE benhan_template")
    upgrade(cluster.url("benhan_template"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path, *, sqlite_template: str = "sqlite_template",
                   pg_template: str | None = None, prefix: str = "t") -> Iterator[str]:
    """A new database copied from a migrated template, on the backend of ``request.param``.

    ``sqlite_template`` names the fixture giving the SQLite template file; ``pg_template`` names the
    fixture giving the PostgreSQL template database (default: the plain migrated ``benhan_template``).
    """
    if request.param == "sqlite":
        template: Path = request.getfixturevalue(sqlite_template)
        path = tmp_path / "benhan.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    template_name = request.getfixturevalue(pg_template) if pg_template else "benhan_template"
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_name}")
    yield cluster.url(name)
    with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def template_fixtures(name: str, load: Callable[[str], None]) -> tuple[Any, Any]:
    """Session fixtures ``sqlite_<name>_template`` and ``pg_<name>_template``: the migrated template
    plus what ``load(url)`` writes, built once per session; tests take fresh copies with
    :func:`fresh_database`. Assign both at module level of a conftest to register them."""

    def sqlite_fixture(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
        path = tmp_path_factory.mktemp(f"sqlite-{name}") / f"{name}.db"
        shutil.copyfile(sqlite_template, path)
        load(f"sqlite:///{path}")
        return path

    def pg_fixture(pg_cluster: PgCluster) -> str:
        database = f"benhan_{name}_template"
        with psycopg.connect(_libpq(pg_cluster.url()), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database} TEMPLATE benhan_template")
        load(pg_cluster.url(database))
        return database

    return (pytest.fixture(scope="session", name=f"sqlite_{name}_template")(sqlite_fixture),
            pytest.fixture(scope="session", name=f"pg_{name}_template")(pg_fixture))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database on each backend."""
    with fresh_database(request, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def client(database_url: str) -> Iterator[FhirClient]:
    """A FHIR client talking to a fresh app (on each backend) through the real ASGI stack.

    It authenticates with a system token (``system/*.cruds``) minted in the fresh database, the way a
    trusted integration (data loader, other hospital) would: every FHIR call is checked and audited.
    """
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings

    app = create_app(Settings(database_url=database_url, base_url="http://testserver/fhir"))
    token = system_token(app.state.engine, "system/*.cruds")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:
        yield FhirClient(http)


def system_token(engine: Engine, scope: str, subject: str = "test-suite", ttl: int = 3600) -> str:
    """A signed system (backend-services) token for ``scope``, issued straight from the database."""
    from benhan.security import tokens

    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            token, _ = tokens.issue(conn, subject=subject, kind="system", scope=scope, ttl=ttl)
    return token


class FhirClient:
    """Small helper over the HTTP client: JSON in, (status, body, headers) out."""

    def __init__(self, http) -> None:  # type: ignore[no-untyped-def]
        self.http = http

    def request(self, method: str, path: str, body=None, headers=None, **kw):  # type: ignore[no-untyped-def]
        import orjson

        hdrs = {"Content-Type": "application/fhir+json", **(headers or {})}
        content = orjson.dumps(body) if body is not None and not isinstance(body, (bytes, str)) else body
        return self.http.request(method, f"/fhir/{path.lstrip('/')}", content=content, headers=hdrs, **kw)

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw):  # type: ignore[no-untyped-def]
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body=None, **kw):  # type: ignore[no-untyped-def]
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body=None, **kw):  # type: ignore[no-untyped-def]
        hdrs = {"Content-Type": "application/json-patch+json", **kw.pop("headers", {})}
        return self.request("PATCH", path, body, headers=hdrs, **kw)

    def delete(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kw)

    def create(self, resource: dict) -> dict:  # type: ignore[type-arg]
        resp = self.post(resource["resourceType"], resource)
        assert resp.status_code == 201, resp.text
        return resp.json()


# ---------------------------------------------------------------- the demo hospital (web, e2e, clinical)


def _load(url: str) -> None:
    """The demo hospital, catalogs and demo accounts, as ``make run`` loads them."""
    from benhan.cli import _load_demo
    from benhan.security.cli import _init_keys
    from benhan.settings import Settings

    settings = Settings(database_url=url, demo=True)
    _init_keys(settings)
    _load_demo(settings)


sqlite_web_template, pg_web_template = template_fixtures("web", _load)


@pytest.fixture(params=BACKENDS)
def web_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database holding the small demo hospital, the catalogs and the demo accounts."""
    with fresh_database(request, tmp_path, sqlite_template="sqlite_web_template", pg_template="pg_web_template",
                        prefix="web") as url:
        yield url
