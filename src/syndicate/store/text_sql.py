"""SQL text over a SQLAlchemy connection: the Run and Sql (store.sqlite_direct) that the
plain-SQL modules (status_reads, build_reads, gather_writes) are given by a Store, the same
text they are given over a sqlite3 connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from syndicate.store.sqlite_direct import Run, Sql


def text_run(conn: Connection) -> Run:
    """A Run (store.sqlite_direct) over a SQLAlchemy connection: the same SQL text as over
    a sqlite3 connection, the rows as tuples."""

    def run(sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        result = conn.execute(text(sql), dict(params))
        return [tuple(row) for row in result] if result.returns_rows else []

    return run


def text_sql(conn: Connection) -> Sql:
    """The Sql (store.sqlite_direct) of a SQLAlchemy connection."""

    def many(sql: str, rows: Sequence[Mapping[str, object]]) -> None:
        conn.execute(text(sql), [dict(row) for row in rows])

    return Sql(text_run(conn), many, conn.dialect.name)
