"""Fixtures for the web app tests: the app over ``web_url`` (tests/conftest.py: a fresh copy of a
database with the small demo hospital, its catalogs and the demo accounts) and browsers signed in as a
demo user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from benhan.demo.accounts import DEMO_PASSWORD
from benhan.settings import Settings


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
