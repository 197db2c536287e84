"""Tables of the security core, declared on the shared ``benhan.db.schema.metadata``.

Created by migration ``0002_security`` (explicit ``op.create_table`` calls, kept in step with
this file). Times are integers (µs since the epoch, UTC) like the FHIR store. Secrets that only
need to be recognised (authorization codes, refresh tokens, session ids) are stored as SHA-256
hashes, so a copy of the database does not hand out live credentials.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from benhan.db.schema import PK, metadata

user_account = Table(
    "user_account", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("password_hash", String(200)),
    Column("practitioner_id", String(64)),  # Practitioner/<id> (staff)
    Column("practitioner_role_id", String(64)),
    Column("patient_id", String(64)),  # Patient/<id> (portal users: người bệnh)
    Column("facility_id", String(64)),  # Organization/<id> of the hospital (cơ sở)
    Column("disabled", Boolean, nullable=False, default=False),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("totp_secret", String(64)),
    Column("totp_required", Boolean, nullable=False, default=False),
    Column("totp_last_step", BigInteger, nullable=False, default=0),  # refuses a replayed code
    Column("failed_count", Integer, nullable=False, default=0),
    Column("locked_until", BigInteger, nullable=False, default=0),
    Column("created", BigInteger, nullable=False),
    Column("password_changed", BigInteger, nullable=False, default=0),
    Column("language", String(8)),  # vi | en: the web app's language for this user (NULL: not chosen yet)
)

user_role = Table(
    "user_role", metadata,
    Column("user_id", PK, ForeignKey("user_account.id"), primary_key=True),
    Column("role", String(64), primary_key=True),
)

# Departments (khoa) the user works in: Organization ids.
user_department = Table(
    "user_department", metadata,
    Column("user_id", PK, ForeignKey("user_account.id"), primary_key=True),
    Column("department_id", String(64), primary_key=True),
)

oauth_client = Table(
    "oauth_client", metadata,
    Column("client_id", String(128), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),  # public | backend
    Column("redirect_uris", Text, nullable=False, default="[]"),  # JSON array
    Column("scopes", Text, nullable=False),  # the most a token for this client may carry
    Column("jwks", Text),  # JSON Web Key Set (backend services: private_key_jwt)
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created", BigInteger, nullable=False),
)

signing_key = Table(
    "signing_key", metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("private_pem", Text, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

# Per-user document-signing keys (ký số, software keys until hardware tokens come): ES256; the private key
# is wrapped (AES-256-GCM) under a key derived from the user's password (scrypt), so it is usable only when
# the user re-enters it to sign. Rows are never changed except ``active`` (a retired key still verifies).
user_signing_key = Table(
    "user_signing_key", metadata,
    Column("kid", String(64), primary_key=True),
    Column("user_id", PK, ForeignKey("user_account.id"), nullable=False, index=True),
    Column("alg", String(16), nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("wrapped_private", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

# Revoked access tokens (by jti) and seen client assertions (replay protection), until they expire.
revoked_token = Table(
    "revoked_token", metadata,
    Column("jti", String(64), primary_key=True),
    Column("expires", BigInteger, nullable=False),
)

seen_assertion = Table(
    "seen_assertion", metadata,
    Column("jti", String(200), primary_key=True),
    Column("expires", BigInteger, nullable=False),
)

auth_code = Table(
    "auth_code", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(128), nullable=False),
    Column("user_id", PK, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("patient_id", String(64)),
    Column("expires", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
    Column("nonce", String(200)),  # OpenID Connect nonce, echoed in the id_token (migration 0004)
    Column("encounter_id", String(64)),  # SMART launch/encounter context (migration 0007)
)

refresh_token = Table(
    "refresh_token", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family", String(64), nullable=False),  # a reused (already rotated) token revokes its family
    Column("client_id", String(128), nullable=False),
    Column("user_id", PK, nullable=False),
    Column("scope", Text, nullable=False),
    Column("patient_id", String(64)),
    Column("expires", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Index("ix_refresh_token_family", "family"),
)

# Access tokens issued under one authorization grant (``family``: the grant's refresh-token family,
# i.e. the hash of its authorization code), so that revoking the grant revokes them too (migration 0004).
oauth_grant_token = Table(
    "oauth_grant_token", metadata,
    Column("jti", String(64), primary_key=True),
    Column("family", String(64), nullable=False),
    Column("expires", BigInteger, nullable=False),
    Index("ix_oauth_grant_token_family", "family"),
)

web_session = Table(
    "web_session", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", PK, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("ip", String(64)),
    Index("ix_web_session_user", "user_id"),
)

break_glass = Table(
    "break_glass", metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("user_id", PK, nullable=False),
    Column("username", String(64), nullable=False),
    Column("patient_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("departments", Text, nullable=False, default=""),  # the user's departments, for the review list
    Column("granted", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("reviewed_by", String(64)),
    Index("ix_break_glass_user", "user_id", "expires"),
)

# Append-only, hash-chained audit trail (see security/audit.py). UPDATE and DELETE are refused by
# triggers created in the migration. Rows belong to one of several chains (``audit_head`` rows).
audit_log = Table(
    "audit_log", metadata,
    Column("seq", PK, primary_key=True, autoincrement=False),
    Column("chain", SmallInteger, nullable=False, server_default="1"),
    Column("recorded", BigInteger, nullable=False),
    Column("action", String(32), nullable=False),
    Column("outcome", Integer, nullable=False),  # HTTP-like status: 200 ok, 401, 403, 404 ...
    Column("username", String(64)),
    Column("roles", String(200)),
    Column("client_id", String(128)),
    Column("entity", Text),  # Type/id, or Type?query for searches
    Column("patients", Text),  # comma-separated Patient ids concerned
    Column("ip", String(64)),
    Column("purpose", String(32)),  # TREAT, BTG (break-the-glass), HOPERAT, PATRQT ...
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_recorded", "recorded"),
    Index("ix_audit_log_username", "username", "recorded"),
)

# One row per chain (id = chain number): its last sequence number and hash, locked while appending to
# that chain so each chain stays linear; concurrent requests append to different chains.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

SECURITY_TABLES = (user_account, user_role, user_department, oauth_client, signing_key, user_signing_key,
                   revoked_token, seen_assertion, auth_code, refresh_token, oauth_grant_token, web_session, break_glass,
                   audit_log, audit_head)
