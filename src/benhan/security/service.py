"""The security service of one app: authenticates bearer tokens into a per-request
:class:`~benhan.security.guard.FhirGuard`, and records what failed.

Stateless between requests apart from the public-key cache, so any number of workers can run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from benhan.fhir.errors import FhirError, Issue
from benhan.settings import Settings

from . import audit, log_privacy
from .access import Access
from .audit import AuditEntry
from .guard import FhirGuard
from .keys import KeyRing
from .principal import Principal, from_claims
from .tokens import TokenError, verify

REALM = 'Bearer realm="benhan"'


@dataclass(slots=True)
class AuthError(FhirError):
    """401 with a ``WWW-Authenticate`` challenge (RFC 6750)."""

    headers: dict[str, str] = field(default_factory=dict)


def unauthorized(reason: str | None, vi: str, en: str) -> AuthError:
    challenge = REALM if reason is None else f'{REALM}, error="{reason}", error_description="{en}"'
    return AuthError(401, [Issue("login", vi, en)], {"WWW-Authenticate": challenge})


class SecurityService:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        log_privacy.install()  # tracebacks of failed requests without exception messages
        self.engine = engine
        self.settings = settings
        self.keyring = KeyRing()

    def principal(self, conn: Connection, authorization: str | None, ip: str | None) -> Principal:
        """The caller of a request with ``Authorization: Bearer ...``; raises :class:`AuthError`."""
        if not authorization:
            raise unauthorized(None, "Cần đăng nhập: thiếu mã truy cập (Authorization: Bearer)",
                               "Authentication required: missing bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("invalid_request", "Chỉ nhận mã truy cập dạng Bearer",
                               "Only Bearer tokens are accepted")
        try:
            claims = verify(conn, token.strip(), self.keyring, check_revoked=False)
            return from_claims(conn, claims, ip=ip)  # checks revocation
        except TokenError as exc:
            raise unauthorized(exc.reason, exc.vi, exc.en) from exc

    def guard(self, conn: Connection, principal: Principal) -> FhirGuard:
        return FhirGuard(conn, Access(principal, dialect=conn.dialect.name))

    def record_failure(self, guard: FhirGuard | None, action: str, entity: str, exc: FhirError,
                       ip: str | None) -> None:
        """Keep the denials and the failure of a request whose transaction rolled back."""
        entries: list[AuditEntry] = []
        detail = "; ".join(i.en for i in exc.issues)[:500]
        if guard is not None:
            entries.extend(guard.denials)
            if exc.status != 403 or not guard.denials:
                entries.append(guard.entry(action, entity, outcome=exc.status, detail=detail))
        elif exc.status == 401 and "missing bearer token" not in detail:
            # A presented but unusable token: worth keeping (missing ones are just anonymous noise).
            entries.append(AuditEntry(action, 401, entity=entity, ip=ip, detail=detail))
        audit.append_now(self.engine, entries)
