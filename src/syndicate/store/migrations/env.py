"""Alembic's environment, run by every Alembic command on the connection its caller passes.

The caller (syndicate.store.migrate) owns the connection and its transaction: on PostgreSQL
that transaction holds the schema advisory lock, on SQLite the write lock, so Alembic must
neither open nor commit one of its own.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from syndicate.store.columns import in_schema_of
from syndicate.store.schema import UTCDateTime, metadata


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes the application's UTCDateTime as the plain type it stores as."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def include_object(
    item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate leaves out an index of another dialect (store.columns.only_on)."""
    return in_schema_of(context.get_bind().dialect.name, item)


def run_migrations() -> None:
    if context.is_offline_mode():
        raise RuntimeError("syndicate's migrations run online only (no --sql mode)")
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "pass an open SQLAlchemy Connection as Config.attributes['connection'] "
            "(see syndicate.store.migrate)"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
