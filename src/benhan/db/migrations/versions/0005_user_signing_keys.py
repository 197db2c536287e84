"""Per-user document-signing keys (ký số hồ sơ bệnh án): public JWK with a key id, the private key
wrapped under the user's password.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Tables are created explicitly (not from ``metadata``) so this revision stays frozen when
``security/tables.py`` changes later.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_signing_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("user_id", PK, sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("wrapped_private", sa.Text, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_user_signing_key_user_id", "user_signing_key", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_signing_key_user_id", table_name="user_signing_key")
    op.drop_table("user_signing_key")
