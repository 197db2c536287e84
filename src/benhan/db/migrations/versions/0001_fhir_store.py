"""FHIR store: resources, append-only history, search index tables, compartments.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from benhan.db.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = ("resource", "resource_version", "idx_string", "idx_token", "idx_date", "idx_number",
           "idx_quantity", "idx_uri", "idx_reference", "compartment")


def upgrade() -> None:
    # The first revision creates the tables exactly as declared in schema.py (frozen from here on:
    # later changes get their own revisions).
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in _TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[metadata.tables[name] for name in reversed(_TABLES)])
