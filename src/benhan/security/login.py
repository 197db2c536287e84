"""Checking a login: password, progressive lockout, TOTP second factor.

:func:`authenticate` never raises for a wrong credential: it returns a :class:`LoginResult` and
updates the failure counter, so the caller can commit the counter and the audit entry even though
the login is refused. The lock doubles with each failure past the threshold (capped at a day).
The messages do not tell whether the user exists.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyotp
from sqlalchemy import Connection, update

from benhan.fhir.clock import Clock, system_clock
from benhan.settings import Settings

from .accounts import User, get_user
from .passwords import hash_password, needs_rehash, verify_password
from .tables import user_account

_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    reason: str  # ok | bad-credentials | locked | disabled | totp-required | totp-invalid | totp-not-enrolled
    vi: str = ""
    en: str = ""

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


# One answer for every wrong credential: it must not tell whether the account exists, is disabled, has a
# second factor, or whether the password was right when the one-time code was missing or wrong. The reason
# itself goes to the audit trail only.
_BAD = ("Tên đăng nhập, mật khẩu hoặc mã xác thực hai lớp không đúng",
        "Wrong username, password or one-time code")
_MESSAGES = {
    "bad-credentials": _BAD,
    "locked": ("Tài khoản tạm khoá do nhập sai nhiều lần, hãy thử lại sau",
               "Account temporarily locked after repeated failures; try again later"),
    "disabled": _BAD,
    "totp-required": _BAD,
    "totp-invalid": _BAD,
    "totp-not-enrolled": _BAD,
}


def _result(user: User | None, reason: str) -> LoginResult:
    vi, en = _MESSAGES.get(reason, ("", ""))
    return LoginResult(user, reason, vi, en)


def authenticate(conn: Connection, settings: Settings, username: str, password: str, totp_code: str | None = None,
                 *, clock: Clock = system_clock) -> LoginResult:
    """Check a login; updates the failure counter / lock and the TOTP replay guard."""
    user = get_user(conn, username)
    now = clock()
    if user is None:
        verify_password(None, password)  # same work as for a real user
        return _result(None, "bad-credentials")
    if user.locked_until > now:
        return _result(user, "locked")
    password_ok = verify_password(user.password_hash, password)
    if user.needs_totp(settings) or user.totp_secret:
        # Password and code are judged together, and any failure counts once toward the lockout: neither
        # the answer nor the lock may show that the password alone was right.
        step = _totp_step(user.totp_secret, totp_code.strip(), now) if user.totp_secret and totp_code else None
        if not password_ok or step is None or step <= user.totp_last_step:
            _fail(conn, settings, user, now)
            reason = ("bad-credentials" if not password_ok else "totp-not-enrolled" if not user.totp_secret
                      else "totp-required" if not totp_code else "totp-invalid")
            return _result(user, reason)
        if user.disabled:
            return _result(user, "disabled")
        conn.execute(update(user_account).where(user_account.c.id == user.id).values(totp_last_step=step))
    else:
        if not password_ok:
            _fail(conn, settings, user, now)
            return _result(user, "bad-credentials")
        if user.disabled:
            return _result(user, "disabled")
    values: dict[str, object] = {"failed_count": 0, "locked_until": 0}
    if user.password_hash and needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(**values))
    return _result(user, "ok")


def record_reauth_failure(conn: Connection, settings: Settings, user_id: int, *, clock: Clock = system_clock) -> None:
    """A wrong password typed to re-authenticate (to sign a record) counts toward the lockout like a
    failed sign-in, so the signing form cannot be used to guess passwords. Own transaction: the page's
    rolled back."""
    user = get_user(conn, user_id=user_id)
    if user is not None:
        _fail(conn, settings, user, clock())


def _totp_step(secret: str, code: str, now_us: int) -> int | None:
    """The time step the code belongs to (now, or one step either side), or None."""
    totp = pyotp.TOTP(secret)
    now_s = now_us // 1_000_000 if now_us else int(time.time())
    for offset in (0, -1, 1):
        t = now_s + offset * totp.interval
        if pyotp.utils.strings_equal(totp.at(t), code):
            return t // totp.interval
    return None


def _fail(conn: Connection, settings: Settings, user: User, now: int) -> None:
    failures = user.failed_count + 1
    locked_until = 0
    if failures >= settings.lockout_threshold:
        seconds = settings.lockout_base_seconds * 2 ** min(failures - settings.lockout_threshold, 20)
        locked_until = now + min(seconds * 1_000_000, _DAY_US)
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(
        failed_count=failures, locked_until=locked_until))
