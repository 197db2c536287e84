"""String searches read their matches from the index alone: ``ix_idx_string_value`` ends in ``res_pk``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

A prefix such as ``Patient?name=ngu`` matches a third of all patients (Nguyễn). The matching resource
keys were read from the table rows behind the index: at 1 M resources 14,948 rows over 4,454 pages,
23 ms of the search before any resource was read. With ``res_pk`` in the index, PostgreSQL answers
from the index (an index-only scan once autovacuum has marked the pages) and SQLite from its covering
index. Creating the index takes a write lock on ``idx_string`` for as long as the build (seconds per
million string rows).
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_idx_string_value", table_name="idx_string")
    op.create_index("ix_idx_string_value", "idx_string", ["res_type", "param", "value", "res_pk"],
                    postgresql_ops={"value": "text_pattern_ops"})


def downgrade() -> None:
    op.drop_index("ix_idx_string_value", table_name="idx_string")
    op.create_index("ix_idx_string_value", "idx_string", ["res_type", "param", "value"],
                    postgresql_ops={"value": "text_pattern_ops"})
