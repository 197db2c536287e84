"""The server's token-signing key (ES256, P-256), kept in the database so every worker shares it.

``benhan init`` creates one; :func:`ensure_key` also creates it lazily in a fresh database. Keys are
never changed in place, only added (a new ``kid``), so caching a public key by ``kid`` is safe.
"""

from __future__ import annotations

import secrets

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import Connection, Engine, insert, select

from benhan.fhir.clock import system_clock

from .tables import signing_key

ALG = "ES256"


def _new_key_row() -> dict[str, object]:
    private = ec.generate_private_key(ec.SECP256R1())
    kid = secrets.token_hex(8)
    jwk = orjson.loads(ECAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": ALG, "use": "sig"})
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {"kid": kid, "alg": ALG, "private_pem": pem, "public_jwk": orjson.dumps(jwk).decode(),
            "created": system_clock(), "active": True}


def ensure_key(conn: Connection) -> str:
    """The active key id, creating the first key when there is none."""
    row = conn.execute(select(signing_key.c.kid).where(signing_key.c.active.is_(True))
                       .order_by(signing_key.c.created.desc()).limit(1)).first()
    if row is not None:
        return str(row[0])
    values = _new_key_row()
    conn.execute(insert(signing_key), values)
    return str(values["kid"])


def ensure_key_committed(engine: Engine) -> str:
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            return ensure_key(conn)


def private_key(conn: Connection) -> tuple[str, object]:
    """(kid, private key) of the active key."""
    kid = ensure_key(conn)
    key = private_key_by_kid(conn, kid)
    assert key is not None
    return kid, key


def private_key_by_kid(conn: Connection, kid: str) -> object | None:
    """The private key ``kid`` (active or retired), None when there is none."""
    pem = conn.execute(select(signing_key.c.private_pem).where(signing_key.c.kid == kid)).scalar()
    return None if pem is None else serialization.load_pem_private_key(pem.encode(), password=None)


class KeyRing:
    """Public keys by ``kid`` (immutable once written, so a per-process cache is safe)."""

    def __init__(self) -> None:
        self._public: dict[str, object] = {}

    def public_key(self, conn: Connection, kid: str) -> object | None:
        key = self._public.get(kid)
        if key is None:
            jwk = conn.execute(select(signing_key.c.public_jwk).where(signing_key.c.kid == kid)).scalar()
            if jwk is None:
                return None
            key = ECAlgorithm.from_jwk(jwk)
            self._public[kid] = key
        return key


def jwks(conn: Connection) -> dict[str, object]:
    """The public JWKS (``/.well-known/jwks.json``), so resource servers elsewhere can verify tokens."""
    rows = conn.execute(select(signing_key.c.public_jwk)).scalars().all()
    return {"keys": [orjson.loads(r) for r in rows]}
