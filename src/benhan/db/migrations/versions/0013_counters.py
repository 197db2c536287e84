"""Sequences in a ``counter`` table instead of FHIR ``Basic`` resources.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24

The patient code (``patient-code-counter-<facility>``), the visit numbers (``visit-number-counter``, per day)
and the queue numbers (``queue-counter-<room>``, per day) were ``Basic`` resources rewritten through the
Repository on every registration and visit. They are
now one ``counter`` row each, advanced by a single statement (``benhan.db.counters``). The last value (and
day) of every such ``Basic`` is carried over here, so numbering continues where it stopped; the ``Basic``
resources themselves are left as they are (the store never rewrites history), no longer updated.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_VALUE = "urn:benhan:fhir:extension:counter-value"  # vn.systems.EXT_COUNTER_VALUE
_DAY = "urn:benhan:fhir:extension:counter-day"  # vn.systems.EXT_COUNTER_DAY


def carried_over(content: str) -> tuple[str | None, int]:
    """(day or None, last value) of a counter ``Basic``'s JSON."""
    day, value = None, 0
    for ext in json.loads(content).get("extension", []):
        if ext.get("url") == _DAY and isinstance(ext.get("valueDate"), str):
            day = ext["valueDate"]
        elif ext.get("url") == _VALUE and isinstance(ext.get("valueInteger"), int):
            value = ext["valueInteger"]
    return day, value


def upgrade() -> None:
    counter = op.create_table(
        "counter",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("period", sa.String(20)),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    rows = op.get_bind().execute(sa.text(
        "SELECT id, content FROM resource WHERE type = 'Basic' AND deleted = :no AND content LIKE :value"),
        {"no": False, "value": f"%{_VALUE}%"}).all()
    carried = []
    for rid, content in rows:
        day, value = carried_over(content)
        if value > 0:
            carried.append({"name": rid, "period": day, "value": value})
    if carried:
        op.bulk_insert(counter, carried)


def downgrade() -> None:
    op.drop_table("counter")
