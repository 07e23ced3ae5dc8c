"""Datetimes in and out of the database, without SQLAlchemy: UTCDateTime (store.columns)
and `syndicate status`'s plain SQL (store.status_reads) convert them with these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def moment_param(value: Any, dialect: str) -> datetime | str:
    """An aware datetime as the column holds it: SQLite's naive UTC text in SQLAlchemy's
    DATETIME format (``YYYY-MM-DD HH:MM:SS.ffffff``, whose order is the time order), or an
    aware UTC datetime for PostgreSQL's ``timestamptz``."""
    offset = value.utcoffset() if isinstance(value, datetime) else None
    if offset is None:
        raise ValueError(f"expected a timezone-aware datetime, got {value!r}")
    if dialect == "sqlite":
        naive: datetime = value.replace(tzinfo=None) - offset
        return naive.isoformat(" ", "microseconds")
    utc: datetime = value.astimezone(UTC)
    return utc


def moment_value(value: Any) -> datetime | None:
    """What the column gave back (SQLite's text, PostgreSQL's datetime) as an aware UTC
    datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def stored_moment(value: Any) -> datetime:
    """moment_value of a NOT NULL column."""
    moment = moment_value(value)
    assert moment is not None
    return moment
