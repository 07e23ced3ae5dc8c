"""The table definitions: one MetaData for SQLite and PostgreSQL (and, later, Alembic)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator, TypeEngine

SCHEMA_VERSION = 1

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _SQLiteText(sqlite.DATETIME):
    """SQLite's DATETIME column, its text made and read by UTCDateTime (C speed)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC, returned as an aware UTC datetime.

    SQLite has no time zone type: the value is stored as naive UTC text in SQLAlchemy's own
    DATETIME format (``YYYY-MM-DD HH:MM:SS.ffffff``), whose order is the time order.
    PostgreSQL gets a ``timestamptz`` and an aware value, whatever the session's TimeZone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteText()  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | str | None:
        if value is None:
            return None
        offset = value.utcoffset() if isinstance(value, datetime) else None
        if offset is None:
            raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
        if dialect.name == "sqlite":
            naive: datetime = value.replace(tzinfo=None) - offset
            return naive.isoformat(" ", "microseconds")
        utc: datetime = value.astimezone(UTC)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guid", String, nullable=False),
    Column("slug", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("category", String, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("source", String, nullable=False),
    Column("tags", Text, nullable=False),  # a JSON list of strings
    Column("first_seen", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("content_hash", String, nullable=False),
    UniqueConstraint("guid"),
    UniqueConstraint("slug"),
)
# Newest-first listings walk these indexes and stop after LIMIT rows, whatever the archive's
# size; guid is in both so the tie-break order needs no sort either.
Index("ix_articles_published_guid", articles.c.published.desc(), articles.c.guid)
Index(
    "ix_articles_category_published",
    articles.c.category,
    articles.c.published.desc(),
    articles.c.guid,
)

files = Table(
    "files",
    metadata,
    Column("source", String, nullable=False),
    Column("path", String, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("error", Text, nullable=True),
    Column("gathered_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("source", "path"),
)

observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String, nullable=False),
    Column("path", String, nullable=False),
    Column("position", Integer, nullable=False),  # order within the file
    Column("slug", String, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("category", String, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("tags", Text, nullable=False),  # a JSON list of strings
)
Index("ix_observations_slug", observations.c.slug)
Index("ix_observations_source_path", observations.c.source, observations.c.path)

gather_runs = Table(
    "gather_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime, nullable=False),
    Column("source", String, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
)

editions = Table(
    "editions",
    metadata,
    Column("week", String(16), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("subject", Text, nullable=False),
)

edition_articles = Table(
    "edition_articles",
    metadata,
    Column("week", String(16), ForeignKey("editions.week"), nullable=False),
    Column("guid", String, ForeignKey("articles.guid"), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("week", "guid"),
)
# "In no edition" looks articles up by guid.
Index("ix_edition_articles_guid", edition_articles.c.guid)
