"""A unit of work: several steps on one connection, committed together or not at all.

``Store.transaction()`` opens one (SQLite's write lock is taken at BEGIN); each method here
is one step of the caller's, none commits. A gather of one source (file records,
observations, merged articles, the run's counts) is written through one of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from syndicate.models import Article, Observation
from syndicate.store import articles as _articles
from syndicate.store import feed_state as _feed_state
from syndicate.store import files as _files
from syndicate.store.articles import StoredArticle
from syndicate.store.feed_state import FeedState
from syndicate.store.records import FileRecord, FileState

GatherCounts = tuple[int, int, int, int, int]  # new, updated, unchanged, removed, failed


class UnitOfWork:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- what was read before -------------------------------------------------------------

    def file_states(self, source: str) -> dict[str, FileState]:
        return _files.file_states(self._conn, source)

    def save_files(
        self, source: str, records: Sequence[FileRecord], removed: Sequence[str], now: datetime
    ) -> set[str]:
        """Replace these files' rows and observations and drop the removed ones; the keys
        and title slugs of every observation replaced or written."""
        return _files.save_files(self._conn, source, records, removed, now)

    def touch_files(self, source: str, seen: Sequence[tuple[str, int, int]]) -> None:
        """(path, size, mtime_ns) of files whose content hash is unchanged."""
        _files.touch_files(self._conn, source, seen)

    def feed_state(self, source: str) -> FeedState | None:
        return _feed_state.get_feed_state(self._conn, source)

    def save_feed_state(self, state: FeedState) -> None:
        _feed_state.save_feed_state(self._conn, state)

    # --- observations -> articles -----------------------------------------------------------

    def observations_named(
        self, source: str, names: Iterable[str]
    ) -> list[tuple[str, Observation]]:
        """(path, observation): every observation of the source a merge of the articles
        keyed or titled by ``names`` involves."""
        return _files.observations_named(self._conn, source, names)

    def observations_titled(
        self, sources: Sequence[str], slugs: Iterable[str]
    ) -> list[tuple[str, Observation]]:
        """(source, observation) of other sources' observations with these title slugs."""
        return _files.observations_titled(self._conn, sources, slugs)

    def stored_articles(self, source: str, keys: Iterable[str]) -> dict[str, StoredArticle]:
        return _articles.stored_articles(self._conn, source, keys)

    def upsert_articles(
        self, source: str, articles: Sequence[Article], now: datetime
    ) -> tuple[int, int]:
        """(new, updated): by the source's key; a stored article keeps its guid."""
        return _articles.upsert_articles(self._conn, source, articles, now)

    def mark_removed(self, source: str, keys: Sequence[str], now: datetime) -> int:
        return _articles.mark_removed(self._conn, source, keys, now)

    def source_article_count(self, source: str) -> int:
        return _articles.source_article_count(self._conn, source)

    def record_gather_run(
        self, source: str, started: datetime, finished: datetime, counts: GatherCounts
    ) -> None:
        _files.record_gather_run(self._conn, source, started, finished, counts)
