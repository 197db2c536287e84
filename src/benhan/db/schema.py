"""The database schema (SQLAlchemy Core), identical on SQLite and PostgreSQL.

* ``resource`` holds the current version of every resource (one row per type/id), keyed by a
  surrogate integer ``pk`` that the search index tables point at.
* ``resource_version`` is the append-only history: every version ever written, tombstones included.
  Rows are only ever inserted.
* ``idx_*`` tables are derived search-index rows, rewritten with the resource in the same
  transaction. ``param`` is the search parameter code; ``grp`` groups the components of one
  composite value (0 for ordinary rows). Composite components use ``param = "<code>$<n>"``.
* Times are integers: microseconds since the Unix epoch, UTC (sortable, identical on both engines).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

PK = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrement needs INTEGER PRIMARY KEY

resource = Table(
    "resource",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_updated", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content", Text, nullable=False),
    Index("ux_resource_type_id", "type", "id", unique=True),
    Index("ix_resource_type_updated", "type", "last_updated"),
)

resource_version = Table(
    "resource_version",
    metadata,
    Column("res_pk", PK, primary_key=True, autoincrement=False),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("id", String(64), nullable=False),
    Column("last_updated", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("method", String(8), nullable=False),
    Column("content", Text, nullable=False),
    Index("ix_version_updated", "last_updated"),
    Index("ix_version_type_updated", "type", "last_updated"),
)


def _where(condition: str) -> dict[str, Any]:
    """A partial index on both engines (``url = ?`` implies ``url IS NOT NULL`` for both planners)."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


def _index_table(name: str, *columns: Column, indexes: tuple[Index, ...] = ()) -> Table:
    return Table(
        name,
        metadata,
        Column("res_pk", PK, nullable=False),
        Column("res_type", String(64), nullable=False),
        Column("param", String(100), nullable=False),
        Column("grp", SmallInteger, nullable=False, default=0),
        *columns,
        Index(f"ix_{name}_res", "res_pk"),
        *indexes,
    )


idx_string = _index_table(
    "idx_string",
    Column("value", String(255), nullable=False),  # normalised: lower case, no diacritics
    Column("exact", String(255), nullable=False),  # as written, for :exact
    indexes=(
        Index("ix_idx_string_value", "res_type", "param", "value", "res_pk",  # res_pk: covering (0010)
              postgresql_ops={"value": "text_pattern_ops"}),
    ),
)

idx_token = _index_table(
    "idx_token",
    Column("system", String(255)),
    Column("code", String(255)),
    Column("text", String(255)),  # normalised display / CodeableConcept.text, for :text
    Column("type_system", String(255)),  # Identifier.type coding, for :of-type
    Column("type_code", String(255)),
    indexes=(
        # also serves system| (any code of a system): res_type, param prefix, system filtered in the index
        Index("ix_idx_token_code", "res_type", "param", "code", "system"),
        Index("ix_idx_token_text", "res_type", "param", "text",  # :text (starts-with)
              postgresql_ops={"text": "text_pattern_ops"}, **_where("text IS NOT NULL")),
    ),
)

idx_date = _index_table(
    "idx_date",
    Column("low", BigInteger, nullable=False),   # inclusive, microseconds since epoch
    Column("high", BigInteger, nullable=False),  # inclusive
    indexes=(
        Index("ix_idx_date_low", "res_type", "param", "low"),
        Index("ix_idx_date_high", "res_type", "param", "high"),
    ),
)

idx_number = _index_table(
    "idx_number",
    Column("value", Float, nullable=False),
    indexes=(Index("ix_idx_number_value", "res_type", "param", "value"),),
)

idx_quantity = _index_table(
    "idx_quantity",
    Column("value", Float, nullable=False),
    Column("system", String(255)),
    Column("code", String(255)),
    Column("unit", String(255)),
    indexes=(Index("ix_idx_quantity_value", "res_type", "param", "value"),),
)

idx_uri = _index_table(
    "idx_uri",
    Column("uri", String(500), nullable=False),
    indexes=(Index("ix_idx_uri_uri", "res_type", "param", "uri",
                   postgresql_ops={"uri": "text_pattern_ops"}),),
)

idx_reference = _index_table(
    "idx_reference",
    Column("target_type", String(64)),  # set for references to resources on this server
    Column("target_id", String(64)),
    Column("target_version", String(64)),
    Column("url", String(500)),  # absolute / canonical / logical references, as written
    indexes=(
        Index("ix_idx_reference_target", "target_type", "target_id", "param"),
        Index("ix_idx_reference_src", "res_type", "param", "target_id"),
        # most references are local (Type/id) and have no URL: only rows with one are worth an entry
        Index("ix_idx_reference_url", "res_type", "param", "url", **_where("url IS NOT NULL")),
    ),
)

# Which patient compartments a resource belongs to (from the official CompartmentDefinition).
compartment = Table(
    "compartment",
    metadata,
    Column("res_pk", PK, nullable=False),
    Column("res_type", String(64), nullable=False),
    Column("comp_type", String(64), nullable=False),
    Column("comp_id", String(64), nullable=False),
    Index("ix_compartment_res", "res_pk"),
    Index("ix_compartment_target", "comp_type", "comp_id", "res_type"),
)

INDEX_TABLES: dict[str, Table] = {
    "string": idx_string,
    "token": idx_token,
    "date": idx_date,
    "number": idx_number,
    "quantity": idx_quantity,
    "uri": idx_uri,
    "reference": idx_reference,
}

# Numbers the facility issues in sequence (mã bệnh nhân, số thứ tự khám): one row per sequence, advanced
# by one statement inside the transaction that uses the number (benhan.db.counters).
counter = Table(
    "counter",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("period", String(20)),  # the sequence restarts when this changes (a hospital day); NULL: never
    Column("value", BigInteger, nullable=False),  # the last number issued
)
