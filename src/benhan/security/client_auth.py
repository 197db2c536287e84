"""Client authentication at the token endpoint with a signed JWT (``private_key_jwt``, RFC 7523),
as SMART Backend Services and confidential-asymmetric SMART apps use it.

The assertion must be signed (RS384 or ES384) by a key of the JWKS registered for the client, with
``iss`` = ``sub`` = the client id, ``aud`` = our token endpoint URL, an ``exp`` no more than five
minutes ahead, and a ``jti`` never seen before (kept in ``seen_assertion`` until it expires).
"""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
from sqlalchemy import Connection, delete, insert, select

from benhan.fhir.clock import Clock, system_clock

from .oauth_clients import Client, get_client
from .oauth_errors import OAuthError
from .tables import seen_assertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
MAX_LIFETIME = 300  # seconds between now and exp
LEEWAY = 30  # clock skew tolerated on exp/iat/nbf


def _bad(en: str, vi: str) -> OAuthError:
    return OAuthError("invalid_client", vi, en, status=401)


def _key_for(client: Client, header: dict[str, Any]) -> Any:
    """The public key of the client's JWKS named by ``kid`` (or the only one of the right type)."""
    keys = [k for k in (client.jwks or {}).get("keys", []) if isinstance(k, dict)]  # type: ignore[union-attr]
    kid = header.get("kid")
    if kid is not None:
        keys = [k for k in keys if k.get("kid") == kid]
    kty = "RSA" if header["alg"].startswith("RS") else "EC"
    keys = [k for k in keys if k.get("kty") == kty and k.get("use", "sig") == "sig"]
    if len(keys) != 1:
        raise _bad("No matching key in the client's registered JWKS", "Không có khoá phù hợp trong JWKS đã đăng ký")
    try:
        return jwt.PyJWK(keys[0], algorithm=header["alg"]).key
    except jwt.PyJWTError as exc:
        raise _bad("The registered key is unusable", "Khoá đã đăng ký không dùng được") from exc


def authenticate_client(conn: Connection, assertion_type: str | None, assertion: str | None, token_url: str, *,
                        client_id: str | None = None, clock: Clock = system_clock) -> Client:
    """The registered client that signed ``assertion``; :class:`OAuthError` ``invalid_client`` otherwise."""
    if assertion_type != ASSERTION_TYPE or not assertion:
        raise _bad("client_assertion_type must be jwt-bearer with a client_assertion",
                   "Cần client_assertion kiểu jwt-bearer")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _bad("Malformed client assertion", "client_assertion không đúng định dạng") from exc
    if header.get("alg") not in ALGORITHMS:
        raise _bad(f"The assertion must be signed with {' or '.join(ALGORITHMS)}",
                   f"client_assertion phải ký bằng {' hoặc '.join(ALGORITHMS)}")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or (client_id is not None and issuer != client_id):
        raise _bad("iss must be the client id", "iss phải là client_id")
    client = get_client(conn, issuer)
    if client is None or client.disabled or not client.jwks:
        raise _bad("Unknown or disabled client", "Ứng dụng không tồn tại hoặc đã bị vô hiệu hoá")
    key = _key_for(client, header)
    now = clock() // 1_000_000
    try:
        claims = jwt.decode(assertion, key, algorithms=[header["alg"]], audience=token_url, issuer=client.client_id,
                            options={"require": ["iss", "sub", "aud", "exp", "jti"]}, leeway=LEEWAY)
    except jwt.ExpiredSignatureError as exc:
        raise _bad("The client assertion has expired", "client_assertion đã hết hạn") from exc
    except jwt.InvalidAudienceError as exc:
        raise _bad("aud must be the token endpoint URL", "aud phải là địa chỉ token endpoint") from exc
    except jwt.PyJWTError as exc:
        raise _bad("Invalid client assertion signature or claims", "Chữ ký hoặc nội dung client_assertion sai") from exc
    if claims["sub"] != client.client_id:
        raise _bad("sub must be the client id", "sub phải là client_id")
    exp = int(claims["exp"])
    if exp <= now - LEEWAY:
        raise _bad("The client assertion has expired", "client_assertion đã hết hạn")
    if exp > now + MAX_LIFETIME + LEEWAY:
        raise _bad("exp must be at most five minutes ahead", "exp không được quá 5 phút")
    _remember(conn, client.client_id, str(claims["jti"]), exp, now)
    return client


def _remember(conn: Connection, client_id: str, jti: str, exp: int, now: int) -> None:
    """Refuse a replayed assertion: its ``jti`` is kept until the assertion expires."""
    key = hashlib.sha256(f"{client_id}\x00{jti}".encode()).hexdigest()
    conn.execute(delete(seen_assertion).where(seen_assertion.c.expires < now - LEEWAY))
    if conn.execute(select(seen_assertion.c.jti).where(seen_assertion.c.jti == key)).first() is not None:
        raise _bad("This client assertion (jti) was already used", "client_assertion (jti) đã được dùng")
    conn.execute(insert(seen_assertion), {"jti": key, "expires": exp + LEEWAY})
