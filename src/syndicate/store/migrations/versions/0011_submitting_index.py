"""Issue 14: a partial index on the ledger rows in flight (state ``submitting``), so that
recovering a dead sender's rows and counting a live one's need no scan of the edition.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SUBMITTING = sa.text("state = 'submitting'")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_submitting",
        "deliveries",
        ["week", "owner"],
        sqlite_where=_SUBMITTING,
        postgresql_where=_SUBMITTING,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_submitting", table_name="deliveries")
