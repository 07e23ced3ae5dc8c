"""Issue 14: on PostgreSQL, the ledger's updates become HOT updates.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

A send updates each ledger row twice. With ``state`` in the WHERE of two partial indexes,
every update wrote a new entry into each of the table's indexes; now no index there names a
column a send changes, and the table's new pages are filled half, so an update is a new
version of the row on its own page and no index changes (see store.schema). SQLite keeps
its partial indexes: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_PENDING = "state = 'pending'"
_SUBMITTING = "state = 'submitting'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_deliveries_pending", table_name="deliveries")
    op.drop_index("ix_deliveries_submitting", table_name="deliveries")
    op.create_index("ix_deliveries_week_variant_id", "deliveries", ["week", "variant", "id"])
    op.execute("ALTER TABLE deliveries SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE deliveries RESET (fillfactor)")
    op.drop_index("ix_deliveries_week_variant_id", table_name="deliveries")
    op.execute(
        "CREATE INDEX ix_deliveries_submitting ON deliveries (week, owner) WHERE " + _SUBMITTING
    )
    op.execute(
        "CREATE INDEX ix_deliveries_pending ON deliveries (week, variant, id) WHERE " + _PENDING
    )
