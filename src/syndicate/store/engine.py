"""Opening a database: the engine and SQLite's connection settings.

The schema check and migrations are in syndicate.store.migrate.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syndicate.errors import StoreError
from syndicate.store.sqlite_direct import BUSY_TIMEOUT_MS, SQLITE_PRAGMAS

# A write transaction on SQLite starts with BEGIN IMMEDIATE: a deferred transaction that
# reads and then writes can fail at once with "database is locked" (the busy timeout does
# not apply to a lock upgrade), while an immediate one waits for the writer ahead of it.
BEGIN_OPTION = "syndicate_sqlite_begin"


class SchemaVersionError(StoreError):
    """The database was written by a newer (or unknown) version of the schema."""


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {exc}") from None
    try:
        if parsed.get_backend_name() != "sqlite":
            return create_engine(parsed, pool_pre_ping=True)
        _make_parent(parsed.database)
    except (ArgumentError, ImportError, OSError) as exc:
        where = parsed.render_as_string(hide_password=True)
        raise StoreError(f"{where}: cannot use this database: {exc}") from None
    engine = create_engine(parsed)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _make_parent(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            _patiently(cursor, pragma)
    finally:
        cursor.close()


PRAGMA_WAIT_S = BUSY_TIMEOUT_MS / 1000  # as long as the busy timeout
_PRAGMA_RETRY_S = 0.01


def _patiently(cursor: Any, pragma: str) -> None:
    """Run ``pragma``, again while the database is locked, up to PRAGMA_WAIT_S. Processes
    opening a new file at once race to switch it to WAL, and SQLite may answer that switch
    "database is locked" at once, without waiting the busy timeout (seen in about one start
    in 33 of four processes at once on a loaded machine)."""
    deadline = time.monotonic() + PRAGMA_WAIT_S
    while True:
        try:
            cursor.execute(pragma)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(_PRAGMA_RETRY_S)


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: Engine) -> Engine:
    """The same engine (and pool), whose transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})


def where(engine: Engine) -> str:
    """The engine's URL for messages, without the password."""
    return engine.url.render_as_string(hide_password=True)
