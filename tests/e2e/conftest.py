"""End-to-end tests: the real app behind a live HTTP server, driven by Chromium through Playwright.

* ``live_server``: uvicorn in a background thread on a free 127.0.0.1 port, over a fresh copy of the
  web demo database (the templates of tests/web/conftest.py: the small demo hospital, catalogs, demo
  accounts);
* ``browser``: Debian's Chromium (``/usr/bin/chromium``, installed by tools/install-test-deps.sh),
  headless, with the flags the closed sandbox network needs. Without Chromium the tests are skipped —
  except under ``CI`` (set to anything but ``""``/``0``/``false``), where a missing browser fails;
* ``sign_in(username)``: a new browser page signed in as a demo user;
* ``shot(step)``: a screenshot of the page signed in last (or ``shot(step, page)``) into
  ``test-artifacts/e2e/<test name>/<nn>-<step>.png`` (numbered in the order taken).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benhan.demo.accounts import DEMO_PASSWORD
from benhan.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TIMEOUT_MS = 15_000


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Any
    settings: Settings

    @property
    def engine(self) -> Any:
        return self.app.state.engine


@pytest.fixture
def live_server(web_url: str) -> Iterator[LiveServer]:
    import uvicorn

    from benhan.app import create_app

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # Plain HTTP on the loopback: cookies without the Secure flag.
    settings = Settings(database_url=web_url, base_url=f"{base}/fhir", demo=True, secure_cookies=False)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield LiveServer(base, app, settings)
    server.should_exit = True
    thread.join(timeout=15)
    app.state.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run tools/install-test-deps.sh (Debian package chromium)"
        if in_ci():
            pytest.fail(message + " — CI must run the end-to-end tests")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def opened() -> list[Any]:
    """The pages opened by ``sign_in`` in this test, in order."""
    return []


@pytest.fixture
def sign_in(browser: Any, live_server: LiveServer, opened: list[Any]) -> Iterator[Callable[..., Any]]:
    """``sign_in("bacsi")``: a new page (own cookies) signed in as that demo user, on its home page."""
    contexts: list[Any] = []

    def open_as(username: str, *, lang: str = "vi") -> Any:
        context = browser.new_context(base_url=live_server.url, locale="vi-VN" if lang == "vi" else "en-US",
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([{"name": "benhan_lang", "value": lang, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.goto("/auth/login?next=/")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', DEMO_PASSWORD)
        page.click('form[action="/auth/login"] button[type="submit"]')
        page.wait_for_url(lambda url: "/auth/login" not in url)
        opened.append(page)
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest, opened: list[Any]) -> Callable[..., Path]:
    """``shot("step")``: save a full-page screenshot as ``<nn>-<step>.png`` for this test."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for old in folder.glob("*.png") if folder.is_dir() else []:
        old.unlink()
    taken: list[Path] = []

    def take(step: str, page: Any = None) -> Path:
        page = page or opened[-1]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{len(taken) + 1:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take
