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
    from sqlalchemy import Engine

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
    """A fresh, empty database: a SQLite file, or (when $SYNDICATE_TEST_DATABASE_URL is set)
    a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'syndicate.db'}"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set")
    yield from _fresh_pg_schema(base)


@functools.cache
def _pg_admin(base: str) -> Engine:
    """One pooled AUTOCOMMIT engine per test process, for making and dropping schemas."""
    from sqlalchemy import create_engine

    return create_engine(base, isolation_level="AUTOCOMMIT")


def _fresh_pg_schema(base: str) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = _pg_admin(base)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        options = f"-csearch_path={name} -cTimeZone={PG_SESSION_TIMEZONE} -csynchronous_commit=off"
        url = make_url(base).update_query_dict({"options": options})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A Store on a fresh database, on SQLite and (when configured) PostgreSQL."""
    from syndicate.store import Store

    with Store(database_url) as opened:
        yield opened
