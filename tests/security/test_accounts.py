"""Accounts: password policy, argon2id, lockout, TOTP, reset with forced change."""

from __future__ import annotations

import pyotp
import pytest

from benhan.security import accounts
from benhan.security.login import authenticate
from benhan.security.passwords import PasswordProblem, check_password, hash_password, verify_password

from .conftest import STRONG


def test_hashes_are_argon2id():
    h = hash_password(STRONG)
    assert h.startswith("$argon2id$")
    assert verify_password(h, STRONG) and not verify_password(h, STRONG + "x")
    assert not verify_password(None, STRONG)


@pytest.mark.parametrize("password", ["short1!", "password1234", "Matkhau123456", "qwerty123456",
                                      "nguyenvanan-2026", "xx-bs.lan-xx-2026"])
def test_password_policy_refuses(password):
    with pytest.raises(PasswordProblem):
        check_password(password, username="bs.lan", display_name="Nguyễn Văn An", min_length=12)


def test_password_policy_accepts_a_strong_one():
    check_password("Tram-Y-Te-Xa-2026", username="bs.lan", display_name="Nguyễn Văn An", min_length=12)


def test_user_add_refuses_weak_password(secure):
    with pytest.raises(accounts.AccountError), secure.tx() as conn:
        accounts.add_user(conn, secure.settings, username="dd.hoa", display_name="Hoa", roles=["nurse"],
                          password="123456789012")


def test_progressive_lockout(secure):
    secure.user("bs.binh", ["doctor"])
    results = []
    for _ in range(4):
        with secure.tx() as conn:
            results.append(authenticate(conn, secure.settings, "bs.binh", "wrong-password").reason)
    assert results == ["bad-credentials", "bad-credentials", "bad-credentials", "locked"]
    with secure.tx() as conn:  # even the right password is refused while locked
        assert authenticate(conn, secure.settings, "bs.binh", STRONG).reason == "locked"
        user = accounts.get_user(conn, "bs.binh")
    assert user.failed_count == 3 and user.locked_until > 0
    # once the lock has passed, the right password works and resets the counter
    with secure.tx() as conn:
        later = user.locked_until + 1
        assert authenticate(conn, secure.settings, "bs.binh", STRONG, clock=lambda: later).ok
        assert accounts.get_user(conn, "bs.binh").failed_count == 0


def test_lock_doubles_with_each_further_failure(secure):
    secure.user("bs.cuong", ["doctor"])
    locks = []
    now = 10**15
    for i in range(5):
        t = now + i * 10**12  # far apart: each attempt after the previous lock expired
        with secure.tx() as conn:
            authenticate(conn, secure.settings, "bs.cuong", "nope-nope-nope", clock=lambda t=t: t)
            u = accounts.get_user(conn, "bs.cuong")
            locks.append((u.locked_until - t) // 1_000_000 if u.locked_until else 0)
    assert locks == [0, 0, 60, 120, 240]


def test_totp_is_mandatory_for_admins(secure):
    user = secure.user("qt.dung", ["admin"])
    assert user.totp_secret  # enrolled at creation
    with secure.tx() as conn:
        assert authenticate(conn, secure.settings, "qt.dung", STRONG).reason == "totp-required"
    with secure.tx() as conn:
        assert authenticate(conn, secure.settings, "qt.dung", STRONG, "000000").reason in ("totp-invalid",)
    code = pyotp.TOTP(user.totp_secret).now()
    with secure.tx() as conn:
        assert authenticate(conn, secure.settings, "qt.dung", STRONG, code).ok
    with secure.tx() as conn:  # the same code cannot be replayed
        assert authenticate(conn, secure.settings, "qt.dung", STRONG, code).reason == "totp-invalid"


def test_totp_optional_for_others_unless_asked(secure):
    secure.user("dd.em", ["nurse"])
    with secure.tx() as conn:
        assert authenticate(conn, secure.settings, "dd.em", STRONG).ok
    secure.user("dd.giang", ["nurse"], totp=True)
    with secure.tx() as conn:
        assert authenticate(conn, secure.settings, "dd.giang", STRONG).reason == "totp-required"


def test_reset_forces_change_and_unlocks(secure):
    secure.user("tn.ha", ["cashier"])
    with secure.tx() as conn:
        temp = accounts.reset_password(conn, "tn.ha")
        user = accounts.get_user(conn, "tn.ha")
    assert user.must_change_password
    with secure.tx() as conn:
        assert authenticate(conn, secure.settings, "tn.ha", temp).ok
        with pytest.raises(accounts.AccountError):
            accounts.change_password(conn, secure.settings, user, temp, "tn.ha-2026-abcdef")  # contains login
        accounts.change_password(conn, secure.settings, user, temp, "Quay-Thu-Ngan-So-3")
        assert not accounts.get_user(conn, "tn.ha").must_change_password


def test_disabled_user_cannot_log_in_nor_use_tokens(secure):
    secure.user("kt.khanh", ["technician"])
    token = secure.token("kt.khanh", "user/*.rs")
    assert secure.client_for(token).get("Observation").status_code == 200
    with secure.tx() as conn:
        accounts.set_disabled(conn, "kt.khanh")
    with secure.tx() as conn:
        assert not authenticate(conn, secure.settings, "kt.khanh", STRONG).ok
    assert secure.client_for(token).get("Observation").status_code == 401


def test_unknown_role_refused(secure):
    with pytest.raises(accounts.AccountError), secure.tx() as conn:
        accounts.add_user(conn, secure.settings, username="x", display_name="x", roles=["superuser"])


def test_vietnamese_role_aliases(secure):
    user = secure.user("bs.lan", ["bac-si", "truong-khoa"])
    assert user.roles == ("doctor", "head-of-department")
