"""Signed, short-lived, revocable bearer tokens (JWT, ES256).

Claims: ``sub`` (the user name, or the client id for system tokens), ``client_id``, ``scope``,
``patient`` (SMART launch context), ``fhirUser``, ``jti`` (for revocation), ``iat``/``exp``.
Roles and departments are NOT in the token: they are read from the database on each request, so
disabling a user or removing a role takes effect at once.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Connection, delete, insert, select

from benhan.fhir.clock import Clock, system_clock

from .keys import ALG, KeyRing, private_key
from .tables import revoked_token

ISSUER = "urn:benhan"
AUDIENCE = "urn:benhan:fhir"


class TokenError(Exception):
    """An unusable token; ``reason`` goes into ``WWW-Authenticate`` (never the token itself)."""

    def __init__(self, reason: str, vi: str, en: str) -> None:
        super().__init__(en)
        self.reason, self.vi, self.en = reason, vi, en


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    kind: str  # user | system
    client_id: str | None
    scope: str
    patient: str | None
    jti: str
    expires: int  # seconds since the epoch
    fhir_user: str | None = None


def issue(conn: Connection, *, subject: str, kind: str, scope: str, ttl: int, client_id: str | None = None,
          patient: str | None = None, fhir_user: str | None = None, clock: Clock = system_clock
          ) -> tuple[str, TokenClaims]:
    kid, key = private_key(conn)
    now = clock() // 1_000_000
    jti = secrets.token_hex(16)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "kind": kind, "scope": scope, "jti": jti,
              "iat": now, "exp": now + ttl}
    if client_id:
        claims["client_id"] = client_id
    if patient:
        claims["patient"] = patient
    if fhir_user:
        claims["fhirUser"] = fhir_user
    token = jwt.encode(claims, key, algorithm=ALG, headers={"kid": kid})  # type: ignore[arg-type]
    return token, TokenClaims(subject, kind, client_id, scope, patient, jti, now + ttl, fhir_user)


def verify(conn: Connection, token: str, keyring: KeyRing, *, clock: Clock = system_clock,
           check_revoked: bool = True) -> TokenClaims:
    """The claims of a valid, unexpired, unrevoked token, else :class:`TokenError`.

    ``check_revoked=False`` only for a caller that checks revocation itself in the same request
    (:func:`benhan.security.principal.from_claims` folds it into the account query).
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("invalid_token", "Mã truy cập không đúng định dạng", "Malformed access token") from exc
    if header.get("alg") != ALG or not isinstance(header.get("kid"), str):
        raise TokenError("invalid_token", "Mã truy cập không hợp lệ", "Invalid access token")
    key = keyring.public_key(conn, header["kid"])
    if key is None:
        raise TokenError("invalid_token", "Mã truy cập không do máy chủ này cấp", "Unknown signing key")
    claims = _VERIFIED.get(token, key)
    if claims is None:
        try:
            claims = jwt.decode(token, key, algorithms=[ALG], audience=AUDIENCE, issuer=ISSUER,  # type: ignore[arg-type]
                                options={"require": ["exp", "iat", "sub", "jti", "scope"]},
                                leeway=0)
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("invalid_token", "Mã truy cập đã hết hạn", "The access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_token", "Mã truy cập không hợp lệ", "Invalid access token") from exc
        _VERIFIED.put(token, key, claims)
    if claims["exp"] <= clock() // 1_000_000:
        raise TokenError("invalid_token", "Mã truy cập đã hết hạn", "The access token has expired")
    if check_revoked and conn.execute(select(revoked_token.c.jti).where(revoked_token.c.jti == claims["jti"])
                                      ).first() is not None:
        raise TokenError("invalid_token", "Mã truy cập đã bị thu hồi", "The access token has been revoked")
    return TokenClaims(claims["sub"], claims.get("kind", "user"), claims.get("client_id"), claims["scope"],
                       claims.get("patient"), claims["jti"], claims["exp"], claims.get("fhirUser"))


class _VerifiedTokens:
    """Claims of tokens whose signature, issuer and audience were already checked with a given key.

    The signature check is the same computation for the same token and key every time, and an app sends
    the same token on each request for its lifetime; expiry and revocation are still checked on every
    request, after this. A hit needs the very key object that verified it. Bounded LRU, shared by the
    threads of one worker.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[object, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, key: object) -> dict[str, Any] | None:
        with self._lock:
            found = self._items.get(token)
            if found is None or found[0] is not key:
                return None
            self._items.move_to_end(token)
            return found[1]

    def put(self, token: str, key: object, claims: dict[str, Any]) -> None:
        with self._lock:
            self._items[token] = (key, claims)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_VERIFIED = _VerifiedTokens()


def revoke(conn: Connection, jti: str, expires: int, *, clock: Clock = system_clock) -> None:
    """Refuse this token from now on (kept until it would have expired anyway)."""
    now_s = clock() // 1_000_000
    conn.execute(delete(revoked_token).where(revoked_token.c.expires < now_s))
    if conn.execute(select(revoked_token.c.jti).where(revoked_token.c.jti == jti)).first() is None:
        conn.execute(insert(revoked_token), {"jti": jti, "expires": expires})


def unverified_claims(token: str) -> dict[str, object] | None:
    """Claims without checking (only to find the jti of a token being revoked after verification)."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
