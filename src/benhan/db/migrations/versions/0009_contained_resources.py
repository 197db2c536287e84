"""Contained resources get their own key and search-index rows, for ``_contained`` searches.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

``contained_resource`` lists every resource contained in a stored resource; its (negative) ``pk`` is
the ``res_pk`` of the contained resource's rows in the ordinary ``idx_*`` tables. Resources stored
before this migration are not indexed this way until they are written again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contained_resource",
        sa.Column("pk", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("container_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("last_updated", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_contained_resource_container", "contained_resource", ["container_pk"])
    op.create_index("ix_contained_resource_type", "contained_resource", ["type", "id"])


def downgrade() -> None:
    op.drop_table("contained_resource")
