"""Security core: accounts, roles, departments, OAuth clients, signing keys, tokens, sessions,
break-glass grants and the append-only, hash-chained audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Tables are created explicitly (not from ``metadata``) so this revision stays frozen when
``security/tables.py`` changes later. UPDATE and DELETE on ``audit_log`` are refused by triggers on
both engines; ``benhan audit verify`` still detects changes made by someone who drops them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("practitioner_id", sa.String(64)),
        sa.Column("practitioner_role_id", sa.String(64)),
        sa.Column("patient_id", sa.String(64)),
        sa.Column("facility_id", sa.String(64)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_required", sa.Boolean, nullable=False),
        sa.Column("totp_last_step", sa.BigInteger, nullable=False),
        sa.Column("failed_count", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.BigInteger, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("password_changed", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", PK, sa.ForeignKey("user_account.id"), primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
    )
    op.create_table(
        "user_department",
        sa.Column("user_id", PK, sa.ForeignKey("user_account.id"), primary_key=True),
        sa.Column("department_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("redirect_uris", sa.Text, nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("jwks", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("private_pem", sa.Text, nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "seen_assertion",
        sa.Column("jti", sa.String(200), primary_key=True),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "auth_code",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("patient_id", sa.String(64)),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False),
    )
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("patient_id", sa.String(64)),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_refresh_token_family", "refresh_token", ["family"])
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("last_seen", sa.BigInteger, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.Column("ip", sa.String(64)),
    )
    op.create_index("ix_web_session_user", "web_session", ["user_id"])
    op.create_table(
        "break_glass",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("departments", sa.Text, nullable=False),
        sa.Column("granted", sa.BigInteger, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.Column("reviewed_by", sa.String(64)),
    )
    op.create_index("ix_break_glass_user", "break_glass", ["user_id", "expires"])
    op.create_table(
        "audit_log",
        sa.Column("seq", PK, primary_key=True, autoincrement=False),
        sa.Column("recorded", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.Integer, nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("roles", sa.String(200)),
        sa.Column("client_id", sa.String(128)),
        sa.Column("entity", sa.Text),
        sa.Column("patients", sa.Text),
        sa.Column("ip", sa.String(64)),
        sa.Column("purpose", sa.String(32)),
        sa.Column("detail", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_recorded", "audit_log", ["recorded"])
    op.create_index("ix_audit_log_username", "audit_log", ["username", "recorded"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    _append_only_triggers()


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
        return
    op.execute("CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
               "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$")
    op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for name in ("audit_head", "audit_log", "break_glass", "web_session", "refresh_token", "auth_code",
                 "seen_assertion", "revoked_token", "signing_key", "oauth_client", "user_department",
                 "user_role", "user_account"):
        op.drop_table(name)
