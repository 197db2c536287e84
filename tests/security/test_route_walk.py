"""Walk every route the application registers: none may answer an unauthenticated caller with data.

A new route is public only if it is added to ``PUBLIC`` below on purpose (login pages, discovery
documents, the CapabilityStatement, liveness). Everything else must refuse a request without
credentials (401, or a redirect to the login page for browser pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

PUBLIC = {
    "/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
    "/fhir/metadata", "/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration",
    "/.well-known/jwks.json", "/auth/login", "/auth/static/auth.css", "/oauth/authorize", "/oauth/token",
    "/oauth/revoke",
    "/static",  # the web app's CSS, scripts, fonts (no data); mounted directory
}
REFUSED = {401, 403, 405}


def _routes(routes) -> Iterator[tuple[str, frozenset[str]]]:  # type: ignore[no-untyped-def]
    for route in routes:
        if hasattr(route, "path"):
            yield route.path, frozenset(getattr(route, "methods", None) or {"GET"})
        elif hasattr(route, "original_router"):  # FastAPI include_router wrapper
            yield from _routes(route.original_router.routes)
        elif hasattr(route, "routes"):
            yield from _routes(route.routes)


def _concrete(path: str) -> str:
    """A request path for a route template: every parameter gets a harmless value."""
    path = path.replace("{path:path}", "Patient/example")
    return re.sub(r"\{[^}]+\}", "example", path)


def test_every_non_public_route_refuses_anonymous_callers(database_url):
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings

    app = create_app(Settings(database_url=database_url))
    seen = list(_routes(app.routes))
    assert any(p.startswith("/fhir") for p, _ in seen) and any(p.startswith("/api/") for p, _ in seen)
    problems = []
    with TestClient(app, follow_redirects=False) as http:
        for template, methods in seen:
            if template in PUBLIC or template.startswith("/auth/static"):
                continue
            for method in sorted(methods - {"HEAD", "OPTIONS"}):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                resp = http.request(method, _concrete(template), json=body)
                to_login = resp.status_code in (302, 303, 307) and "/auth/login" in resp.headers.get("location", "")
                if resp.status_code not in REFUSED and not to_login:
                    problems.append(f"{method} {template} -> {resp.status_code}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", ["Patient", "Patient/example", "Observation?code=1234", "_history",
                                  "Patient/example/$everything", "AuditEvent", ""])
def test_fhir_paths_need_a_token(client, path):
    # the `client` fixture carries a token: strip it to act as an anonymous caller
    http = client.http
    resp = http.get(f"/fhir/{path}", headers={"Authorization": ""})
    assert resp.status_code == 401
    assert resp.json()["resourceType"] == "OperationOutcome"
