"""Derived terminology tables (like the search index): rewritten by the loader in the same transaction
as the CodeSystem resource they come from, never edited by hand.

* ``term_codesystem``: one row per loaded code-system version, with its validity window
  (``valid_from`` inclusive, ``valid_to`` exclusive, ISO dates, NULL = open) and the hash of what was
  loaded, so a reload of unchanged data writes nothing.
* ``term_concept``: one row per code; ``code_key`` is the lower-case code without dot, ``words_vi`` /
  ``words_en`` the normalised names (no diacritics) between spaces, so a word prefix is ``LIKE '% tok%'``.
* ``term_word``: one row per distinct name word of a concept (both languages): type-ahead finds the
  candidates of a word prefix by an index range scan instead of reading every concept.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from benhan.db.schema import PK, metadata

term_codesystem = Table(
    "term_codesystem",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("url", String(255), nullable=False),
    Column("version", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("valueset_url", String(255), nullable=False),
    Column("valid_from", String(10)),
    Column("valid_to", String(10)),
    Column("content_hash", String(64), nullable=False),
    Column("concept_count", Integer, nullable=False),
    Column("loaded_at", BigInteger, nullable=False),
    Index("ux_term_codesystem_url_version", "url", "version", unique=True),
    Index("ix_term_codesystem_valueset", "valueset_url"),
)

term_concept = Table(
    "term_concept",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("cs_pk", PK, ForeignKey("term_codesystem.pk"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("code_key", String(64), nullable=False),
    Column("display", String(500), nullable=False),
    Column("display_en", String(500), nullable=False),
    Column("words_vi", Text, nullable=False),
    Column("words_en", Text, nullable=False),
    Column("parent", String(64)),
    Column("flags", Integer, nullable=False),
    Column("sort_key", Integer, nullable=False),  # position in (len(code), len(display), code) order
    Column("valid_from", String(10)),
    Column("valid_to", String(10)),
    Index("ux_term_concept_code", "cs_pk", "code", unique=True),
    Index("ix_term_concept_key", "cs_pk", "code_key", "sort_key"),
)

term_word = Table(
    "term_word",
    metadata,
    Column("cs_pk", PK, nullable=False),
    Column("word", String(64), nullable=False),
    Column("concept_pk", PK, nullable=False),
    Column("sort_key", Integer, nullable=False),
    Index("ix_term_word", "cs_pk", "word", "concept_pk", "sort_key"),
    Index("ix_term_word_concept", "concept_pk"),
)
