"""The Store's article reads: what the feeds, pages and status show."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine

from syndicate.models import Article
from syndicate.store import articles as _articles
from syndicate.store.build_reads import BuildReads, Mark, PageChanges, PageRow
from syndicate.store.text_sql import text_run


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
