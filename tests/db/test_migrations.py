"""The Alembic migrations build exactly the schema the code declares, on both engines."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import benhan
from benhan.db.schema import metadata

_MIGRATION_ONLY_INDEXES = frozenset({"ix_idx_string_trgm", "ix_idx_text_content", "ix_idx_text_narrative"})


def _import_all_table_modules() -> None:
    """Every module that declares tables on the shared metadata must be imported before comparing."""
    for module in pkgutil.walk_packages(benhan.__path__, "benhan."):
        if module.name.endswith(("tables", "schema")):
            importlib.import_module(module.name)


def test_migrated_schema_matches_declared_schema(engine):
    _import_all_table_modules()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # the optional PostgreSQL trigram index is created by the migration only, on purpose; so is the
    # engine-specific full-text index of idx_text (0012: GIN expression indexes, or SQLite's FTS5 table)
    diff = [d for d in diff if not (d[0] == "remove_index" and d[1].name in _MIGRATION_ONLY_INDEXES)
            and not (d[0] == "remove_table" and d[1].name.startswith("idx_text_fts"))]
    assert diff == []


def test_fhir_store_tables_exist(engine):
    names = set(inspect(engine).get_table_names())
    assert {"resource", "resource_version", "idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity",
            "idx_uri", "idx_reference", "compartment", "idx_text", "idx_position", "alembic_version"} <= names
