"""Issue 14: on SQLite, no index of the ledger rows in flight.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Each claimed row went into ix_deliveries_submitting and came out again when settled: a fifth
of the instructions of claiming and settling a row (valgrind, 20,000 rows). The rows in flight
are now looked for only when the ledger's counts, read as each sender ends, show some, or
when a sender that did not freeze the edition starts: a scan of the edition's rows then.
PostgreSQL dropped its index in revision 0014: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_deliveries_submitting", table_name="deliveries")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE INDEX ix_deliveries_submitting ON deliveries (week, owner) "
        "WHERE state = 'submitting'"
    )
