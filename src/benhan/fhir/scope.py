"""An authenticated, audited repository for one non-FHIR API request (registration, forms, ...).

The same rules as the FHIR adapter: a bearer token is required, every access goes through the
caller's access guard, and the audit rows commit with the data — or, on failure, on their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from .errors import FhirError
from .repository import Repository
from .search.engine import ACCESS_KEY


@contextmanager
def repository_scope(request: Request) -> Iterator[Repository]:
    """Open one write transaction as the caller of ``request`` and yield its repository."""
    app = request.app
    settings, security = app.state.settings, app.state.security
    base_url = settings.base_url or str(request.base_url).rstrip("/") + "/fhir"
    ip = request.client.host if request.client else None
    guard = None
    try:
        with app.state.engine.connect() as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    # authenticated a moment ago by the route's require_bearer dependency, if it has one
                    principal = getattr(request.state, "principal", None) or security.principal(
                        conn, request.headers.get("authorization"), ip)
                    guard = security.guard(conn, principal)
                    conn.info[ACCESS_KEY] = guard
                    repo = Repository(conn, base_url=base_url, guard=guard)
                    yield repo
                    repo.flush()
                    guard.flush(conn)
            finally:
                conn.info.pop(ACCESS_KEY, None)
    except FhirError as exc:
        security.record_failure(guard, request.method.lower(), request.url.path, exc, ip)
        raise
