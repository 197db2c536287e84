"""Fixtures for the web app tests: a database with the small demo hospital, its catalogs and the demo
accounts (built once per backend, copied fresh for each test), and browsers signed in as a demo user.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from benhan.demo.accounts import DEMO_PASSWORD
from benhan.settings import Settings
from tests.conftest import BACKENDS, _libpq, fresh_database


def _load(url: str) -> None:
    from benhan.cli import _load_demo
    from benhan.security.cli import _init_keys

    settings = Settings(database_url=url, demo=True)
    _init_keys(settings)
    _load_demo(settings)


@pytest.fixture(scope="session")
def sqlite_web_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-web") / "web.db"
    shutil.copyfile(sqlite_template, path)
    _load(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_web_template(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    with psycopg.connect(_libpq(pg_cluster.url()), autocommit=True) as conn:
        conn.execute("CREATE DATABASE benhan_web_template TEMPLATE benhan_template")
    _load(pg_cluster.url("benhan_web_template"))
    return "benhan_web_template"


@pytest.fixture(params=BACKENDS)
def web_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database holding the small demo hospital, the catalogs and the demo accounts."""
    with fresh_database(request, tmp_path, sqlite_template="sqlite_web_template", pg_template="pg_web_template",
                        prefix="web") as url:
        yield url


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@dataclass
class WebApp:
    app: object
    engine: Engine
    settings: Settings

    def browser(self, username: str | None = None, *, lang: str = "vi") -> TestClient:
        """A browser (cookies kept, redirects not followed), signed in as demo user ``username``."""
        http = TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]
        http.cookies.set("benhan_lang", lang)
        if username:
            page = http.get("/auth/login")
            resp = http.post("/auth/login", data={"csrf_token": csrf_of(page.text), "username": username,
                                                  "password": DEMO_PASSWORD, "totp": "", "next": "/"})
            assert resp.status_code == 303, resp.text
        return http


@pytest.fixture
def web(web_url: str) -> Iterator[WebApp]:
    from benhan.app import create_app

    settings = Settings(database_url=web_url, base_url="http://testserver/fhir", demo=True)
    app = create_app(settings)
    yield WebApp(app, app.state.engine, settings)  # type: ignore[attr-defined]
    app.state.engine.dispose()  # type: ignore[attr-defined]
