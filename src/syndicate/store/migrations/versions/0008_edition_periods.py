"""Issue 10: an edition is a period of a cadence; subscribers have a cadence; the site's
first `syndicate run` is recorded.

Existing editions are weekly: their key ``2026-W47`` becomes ``weekly:2026-W47`` in every
table that names it (the archive keeps its ``/archive/2026-W47/`` URLs). A database that a
`syndicate run` has used gets its first start from the oldest job run, so an upgrade does not
hold back a send the old code would have caught up.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
_CHILDREN = ("edition_articles", "deliveries", "edition_sends", "webhook_events")
_EDITION_COLUMNS = ("week", "created_at", "subject")


def upgrade() -> None:
    op.add_column(
        "editions", sa.Column("cadence", sa.String(16), nullable=False, server_default="weekly")
    )
    op.add_column("editions", sa.Column("period", sa.String(16), nullable=False, server_default=""))
    op.add_column("editions", sa.Column("more", sa.Integer, nullable=False, server_default="0"))
    op.add_column("editions", sa.Column("note", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "subscribers",
        sa.Column("cadence", sa.String(16), nullable=False, server_default="weekly"),
    )
    op.create_table(
        "site_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("at", UTC_TIME, nullable=False),
    )
    _rekey_weekly_editions()
    _first_run_from_job_runs()


def _rekey_weekly_editions() -> None:
    """``2026-W47`` → ``weekly:2026-W47``: the new key's row first, then the rows pointing at
    it, then the old row, so that no foreign key is broken at any step (PostgreSQL checks
    them at once)."""
    conn = op.get_bind()
    editions = sa.table("editions", *(sa.column(c) for c in (*_EDITION_COLUMNS, "period")))
    old = [row.week for row in conn.execute(sa.select(editions.c.week)) if ":" not in row.week]
    for week in old:
        key = f"weekly:{week}"
        copy = sa.select(sa.literal(key), editions.c.created_at, editions.c.subject).where(
            editions.c.week == week
        )
        conn.execute(sa.insert(editions).from_select(list(_EDITION_COLUMNS), copy))
        conn.execute(sa.update(editions).where(editions.c.week == key).values(period=week))
        for name in _CHILDREN:
            child = sa.table(name, sa.column("week"))
            conn.execute(sa.update(child).where(child.c.week == week).values(week=key))
        conn.execute(sa.delete(editions).where(editions.c.week == week))


def _first_run_from_job_runs() -> None:
    conn = op.get_bind()
    runs = sa.table("job_runs", sa.column("started", UTC_TIME), sa.column("instance"))
    first = conn.scalar(
        sa.select(sa.func.min(runs.c.started)).where(~runs.c.instance.like("cli:%"))
    )
    if first is not None:
        state = sa.table("site_state", sa.column("name"), sa.column("at", UTC_TIME))
        conn.execute(sa.insert(state).values(name="first_run", at=first))


def downgrade() -> None:
    conn = op.get_bind()
    editions = sa.table("editions", *(sa.column(c) for c in (*_EDITION_COLUMNS, "cadence")))
    for (key,) in conn.execute(sa.select(editions.c.week).where(editions.c.cadence == "weekly")):
        week = key.partition(":")[2]
        copy = sa.select(sa.literal(week), editions.c.created_at, editions.c.subject).where(
            editions.c.week == key
        )
        conn.execute(sa.insert(editions).from_select(list(_EDITION_COLUMNS), copy))
        for name in _CHILDREN:
            child = sa.table(name, sa.column("week"))
            conn.execute(sa.update(child).where(child.c.week == key).values(week=week))
        conn.execute(sa.delete(editions).where(editions.c.week == key))
    op.drop_table("site_state")
    with op.batch_alter_table("subscribers", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("cadence")
    with op.batch_alter_table("editions") as batch:
        for name in ("note", "more", "period", "cadence"):
            batch.drop_column(name)
