"""Shared fixtures."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from syndicate.store import Store

# Deterministic property tests (the same examples on every run) with no per-example deadline:
# a shared 2-core machine is too noisy for timing limits. SYNDICATE_HYPOTHESIS=explore
# switches to fresh random examples for a local hunt.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.load_profile(os.environ.get("SYNDICATE_HYPOTHESIS", "ci"))

PG_URL_ENV = "SYNDICATE_TEST_DATABASE_URL"
# A session time zone far from UTC, so a test would see any value stored in local time.
PG_SESSION_TIMEZONE = "America/St_Johns"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or (when $SYNDICATE_TEST_DATABASE_URL is set) a
    PostgreSQL schema of its own. The PostgreSQL schema is empty for tests marked
    ``empty_database`` (they make the schema themselves); for the others it is a schema at head
    with no rows, which a store opens with one SELECT (see _reused_schemas)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'syndicate.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set")
    reuse = request.node.get_closest_marker("empty_database") is None
    yield from _fresh_pg_schema(base, reuse)


@functools.cache
def _pg_admin(base: str) -> Engine:
    """One pooled AUTOCOMMIT engine per test process, for making and dropping schemas."""
    from sqlalchemy import create_engine

    return create_engine(base, isolation_level="AUTOCOMMIT")


# Schemas at head emptied after their test, ready for the next one in this process: making a
# schema at head costs ~0.1 s of DDL, emptying one ~1 ms. A schema goes back only if its
# definition (tables, columns, indexes, constraints, sequences) and its meta and alembic_version
# rows are exactly those it had when it was made, so a test that changes any of them (a
# migration, a refused version) gets its schema dropped as before.
_reused_schemas: list[str] = []
_head_fingerprint: dict[str, str] = {}  # schema name -> as made at head


def _fresh_pg_schema(base: str, reuse: bool) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    admin = _pg_admin(base)
    name = _reused_schemas.pop() if reuse and _reused_schemas else None
    if name is None:
        name = f"test_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    options = f"-csearch_path={name} -cTimeZone={PG_SESSION_TIMEZONE} -csynchronous_commit=off"
    url = make_url(base).update_query_dict({"options": options}).render_as_string(False)
    try:
        if reuse and name not in _head_fingerprint:
            _head_fingerprint[name] = _made_at_head(url, admin, name)
        yield url
    finally:
        if not (reuse and _emptied(admin, name)):
            _head_fingerprint.pop(name, None)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the schemas kept for reuse (each test process keeps its own)."""
    base = os.environ.get(PG_URL_ENV)
    if not (base and _reused_schemas):
        return
    with _pg_admin(base).connect() as conn:
        names = ", ".join(f'"{name}"' for name in _reused_schemas)
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {names} CASCADE")
    _reused_schemas.clear()


def _made_at_head(url: str, admin: Engine, name: str) -> str:
    from syndicate.store import Store

    Store(url).close()
    with admin.connect() as conn:
        return _fingerprint(conn, name)


def _emptied(admin: Engine, name: str) -> bool:
    """Empty schema ``name`` for reuse, if it is still as made at head; False otherwise."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with admin.connect() as conn:
        try:
            unchanged = _fingerprint(conn, name) == _head_fingerprint[name]
        except DBAPIError:  # a table the fingerprint reads is gone
            unchanged = False
        if not unchanged:
            return False
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :s"
                " AND tablename NOT IN ('meta', 'alembic_version')"
            ),
            {"s": name},
        ).all()
        # One round trip, one transaction. Foreign keys are triggers: replica mode skips them,
        # so the order of the deletes does not matter.
        deletes = "".join(f'DELETE FROM "{name}"."{table}";' for table in tables)
        conn.exec_driver_sql(
            "BEGIN; SET LOCAL session_replication_role = replica;"
            f"{deletes}"
            "SELECT setval(c.oid, 1, false) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE n.nspname = '{name}' AND c.relkind = 'S';"
            "COMMIT"
        )
    _reused_schemas.append(name)
    return True


_FINGERPRINT = """
SELECT md5(string_agg(replace(part, :s, '<schema>'), '|' ORDER BY part)) FROM (
  SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(a.attname, '') || ':'
         || coalesce(format_type(a.atttypid, a.atttypmod), '') || ':'
         || coalesce(a.attnotnull::text, '') || ':'
         || coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS part
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
   WHERE n.nspname = :s
  UNION ALL
  SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = :s
  UNION ALL
  SELECT conname || ' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k
    JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = :s
  UNION ALL
  SELECT 'trigger ' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND NOT t.tgisinternal
  UNION ALL
  SELECT 'routine ' || p.proname FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s
  UNION ALL
  SELECT 'type ' || t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = :s
) AS parts
"""


def _fingerprint(conn: Connection, name: str) -> str:
    """The schema's definition and its version rows, as one hash."""
    from sqlalchemy import text

    found: str = conn.scalar(text(_FINGERPRINT), {"s": name})
    rows = conn.exec_driver_sql(
        f"SELECT (SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM \"{name}\".meta),"
        f" (SELECT string_agg(version_num, ',') FROM \"{name}\".alembic_version)"
    ).one()
    return f"{found}:{rows[0]}:{rows[1]}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A Store on a fresh database, on SQLite and (when configured) PostgreSQL."""
    from syndicate.store import Store

    with Store(database_url) as opened:
        yield opened
