"""CSRF protection for the HTML forms.

Forms of a logged-in user carry the token bound to their server-side session (``web_session.csrf``).
Forms shown before login (the login page itself) use a double-submit token: a random value set in
an HttpOnly, SameSite=Lax cookie and repeated in a hidden field; both must match.
Comparisons are constant-time.
"""

from __future__ import annotations

import hmac
import secrets

FIELD = "csrf_token"
COOKIE = "benhan_csrf"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def matches(expected: str | None, given: str | None) -> bool:
    """True when both are present and equal."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
