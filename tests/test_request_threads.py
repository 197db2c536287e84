"""``BENHAN_REQUEST_THREADS``: the number of requests one worker runs at once in its thread pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from anyio import to_thread
from starlette.testclient import TestClient

from benhan.app import create_app
from benhan.settings import Settings


def _limiter_tokens() -> float:
    return to_thread.current_default_thread_limiter().total_tokens


@pytest.mark.parametrize("threads", [3, 17])
def test_the_app_sizes_the_thread_limiter_from_settings(tmp_path: Path, threads: int) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", request_threads=threads))
    with TestClient(app) as client:
        assert client.portal is not None
        assert client.portal.call(_limiter_tokens) == threads


def test_setting_from_environment_defaults_to_eight_and_is_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENHAN_REQUEST_THREADS", raising=False)
    assert Settings.from_env().request_threads == 8
    monkeypatch.setenv("BENHAN_REQUEST_THREADS", "24")
    assert Settings.from_env().request_threads == 24
    monkeypatch.setenv("BENHAN_REQUEST_THREADS", "0")
    assert Settings.from_env().request_threads == 1
