"""``benhan user ...``, ``benhan client add``, ``benhan token issue``, ``benhan audit verify``,
``benhan break-glass list``. Names are a stable contract for operators' scripts.

Every change of accounts or permissions is written to the audit trail in the same transaction.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Connection

from benhan.settings import Settings

from . import accounts, audit, breakglass, keys, oauth_clients, tokens
from .audit import AuditEntry
from .scopes import parse_scopes

Command = Callable[[argparse.Namespace, Settings], int]


@contextmanager
def _tx(settings: Settings) -> Iterator[Connection]:
    from benhan.db.engine import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                yield conn
    finally:
        engine.dispose()


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


def _audit(conn: Connection, action: str, entity: str, detail: str | None = None) -> None:
    audit.append(conn, [AuditEntry(action, 200, _operator(), None, None, entity, [], "cli", audit.OPERATIONS, detail)])


def _fail(exc: Exception) -> int:
    print(f"Lỗi / error: {exc}", file=sys.stderr)
    return 2


def _read_password(args: argparse.Namespace) -> str | None:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    return None


def _user_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with _tx(settings) as conn:
            user, generated = accounts.add_user(
                conn, settings, username=args.username, display_name=args.name or args.username, roles=args.role,
                password=_read_password(args), departments=args.department or [], practitioner_id=args.practitioner,
                practitioner_role_id=args.practitioner_role, patient_id=args.patient, facility_id=args.facility,
                totp=args.totp, language=args.language)
            _audit(conn, "user-add", f"user/{user.username}", f"roles={','.join(user.roles)}")
    except accounts.AccountError as exc:
        return _fail(exc)
    print(f"Đã tạo / created: {user.username} ({', '.join(user.roles) or '-'})")
    if generated:
        print(f"Mật khẩu tạm (đổi khi đăng nhập lần đầu) / one-time password: {generated}")
    if user.totp_secret:
        import pyotp

        uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name="Bệnh Án")
        print(f"TOTP: {uri}")
    return 0


def _user_list(args: argparse.Namespace, settings: Settings) -> int:
    with _tx(settings) as conn:
        users = accounts.list_users(conn)
    for u in users:
        flags = [f for f, on in (("disabled", u.disabled), ("must-change", u.must_change_password),
                                 ("totp", bool(u.totp_secret))) if on]
        print(f"{u.username}\t{u.display_name}\t{','.join(u.roles)}\t{','.join(u.departments)}\t{' '.join(flags)}")
    return 0


def _user_disable(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with _tx(settings) as conn:
            accounts.set_disabled(conn, args.username, not args.enable)
            _audit(conn, "user-enable" if args.enable else "user-disable", f"user/{args.username}")
    except accounts.AccountError as exc:
        return _fail(exc)
    print(("Đã mở lại / enabled: " if args.enable else "Đã khoá / disabled: ") + args.username)
    return 0


def _user_reset(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with _tx(settings) as conn:
            password = accounts.reset_password(conn, args.username)
            _audit(conn, "password-reset", f"user/{args.username}")
    except accounts.AccountError as exc:
        return _fail(exc)
    print(f"Mật khẩu tạm (phải đổi khi đăng nhập) / one-time password: {password}")
    return 0


def _user_roles(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with _tx(settings) as conn:
            before, after = accounts.set_roles(conn, args.username, add=args.add or [], remove=args.remove or [])
            if args.department is not None:
                accounts.set_departments(conn, args.username, args.department)
            if before != after or args.department is not None:
                _audit(conn, "permission-change", f"user/{args.username}",
                       f"roles {','.join(before)} -> {','.join(after)}"
                       + (f"; departments={','.join(args.department)}" if args.department is not None else ""))
    except accounts.AccountError as exc:
        return _fail(exc)
    print(f"{args.username}: {', '.join(after) or '-'}")
    return 0


def _user_totp(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with _tx(settings) as conn:
            _, uri = accounts.enroll_totp(conn, args.username)
            _audit(conn, "totp-enrol", f"user/{args.username}")
    except accounts.AccountError as exc:
        return _fail(exc)
    print(f"TOTP: {uri}")
    return 0


def _client_add(args: argparse.Namespace, settings: Settings) -> int:
    jwks = None
    if args.jwks:
        text = Path(args.jwks).read_text("utf-8") if not args.jwks.lstrip().startswith("{") else args.jwks
        jwks = orjson.loads(text)
    try:
        with _tx(settings) as conn:
            client = oauth_clients.add_client(conn, client_id=args.client_id, name=args.name or args.client_id,
                                              kind=args.kind, scopes=args.scope, redirect_uris=args.redirect_uri or [],
                                              jwks=jwks, launch_url=args.launch_url)
            _audit(conn, "client-add", f"client/{client.client_id}",
                   f"scopes={client.scopes}" + (f" launch_url={client.launch_url}" if client.launch_url else ""))
    except (oauth_clients.ClientError, orjson.JSONDecodeError) as exc:
        return _fail(exc)
    print(f"Đã đăng ký / registered: {client.client_id} ({client.kind}) scopes: {client.scopes}")
    return 0


def _token_issue(args: argparse.Namespace, settings: Settings) -> int:
    scope = parse_scopes(args.scope)
    if not scope.resources:
        return _fail(ValueError("no valid SMART scope (e.g. user/*.rs, system/Patient.rs)"))
    ttl = min(args.ttl or settings.access_token_ttl, 24 * 3600)
    try:
        with _tx(settings) as conn:
            if args.user:
                user = accounts.require_user(conn, args.user)
                if user.disabled:
                    return _fail(ValueError(f"user {args.user} is disabled"))
                own = user.patient_id if "patient" in user.roles else None
                token, claims = tokens.issue(conn, subject=user.username, kind="user", scope=scope.text(), ttl=ttl,
                                             patient=args.patient or own)
            else:
                client = oauth_clients.get_client(conn, args.client or "")
                if client is None or client.disabled or client.kind != "backend":
                    return _fail(ValueError("--client must name an enabled backend client"))
                granted = oauth_clients_narrow(scope.text(), client.scopes)
                if not granted:
                    return _fail(ValueError(f"none of {scope.text()} is registered for {client.client_id}"))
                token, claims = tokens.issue(conn, subject=client.client_id, kind="system", scope=granted, ttl=ttl,
                                             client_id=client.client_id)
            audit.append(conn, [AuditEntry("token-issue", 200, args.user or None, None, args.client, claims.jti,
                                           [], "cli", audit.OPERATIONS, f"scope={claims.scope} by {_operator()}")])
    except accounts.AccountError as exc:
        return _fail(exc)
    print(token)
    return 0


def oauth_clients_narrow(requested: str, allowed: str) -> str:
    from .scopes import narrow

    return narrow(parse_scopes(requested), parse_scopes(allowed)).text()


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    with _tx(settings) as conn:
        problems = audit.verify(conn)
        total = audit.count(conn)
    if not problems:
        print(f"Nhật ký toàn vẹn / audit trail intact: {total} bản ghi / records")
        return 0
    for p in problems:
        print(f"SAI / TAMPERED {p}")
    return 1


def _break_glass_list(args: argparse.Namespace, settings: Settings) -> int:
    with _tx(settings) as conn:
        grants = breakglass.list_grants(conn, department=args.department)
    for g in grants:
        print(f"{g.id}\t{g.granted_at}\t{g.username}\tPatient/{g.patient_id}\t{g.departments}\t{g.reason}")
    return 0


def _init_keys(settings: Settings) -> None:
    with _tx(settings) as conn:
        keys.ensure_key(conn)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the security subcommands to the ``benhan`` parser."""
    user = sub.add_parser("user", help="tài khoản người dùng / user accounts")
    us = user.add_subparsers(dest="user_command", required=True)
    add = us.add_parser("add", help="tạo người dùng / create a user")
    add.add_argument("username")
    add.add_argument("--name", help="họ tên / display name")
    add.add_argument("--role", action="append", default=[], help="vai trò (lặp lại) / role (repeat)")
    add.add_argument("--department", action="append", help="khoa: Organization id (lặp lại)")
    add.add_argument("--practitioner", help="Practitioner id")
    add.add_argument("--practitioner-role", help="PractitionerRole id")
    add.add_argument("--patient", help="Patient id (tài khoản người bệnh)")
    add.add_argument("--facility", help="Organization id của cơ sở / facility")
    add.add_argument("--totp", action="store_true", help="bắt buộc TOTP / require a second factor")
    add.add_argument("--language", choices=accounts.LANGUAGES,
                     help="ngôn ngữ giao diện web / web app language (default: the browser's)")
    add.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ stdin (else a one-time one)")
    add.set_defaults(func=_user_add)
    us.add_parser("list", help="danh sách / list users").set_defaults(func=_user_list)
    dis = us.add_parser("disable", help="khoá tài khoản / disable")
    dis.add_argument("username")
    dis.add_argument("--enable", action="store_true", help="mở lại / re-enable")
    dis.set_defaults(func=_user_disable)
    rst = us.add_parser("reset-password", help="đặt lại mật khẩu / reset password (forced change)")
    rst.add_argument("username")
    rst.set_defaults(func=_user_reset)
    roles = us.add_parser("roles", help="xem/đổi vai trò / show or change roles")
    roles.add_argument("username")
    roles.add_argument("--add", action="append")
    roles.add_argument("--remove", action="append")
    roles.add_argument("--department", action="append", help="đặt lại danh sách khoa / replace departments")
    roles.set_defaults(func=_user_roles)
    totp = us.add_parser("totp", help="đăng ký TOTP mới / enrol a new TOTP secret")
    totp.add_argument("username")
    totp.set_defaults(func=_user_totp)

    client = sub.add_parser("client", help="ứng dụng, bệnh viện khác / OAuth clients")
    cs = client.add_subparsers(dest="client_command", required=True)
    cadd = cs.add_parser("add", help="đăng ký ứng dụng / register a client")
    cadd.add_argument("client_id")
    cadd.add_argument("--name")
    cadd.add_argument("--kind", choices=oauth_clients.KINDS, default="public")
    cadd.add_argument("--scope", required=True, help='e.g. "patient/*.rs launch/patient openid fhirUser"')
    cadd.add_argument("--redirect-uri", action="append")
    cadd.add_argument("--jwks", help="JWKS file, or inline JSON (backend services)")
    cadd.add_argument("--launch-url", help="SMART EHR launch: the app's launch URL (needs the 'launch' scope)")
    cadd.set_defaults(func=_client_add)

    token = sub.add_parser("token", help="mã truy cập / access tokens")
    ts = token.add_subparsers(dest="token_command", required=True)
    issue = ts.add_parser("issue", help="in ra một mã truy cập ngắn hạn / print a short-lived token")
    who = issue.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--client", help="backend client id (system/ scopes)")
    issue.add_argument("--scope", required=True)
    issue.add_argument("--patient", help="launch context for patient/ scopes")
    issue.add_argument("--ttl", type=int, help="seconds (default BENHAN_ACCESS_TOKEN_TTL)")
    issue.set_defaults(func=_token_issue)

    aud = sub.add_parser("audit", help="nhật ký truy cập / audit trail")
    aus = aud.add_subparsers(dest="audit_command", required=True)
    aus.add_parser("verify", help="kiểm tra chuỗi băm / verify the hash chain").set_defaults(func=_audit_verify)

    bg = sub.add_parser("break-glass", help="truy cập khẩn cấp / emergency access grants")
    bgs = bg.add_subparsers(dest="bg_command", required=True)
    bgl = bgs.add_parser("list", help="danh sách để rà soát / list for review")
    bgl.add_argument("--department")
    bgl.set_defaults(func=_break_glass_list)
