"""The database: the only place that speaks SQL.

``Store(url)`` opens SQLite or PostgreSQL from the URL alone, creates the schema on first
use and refuses a database written by a newer schema. Every method is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from syndicate.models import Article, Edition, Observation
from syndicate.store import articles as _articles
from syndicate.store import editions as _editions
from syndicate.store import files as _files
from syndicate.store.engine import (
    SchemaVersionError,
    StoreError,
    make_engine,
    prepare_schema,
    writer,
)
from syndicate.store.records import FileRecord, FileState
from syndicate.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "FileRecord",
    "FileState",
    "SchemaVersionError",
    "Store",
    "StoreError",
]


class Store:
    def __init__(self, url: str) -> None:
        self._engine = make_engine(url)
        self._writer = writer(self._engine)
        try:
            prepare_schema(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for health checks and tests; queries belong in this package."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- gathering --------------------------------------------------------------------

    def file_states(self, source: str) -> dict[str, FileState]:
        with self._engine.connect() as conn:
            return _files.file_states(conn, source)

    def save_files(
        self,
        source: str,
        records: Sequence[FileRecord],
        removed: Sequence[str],
        now: datetime,
    ) -> set[str]:
        """Replace these files' rows and observations, drop the removed ones, all or nothing.

        Returns the slugs whose observations changed (before and after).
        """
        with self._writer.begin() as conn:
            return _files.save_files(conn, source, records, removed, now)

    def touch_files(self, source: str, seen: Sequence[tuple[str, int, int]]) -> None:
        """(path, size, mtime_ns) of files whose content hash is unchanged."""
        with self._writer.begin() as conn:
            _files.touch_files(conn, source, seen)

    def observations_for(self, slugs: Iterable[str]) -> dict[str, list[tuple[str, Observation]]]:
        """slug → [(source, observation)], in (source, path, position-in-file) order."""
        with self._engine.connect() as conn:
            return _files.observations_for(conn, slugs)

    def record_gather_run(
        self,
        source: str,
        started: datetime,
        finished: datetime,
        new: int,
        updated: int,
        unchanged: int,
        failed: int,
    ) -> None:
        counts = (new, updated, unchanged, failed)
        with self._writer.begin() as conn:
            _files.record_gather_run(conn, source, started, finished, counts)

    def last_gather(self) -> datetime | None:
        """When the last gather run finished, or None if none has."""
        with self._engine.connect() as conn:
            return _files.last_gather(conn)

    # --- articles ---------------------------------------------------------------------

    def upsert_articles(self, articles: Sequence[Article], now: datetime) -> tuple[int, int]:
        """(new, updated); an existing slug is rewritten only when its content hash differs."""
        with self._writer.begin() as conn:
            return _articles.upsert_articles(conn, articles, now)

    def latest_articles(self, limit: int, category: str | None = None) -> list[Article]:
        with self._engine.connect() as conn:
            return _articles.latest_articles(conn, limit, category)

    def categories(self) -> list[tuple[str, int]]:
        with self._engine.connect() as conn:
            return _articles.categories(conn)

    def article_count(self) -> int:
        with self._engine.connect() as conn:
            return _articles.article_count(conn)

    # --- editions ---------------------------------------------------------------------

    def get_edition(self, week: str) -> Edition | None:
        with self._engine.connect() as conn:
            return _editions.get_edition(conn, week)

    def edition_candidates(self, before: datetime, limit: int) -> list[Article]:
        """Articles in no edition, published before ``before``, newest first."""
        with self._engine.connect() as conn:
            return _editions.edition_candidates(conn, before, limit)

    def create_edition(
        self, week: str, created_at: datetime, subject: str, guids: Sequence[str]
    ) -> Edition:
        """Store a new edition; if the week exists already, return it as stored."""
        try:
            with self._writer.begin() as conn:
                existing = _editions.get_edition(conn, week)
                if existing is not None:
                    return existing
                _editions.insert_edition(conn, week, created_at, subject, guids)
                created = _editions.get_edition(conn, week)
        except IntegrityError:
            # Another writer created the week between our check and our insert.
            raced = self.get_edition(week)
            if raced is None:
                raise
            return raced
        assert created is not None
        return created

    def editions(self) -> list[tuple[str, datetime, int]]:
        """(week, created_at, article count), newest week first."""
        with self._engine.connect() as conn:
            return _editions.list_editions(conn)
