"""Plain SQL over a sqlite3 connection, for the commands that must not pay for SQLAlchemy
(~0.3 s of their start) when the store is a SQLite file at the head revision: the reads of
`syndicate status` (store.status_reads) and of `syndicate feeds` (store.build_reads), and
the writes of `syndicate gather` (``writing``: store.gather_writes' unit of work, whose SQL
text a Store runs through SQLAlchemy too).

A store this way cannot read as it is (missing, older, newer, not a plain file URL) gives
None: the caller opens a Store, which creates, migrates or refuses it with its messages.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from syndicate.errors import StoreError
from syndicate.store.moments import moment_param
from syndicate.store.revisions import head_revision

# (sql, params) -> the rows as tuples; params are :name placeholders (sqlite3 and
# SQLAlchemy's text() both read them).
Run = Callable[[str, Mapping[str, object]], list[tuple[Any, ...]]]
# (sql, one params mapping per row): one statement run for many rows (executemany).
RunMany = Callable[[str, Sequence[Mapping[str, object]]], None]


@dataclass(frozen=True, slots=True)
class Sql:
    """One connection's way to run SQL text: ``run`` one statement, ``many`` one statement
    for many rows; ``dialect`` ("sqlite" or "postgresql") says how datetimes are bound."""

    run: Run
    many: RunMany
    dialect: str


REVISIONS = "SELECT version_num FROM alembic_version"


class Reads:
    """Reads over one connection, sqlite3's or SQLAlchemy's (``dialect``: "sqlite" or
    "postgresql", for how datetimes are bound)."""

    def __init__(self, run: Run, dialect: str) -> None:
        self._run, self._dialect = run, dialect

    def _rows(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        return self._run(sql, bound(params, self._dialect))


def in_list(prefix: str, values: Sequence[object]) -> tuple[str, dict[str, object]]:
    """An IN list's placeholders (``:k0, :k1, …``) and their parameters."""
    params = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{name}" for name in params), params


def bound(params: Mapping[str, object], dialect: str) -> dict[str, object]:
    """Parameters with each datetime as the dialect's column holds it (moment_param)."""
    return {
        name: moment_param(value, dialect) if isinstance(value, datetime) else value
        for name, value in params.items()
    }


@contextmanager
def writing(url: str) -> Iterator[Sql | None]:
    """SQL over a sqlite3 connection in one write transaction (SQLite's write lock taken
    at BEGIN), committed when the block ends, rolled back when it raises; None when the
    store is not a SQLite file at the head revision."""
    connection = _connect(url, writable=True)
    if connection is None:
        yield None
        return
    with closing(connection):
        yield Sql(_sqlite_run(connection, url), _sqlite_many(connection, url), "sqlite")
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _store_error(url, exc) from exc


# --- the connection -----------------------------------------------------------------------

# sqlite:///relative/path or sqlite:////absolute/path, nothing URL-quoted and no query
# string; any other form (memory, file: URIs, options) takes the Store's way.
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?#%~]+)")
BUSY_TIMEOUT_MS = 5000  # how long a connection waits for the writer ahead of it
# Every connection that may write (store.engine's, and ``writing``'s). busy_timeout first:
# switching a new file to WAL takes a lock another opener may hold. The page size counts
# only for a file not yet written (before WAL mode makes it), later it changes nothing: a
# ledger row is written three times in a send (frozen, claimed, settled), a WAL frame and a
# write call a page. Measured with 16 KiB pages against SQLite's 4 KiB: a freeze of a
# million rows 1.21 -> 1.03 s, kernel time 0.43 -> 0.26 s; a ledger row claimed and settled
# through the Store 3.15 -> 2.68 µs (bench/bench_send_parts.py, three interleaved pairs).
BUSY_TIMEOUT = f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}"
SQLITE_PRAGMAS = (
    BUSY_TIMEOUT,
    "PRAGMA page_size=16384",
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
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):  # another writer past the busy timeout: a Store would wait
            connection.close()  # as long, and fail as this does
            raise _store_error(url, exc) from exc
        revisions = []
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
            raise _store_error(url, exc) from exc

    return run


def _sqlite_many(connection: sqlite3.Connection, url: str) -> RunMany:
    def many(sql: str, rows: Sequence[Mapping[str, object]]) -> None:
        try:
            connection.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _store_error(url, exc) from exc

    return many


def _store_error(url: str, exc: sqlite3.Error) -> StoreError:
    return StoreError(f"{url}: {' '.join(str(exc).split())}")
