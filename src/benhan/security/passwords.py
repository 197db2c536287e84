"""Password hashing (argon2id) and the password policy.

The policy refuses short passwords, the common ones shipped in ``data/common-passwords.txt``, and
ones containing the user's login or a part of their name (diacritics ignored, so ``Nguyễn`` and
``nguyen`` count the same). Errors are bilingual values, shown by the CLI and the login pages.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from benhan.fhir.text import normalize

_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults
# A hash of a random password, verified when the user does not exist so timing does not tell.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class PasswordProblem(Exception):
    vi: str
    en: str

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; constant work even when there is no stored hash."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("benhan.security").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: str, *, username: str, display_name: str = "", min_length: int = 12) -> None:
    """Raise :class:`PasswordProblem` if ``password`` breaks the policy."""
    if len(password) < min_length:
        raise PasswordProblem(f"Mật khẩu phải có ít nhất {min_length} ký tự",
                              f"The password must be at least {min_length} characters long")
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or re.sub(r"\d+", "", lowered) in common or _common_plus_filler(lowered, common):
        raise PasswordProblem("Mật khẩu quá phổ biến, dễ bị đoán", "The password is too common")
    flat = normalize(password).replace(" ", "")
    parts = [normalize(username), *normalize(display_name).split()]
    for part in parts:
        if len(part) >= 3 and part.replace(" ", "") in flat:
            raise PasswordProblem("Mật khẩu không được chứa tên đăng nhập hoặc họ tên",
                                  "The password must not contain the login or the user's name")
    if len(set(password)) < 4:
        raise PasswordProblem("Mật khẩu quá đơn điệu", "The password has too few distinct characters")


def _common_plus_filler(lowered: str, common: frozenset[str]) -> bool:
    """A common password followed only by digits/symbols (``matkhau@2026!``, ``123456789012``)."""
    return any(lowered.startswith(p) and not re.search(r"[^\W\d_]", lowered[len(p):])
               for p in common if len(p) >= 4)


def temporary_password() -> str:
    """A random one-time password an administrator hands over; the user must change it at first login."""
    return secrets.token_urlsafe(12)
