"""FHIR store: resources, append-only history, search index tables, compartments.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Explicit operations (frozen): later schema changes get revisions of their own.
"""

import contextlib

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = ("compartment", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_string", "idx_token",
           "idx_uri", "resource", "resource_version")


def upgrade() -> None:
    op.create_table('compartment',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('comp_type', sa.String(length=64), nullable=False),
        sa.Column('comp_id', sa.String(length=64), nullable=False)
    )
    op.create_index('ix_compartment_res', 'compartment', ['res_pk'], unique=False)
    op.create_index('ix_compartment_target', 'compartment', ['comp_type', 'comp_id', 'res_type'], unique=False)
    op.create_table('idx_date',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('low', sa.BigInteger(), nullable=False),
        sa.Column('high', sa.BigInteger(), nullable=False)
    )
    op.create_index('ix_idx_date_high', 'idx_date', ['res_type', 'param', 'high'], unique=False)
    op.create_index('ix_idx_date_low', 'idx_date', ['res_type', 'param', 'low'], unique=False)
    op.create_index('ix_idx_date_res', 'idx_date', ['res_pk'], unique=False)
    op.create_table('idx_number',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False)
    )
    op.create_index('ix_idx_number_res', 'idx_number', ['res_pk'], unique=False)
    op.create_index('ix_idx_number_value', 'idx_number', ['res_type', 'param', 'value'], unique=False)
    op.create_table('idx_quantity',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('system', sa.String(length=255), nullable=True),
        sa.Column('code', sa.String(length=255), nullable=True),
        sa.Column('unit', sa.String(length=255), nullable=True)
    )
    op.create_index('ix_idx_quantity_res', 'idx_quantity', ['res_pk'], unique=False)
    op.create_index('ix_idx_quantity_value', 'idx_quantity', ['res_type', 'param', 'value'], unique=False)
    op.create_table('idx_reference',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('target_type', sa.String(length=64), nullable=True),
        sa.Column('target_id', sa.String(length=64), nullable=True),
        sa.Column('target_version', sa.String(length=64), nullable=True),
        sa.Column('url', sa.String(length=500), nullable=True)
    )
    op.create_index('ix_idx_reference_res', 'idx_reference', ['res_pk'], unique=False)
    op.create_index('ix_idx_reference_src', 'idx_reference', ['res_type', 'param', 'target_id'], unique=False)
    op.create_index('ix_idx_reference_target', 'idx_reference', ['target_type', 'target_id', 'param'], unique=False)
    op.create_index('ix_idx_reference_url', 'idx_reference', ['res_type', 'param', 'url'], unique=False)
    op.create_table('idx_string',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.Column('exact', sa.String(length=255), nullable=False)
    )
    op.create_index('ix_idx_string_res', 'idx_string', ['res_pk'], unique=False)
    op.create_index('ix_idx_string_value', 'idx_string', ['res_type', 'param', 'value'], unique=False,
                    postgresql_ops={'value': 'text_pattern_ops'})
    op.create_table('idx_token',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('system', sa.String(length=255), nullable=True),
        sa.Column('code', sa.String(length=255), nullable=True),
        sa.Column('text', sa.String(length=255), nullable=True),
        sa.Column('type_system', sa.String(length=255), nullable=True),
        sa.Column('type_code', sa.String(length=255), nullable=True)
    )
    op.create_index('ix_idx_token_code', 'idx_token', ['res_type', 'param', 'code', 'system'], unique=False)
    op.create_index('ix_idx_token_res', 'idx_token', ['res_pk'], unique=False)
    op.create_index('ix_idx_token_system', 'idx_token', ['res_type', 'param', 'system'], unique=False)
    op.create_index('ix_idx_token_text', 'idx_token', ['res_type', 'param', 'text'], unique=False,
                    postgresql_ops={'text': 'text_pattern_ops'})
    op.create_table('idx_uri',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('res_type', sa.String(length=64), nullable=False),
        sa.Column('param', sa.String(length=100), nullable=False),
        sa.Column('grp', sa.SmallInteger(), nullable=False),
        sa.Column('uri', sa.String(length=500), nullable=False)
    )
    op.create_index('ix_idx_uri_res', 'idx_uri', ['res_pk'], unique=False)
    op.create_index('ix_idx_uri_uri', 'idx_uri', ['res_type', 'param', 'uri'], unique=False,
                    postgresql_ops={'uri': 'text_pattern_ops'})
    op.create_table('resource',
        sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('last_updated', sa.BigInteger(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('pk')
    )
    op.create_index('ix_resource_type_updated', 'resource', ['type', 'last_updated'], unique=False)
    op.create_index('ux_resource_type_id', 'resource', ['type', 'id'], unique=True)
    op.create_table('resource_version',
        sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('last_updated', sa.BigInteger(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('res_pk', 'version')
    )
    op.create_index('ix_version_type_updated', 'resource_version', ['type', 'last_updated'], unique=False)
    op.create_index('ix_version_updated', 'resource_version', ['last_updated'], unique=False)

    _trigram_index()


def _trigram_index() -> None:
    """PostgreSQL: a trigram index makes string ``:contains`` searches use an index.

    ``pg_trgm`` ships with PostgreSQL (contrib) and is a trusted extension, but a locked-down server may
    still refuse it; the index is an optimisation, so its absence is not an error.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    with contextlib.suppress(sa.exc.DBAPIError), bind.begin_nested():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_idx_string_trgm ON idx_string USING gin (value gin_trgm_ops)")


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
