"""SMART App Launch v2 *EHR launch*: the opaque ``launch`` value the clinician web app hands to an app.

The web app makes a launch value when a user opens a registered app from a patient's chart (or a
visit page); the browser carries it to the app's launch URL with ``iss``, and the app brings it back
to ``/oauth/authorize``. It binds the user, the app (client id), the patient and, on a visit page, the
encounter, and lives :data:`LAUNCH_TTL` seconds.

Stateless (no table): the context is encrypted and authenticated with AES-256-GCM under a key derived
(HKDF-SHA256) from the server's token-signing key, so every worker can open it, the app cannot read
or change it (the patient id does not travel in clear through the browser's history), and a key
rotation only needs the ``kid`` it names. It is not single-use: the authorization code it leads to
is, and a replay within its lifetime can only give the same user the same context again, after the
same consent.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection

from benhan.fhir.clock import Clock, system_clock

from .keys import private_key, private_key_by_kid

LAUNCH_TTL = 300  # seconds: the app redirects to /oauth/authorize at once
_VERSION = "L1"
_INFO = b"benhan smart ehr-launch v1"


class LaunchError(Exception):
    """A launch value that is malformed, forged, expired, or for another app or user."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


@dataclass(frozen=True, slots=True)
class LaunchContext:
    user_id: int
    client_id: str
    patient: str
    encounter: str | None
    expires: int  # seconds since the epoch


def _aead(key: object, kid: str) -> AESGCM:
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # not an assert: asserts vanish under python -O
        raise TypeError(f"the token-signing key must be an EC private key, not {type(key).__name__}")
    secret = key.private_numbers().private_value.to_bytes(32, "big")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=kid.encode(), info=_INFO).derive(secret)
    return AESGCM(derived)


def make_launch(conn: Connection, *, user_id: int, client_id: str, patient: str, encounter: str | None = None,
                clock: Clock = system_clock) -> str:
    """A new launch value for ``user_id`` opening ``client_id`` on ``patient`` (and ``encounter``)."""
    kid, key = private_key(conn)
    expires = clock() // 1_000_000 + LAUNCH_TTL
    payload = orjson.dumps({"u": user_id, "c": client_id, "p": patient, "e": encounter, "x": expires})
    nonce = secrets.token_bytes(12)
    sealed = _aead(key, kid).encrypt(nonce, payload, f"{_VERSION}.{kid}".encode())
    return f"{_VERSION}.{kid}.{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"


def open_launch(conn: Connection, value: str, *, client_id: str, user_id: int, clock: Clock = system_clock
                ) -> LaunchContext:
    """The context of a launch value made for this app and this user, else :class:`LaunchError`."""
    parts = value.split(".")
    key = private_key_by_kid(conn, parts[1]) if len(parts) == 3 and parts[0] == _VERSION and parts[1] else None
    if key is None:
        raise LaunchError("Giá trị launch không hợp lệ", "Invalid launch value")
    try:
        raw = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        data = orjson.loads(_aead(key, parts[1]).decrypt(raw[:12], raw[12:], f"{_VERSION}.{parts[1]}".encode()))
    except (ValueError, InvalidTag, orjson.JSONDecodeError) as exc:
        raise LaunchError("Giá trị launch không hợp lệ", "Invalid launch value") from exc
    ctx = LaunchContext(int(data["u"]), str(data["c"]), str(data["p"]), data.get("e"), int(data["x"]))
    if ctx.expires <= clock() // 1_000_000:
        raise LaunchError("Giá trị launch đã hết hạn: hãy mở lại ứng dụng từ hồ sơ",
                          "The launch has expired: open the app again from the chart")
    if ctx.client_id != client_id:
        raise LaunchError("Giá trị launch không dành cho ứng dụng này", "The launch was made for another app")
    if ctx.user_id != user_id:
        raise LaunchError("Giá trị launch được tạo cho người dùng khác",
                          "The launch was made for another user")
    return ctx


__all__ = ["LAUNCH_TTL", "LaunchContext", "LaunchError", "make_launch", "open_launch"]
