"""FastAPI dependencies: authenticate before anything else looks at the request.

Declared on a route or router, :func:`require_bearer` runs before FastAPI validates the route's own
parameters, so an anonymous caller always gets 401 — never a validation error that would tell it
what the endpoint expects. The route still makes its own access decision afterwards.
"""

from __future__ import annotations

import orjson
from fastapi import Request
from starlette.responses import Response

from benhan.fhir.errors import operation_outcome

from .service import AuthError


def require_bearer(request: Request) -> None:
    """Raise :class:`AuthError` (401) unless the request carries a valid bearer token.

    The principal is kept on ``request.state.principal`` for the route (:func:`benhan.fhir.scope.repository_scope`
    uses it instead of verifying the token and reading the account a second time).
    """
    ip = request.client.host if request.client else None
    with request.app.state.engine.connect() as conn:
        request.state.principal = request.app.state.security.principal(conn, request.headers.get("authorization"), ip)


def auth_error_response(_request: Request, exc: Exception) -> Response:
    """401 as an OperationOutcome with its ``WWW-Authenticate`` challenge."""
    assert isinstance(exc, AuthError)
    return Response(orjson.dumps(operation_outcome(exc.issues)), status_code=exc.status, headers=exc.headers,
                    media_type="application/fhir+json; charset=utf-8")
