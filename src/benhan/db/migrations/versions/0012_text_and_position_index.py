"""Index tables of the special search parameters ``_text``/``_content`` and ``near``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23

``idx_text`` holds one row per resource (contained ones under their negative keys) with two documents of
folded words: the narrative and the whole content (``benhan.fhir.textindex``). Its full-text index is
engine-specific, so it is made here rather than declared in the schema:

* PostgreSQL: GIN indexes on the documents' word arrays, ``string_to_array(content, ' ')`` (and the
  narrative's, partial). Words are compared as they are stored: no text-search parser or locale between
  the document and the query.
* SQLite: an FTS5 table ``idx_text_fts`` over both documents with ``idx_text`` as its external content
  (the text is stored once), kept in step by triggers on insert and delete (rows are never updated).
  The ``ascii`` tokenizer splits on ASCII spaces and punctuation only, so its tokens are exactly the
  document's words, whatever their script; ``detail=column`` keeps which document a word is in (for
  ``_text``) but no positions (phrases are checked on the document text).

``idx_position`` holds a Location's position (latitude, longitude and unit vector) for ``near``.

Resources stored before this migration have no rows here until they are written again or
``benhan db reindex`` is run (it rebuilds every index table, these included).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE idx_text_fts USING fts5(narrative, content, content='idx_text', content_rowid='res_pk', "
    "tokenize='ascii', detail='column', columnsize=0)",
    "CREATE TRIGGER idx_text_fts_insert AFTER INSERT ON idx_text BEGIN "
    "INSERT INTO idx_text_fts(rowid, narrative, content) VALUES (new.res_pk, new.narrative, new.content); END",
    "CREATE TRIGGER idx_text_fts_delete AFTER DELETE ON idx_text BEGIN "
    "INSERT INTO idx_text_fts(idx_text_fts, rowid, narrative, content) "
    "VALUES ('delete', old.res_pk, old.narrative, old.content); END",
    # Rows are only inserted and deleted; should one ever be updated, the full-text index follows.
    "CREATE TRIGGER idx_text_fts_update AFTER UPDATE ON idx_text BEGIN "
    "INSERT INTO idx_text_fts(idx_text_fts, rowid, narrative, content) "
    "VALUES ('delete', old.res_pk, old.narrative, old.content); "
    "INSERT INTO idx_text_fts(rowid, narrative, content) VALUES (new.res_pk, new.narrative, new.content); END",
)
_POSTGRES_GIN = (
    "CREATE INDEX ix_idx_text_content ON idx_text USING gin (string_to_array(content, ' '))",
    "CREATE INDEX ix_idx_text_narrative ON idx_text USING gin (string_to_array(narrative, ' ')) "
    "WHERE narrative IS NOT NULL",
)


def upgrade() -> None:
    op.create_table(
        "idx_text",
        sa.Column("res_pk", PK, primary_key=True, autoincrement=False),
        sa.Column("res_type", sa.String(64), nullable=False),
        sa.Column("narrative", sa.Text),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "idx_position",
        sa.Column("res_pk", PK, primary_key=True, autoincrement=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("z", sa.Float, nullable=False),
    )
    op.create_index("ix_idx_position_lat", "idx_position", ["latitude", "longitude"])
    for statement in _POSTGRES_GIN if op.get_bind().dialect.name == "postgresql" else _SQLITE_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("idx_text_fts_insert", "idx_text_fts_delete", "idx_text_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS idx_text_fts")
    op.drop_table("idx_position")
    op.drop_table("idx_text")
