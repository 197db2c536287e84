"""OAuth: access tokens issued under an authorization grant, so that revoking the grant (a reused
authorization code or refresh token, an RFC 7009 revocation) also revokes its access tokens; the
OpenID Connect ``nonce`` of an authorization code.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Tables are created explicitly (not from ``metadata``) so this revision stays frozen when
``security/tables.py`` changes later.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_grant_token",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_oauth_grant_token_family", "oauth_grant_token", ["family"])
    op.add_column("auth_code", sa.Column("nonce", sa.String(200)))


def downgrade() -> None:
    op.drop_column("auth_code", "nonce")
    op.drop_index("ix_oauth_grant_token_family", table_name="oauth_grant_token")
    op.drop_table("oauth_grant_token")
