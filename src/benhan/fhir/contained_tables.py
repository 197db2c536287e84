"""The table of contained resources (``Resource.contained``), searched with ``_contained``.

A contained resource has no row in ``resource``: it lives inside its container's content. To search
it through the ordinary ``idx_*`` tables it gets a key of its own, **negative** (see
:func:`benhan.fhir.contained.contained_key`), and its index rows carry that key as ``res_pk``.
Ordinary searches, sorts, includes and ``_has`` join index rows to ``resource.pk``, which is always
positive, so they can never see these rows.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from benhan.db.schema import PK, metadata

contained_resource = Table(
    "contained_resource",
    metadata,
    Column("pk", BigInteger, primary_key=True, autoincrement=False),  # negative: -(container_pk * 1024 + n + 1)
    Column("container_pk", PK, nullable=False),
    Column("type", String(64), nullable=False),
    Column("id", String(64), nullable=False),  # the local id (referenced as "#id" inside the container)
    Column("last_updated", BigInteger, nullable=False),  # the container's, for _lastUpdated
    Index("ix_contained_resource_container", "container_pk"),
    Index("ix_contained_resource_type", "type", "id"),
)
