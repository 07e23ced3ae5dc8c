"""The schema as the code before Alembic created it (meta.schema_version 1).

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Written against plain SQLAlchemy types, not the application's, so that it keeps creating
this schema whatever later code does: UTCDateTime is DATETIME on SQLite and timestamptz
on PostgreSQL, as DateTime(timezone=True) is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )
    op.bulk_insert(meta, [{"key": "schema_version", "value": "1"}])
    _articles()
    _gathering()
    _editions()
    _subscribers()
    _deliveries()


def _articles() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guid", sa.String(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("published", UTC_TIME, nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("first_seen", UTC_TIME, nullable=False),
        sa.Column("updated", UTC_TIME, nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("guid", name="uq_articles_guid"),
        sa.UniqueConstraint("slug", name="uq_articles_slug"),
    )
    op.create_index("ix_articles_published_guid", "articles", [sa.text("published DESC"), "guid"])
    op.create_index(
        "ix_articles_category_published",
        "articles",
        ["category", sa.text("published DESC"), "guid"],
    )


def _gathering() -> None:
    op.create_table(
        "files",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("gathered_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("source", "path", name="pk_files"),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published", UTC_TIME, nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_observations"),
    )
    op.create_index("ix_observations_slug", "observations", ["slug"])
    op.create_index("ix_observations_source_path", "observations", ["source", "path"])
    op.create_table(
        "gather_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started", UTC_TIME, nullable=False),
        sa.Column("finished", UTC_TIME, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gather_runs"),
    )


def _editions() -> None:
    op.create_table(
        "editions",
        sa.Column("week", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("week", name="pk_editions"),
    )
    op.create_table(
        "edition_articles",
        sa.Column("week", sa.String(16), nullable=False),
        sa.Column("guid", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["week"], ["editions.week"], name="fk_edition_articles_week_editions"
        ),
        sa.ForeignKeyConstraint(
            ["guid"], ["articles.guid"], name="fk_edition_articles_guid_articles"
        ),
        sa.PrimaryKeyConstraint("week", "guid", name="pk_edition_articles"),
    )
    op.create_index("ix_edition_articles_guid", "edition_articles", ["guid"])
    op.create_table(
        "edition_sends",
        sa.Column("week", sa.String(16), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["week"], ["editions.week"], name="fk_edition_sends_week_editions"),
        sa.PrimaryKeyConstraint("week", name="pk_edition_sends"),
    )


def _subscribers() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("email_key", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("confirmed_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("email_key", name="uq_subscribers_email_key"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "subscriber_categories",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name="fk_subscriber_categories_subscriber_id_subscribers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "category", name="pk_subscriber_categories"),
    )


def _deliveries() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("week", sa.String(16), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("variant", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("week", "subscriber_id", name="uq_deliveries_week_subscriber_id"),
        sa.ForeignKeyConstraint(["week"], ["editions.week"], name="fk_deliveries_week_editions"),
    )
    op.create_index(
        "ix_deliveries_pending",
        "deliveries",
        ["week", "variant", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    for name in (
        "deliveries",
        "subscriber_categories",
        "subscribers",
        "edition_sends",
        "edition_articles",
        "editions",
        "gather_runs",
        "observations",
        "files",
        "articles",
        "meta",
    ):
        op.drop_table(name)  # their indexes go with them
