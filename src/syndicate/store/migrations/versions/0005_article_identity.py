"""Article identity: an article is its source plus a key, not the slug of its title.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Existing articles keep their guid (what readers have). Each gets the key the new code would
give it: a feed entry's key (the observation's path, e.g. ``guid:…``), a Markdown article's
front-matter slug (stored as its relative link), else the title's slug. Every file and feed
body is then marked as never read, so that the next gather reads each source whole and
merges it under the new rules (articles a title used to merge come apart there).

Revision 0005 changes existing tables (new NOT NULL columns): meta.schema_version becomes
"2", so code from before Alembic refuses the database instead of failing mid-query.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_FEED_KEY_PREFIXES = ("guid:", "link:", "title:")

_articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("source", sa.String),
    sa.column("key", sa.String),
    sa.column("status", sa.String),
    sa.column("title", sa.Text),
    sa.column("link", sa.Text),
    sa.column("published", sa.DateTime(timezone=True)),
    sa.column("category", sa.String),
    sa.column("summary", sa.Text),
    sa.column("content", sa.Text),
    sa.column("author", sa.Text),
    sa.column("tags", sa.Text),
    sa.column("content_hash", sa.String),
)
_observations = sa.table(
    "observations",
    sa.column("id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("path", sa.String),
    sa.column("position", sa.Integer),
    sa.column("slug", sa.String),
    sa.column("kind", sa.String),
    sa.column("link", sa.String),
    sa.column("key", sa.String),
    sa.column("draft", sa.Boolean),
)
_files = sa.table("files", sa.column("size", sa.BigInteger), sa.column("sha256", sa.String))
_feed_state = sa.table(
    "feed_state",
    sa.column("source", sa.String),
    sa.column("etag", sa.Text),
    sa.column("last_modified", sa.Text),
    sa.column("sha256", sa.String),
)
_gather_runs = sa.table("gather_runs", sa.column("removed", sa.Integer))
_meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=True))
    with op.batch_alter_table("gather_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed", sa.Integer(), nullable=True))
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("draft", sa.Boolean(), nullable=True))

    _fill(op.get_bind())

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(), nullable=False)
        batch_op.alter_column("status", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_articles_slug"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_articles_source_key"), ["source", "key"])
    _restore_descending_indexes()
    with op.batch_alter_table("gather_runs", schema=None) as batch_op:
        batch_op.alter_column("removed", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(), nullable=False)
        batch_op.alter_column("draft", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_observations_slug"))
    op.create_index("ix_observations_source_key", "observations", ["source", "key"])
    op.create_index("ix_observations_source_slug", "observations", ["source", "slug"])


def _restore_descending_indexes() -> None:
    """SQLite's batch mode rebuilds the table from reflection, which loses DESC."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_articles_published_guid", table_name="articles")
    op.drop_index("ix_articles_category_published", table_name="articles")
    op.create_index("ix_articles_published_guid", "articles", [sa.text("published DESC"), "guid"])
    op.create_index(
        "ix_articles_category_published",
        "articles",
        ["category", sa.text("published DESC"), "guid"],
    )


def _fill(conn: sa.Connection) -> None:
    feed_sources = set(conn.scalars(sa.select(_feed_state.c.source)))
    keys: dict[int, str] = {}
    for row in conn.execute(sa.select(_observations)):
        keys[row.id] = _observation_key(row, feed_sources)
    if keys:
        conn.execute(
            _observations.update()
            .where(_observations.c.id == sa.bindparam("b_id"))
            .values(key=sa.bindparam("b_key"), draft=False),
            [{"b_id": oid, "b_key": key} for oid, key in keys.items()],
        )
    _fill_article_keys(conn, feed_sources)
    conn.execute(_gather_runs.update().values(removed=0))
    # Read every source whole at the next gather.
    conn.execute(_files.update().values(size=-1, sha256=""))
    conn.execute(_feed_state.update().values(etag="", last_modified="", sha256=""))
    conn.execute(_meta.update().where(_meta.c.key == "schema_version").values(value="2"))


def _observation_key(row: sa.Row[object], feed_sources: set[str]) -> str:
    if row.source in feed_sources or str(row.path).startswith(_FEED_KEY_PREFIXES):
        return str(row.path)
    link = str(row.link or "")
    if row.kind == "full" and link and "://" not in link:
        return link  # a Markdown article's front-matter slug, already slugified
    return str(row.slug)


def _fill_article_keys(conn: sa.Connection, feed_sources: set[str]) -> None:
    """Each article takes the key of the observation it was made from (its source's full
    text first); a key taken already in that source falls back to the article's slug."""
    order = (
        _observations.c.source,
        _observations.c.slug,
        sa.case((_observations.c.kind == "full", 0), else_=1),
        _observations.c.path,
        _observations.c.position,
    )
    first: dict[tuple[str, str], str] = {}
    for row in conn.execute(sa.select(_observations).order_by(*order)):
        first.setdefault((row.source, row.slug), row.key)
    taken: set[tuple[str, str]] = set()
    updates = []
    for row in conn.execute(sa.select(_articles).order_by(_articles.c.id)):
        key = first.get((row.source, row.slug), row.slug)
        if (row.source, key) in taken:
            key = row.slug if (row.source, row.slug) not in taken else f"{row.slug}~{row.id}"
        taken.add((row.source, key))
        updates.append({"b_id": row.id, "b_key": key, "b_hash": _article_hash(key, row)})
    if updates:
        conn.execute(
            _articles.update()
            .where(_articles.c.id == sa.bindparam("b_id"))
            .values(
                key=sa.bindparam("b_key"),
                status="published",
                content_hash=sa.bindparam("b_hash"),
            ),
            updates,
        )


def _article_hash(key: str, row: sa.Row[object]) -> str:
    """sources.merge.article_hash as it was written with this revision (frozen here): the
    next gather's merge gives the same hash to an article that did not change."""
    published = row.published
    if isinstance(published, str):
        published = datetime.fromisoformat(published)
    assert isinstance(published, datetime)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    tags = [str(tag) for tag in json.loads(str(row.tags) or "[]")]
    parts = [key, row.title, row.link, published.astimezone(UTC).isoformat(), row.category,
             row.summary, row.content, row.author, *tags]  # fmt: skip
    digest = hashlib.sha256()
    for part in parts:
        data = str(part).encode("utf-8", "surrogatepass")
        digest.update(f"{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def downgrade() -> None:
    op.drop_index("ix_observations_source_slug", table_name="observations")
    op.drop_index("ix_observations_source_key", table_name="observations")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observations_slug"), ["slug"], unique=False)
        batch_op.drop_column("draft")
        batch_op.drop_column("key")
    with op.batch_alter_table("gather_runs", schema=None) as batch_op:
        batch_op.drop_column("removed")
    # Articles that share a slug (distinct since 0005) cannot go back under one unique slug:
    # all but the oldest of each slug are dropped with the downgrade.
    conn = op.get_bind()
    keep = sa.select(sa.func.min(_articles.c.id)).group_by(_articles.c.slug)
    conn.execute(
        sa.text(
            "DELETE FROM edition_articles WHERE guid IN (SELECT guid FROM articles "
            "WHERE id NOT IN (SELECT min(id) FROM articles GROUP BY slug))"
        )
    )
    conn.execute(_articles.delete().where(_articles.c.id.not_in(keep)))
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_articles_source_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_articles_slug"), ["slug"])
        batch_op.drop_column("status")
        batch_op.drop_column("key")
    _restore_descending_indexes()
    conn.execute(_meta.update().where(_meta.c.key == "schema_version").values(value="1"))
