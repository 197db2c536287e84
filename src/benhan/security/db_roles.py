"""A PostgreSQL role for the application that cannot rewrite the audit trail (``benhan db roles``).

The triggers on ``audit_log`` refuse UPDATE, DELETE and TRUNCATE, but the owner of the tables may
disable them. So the application should not connect as the owner: migrations run as the owner
(``benhan db upgrade``), the server as this role, which may read and write the data tables but on the
audit tables only:

* ``audit_log``: SELECT, INSERT (appending) — no UPDATE, DELETE, TRUNCATE; not the owner, so it cannot
  disable the triggers either;
* ``audit_head``: SELECT, UPDATE (the chain head moves with each append; ``audit verify`` names a head
  moved by hand) — no INSERT, DELETE, TRUNCATE;
* ``alembic_version``: SELECT only.

Run it again after each ``db upgrade``: tables created later are granted then.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# (table, privileges taken back from the application role)
AUDIT_TABLES = (("audit_log", "UPDATE, DELETE, TRUNCATE"), ("audit_head", "INSERT, DELETE, TRUNCATE"),
                ("alembic_version", "INSERT, UPDATE, DELETE, TRUNCATE"))


class RoleError(Exception):
    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


def grant_app_role(conn: Connection, name: str, *, password: str | None = None) -> list[str]:
    """Create (if needed) and grant the application role ``name``; returns the statements run (no password)."""
    if conn.dialect.name != "postgresql":
        raise RoleError("Vai trò CSDL riêng chỉ có trên PostgreSQL (SQLite: chỉ có trigger chống sửa nhật ký)",
                        "Database roles exist on PostgreSQL only (SQLite relies on the audit triggers)")
    if not _NAME.match(name):
        raise RoleError("Tên vai trò chỉ gồm chữ thường, số, '_'",
                        "The role name must be lower-case letters, digits, '_'")
    owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log' "
                              "AND schemaname = current_schema()")).scalar()
    if owner is None:
        raise RoleError("Chưa có bảng audit_log: chạy benhan db upgrade trước",
                        "No audit_log table: run db upgrade first")
    if owner == name:
        raise RoleError("Vai trò ứng dụng không được là chủ sở hữu các bảng",
                        "The application role must not own the tables")
    role = f'"{name}"'
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() is not None
    done: list[str] = []

    def run(sql: str, shown: str | None = None) -> None:
        conn.execute(text(sql))
        done.append(shown or sql)

    if not exists:
        run(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
    if password is not None:
        run(f"ALTER ROLE {role} PASSWORD {_literal(password)}", f"ALTER ROLE {role} PASSWORD '…'")
    run(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {role}')
    run(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
    run(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    run(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
    for table, privileges in AUDIT_TABLES:
        run(f'REVOKE {privileges} ON "{schema}"."{table}" FROM {role}')
    return done


def _literal(value: str) -> str:
    """A PostgreSQL string literal (standard_conforming_strings is on by default since 9.1)."""
    if "\x00" in value:
        raise RoleError("Mật khẩu không hợp lệ", "Invalid password")
    return "'" + value.replace("'", "''") + "'"


def _cmd_db_roles(args, settings) -> int:  # type: ignore[no-untyped-def]
    import sys

    from benhan.db.engine import make_engine

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                statements = grant_app_role(conn, args.app_role, password=password)
    except RoleError as exc:
        print(f"Lỗi / error: {exc.vi} / {exc.en}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print("\n".join(statements))
    print(f"Vai trò ứng dụng / application role: {args.app_role} (chạy lại sau mỗi db upgrade / run again after "
          "each db upgrade)")
    return 0


def register_cli(db_sub) -> None:  # type: ignore[no-untyped-def]
    """``benhan db roles --app-role NAME [--password-stdin]`` (run as the owner of the tables)."""
    roles = db_sub.add_parser("roles", help="vai trò CSDL cho ứng dụng / the application's PostgreSQL role "
                                            "(no UPDATE/DELETE/TRUNCATE on the audit tables)")
    roles.add_argument("--app-role", required=True, help="tên vai trò / role name, e.g. benhan_app")
    roles.add_argument("--password-stdin", action="store_true", help="đặt mật khẩu đọc từ stdin / set its password")
    roles.set_defaults(func=_cmd_db_roles)
