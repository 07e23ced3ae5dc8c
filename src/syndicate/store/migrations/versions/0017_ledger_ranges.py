"""Issue 14: on SQLite, claims walk each variant's id range instead of an index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

The freeze writes each variant's rows together and keeps their id range in
``delivery_ranges``; a claim on SQLite walks the rows of that range by id from where its last
claim ended. ix_deliveries_pending went: each claimed row left it (a claim's mark cost 2.5x
with it), and the freeze wrote each row into it (a fifth of the freeze's insert).
The ranges of the ledgers frozen before are their rows' bounds, variant by variant (their
variants' rows may interleave: the claims then walk over each other's rows). PostgreSQL keeps
its own index (revision 0014): the table is written there too, and read nowhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_ranges",
        sa.Column("week", sa.String(64), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "variant", name="pk_delivery_ranges"),
    )
    # The ledgers frozen before: each variant's bounds (one pass over the ledger, once).
    op.execute(
        "INSERT INTO delivery_ranges (week, variant, first_id, last_id)"
        " SELECT week, variant, min(id), max(id) FROM deliveries GROUP BY week, variant"
    )
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_deliveries_pending", table_name="deliveries")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX ix_deliveries_pending ON deliveries (week, variant, id) "
            "WHERE state = 'pending'"
        )
    op.drop_table("delivery_ranges")
