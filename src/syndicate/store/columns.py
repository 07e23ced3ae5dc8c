"""What the tables are made of, the same on SQLite and PostgreSQL: the naming convention of
constraints and indexes, the UTC datetime type, partial indexes (each dialect's WHERE) and
indexes of one dialect only."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, ForeignKeyConstraint, Index
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.types import TypeDecorator, TypeEngine

from syndicate.store.moments import moment_param, moment_value

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _SQLiteText(sqlite.DATETIME):
    """SQLite's DATETIME column, its text made and read by UTCDateTime (C speed)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC, returned as an aware UTC datetime.

    SQLite has no time zone type: the value is stored as naive UTC text in SQLAlchemy's own
    DATETIME format (``YYYY-MM-DD HH:MM:SS.ffffff``), whose order is the time order.
    PostgreSQL gets a ``timestamptz`` and an aware value, whatever the session's TimeZone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteText()  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | str | None:
        return None if value is None else moment_param(value, dialect.name)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return moment_value(value)


POSTGRESQL = "postgresql"  # Index.info key: its postgresql_* options (see the hook below)


def on_postgresql(index: Index, **options: Any) -> Index:
    """``index`` with options of PostgreSQL's (``using="hash"``: what ``postgresql_using``
    would say), given to it only when its DDL is compiled for PostgreSQL."""
    index.info.setdefault(POSTGRESQL, {}).update(options)
    return index


ONLY_ON = "dialect"  # info key of an index or constraint: the one dialect whose schema has it

_OneDialect = TypeVar("_OneDialect", Index, ForeignKeyConstraint)


def only_on(dialect: str, item: _OneDialect) -> _OneDialect:
    """``item`` (an index or a foreign key) exists on ``dialect``'s databases only (created
    there and nowhere else; Alembic's comparison skips it elsewhere, see ``in_schema_of``)."""
    item.info[ONLY_ON] = dialect
    return item.ddl_if(dialect=dialect)


def in_schema_of(dialect: str, item: object) -> bool:
    """Whether a schema item belongs to ``dialect``'s schema (Alembic's include_object)."""
    info = getattr(item, "info", None) or {}
    return bool(info.get(ONLY_ON, dialect) == dialect)


FILLFACTOR = "fillfactor"  # Table.info key: how full PostgreSQL fills the table's new pages


@compiles(CreateTable, "postgresql")
def _fillfactor_on_postgresql(create: CreateTable, compiler: Any, **kw: Any) -> str:
    """A table's ``FILLFACTOR`` (its info) as ``WITH (fillfactor = n)``; the reason for
    ``_index_options_on_postgresql`` holds here too."""
    text: str = compiler.visit_create_table(create, **kw)
    fillfactor = create.element.info.get(FILLFACTOR)
    if fillfactor is None:
        return text
    return f"{text.rstrip()} WITH (fillfactor = {int(fillfactor)})\n\n"


@compiles(CreateIndex, "postgresql")
def _index_options_on_postgresql(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    """``postgresql_where`` or ``postgresql_using`` in an Index would load SQLAlchemy's
    PostgreSQL dialect on import (~40 ms of every command, on SQLite too): they wait in the
    index's info and are given to it here, when DDL is compiled for PostgreSQL."""
    options = create.element.dialect_options["postgresql"]
    for key, value in create.element.info.get(POSTGRESQL, {}).items():
        options[key] = value
    text: str = compiler.visit_create_index(create, **kw)
    return text
