"""The Store's article reads: what the feeds, pages and status show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine

from syndicate.models import Article
from syndicate.store import articles as _articles
from syndicate.store import page_rows as _pages
from syndicate.store.page_rows import Mark, PageChanges, PageRow


class ArticleQueries:
    """The Store's reads of articles (mixed into Store)."""

    _engine: Engine
    _writer: Engine

    def latest_articles(
        self, limit: int, now: datetime, category: str | None = None
    ) -> list[Article]:
        """The articles visible at ``now`` (published, not draft or removed), newest first."""
        with self._engine.connect() as conn:
            return _articles.latest_articles(conn, limit, now, category)

    def page_changes(
        self, now: datetime, held: Mark | None, since: datetime | None, limit: int
    ) -> PageChanges:
        """The articles whose pages may have changed since the build that held ``held`` at
        ``since`` (every visible one without a mark of this store, or past ``limit``)."""
        with self._engine.connect() as conn:
            return _pages.page_changes(conn, now, held, since, limit)

    def page_owners(self, links: Iterable[str], now: datetime) -> dict[str, PageRow]:
        """link → the visible article whose page it is (the first stored of that link)."""
        with self._engine.connect() as conn:
            return _pages.page_owners(conn, links, now)

    def articles_by_guid(self, guids: Iterable[str]) -> list[Article]:
        with self._engine.connect() as conn:
            return _articles.articles_by_guid(conn, guids)

    def categories(self, now: datetime | None = None) -> list[tuple[str, int]]:
        """Categories of the articles visible at ``now`` (None: of every published one,
        scheduled ones too), with their counts."""
        with self._engine.connect() as conn:
            return _articles.categories(conn, now)

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
