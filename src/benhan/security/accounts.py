"""User accounts: creation, roles, departments, password changes and resets, TOTP enrolment.

A user is staff (linked to a ``Practitioner``/``PractitionerRole``) or a patient using the portal
(linked to a ``Patient``), belongs to a facility and to departments (khoa, ``Organization`` ids),
and has roles from the policy. Callers own the transaction; permission changes are audited by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy import BindParameter, ColumnElement, Connection, Select, delete, func, insert, select, update

from benhan.fhir.clock import Clock, system_clock
from benhan.settings import Settings

from .passwords import PasswordProblem, check_password, hash_password, temporary_password, verify_password
from .policy import load_policy
from .tables import user_account, user_department, user_role

LANGUAGES = ("vi", "en")  # the languages of the web app (Vietnamese first)


class AccountError(Exception):
    """A refused account operation, with a bilingual message."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    departments: tuple[str, ...]
    practitioner_id: str | None
    practitioner_role_id: str | None
    patient_id: str | None
    facility_id: str | None
    disabled: bool
    must_change_password: bool
    totp_secret: str | None
    totp_required: bool
    password_hash: str | None = None
    failed_count: int = 0
    locked_until: int = 0
    totp_last_step: int = 0
    language: str | None = None  # vi | en, chosen by the user in the web app; None: not chosen yet

    def needs_totp(self, settings: Settings) -> bool:
        return self.totp_required or any(r in settings.totp_required_roles for r in self.roles)


def get_user(conn: Connection, username: str | None = None, *, user_id: int | None = None) -> User | None:
    row = conn.execute(user_select(username, user_id=user_id)).mappings().first()
    return None if row is None else user_from_row(row)


def user_select(username: str | BindParameter[Any] | None = None, *, user_id: int | None = None) -> Select[Any]:
    """The account row with its roles and departments, in ONE statement (it runs on every request).

    Callers may add columns (the API adds break-glass grants and the token's revocation).
    """
    u = user_account
    cond = u.c.username == username if user_id is None else u.c.id == user_id
    roles = select(aggregated(user_role.c.role)).where(user_role.c.user_id == u.c.id)
    depts = select(aggregated(user_department.c.department_id)).where(user_department.c.user_id == u.c.id)
    return select(u, roles.scalar_subquery().label("role_list"), depts.scalar_subquery().label("department_list")
                  ).where(cond)


def user_from_row(row: Any) -> User:
    return User(row["id"], row["username"], row["display_name"], split_list(row["role_list"]),
                split_list(row["department_list"]), row["practitioner_id"], row["practitioner_role_id"],
                row["patient_id"], row["facility_id"], row["disabled"], row["must_change_password"],
                row["totp_secret"], row["totp_required"], row["password_hash"], row["failed_count"],
                row["locked_until"], row["totp_last_step"], row["language"])


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma-joined aggregate (codes and FHIR ids: never a comma inside) as a sorted tuple."""
    return tuple(sorted(set(value.split(",")))) if value else ()


def aggregated(column: ColumnElement[Any]) -> Any:
    """The values of ``column`` joined by commas (string_agg / group_concat), read back by :func:`split_list`."""
    return func.aggregate_strings(column, ",")


def require_user(conn: Connection, username: str) -> User:
    user = get_user(conn, username)
    if user is None:
        raise AccountError(f"Không có người dùng '{username}'", f"No user '{username}'")
    return user


def list_users(conn: Connection) -> list[User]:
    names = [r[0] for r in conn.execute(select(user_account.c.username).order_by(user_account.c.username))]
    return [u for n in names if (u := get_user(conn, n)) is not None]


def add_user(conn: Connection, settings: Settings, *, username: str, display_name: str, roles: list[str],
             password: str | None = None, departments: list[str] | tuple[str, ...] = (),
             practitioner_id: str | None = None, practitioner_role_id: str | None = None,
             patient_id: str | None = None, facility_id: str | None = None, totp: bool = False,
             language: str | None = None, clock: Clock = system_clock) -> tuple[User, str | None]:
    """Create a user; returns it and the one-time password generated when none was given."""
    if not username or len(username) > 64 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("Tên đăng nhập chỉ gồm chữ, số, '.', '-', '_'", "Invalid username")
    if get_user(conn, username) is not None:
        raise AccountError(f"Người dùng '{username}' đã tồn tại", f"User '{username}' already exists")
    codes = _roles(roles)
    if language is not None and language not in LANGUAGES:
        raise AccountError("Ngôn ngữ phải là vi hoặc en", "The language must be vi or en")
    if "patient" in codes and not patient_id:
        raise AccountError("Tài khoản người bệnh cần --patient", "A patient account needs --patient")
    generated = None
    if password is None:
        password = generated = temporary_password()
    else:
        _check(password, username, display_name, settings)
    now = clock()
    needs_totp = totp or any(r in settings.totp_required_roles for r in codes)
    result = conn.execute(insert(user_account).returning(user_account.c.id), {
        "username": username, "display_name": display_name, "password_hash": hash_password(password),
        "practitioner_id": practitioner_id, "practitioner_role_id": practitioner_role_id, "patient_id": patient_id,
        "facility_id": facility_id, "disabled": False, "must_change_password": generated is not None,
        "totp_secret": pyotp.random_base32() if needs_totp else None, "totp_required": totp,
        "totp_last_step": 0, "failed_count": 0, "locked_until": 0, "created": now, "password_changed": now,
        "language": language})
    uid = result.scalar_one()
    if codes:
        conn.execute(insert(user_role), [{"user_id": uid, "role": c} for c in codes])
    if departments:
        conn.execute(insert(user_department), [{"user_id": uid, "department_id": d} for d in sorted(set(departments))])
    user = get_user(conn, username)
    assert user is not None
    return user, generated


def _roles(names: list[str] | tuple[str, ...]) -> list[str]:
    try:
        return load_policy().canonical(names)
    except ValueError as exc:
        raise AccountError(f"Vai trò không hợp lệ: {exc}", f"Invalid role: {exc}") from exc


def _check(password: str, username: str, display_name: str, settings: Settings) -> None:
    try:
        check_password(password, username=username, display_name=display_name,
                       min_length=settings.password_min_length)
    except PasswordProblem as exc:
        raise AccountError(exc.vi, exc.en) from exc


def set_roles(conn: Connection, username: str, *, add: list[str] = (), remove: list[str] = ()  # type: ignore[assignment]
              ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Add/remove roles; returns (before, after)."""
    user = require_user(conn, username)
    add_codes, remove_codes = _roles(add), _roles(remove)
    if remove_codes:
        conn.execute(delete(user_role).where(user_role.c.user_id == user.id, user_role.c.role.in_(remove_codes)))
    new = [c for c in add_codes if c not in user.roles]
    if new:
        conn.execute(insert(user_role), [{"user_id": user.id, "role": c} for c in new])
    after = require_user(conn, username).roles
    return user.roles, after


def set_departments(conn: Connection, username: str, departments: list[str]) -> None:
    user = require_user(conn, username)
    conn.execute(delete(user_department).where(user_department.c.user_id == user.id))
    if departments:
        rows = [{"user_id": user.id, "department_id": d} for d in sorted(set(departments))]
        conn.execute(insert(user_department), rows)


def set_disabled(conn: Connection, username: str, disabled: bool = True) -> None:
    user = require_user(conn, username)
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(disabled=disabled))


def reset_password(conn: Connection, username: str, clock: Clock = system_clock) -> str:
    """An administrator's reset: a one-time password, changed by the user at the next login; unlocks."""
    user = require_user(conn, username)
    password = temporary_password()
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(
        password_hash=hash_password(password), must_change_password=True, failed_count=0, locked_until=0,
        password_changed=clock()))
    return password


def change_password(conn: Connection, settings: Settings, user: User, old: str, new: str,
                    clock: Clock = system_clock) -> None:
    if not verify_password(user.password_hash, old):
        raise AccountError("Mật khẩu hiện tại không đúng", "The current password is wrong")
    if old == new:
        raise AccountError("Mật khẩu mới phải khác mật khẩu cũ", "The new password must differ from the old one")
    _check(new, user.username, user.display_name, settings)
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(
        password_hash=hash_password(new), must_change_password=False, password_changed=clock()))


def set_language(conn: Connection, user_id: int, language: str) -> None:
    """Remember the language the user reads the web app in (``vi`` or ``en``), on every browser."""
    if language not in LANGUAGES:
        raise AccountError("Ngôn ngữ phải là vi hoặc en", "The language must be vi or en")
    conn.execute(update(user_account).where(user_account.c.id == user_id).values(language=language))


def enroll_totp(conn: Connection, username: str, *, issuer: str = "Bệnh Án") -> tuple[str, str]:
    """A new TOTP secret for the user; returns it and its ``otpauth://`` URI (for a QR code)."""
    user = require_user(conn, username)
    secret = pyotp.random_base32()
    conn.execute(update(user_account).where(user_account.c.id == user.id).values(totp_secret=secret,
                                                                                 totp_last_step=0))
    return secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def user_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(user_account)).scalar_one())
