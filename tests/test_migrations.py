"""Alembic migrations: every revision against the metadata, databases from before Alembic,
opening cost, concurrent openers, and what a later revision on SQLite must survive."""

from __future__ import annotations

import multiprocessing
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, column, event, insert, inspect, select, table, text

from syndicate.models import SubscriberStatus
from syndicate.store import SchemaVersionError, Store, StoreError
from syndicate.store import engine as engine_module
from syndicate.store import migrate as migrate_module
from syndicate.store.columns import in_schema_of
from syndicate.store.engine import make_engine
from syndicate.store.migrate import (
    LEGACY_REVISION,
    alembic_config,
    migration_connection,
    prepare_schema,
)
from syndicate.store.migrations import current_revision, head_revision, new_revision, upgrade
from syndicate.store.revisions import SCRIPT_LOCATION
from syndicate.store.schema import UTCDateTime, metadata

# These tests make their schemas themselves, from empty.
pytestmark = pytest.mark.empty_database

LEGACY = Path(__file__).parent / "legacy"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2200, 1, 1, tzinfo=UTC)  # every stored article is due by then
VERSION = table("alembic_version", column("version_num"))
META = table("meta", column("key"), column("value"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def alembic(engine: Engine, action: str, target: str, location: Path = SCRIPT_LOCATION) -> None:
    with migration_connection(engine) as conn:
        getattr(command, action)(alembic_config(conn, location), target)


def schema_dump(conn: Connection) -> dict[str, str]:
    """Every table, column, constraint and index as the database itself describes it."""
    if conn.dialect.name == "sqlite":
        queries = [
            "SELECT type || ' ' || name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT IN ('alembic_version', 'sqlite_sequence')"
        ]
    else:
        queries = [
            "SELECT table_name || '.' || column_name, concat_ws(' ', data_type, character_"
            "maximum_length, is_nullable, column_default) FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'alembic_version'",
            "SELECT conrelid::regclass::text || ' ' || conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
            "AND conrelid::regclass::text <> 'alembic_version'",
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'",
            # storage parameters (the ledger's fillfactor)
            "SELECT 'options ' || relname, array_to_string(reloptions, ',') FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace AND reloptions IS NOT NULL",
        ]
    found: dict[str, str] = {}
    for query in queries:
        found.update((key, _normal(value)) for key, value in conn.exec_driver_sql(query))
    return found


def _normal(sql: str) -> str:
    """One line; SQLite keeps a table rebuilt by batch mode as CREATE TABLE "name"."""
    return re.sub(r'^CREATE TABLE "(\w+)"', r"CREATE TABLE \1", " ".join(sql.split()))


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def revisions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(VERSION.c.version_num)))


def schema_version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(META.c.value).where(META.c.key == "schema_version"))


# --- the revisions ---------------------------------------------------------------------


def test_revisions_are_numbered_in_one_line_and_the_head_is_the_highest_file() -> None:
    script = ScriptDirectory(str(SCRIPT_LOCATION))
    oldest_first = list(reversed(list(script.walk_revisions())))
    ids = [revision.revision for revision in oldest_first]
    assert ids[0] == LEGACY_REVISION
    # Numbered in one line: 0001, 0002, … with no gap and no repeat.
    assert ids == [f"{n:04d}" for n in range(1, len(ids) + 1)]
    assert [revision.down_revision for revision in oldest_first] == [None, *ids[:-1]]
    assert all(Path(rev.path).name.startswith(f"{rev.revision}_") for rev in oldest_first)
    assert script.get_heads() == [head_revision()]


def test_every_revision_in_turn_gives_exactly_the_metadata(engine: Engine) -> None:
    alembic(engine, "upgrade", "head")
    with engine.connect() as conn:
        dialect = conn.dialect.name
        options = {"include_object": lambda item, *_: in_schema_of(dialect, item)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=options), metadata)
        assert diff == [], f"schema.py differs from the revisions: add one (see migrations): {diff}"
        migrated = schema_dump(conn)
    alembic(engine, "downgrade", "base")
    assert table_names(engine) == {"alembic_version"}
    with engine.begin() as conn:
        metadata.create_all(conn)
        assert schema_dump(conn) == migrated


def full_dump(conn: Connection) -> dict[str, str]:
    """schema_dump with alembic_version's own definition and the rows of the version tables."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE name = 'alembic_version'"
    else:
        query = (
            "SELECT column_name, concat_ws(' ', data_type, character_maximum_length, "
            "is_nullable) FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = 'alembic_version' UNION ALL "
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
            "connamespace = current_schema()::regnamespace AND conrelid::regclass::text "
            "= 'alembic_version'"
        )
    found = schema_dump(conn)
    found.update((f"version {key}", _normal(value)) for key, value in conn.exec_driver_sql(query))
    found["revisions"] = ",".join(conn.scalars(select(VERSION.c.version_num)))
    found["meta"] = repr(sorted(conn.execute(select(META.c.key, META.c.value)).all()))
    return found


def test_a_new_database_is_created_at_head_exactly_as_the_revisions_make_it(
    engine: Engine, tmp_path: Path
) -> None:
    Store(engine.url.render_as_string(hide_password=False)).close()
    with engine.connect() as conn:
        created = full_dump(conn)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE alembic_version")
    alembic(engine, "upgrade", "head")
    with engine.connect() as conn:
        assert full_dump(conn) == created
    assert created["revisions"] == head_revision()


def test_revision_0001_is_the_schema_from_before_alembic(engine: Engine) -> None:
    create_legacy(engine)
    with engine.connect() as conn:
        legacy = schema_dump(conn)
    alembic(engine, "stamp", LEGACY_REVISION)
    alembic(engine, "downgrade", "base")
    assert table_names(engine) == {"alembic_version"}
    alembic(engine, "upgrade", LEGACY_REVISION)
    with engine.connect() as conn:
        assert schema_dump(conn) == legacy
    assert schema_version(engine) == "1"


# --- databases from before Alembic -----------------------------------------------------

TIMES = {"published", "first_seen", "updated", "created_at", "confirmed_at", "updated_at"}
LEGACY_ROWS: dict[str, list[dict[str, Any]]] = {
    "articles": [
        {
            "guid": "urn:test:1",
            "slug": "post-1",
            "title": "Post 1",
            "link": "https://example.com/post-1",
            "published": T0,
            "category": "News",
            "summary": "Summary 1",
            "content": "<p>Body 1</p>",
            "author": "Ann",
            "source": "blog",
            "tags": '["a"]',
            "first_seen": T0,
            "updated": T0,
            "content_hash": "hash-1",
        }
    ],
    "editions": [{"week": "2026-W10", "created_at": T0, "subject": "Week 10"}],
    "edition_articles": [{"week": "2026-W10", "guid": "urn:test:1", "position": 0}],
    "subscribers": [
        {
            "id": 7,
            "email": "Ann@Example.com",
            "email_key": "ann@example.com",
            "name": "Ann",
            "status": "active",
            "created_at": T0,
            "confirmed_at": T0,
            "updated_at": T0,
        }
    ],
    "subscriber_categories": [{"subscriber_id": 7, "category": "News"}],
    "deliveries": [
        {
            "week": "2026-W10",
            "subscriber_id": 7,
            "email": "Ann@Example.com",
            "name": "Ann",
            "variant": "News",
            "state": "sent",
            "attempts": 1,
            "error": "",
            "message_id": "<m1@example.com>",
            "created_at": T0,
            "updated_at": T0,
        }
    ],
}


def create_legacy(engine: Engine, *, with_rows: bool = False) -> None:
    """What the code before Alembic left: its frozen DDL, meta.schema_version 1, some rows."""
    sql = (LEGACY / f"schema_v1.{engine.dialect.name}.sql").read_text()
    code = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in filter(None, (part.strip() for part in code.split(";\n"))):
            conn.exec_driver_sql(statement)
        for name, rows in LEGACY_ROWS.items() if with_rows else ():
            columns = [column(key, UTCDateTime() if key in TIMES else None) for key in rows[0]]
            conn.execute(insert(table(name, *columns)), rows)


def test_a_database_from_before_alembic_upgrades_in_place(
    engine: Engine, database_url: str
) -> None:
    create_legacy(engine, with_rows=True)
    with Store(database_url) as store:
        (article,) = store.latest_articles(10, LATER)
        subscriber = store.get_subscriber(7)
        edition = store.get_edition("weekly:2026-W10")  # revision 0008: a weekly edition
        (delivery,) = store.deliveries("weekly:2026-W10")
        added = store.add_subscriber("bo@example.com", "Bo", [], SubscriberStatus.ACTIVE, T0)
    assert (article.guid, article.published, article.tags) == ("urn:test:1", T0, ("a",))
    assert subscriber is not None and subscriber.categories == frozenset({"News"})
    assert edition is not None and [a.guid for a in edition.articles] == ["urn:test:1"]
    assert (edition.cadence, edition.period) == ("weekly", "2026-W10")
    assert (delivery.subscriber_id, delivery.state, delivery.message_id) == (
        7,
        "sent",
        "<m1@example.com>",
    )
    assert added.id != 7
    assert revisions(engine) == [head_revision()]
    assert schema_version(engine) == "2"  # revision 0005 added NOT NULL columns


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("2", r"schema version 2 is newer than this syndicate knows \(1\)"),
        ("0", r"schema version 0 is older than 1 and no migration"),
        ("one", r"meta\.schema_version is 'one', not a number"),
        (None, r"has a meta table but no schema_version and no alembic_version"),
    ],
)
def test_other_databases_from_before_alembic_are_refused_untouched(
    engine: Engine, database_url: str, stored: str | None, message: str
) -> None:
    create_legacy(engine)
    with engine.begin() as conn:
        if stored is None:
            conn.execute(META.delete())
        else:
            conn.execute(META.update().values(value=stored))
    with pytest.raises(SchemaVersionError, match=message) as caught:
        Store(database_url)
    assert "\n" not in str(caught.value)
    assert "alembic_version" not in table_names(engine)


def test_a_revision_newer_than_the_code_is_refused(engine: Engine, database_url: str) -> None:
    Store(database_url).close()
    with engine.begin() as conn:
        conn.execute(VERSION.update().values(version_num="9999"))
    expected = rf"revision 9999 is newer than this syndicate knows \({head_revision()}\)"
    with pytest.raises(SchemaVersionError, match=expected):
        Store(database_url)


# --- opening ---------------------------------------------------------------------------


def test_opening_an_up_to_date_database_is_one_query(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store(database_url).close()

    def no_migration(*_: object) -> None:
        raise AssertionError("the migration path ran on an up-to-date database")

    monkeypatch.setattr(migrate_module, "_migrate", no_migration)
    seen: list[str] = []

    def spy(_conn: Connection, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        Store(database_url).close()
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
    schema_queries = [s for s in seen if "alembic" in s or "meta" in s or "CREATE" in s]
    assert schema_queries == ["SELECT alembic_version.version_num FROM alembic_version"]


def open_store_with_the_others(url: str, barrier: Any, outcomes: Any) -> None:
    barrier.wait()
    try:
        Store(url).close()
    except BaseException as exc:
        outcomes.put(f"{type(exc).__name__}: {exc}")
    else:
        outcomes.put("opened")


def test_processes_opening_an_empty_database_at_once_migrate_it_once(
    engine: Engine, database_url: str
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    outcomes = context.Queue()
    processes = [
        context.Process(target=open_store_with_the_others, args=(database_url, barrier, outcomes))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    try:
        assert [outcomes.get(timeout=60) for _ in processes] == ["opened"] * 4
    finally:
        for process in processes:
            process.join(timeout=10)
            process.kill()
    assert revisions(engine) == [head_revision()]


def test_operator_functions(database_url: str, tmp_path: Path) -> None:
    assert current_revision(database_url) is None
    assert not (tmp_path / "db" / "syndicate.db").exists()  # looking does not create it
    assert upgrade(database_url) == head_revision()
    assert current_revision(database_url) == head_revision()
    assert head_revision() == ScriptDirectory(str(SCRIPT_LOCATION)).get_current_head()


# --- later revisions -------------------------------------------------------------------


def with_revision(tmp_path: Path, body: str) -> tuple[Path, str]:
    """A copy of the migrations with one more revision on top; returns it and the new id."""
    location = tmp_path / "migrations"
    shutil.copytree(SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    head = head_revision()
    new = f"{int(head) + 1:04d}"
    header = f'import sqlalchemy as sa\nfrom alembic import op\n\nrevision = "{new}"\n'
    (location / "versions" / f"{new}_test.py").write_text(
        f'{header}down_revision = "{head}"\n\n\n{body}'
    )
    return location, new


REBUILD_SUBSCRIBERS = """\
def upgrade() -> None:
    # Reflection loses AUTOINCREMENT: a rebuild of subscribers must say it again.
    with op.batch_alter_table(
        "subscribers", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
"""
ORPHAN_CATEGORIES = """\
def upgrade() -> None:
    op.execute("DELETE FROM subscribers")
"""


def sqlite_with_subscriber(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Store(url) as store:
        store.add_subscriber("a@example.com", "A", ["News", "Tech"], SubscriberStatus.ACTIVE, T0)
    return url


def test_a_table_rebuild_on_sqlite_keeps_the_rows_pointing_at_it(tmp_path: Path) -> None:
    url = sqlite_with_subscriber(tmp_path)
    location, new = with_revision(tmp_path, REBUILD_SUBSCRIBERS)
    engine = make_engine(url)
    try:
        prepare_schema(engine, location)
        with engine.connect() as conn:
            categories = conn.scalars(text("SELECT category FROM subscriber_categories"))
            assert sorted(categories) == ["News", "Tech"]
            assert "note" in {c["name"] for c in inspect(conn).get_columns("subscribers")}
            ddl = conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'subscribers'"))
            assert "AUTOINCREMENT" in ddl
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert revisions(engine) == [new]
    finally:
        engine.dispose()


def test_a_revision_leaving_broken_foreign_keys_changes_nothing(tmp_path: Path) -> None:
    url = sqlite_with_subscriber(tmp_path)
    location, _ = with_revision(tmp_path, ORPHAN_CATEGORIES)
    engine = make_engine(url)
    try:
        with pytest.raises(StoreError, match="foreign keys point nowhere in subscriber_categories"):
            prepare_schema(engine, location)
        assert revisions(engine) == [head_revision()]
    finally:
        engine.dispose()
    with Store(url) as store:
        assert store.find_subscriber("a@example.com") is not None


def test_new_revision_writes_the_next_file(tmp_path: Path) -> None:
    location = tmp_path / "migrations"
    shutil.copytree(SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    new = f"{int(head_revision()) + 1:04d}"
    path = new_revision("Job runs, and a lease", location)
    assert path == location / "versions" / f"{new}_job_runs_and_a_lease.py"
    assert f'revision = "{new}"' in path.read_text()
    assert f'down_revision = "{head_revision()}"' in path.read_text()
    assert head_revision(location) == new
    assert ScriptDirectory(str(location)).get_heads() == [new]


class _LockedCursor:
    """A cursor whose statements find the database locked ``times`` times, then run."""

    def __init__(self, times: int, message: str = "database is locked") -> None:
        self.times, self.message, self.ran = times, message, 0

    def execute(self, _sql: str) -> None:
        self.ran += 1
        if self.ran <= self.times:
            raise sqlite3.OperationalError(self.message)


def test_a_pragma_that_finds_the_database_locked_is_run_again() -> None:
    """Four processes opening a new file at once race to switch it to WAL; SQLite may answer
    "database is locked" at once, without its busy timeout (the test above, one start in
    about 30 under load before this)."""
    cursor = _LockedCursor(times=3)
    engine_module._patiently(cursor, "PRAGMA journal_mode=WAL")
    assert cursor.ran == 4


def test_a_pragma_locked_for_longer_than_the_wait_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "PRAGMA_WAIT_S", 0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        engine_module._patiently(_LockedCursor(times=10**6), "PRAGMA journal_mode=WAL")


def test_a_pragma_that_fails_otherwise_is_not_run_again() -> None:
    cursor = _LockedCursor(times=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        engine_module._patiently(cursor, "PRAGMA journal_mode=WAL")
    assert cursor.ran == 1
