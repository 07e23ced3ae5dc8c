"""A gather's store through sqlite3: a SQLite file at the head revision, written by the
same unit of work a Store gives (store.gather_writes), without SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

from syndicate.errors import StoreError
from syndicate.store.feed_state import FeedState
from syndicate.store.gather_writes import UnitOfWork, feed_state_of, file_states_of
from syndicate.store.records import FileState
from syndicate.store.sqlite_direct import read_only, writing

R = TypeVar("R")


class GatherStore(Protocol):
    """What a gather needs of a store: a Store, or SqliteGather."""

    def file_states(self, source: str) -> dict[str, FileState]: ...

    def feed_state(self, source: str) -> FeedState | None: ...

    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...


class SqliteGather:
    """A gather's store when it is a SQLite file at the head revision, through sqlite3 (no
    SQLAlchemy): reads over a read-only connection, each unit of work in its own write
    transaction, as a Store's."""

    def __init__(self, url: str) -> None:
        self._url = url

    def file_states(self, source: str) -> dict[str, FileState]:
        with read_only(self._url) as run:
            return file_states_of(self._present(run), source)

    def feed_state(self, source: str) -> FeedState | None:
        with read_only(self._url) as run:
            return feed_state_of(self._present(run), source)

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        with writing(self._url) as sql:
            yield UnitOfWork(self._present(sql))

    def _present(self, connection: R | None) -> R:
        if connection is None:  # gone or replaced since the gather began
            raise StoreError(f"{self._url}: no longer a SQLite store at the head revision")
        return connection
