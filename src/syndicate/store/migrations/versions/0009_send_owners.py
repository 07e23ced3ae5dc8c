"""Issue 10: senders that know each other, pauses that heal, announcements.

- ``senders``: the processes sending now, each with a heartbeat; ``deliveries.owner`` names
  the sender that claimed a row, so only a dead sender's rows in flight become uncertain.
- ``edition_sends`` gets the kind of a pause, when it paused and how often the service retried.
- ``announcements``: a one-off message (`syndicate announce`), an edition without articles.
- An edition's key widens from 16 to 64 characters ("announcement:2026-12-02-our-move").
  SQLite never enforces a VARCHAR length, so there only the tables' declared text changes
  (SQLite's own procedure for changes that leave the stored rows as they are): no table of a
  million ledger rows is copied.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
# Every table with an edition key.
_KEYED = ("editions", "edition_articles", "deliveries", "edition_sends", "webhook_events")
_ADDED = {"deliveries": ("owner",), "edition_sends": ("pause_kind", "paused_at", "retries")}


def upgrade() -> None:
    op.create_table(
        "senders",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(64), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("heartbeat_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_senders")),
    )
    _rekey(16, 64)
    op.create_table(
        "announcements",
        sa.Column("week", sa.String(64), nullable=False),
        sa.Column("preheader", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["week"], ["editions.week"], name=op.f("fk_announcements_week_editions")
        ),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_announcements")),
    )
    op.add_column("deliveries", sa.Column("owner", sa.String(32), nullable=True))
    op.add_column("edition_sends", sa.Column("pause_kind", sa.String(16), nullable=True))
    op.add_column("edition_sends", sa.Column("paused_at", UTC_TIME, nullable=True))
    op.add_column(
        "edition_sends", sa.Column("retries", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    for name, columns in _ADDED.items():
        for column in columns:
            # SQLite drops a column in place (3.35+): no batch rebuild, which would lose the
            # partial index's WHERE.
            op.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    op.drop_table("announcements")
    _rekey(64, 16)
    op.drop_table("senders")


def _rekey(old: int, new: int) -> None:
    if op.get_context().dialect.name != "sqlite":
        for name in _KEYED:
            op.alter_column(
                name,
                "week",
                existing_type=sa.String(old),
                type_=sa.String(new),
                existing_nullable=False,
            )
        return
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema=ON")
    for name in _KEYED:
        conn.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                "WHERE type = 'table' AND name = :name"
            ),
            {
                "old": f"week VARCHAR({old}) NOT NULL",
                "new": f"week VARCHAR({new}) NOT NULL",
                "name": name,
            },
        )
    conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema=OFF")
