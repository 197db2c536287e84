"""The language each user reads the web app in (``vi`` or ``en``; empty until the user picks one),
so the choice follows the account from browser to browser instead of staying in one browser's cookie.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("user_account", sa.Column("language", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:  # SQLite rebuilds the table
        batch.drop_column("language")
