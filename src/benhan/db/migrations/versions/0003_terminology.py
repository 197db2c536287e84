"""Terminology: loaded code-system versions and the concept index (derived from CodeSystem resources).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Tables are created explicitly (not from ``metadata``) so this revision stays frozen when
``terminology/tables.py`` changes later.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "term_codesystem",
        sa.Column("pk", PK, primary_key=True, autoincrement=True),
        sa.Column("url", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("valueset_url", sa.String(255), nullable=False),
        sa.Column("valid_from", sa.String(10)),
        sa.Column("valid_to", sa.String(10)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("concept_count", sa.Integer, nullable=False),
        sa.Column("loaded_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ux_term_codesystem_url_version", "term_codesystem", ["url", "version"], unique=True)
    op.create_index("ix_term_codesystem_valueset", "term_codesystem", ["valueset_url"])
    op.create_table(
        "term_concept",
        sa.Column("pk", PK, primary_key=True, autoincrement=True),
        sa.Column("cs_pk", PK, sa.ForeignKey("term_codesystem.pk"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("code_key", sa.String(64), nullable=False),
        sa.Column("display", sa.String(500), nullable=False),
        sa.Column("display_en", sa.String(500), nullable=False),
        sa.Column("words_vi", sa.Text, nullable=False),
        sa.Column("words_en", sa.Text, nullable=False),
        sa.Column("parent", sa.String(64)),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("sort_key", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.String(10)),
        sa.Column("valid_to", sa.String(10)),
    )
    op.create_index("ux_term_concept_code", "term_concept", ["cs_pk", "code"], unique=True)
    op.create_index("ix_term_concept_key", "term_concept", ["cs_pk", "code_key", "sort_key"])
    op.create_table(
        "term_word",
        sa.Column("cs_pk", PK, nullable=False),
        sa.Column("word", sa.String(64), nullable=False),
        sa.Column("concept_pk", PK, nullable=False),
        sa.Column("sort_key", sa.Integer, nullable=False),
    )
    op.create_index("ix_term_word", "term_word", ["cs_pk", "word", "concept_pk", "sort_key"])
    op.create_index("ix_term_word_concept", "term_word", ["concept_pk"])


def downgrade() -> None:
    op.drop_table("term_word")
    op.drop_table("term_concept")
    op.drop_table("term_codesystem")
