"""Plain SQL over a sqlite3 connection, for the commands that must not pay for SQLAlchemy
(~0.3 s of their start) when the store is a SQLite file at the head revision: the reads of
`syndicate status` (store.status_reads) and of `syndicate feeds` when nothing changed
(``FeedReads``: the change mark and the articles that came due, whose SQL text
store.page_rows runs through SQLAlchemy too), and the one write of `syndicate gather` when
nothing changed (``writing``: its file states, article counts and run rows, whose SQL text
store.files runs through SQLAlchemy too).

A store this way cannot read as it is (missing, older, newer, not a plain file URL) gives
None: the caller opens a Store, which creates, migrates or refuses it with its messages.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from syndicate.errors import StoreError
from syndicate.store.moments import moment_param
from syndicate.store.records import FileState
from syndicate.store.revisions import head_revision

# (sql, params) -> the rows as tuples; params are :name placeholders (sqlite3 and
# SQLAlchemy's text() both read them).
Run = Callable[[str, Mapping[str, object]], list[tuple[Any, ...]]]

REVISIONS = "SELECT version_num FROM alembic_version"
# The highest change number stored and an article that holds it (store.page_rows.Mark).
CHANGE_MARK = "SELECT changed_seq, guid FROM articles ORDER BY changed_seq DESC LIMIT 1"
# Published articles dated in (:early, :late]: the clock made them visible (or, set back,
# hid them) between two builds. A WHERE clause: store.page_rows reads their rows with it.
CAME_DUE = "status = 'published' AND published > :early AND published <= :late"
ANY_CAME_DUE = f"SELECT 1 FROM articles WHERE {CAME_DUE} LIMIT 1"
# A source's files as its last gather left them (store.records.FileState's fields).
FILE_STATES = "SELECT path, size, mtime_ns, sha256, error FROM files WHERE source = :source"
SOURCE_ARTICLE_COUNT = (
    "SELECT count(*) FROM articles WHERE source = :source AND status != 'removed'"
)
GATHER_COUNTS = ("new", "updated", "unchanged", "removed", "failed")
RECORD_GATHER_RUN = """
INSERT INTO gather_runs (source, started, finished, new, updated, unchanged, removed, failed)
VALUES (:source, :started, :finished, :new, :updated, :unchanged, :removed, :failed)"""


def states_of(rows: Iterable[Sequence[Any]]) -> dict[str, FileState]:
    """FILE_STATES's rows by path."""
    return {row[0]: FileState(*row) for row in rows}


def run_params(
    source: str,
    started: datetime,
    finished: datetime,
    counts: tuple[int, int, int, int, int],
    dialect: str,
) -> dict[str, object]:
    """RECORD_GATHER_RUN's parameters; ``counts`` in GATHER_COUNTS's order."""
    times = {"started": moment_param(started, dialect), "finished": moment_param(finished, dialect)}
    return {"source": source, **times, **dict(zip(GATHER_COUNTS, counts, strict=True))}


@dataclass(frozen=True, slots=True)
class Mark:
    """The highest change number stored, and an article that holds it (the check that a
    mark is this store's: a store rebuilt or swapped since does not have it)."""

    seq: int = 0
    guid: str = ""


@dataclass(frozen=True, slots=True)
class PageRow:
    """An article as its page depends on it: ``stamp`` changes whenever what the page shows
    may (its content hash, updated date, category); ``shown``: visible at the build's now;
    ``category``: whose feeds it may be in."""

    id: int
    guid: str
    link: str
    stamp: str
    shown: bool
    category: str


def mark_of(rows: list[tuple[Any, ...]]) -> Mark:
    """The Mark of CHANGE_MARK's rows (none: an empty store)."""
    return Mark() if not rows else Mark(int(rows[0][0]), str(rows[0][1]))


def came_due_params(since: datetime, now: datetime, dialect: str) -> dict[str, object]:
    """CAME_DUE's parameters between two builds' nows, in either order."""
    early, late = sorted((since, now))
    return {"early": moment_param(early, dialect), "late": moment_param(late, dialect)}


class FeedReads:
    """What `syndicate feeds` reads to know that nothing changed since the last build."""

    def __init__(self, run: Run, dialect: str) -> None:
        self._run, self._dialect = run, dialect

    def change_mark(self) -> Mark:
        return mark_of(self._run(CHANGE_MARK, {}))

    def any_came_due(self, since: datetime, now: datetime) -> bool:
        return bool(self._run(ANY_CAME_DUE, came_due_params(since, now, self._dialect)))


@contextmanager
def feed_reads(url: str) -> Iterator[FeedReads | None]:
    """FeedReads over a read-only sqlite3 connection; None when the store is not a SQLite
    file at the head revision."""
    with read_only(url) as run:
        yield None if run is None else FeedReads(run, "sqlite")


@contextmanager
def writing(url: str) -> Iterator[Run | None]:
    """A Run over a sqlite3 connection in one write transaction (SQLite's write lock taken
    at BEGIN), committed when the block ends, rolled back when it raises; None when the
    store is not a SQLite file at the head revision."""
    connection = _connect(url, writable=True)
    if connection is None:
        yield None
        return
    with closing(connection):
        yield _sqlite_run(connection, url)
        connection.execute("COMMIT")


# --- the connection -----------------------------------------------------------------------

# sqlite:///relative/path or sqlite:////absolute/path, nothing URL-quoted and no query
# string; any other form (memory, file: URIs, options) takes the Store's way.
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?#%~]+)")
BUSY_TIMEOUT_MS = 5000  # how long a connection waits for the writer ahead of it
# Every connection that may write (store.engine's, and ``writing``'s). busy_timeout first:
# switching a new file to WAL takes a lock another opener may hold.
BUSY_TIMEOUT = f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"
SQLITE_PRAGMAS = (
    BUSY_TIMEOUT,
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


@contextmanager
def read_only(url: str) -> Iterator[Run | None]:
    """A Run over a read-only sqlite3 connection in one read transaction (every answer
    from the same moment); None when the store is not a SQLite file at the head revision."""
    connection = _connect(url)
    if connection is None:
        yield None
        return
    with closing(connection):
        yield _sqlite_run(connection, url)


def _connect(url: str, *, writable: bool = False) -> sqlite3.Connection | None:
    found = _SQLITE_FILE.fullmatch(url)
    if found is None or found["path"] == ":memory:" or not Path(found["path"]).is_file():
        return None
    mode = "rw" if writable else "ro"
    uri = f"file:{quote(str(Path(found['path']).resolve()))}?mode={mode}"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        for pragma in SQLITE_PRAGMAS if writable else (BUSY_TIMEOUT,):
            connection.execute(pragma)
        connection.execute("BEGIN IMMEDIATE" if writable else "BEGIN")
        revisions = [row[0] for row in connection.execute(REVISIONS)]
    except sqlite3.Error:
        revisions = []
    if revisions != [head_revision()]:
        connection.close()
        return None
    return connection


def _sqlite_run(connection: sqlite3.Connection, url: str) -> Run:
    def run(sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        try:
            return connection.execute(sql, dict(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{url}: {' '.join(str(exc).split())}") from exc

    return run
