"""Fixtures: a database with every shipped catalog loaded, on each backend.

The catalogs (ICD-10: 12k codes) are loaded once per session into a template database; each test gets
a fresh copy, like the plain ``database_url`` fixture, so the suite stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from benhan.db.engine import make_engine
from benhan.terminology.catalogs import shipped
from benhan.terminology.loader import load_catalogs
from tests.conftest import BACKENDS, FhirClient, fresh_database, system_token, template_fixtures


def _load(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                load_catalogs(conn, shipped())
    finally:
        engine.dispose()


sqlite_term_template, pg_term_template = template_fixtures("term", _load)


@pytest.fixture(params=BACKENDS)
def term_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the shipped catalogs loaded."""
    with fresh_database(request, tmp_path, sqlite_template="sqlite_term_template", pg_template="pg_term_template",
                        prefix="term") as url:
        yield url


@pytest.fixture
def term_engine(term_url: str) -> Iterator[Engine]:
    eng = make_engine(term_url)
    yield eng
    eng.dispose()


@pytest.fixture
def term_client(term_url: str) -> Iterator[FhirClient]:
    """A FHIR client (system token) on a database with the catalogs loaded."""
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings

    app = create_app(Settings(database_url=term_url, base_url="http://testserver/fhir"))
    token = system_token(app.state.engine, "system/*.cruds")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:
        yield FhirClient(http)
