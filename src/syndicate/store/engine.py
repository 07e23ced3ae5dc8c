"""Opening a database: the engine, SQLite's connection settings, and the schema check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from syndicate.store.schema import SCHEMA_VERSION, meta, metadata

# A write transaction on SQLite starts with BEGIN IMMEDIATE: a deferred transaction that
# reads and then writes can fail at once with "database is locked" (the busy timeout does
# not apply to a lock upgrade), while an immediate one waits for the writer ahead of it.
BEGIN_OPTION = "syndicate_sqlite_begin"
SCHEMA_LOCK_ID = 0x53594E44  # "SYND": an arbitrary, fixed PostgreSQL advisory lock key
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


class StoreError(Exception):
    """The database cannot be used; the message says why in one line."""


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
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: Engine) -> Engine:
    """The same engine (and pool), whose transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})


def prepare_schema(engine: Engine) -> None:
    """Create the tables on first use; refuse a database of another schema version."""
    try:
        _prepare_schema(engine)
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())
        raise StoreError(f"{_where(engine)}: cannot open the database: {reason}") from exc


def _prepare_schema(engine: Engine) -> None:
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two instances starting on an empty database must not both create the tables.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")
        found = _stored_version(conn)
        if found is None:
            metadata.create_all(conn)
            conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
        elif found != SCHEMA_VERSION:
            raise SchemaVersionError(_version_message(engine, found))


def _stored_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table(meta.name):
        return None
    raw = conn.scalar(select(meta.c.value).where(meta.c.key == "schema_version"))
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SchemaVersionError(
            f"{_where(conn.engine)}: meta.schema_version is {raw!r}, not a number"
        ) from None


def _version_message(engine: Engine, found: int) -> str:
    where = _where(engine)
    if found > SCHEMA_VERSION:
        return (
            f"{where}: database schema version {found} is newer than this syndicate knows "
            f"({SCHEMA_VERSION}); upgrade syndicate"
        )
    return (
        f"{where}: database schema version {found} is older than {SCHEMA_VERSION} "
        "and no migration is available"
    )


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
