"""The Store's article reads: what the feeds, pages and status show."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from syndicate.models import Article
from syndicate.store import articles as _articles
from syndicate.store.build_reads import BuildReads, Mark, PageChanges, PageRow
from syndicate.store.sqlite_direct import Run, Sql


def text_run(conn: Connection) -> Run:
    """A Run (store.sqlite_direct) over a SQLAlchemy connection: the same SQL text as over
    a sqlite3 connection, the rows as tuples."""

    def run(sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        result = conn.execute(text(sql), dict(params))
        return [tuple(row) for row in result] if result.returns_rows else []

    return run


def text_sql(conn: Connection) -> Sql:
    """The Sql (store.sqlite_direct) of a SQLAlchemy connection."""

    def many(sql: str, rows: Sequence[Mapping[str, object]]) -> None:
        conn.execute(text(sql), [dict(row) for row in rows])

    return Sql(text_run(conn), many, conn.dialect.name)


class ArticleQueries:
    """The Store's reads of articles (mixed into Store). A feeds build's reads are
    store.build_reads' SQL, as over a sqlite3 connection."""

    _engine: Engine
    _writer: Engine

    @contextmanager
    def build_reads(self) -> Iterator[BuildReads]:
        """A feeds build's reads over one connection of this store."""
        with self._engine.connect() as conn:
            yield BuildReads(text_run(conn), conn.dialect.name)

    def latest_articles(
        self, limit: int, now: datetime, category: str | None = None
    ) -> list[Article]:
        """The articles visible at ``now`` (published, not draft or removed), newest first."""
        with self.build_reads() as reads:
            return reads.latest_articles(limit, now, category)

    def page_changes(
        self, now: datetime, held: Mark | None, since: datetime | None, limit: int
    ) -> PageChanges:
        """The articles whose pages may have changed since the build that held ``held`` at
        ``since`` (every visible one without a mark of this store, or past ``limit``)."""
        with self.build_reads() as reads:
            return reads.page_changes(now, held, since, limit)

    def page_owners(self, links: Iterable[str], now: datetime) -> dict[str, PageRow]:
        """link → the visible article whose page it is (the first stored of that link)."""
        with self.build_reads() as reads:
            return reads.page_owners(links, now)

    def articles_by_guid(self, guids: Iterable[str]) -> list[Article]:
        with self.build_reads() as reads:
            return reads.articles_by_guid(guids)

    def categories(self, now: datetime | None = None) -> list[tuple[str, int]]:
        """Categories of the articles visible at ``now`` (None: of every published one,
        scheduled ones too), with their counts."""
        with self.build_reads() as reads:
            return reads.categories(now)

    def unlisted_articles(self, now: datetime) -> list[Article]:
        """Drafts and scheduled articles (dated after ``now``), soonest first."""
        with self._engine.connect() as conn:
            return _articles.unlisted(conn, now)

    def articles_came_due(self, after: datetime, until: datetime) -> int:
        """Published articles dated in (after, until]: scheduled ones that are due now."""
        with self._engine.connect() as conn:
            return _articles.came_due(conn, after, until)

    def article_count(self) -> int:
        with self._engine.connect() as conn:
            return _articles.article_count(conn)
