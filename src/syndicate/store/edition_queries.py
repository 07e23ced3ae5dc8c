"""The Store's edition reads: a period's articles, the stored and archived editions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from syndicate.models import Article, Edition
from syndicate.store import editions as _editions
from syndicate.store import web as _web


class EditionQueries:
    """The Store's reads of editions (mixed into Store)."""

    _engine: Engine
    _writer: Engine

    def get_edition(self, key: str) -> Edition | None:
        """The stored edition of ``key`` (``weekly:2026-W47``): frozen once its send began."""
        with self._engine.connect() as conn:
            return _editions.get_edition(conn, key)

    def period_articles(
        self, start: datetime, end: datetime, now: datetime, limit: int
    ) -> tuple[list[Article], int]:
        """The newest ``limit`` visible articles published in [start, end), and their total."""
        with self._engine.connect() as conn:
            return _editions.period_articles(conn, start, end, now, limit)

    def editions(self) -> list[tuple[str, datetime, int]]:
        """(key, created_at, article count) of the stored editions, newest first."""
        with self._engine.connect() as conn:
            return _editions.list_editions(conn)

    def archived_editions(self) -> list[tuple[str, datetime, int]]:
        """Like ``editions``, only those whose send has started (the web archive's list)."""
        with self._engine.connect() as conn:
            return _web.archived_editions(conn)
