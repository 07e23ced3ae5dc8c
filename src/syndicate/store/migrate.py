"""Bringing a database to the schema this code knows, with Alembic, when a Store opens.

A database already at head costs one SELECT, and Alembic (~110 ms to import) is not loaded.
Otherwise, holding a lock (PostgreSQL: an advisory lock; SQLite: the write lock) so that two
processes never both migrate, a database that is

- empty: gets the head schema in one step, ``metadata.create_all`` stamped at head, as
  Alembic's cookbook builds a new database (tests/test_migrations.py checks that every
  revision in turn gives exactly this schema); a first start then costs no migration;
- from before Alembic (the tables and ``meta.schema_version = 1``, no ``alembic_version``):
  is stamped 0001, the revision that is exactly that schema, then upgraded to head;
- at an older revision: is upgraded to head;
- at a revision this code does not know: is refused with SchemaVersionError.

``meta.schema_version`` is retired as the version: it stays "1" and is read only when
adopting a database from before Alembic (see the migrations package for when to change it).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.schema import CreateIndex, CreateTable

from syndicate.errors import StoreError
from syndicate.resources import package_dir
from syndicate.store.engine import SchemaVersionError, make_engine, where, writer
from syndicate.store.schema import SCHEMA_VERSION, meta, metadata

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = package_dir("syndicate.store", "migrations")
LEGACY_REVISION = "0001"  # the schema the code before Alembic created: meta.schema_version 1
MIGRATION_WAIT_MS = 120_000  # SQLite: how long an opener waits for another's migration
SCHEMA_LOCK_ID = 0x53594E44  # "SYND": an arbitrary, fixed PostgreSQL advisory lock key
# meta.schema_version at head: "2" since revision 0005, so that code from before Alembic
# refuses the database (see the migrations package).
HEAD_META_VERSION = "2"
FILE_TEMPLATE = "%(rev)s_%(slug)s"  # versions/0002_job_runs.py: the head is the highest rev

# Alembic's own version table, as its MigrationContext creates it.
_version_table = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
# Held until the migration's transaction ends. Keyed by schema too: databases in other schemas
# of the same PostgreSQL database (the test suite's) do not wait for each other. The two-key
# form lives apart from single-bigint advisory locks, whatever keys those use.
_PG_SCHEMA_LOCK = text(
    f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID}, hashtext(coalesce(current_schema(), '')))"
)
# Alembic keeps the running migration in module globals (alembic.context, alembic.op): two
# threads of one process must not run it at once, even on different databases.
_in_process = threading.Lock()


def head_revision(location: Path = SCRIPT_LOCATION) -> str:
    """The newest revision, from the file names alone (Alembic's own view is tested equal)."""
    return _head(location)


@cache
def _head(location: Path) -> str:
    revisions = [
        path.name.partition("_")[0]
        for path in (location / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    ]
    if not revisions:
        raise StoreError(f"{location / 'versions'}: no migration revisions found")
    return max(revisions)


def current_revision(url: str) -> str | None:
    """The database's revision; None for an empty database or one from before Alembic."""
    if _missing_sqlite_file(url):
        return None  # rather than create the file just to look
    engine = make_engine(url)
    try:
        found = _quick_revisions(engine)
    except OperationalError as exc:
        raise _unusable(engine, exc) from exc
    finally:
        engine.dispose()
    return None if found is None else ",".join(found)


def _missing_sqlite_file(url: str) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False  # make_engine says what is wrong
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return False
    return not name.startswith("file:") and not Path(name).expanduser().exists()


def upgrade(url: str) -> str:
    """Migrate the database to head (as opening a Store does); returns the head revision."""
    engine = make_engine(url)
    try:
        prepare_schema(engine)
    finally:
        engine.dispose()
    return head_revision()


def new_revision(message: str, location: Path = SCRIPT_LOCATION) -> Path:
    """Write the next revision, autogenerated against a scratch SQLite database at head."""
    from alembic import command
    from alembic.script import Script

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/head.db")
        try:
            with migration_connection(engine) as conn:
                config = alembic_config(conn, location)
                command.upgrade(config, "head")
                script = command.revision(
                    config, message, autogenerate=True, rev_id=f"{int(_head(location)) + 1:04d}"
                )
        finally:
            engine.dispose()
    _head.cache_clear()
    assert isinstance(script, Script)
    return Path(script.path)


def prepare_schema(engine: Engine, location: Path = SCRIPT_LOCATION) -> None:
    """Bring the database to head, or raise SchemaVersionError / StoreError saying why not."""
    try:
        if _quick_revisions(engine) == (_head(location),):
            return
        with migration_connection(engine) as conn:
            _migrate(conn, location)
    except OperationalError as exc:
        raise _unusable(engine, exc) from exc


def _quick_revisions(engine: Engine) -> tuple[str, ...] | None:
    """alembic_version's rows, in one query; None when the table is missing or empty."""
    with engine.connect() as conn:
        try:
            return _read_revisions(conn)
        except DBAPIError:
            return None  # no such table (or unreadable: the locked path will say)


def _read_revisions(conn: Connection) -> tuple[str, ...] | None:
    return tuple(conn.scalars(select(_version_table.c.version_num))) or None


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction holding the schema lock, for Alembic to run on."""
    with _in_process, writer(engine).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table: copies it, drops the old one and renames
            # the copy. With foreign keys on, that DROP deletes the rows that point at it
            # (ON DELETE CASCADE). The pragma is a no-op inside a transaction, hence here.
            _sqlite_pragma(conn, "foreign_keys=OFF")
            # Another process's migration holds the write lock for as long as it runs (table
            # rebuilds included): wait for it far longer than for an ordinary write.
            _sqlite_pragma(conn, f"busy_timeout={MIGRATION_WAIT_MS}")
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(_PG_SCHEMA_LOCK)
                yield conn
                if sqlite:
                    _check_foreign_keys(conn)
        finally:
            if sqlite:
                _sqlite_pragma(conn, "foreign_keys=ON")
                _sqlite_pragma(conn, "busy_timeout=5000")


def _migrate(conn: Connection, location: Path) -> None:
    inspector = inspect(conn)
    found = _read_revisions(conn) if inspector.has_table(_version_table.name) else None
    if found == (_head(location),):
        return  # another process got here first
    if found is None and not inspector.get_table_names():
        _create_at_head(conn, location)
        return
    from alembic import command

    config = alembic_config(conn, location)
    if found is not None:
        _refuse_unknown(conn, config, found)
    elif inspector.has_table(meta.name):
        _check_legacy(conn)
        command.stamp(config, LEGACY_REVISION)
    command.upgrade(config, "head")


def _create_at_head(conn: Connection, location: Path) -> None:
    """An empty database gets the head schema and the rows revision 0001 wrote."""
    if conn.dialect.name == "postgresql":
        # The same DDL as create_all's, sent in one round trip (half the time of one each).
        tables = [str(CreateTable(t).compile(conn)) for t in metadata.sorted_tables]
        indexes = [
            str(CreateIndex(i).compile(conn)) for t in metadata.sorted_tables for i in t.indexes
        ]
        conn.exec_driver_sql(";\n".join(tables + indexes))
    else:
        metadata.create_all(conn, checkfirst=False)  # the database has no table, seen above
    conn.execute(insert(meta).values(key="schema_version", value=HEAD_META_VERSION))
    _version_table.create(conn, checkfirst=False)
    conn.execute(insert(_version_table).values(version_num=_head(location)))


def alembic_config(conn: Connection, location: Path = SCRIPT_LOCATION) -> Config:
    """Alembic's configuration, without an alembic.ini: env.py runs on ``conn``."""
    from alembic.config import Config

    config = Config()
    # The options are ConfigParser values: a literal % is written %%.
    config.set_main_option("script_location", str(location).replace("%", "%%"))
    config.set_main_option("file_template", FILE_TEMPLATE.replace("%", "%%"))
    config.attributes["connection"] = conn
    return config


def _check_legacy(conn: Connection) -> None:
    raw = conn.scalar(select(meta.c.value).where(meta.c.key == "schema_version"))
    if raw is None:
        raise SchemaVersionError(
            f"{where(conn.engine)}: has a meta table but no schema_version and no "
            "alembic_version; not a syndicate database?"
        )
    try:
        found = int(raw)
    except ValueError:
        raise SchemaVersionError(
            f"{where(conn.engine)}: meta.schema_version is {raw!r}, not a number"
        ) from None
    if found != SCHEMA_VERSION:
        raise SchemaVersionError(_legacy_message(conn.engine, found))


def _legacy_message(engine: Engine, found: int) -> str:
    if found > SCHEMA_VERSION:
        return (
            f"{where(engine)}: database schema version {found} is newer than this syndicate "
            f"knows ({SCHEMA_VERSION}); upgrade syndicate"
        )
    return (
        f"{where(engine)}: database schema version {found} is older than {SCHEMA_VERSION} "
        "and no migration is available"
    )


def _refuse_unknown(conn: Connection, config: Config, found: tuple[str, ...]) -> None:
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    unknown = sorted(set(found) - known)
    if unknown:
        head = ScriptDirectory.from_config(config).get_current_head()
        raise SchemaVersionError(
            f"{where(conn.engine)}: database schema revision {', '.join(unknown)} is newer "
            f"than this syndicate knows ({head}); upgrade syndicate"
        )


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _check_foreign_keys(conn: Connection) -> None:
    broken = sorted({row[0] for row in conn.exec_driver_sql("PRAGMA foreign_key_check")})
    if broken:
        raise StoreError(
            f"{where(conn.engine)}: the migration left rows whose foreign keys point nowhere "
            f"in {', '.join(broken)}; nothing was changed"
        )


def _unusable(engine: Engine, exc: OperationalError) -> StoreError:
    reason = " ".join(str(exc.orig).split())
    return StoreError(f"{where(engine)}: cannot open the database: {reason}")
