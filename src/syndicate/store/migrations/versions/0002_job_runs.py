"""The job log of `syndicate run`: one row per run of a job, with its outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job", sa.String(64), nullable=False),
        sa.Column("started", UTC_TIME, nullable=False),
        sa.Column("finished", UTC_TIME, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("instance", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
    )
    op.create_index("ix_job_runs_finished", "job_runs", ["finished"])
    op.create_index("ix_job_runs_job_outcome_finished", "job_runs", ["job", "outcome", "finished"])


def downgrade() -> None:
    op.drop_index("ix_job_runs_job_outcome_finished", table_name="job_runs")
    op.drop_index("ix_job_runs_finished", table_name="job_runs")
    op.drop_table("job_runs")
