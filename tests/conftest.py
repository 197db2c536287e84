"""Shared fixtures: every test that takes ``database_url`` runs on SQLite AND on PostgreSQL.

Each test gets its own fresh database (copied from a migrated template), so tests never see each
other's data and never clean up after themselves. PostgreSQL is a private cluster started on
127.0.0.1 for the session; set ``BENHAN_TEST_BACKENDS=sqlite`` to skip it while iterating.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "benhan.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE benhan_template")
    yield cluster.url(name)
    with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()
