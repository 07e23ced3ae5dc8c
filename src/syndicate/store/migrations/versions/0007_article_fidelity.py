"""Issue 9: articles and observations keep their enclosures; ``updated`` is when an article's
content changed, not when it was first gathered.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

An article whose ``updated`` is its ``first_seen`` was never changed since it was gathered:
its ``updated`` becomes its published date (what a store rebuilt from the same files holds).
Every file and feed body is then marked as never read, so that the next gather reads each
source whole, resolving relative URLs, keeping enclosures and linking article pages.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_articles = sa.table(
    "articles",
    sa.column("published", sa.DateTime(timezone=True)),
    sa.column("first_seen", sa.DateTime(timezone=True)),
    sa.column("updated", sa.DateTime(timezone=True)),
)
_files = sa.table("files", sa.column("size", sa.BigInteger), sa.column("sha256", sa.String))
_feed_state = sa.table(
    "feed_state",
    sa.column("etag", sa.Text),
    sa.column("last_modified", sa.Text),
    sa.column("sha256", sa.String),
)


def upgrade() -> None:
    for name in ("articles", "observations"):
        op.add_column(name, sa.Column("enclosures", sa.Text(), nullable=False, server_default=""))
    conn = op.get_bind()
    conn.execute(
        _articles.update()
        .where(_articles.c.updated == _articles.c.first_seen)
        .values(updated=_articles.c.published)
    )
    conn.execute(_files.update().values(size=-1, sha256=""))
    conn.execute(_feed_state.update().values(etag="", last_modified="", sha256=""))


def downgrade() -> None:
    for name in ("observations", "articles"):
        with op.batch_alter_table(name) as batch:
            batch.drop_column("enclosures")
