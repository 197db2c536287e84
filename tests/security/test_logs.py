"""Personal data never reaches the application log, not even through an exception's message."""

from __future__ import annotations

import logging

import pytest

from benhan.fhir.repository import Repository
from benhan.security.log_privacy import WITHHELD

from .conftest import patient, put

SECRET = "Nguyễn Thị Bí Mật 079185000123"


def _explode(*_a, **_k):  # type: ignore[no-untyped-def]
    try:
        raise KeyError(SECRET)
    except KeyError as inner:
        raise ValueError(f"could not read Patient for {SECRET}") from inner


def test_a_failed_fhir_request_logs_no_exception_message(secure, monkeypatch, caplog):
    put(secure.admin, patient("p1"))
    client = secure.as_user("td.an", ["reception"])
    monkeypatch.setattr(Repository, "read", _explode)
    with caplog.at_level(logging.ERROR):
        resp = client.get("Patient/p1")
    assert resp.status_code == 500 and resp.json()["resourceType"] == "OperationOutcome"
    assert SECRET not in resp.text
    logged = caplog.text
    assert "internal error on GET Patient" in logged and "builtins.ValueError" in logged and WITHHELD in logged
    assert "while handling: builtins.KeyError" in logged and "_explode" in logged  # still diagnosable
    assert SECRET not in logged and "079185000123" not in logged and "p1" not in logged


def test_uvicorn_tracebacks_are_scrubbed_too(secure, caplog):
    """uvicorn logs an exception that escapes the app on ``uvicorn.error``; the filter is on it."""
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"):
        try:
            _explode()
        except ValueError as exc:
            logging.getLogger("uvicorn.error").error("Exception in ASGI application\n", exc_info=exc)
    assert "Exception in ASGI application" in caplog.text and WITHHELD in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize("name", ["benhan.fhir", "uvicorn.error"])
def test_the_filter_is_installed_once(secure, name):
    from benhan.security import log_privacy

    log_privacy.install()
    filters = [f for f in logging.getLogger(name).filters if isinstance(f, log_privacy.WithholdExceptionMessages)]
    assert len(filters) == 1
