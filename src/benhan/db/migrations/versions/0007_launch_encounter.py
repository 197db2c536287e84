"""The encounter context of an authorization code (SMART ``launch/encounter``), returned with the token.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("auth_code", sa.Column("encounter_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("auth_code") as batch:  # SQLite rebuilds the table
        batch.drop_column("encounter_id")
