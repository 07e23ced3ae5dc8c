"""Issue 13: a random token id per subscriber (links name it, not the sequential row id) and
the nonce of the subscribe request a confirmation link must match.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("token_id", sa.String(32), nullable=True))
    op.add_column("subscribers", sa.Column("confirm_nonce", sa.String(32), nullable=True))
    conn = op.get_bind()
    table = sa.table("subscribers", sa.column("id", sa.Integer), sa.column("token_id"))
    ids = list(conn.scalars(sa.select(table.c.id)))
    if ids:
        conn.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("sid"))
            .values(token_id=sa.bindparam("tid")),
            [{"sid": sid, "tid": secrets.token_urlsafe(16)} for sid in ids],
        )
    op.create_index("ix_subscribers_token_id", "subscribers", ["token_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_subscribers_token_id", table_name="subscribers")
    with op.batch_alter_table("subscribers", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("confirm_nonce")
        batch.drop_column("token_id")
