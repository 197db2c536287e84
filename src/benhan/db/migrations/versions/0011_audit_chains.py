"""The audit trail becomes several hash chains, so concurrent requests stop queueing on one head row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

Before, every request locked the single ``audit_head`` row from its append until its commit had been
flushed, so all audited transactions of the hospital committed one after another. Under load
(200 users at 1 M resources) that lock was where requests waited: 89 % of PostgreSQL's statement
time in ``pg_stat_statements`` was ``SELECT audit_head ... FOR UPDATE`` (mean wait 318 ms).

Now ``audit_head`` has :data:`CHAINS` rows, one per chain, and ``audit_log.chain`` names the chain of
each row. A request appends to any chain whose head is free (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite has one writer at a time and keeps to chain 1). Each chain is linked by
``prev_hash`` exactly as the single chain was, so existing rows (chain 1) verify unchanged. Global
sequence numbers come from the sequence ``audit_log_seq`` on PostgreSQL (a rolled-back append may
leave a gap, so removals are found by the chain links, not by gaps).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHAINS = 32  # security.audit.CHAINS
GENESIS = "0" * 64


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table, and no UPDATE runs
    # (the append-only triggers stay in force).
    op.add_column("audit_log", sa.Column("chain", sa.SmallInteger, nullable=False, server_default="1"))
    head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.BigInteger),
                    sa.column("hash", sa.String))
    op.bulk_insert(head, [{"id": i, "seq": 0, "hash": GENESIS} for i in range(2, CHAINS + 1)])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE audit_log_seq AS bigint")
        op.execute("SELECT setval('audit_log_seq', coalesce((SELECT max(seq) FROM audit_log), 0) + 1, false)")


def downgrade() -> None:
    # Only possible while every row is still on chain 1 (the single chain of 0002).
    bind = op.get_bind()
    others = bind.execute(sa.text("SELECT count(*) FROM audit_log WHERE chain <> 1")).scalar_one()
    if others:
        raise RuntimeError("audit rows on chains other than 1: the single-chain layout cannot hold them")
    if bind.dialect.name == "postgresql":
        op.execute("DROP SEQUENCE audit_log_seq")
        op.execute("UPDATE audit_head SET seq = coalesce((SELECT max(seq) FROM audit_log), 0) WHERE id = 1")
    op.execute("DELETE FROM audit_head WHERE id <> 1")
    op.execute("ALTER TABLE audit_log DROP COLUMN chain")  # SQLite >= 3.35 too; keeps the triggers
