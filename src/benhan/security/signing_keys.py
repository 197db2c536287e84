"""Per-user document-signing keys (khoá ký số cá nhân): software ES256 keys until hardware tokens come.

A user's key is generated on first use (when they first sign). The private key never leaves the
server and is never stored in clear: it is wrapped with AES-256-GCM under a key derived from the
user's password with scrypt, so it can only be used at the moment the user re-enters the password to
sign (the signature is the act of the person, not of whoever can read the database). The public key
is published as a JWK with a key id (``kid``), and is kept forever so old signatures still verify.

If the password changed since the key was made (change or reset), the old key can no longer be
unwrapped: it is retired (``active`` false, still published) and a new key is generated.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from jwt.algorithms import ECAlgorithm
from sqlalchemy import Connection, insert, select, update

from benhan.fhir.clock import Clock, system_clock

from .tables import user_signing_key

ALG = "ES256"
WRAP_SCHEME = "scrypt-aesgcm-1"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A user's unwrapped key, alive only for one signing."""

    kid: str
    user_id: int
    private: ec.EllipticCurvePrivateKey
    public_jwk: dict[str, object]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kek(password: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P).derive(password.encode())


def _aad(kid: str, user_id: int) -> bytes:
    # Binds the wrapped key to its row: a wrapped key copied onto another user's row does not unwrap.
    return f"{WRAP_SCHEME}|{kid}|{user_id}".encode()


def wrap(private: ec.EllipticCurvePrivateKey, password: str, kid: str, user_id: int) -> str:
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_kek(password, salt)).encrypt(nonce, der, _aad(kid, user_id))
    return "$".join((WRAP_SCHEME, _b64(salt), _b64(nonce), _b64(sealed)))


def unwrap(wrapped: str, password: str, kid: str, user_id: int) -> ec.EllipticCurvePrivateKey | None:
    """The private key, or None when ``password`` is not the one it was wrapped under."""
    scheme, salt, nonce, sealed = wrapped.split("$")
    if scheme != WRAP_SCHEME:
        raise ValueError(f"unknown key wrapping {scheme!r}")
    try:
        der = AESGCM(_kek(password, _unb64(salt))).decrypt(_unb64(nonce), _unb64(sealed), _aad(kid, user_id))
    except InvalidTag:
        return None
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _public_jwk(private: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, object]:
    jwk = orjson.loads(ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": ALG, "use": "sig"})
    return jwk


def create_key(conn: Connection, user_id: int, password: str, *, clock: Clock = system_clock) -> SigningKey:
    """A new active key for the user (their previous keys are retired, still published)."""
    private = ec.generate_private_key(ec.SECP256R1())
    kid = "u" + secrets.token_hex(10)
    jwk = _public_jwk(private, kid)
    t = user_signing_key
    conn.execute(update(t).where(t.c.user_id == user_id, t.c.active.is_(True)).values(active=False))
    conn.execute(insert(t), {"kid": kid, "user_id": user_id, "alg": ALG, "public_jwk": orjson.dumps(jwk).decode(),
                             "wrapped_private": wrap(private, password, kid, user_id), "created": clock(),
                             "active": True})
    return SigningKey(kid, user_id, private, jwk)


def key_for_signing(conn: Connection, user_id: int, password: str, *, clock: Clock = system_clock) -> SigningKey:
    """The user's active key unwrapped with ``password`` (already checked by the caller against the
    account), generated on first use, or replaced when it was wrapped under a former password."""
    t = user_signing_key
    row = conn.execute(select(t.c.kid, t.c.wrapped_private, t.c.public_jwk)
                       .where(t.c.user_id == user_id, t.c.active.is_(True))
                       .order_by(t.c.created.desc()).limit(1)).first()
    if row is not None:
        private = unwrap(row.wrapped_private, password, row.kid, user_id)
        if private is not None:
            return SigningKey(row.kid, user_id, private, orjson.loads(row.public_jwk))
    return create_key(conn, user_id, password, clock=clock)


def public_jwk(conn: Connection, kid: str) -> dict[str, object] | None:
    """The published public key ``kid`` (active or retired), or None."""
    raw = conn.execute(select(user_signing_key.c.public_jwk).where(user_signing_key.c.kid == kid)).scalar()
    return orjson.loads(raw) if raw else None


def public_key(conn: Connection, kid: str) -> ec.EllipticCurvePublicKey | None:
    jwk = public_jwk(conn, kid)
    if jwk is None:
        return None
    key = ECAlgorithm.from_jwk(orjson.dumps(jwk).decode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def owner(conn: Connection, kid: str) -> int | None:
    """The user id the key ``kid`` belongs to."""
    return conn.execute(select(user_signing_key.c.user_id).where(user_signing_key.c.kid == kid)).scalar()


def user_jwks(conn: Connection, user_id: int) -> dict[str, object]:
    """Every public key of a user (JWKS), newest first."""
    t = user_signing_key
    rows = conn.execute(select(t.c.public_jwk).where(t.c.user_id == user_id).order_by(t.c.created.desc()))
    return {"keys": [orjson.loads(r[0]) for r in rows]}
