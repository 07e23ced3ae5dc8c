"""Database commands: upgrade the schema, show its revision."""

from __future__ import annotations

import click

from syndicate.cli.app import Context, main, pass_ctx


@main.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command()
@pass_ctx
def upgrade(obj: Context) -> None:
    """Migrate the database to the newest schema (opening it does this too)."""
    from syndicate.store import StoreError
    from syndicate.store.migrations import upgrade as run_upgrade

    try:
        revision = run_upgrade(obj.settings.database_url)
    except StoreError as exc:
        raise click.ClickException(f"storage.url: {exc}") from None
    click.echo(f"database at revision {revision}")


@db.command()
@pass_ctx
def current(obj: Context) -> None:
    """Show the database's schema revision and the newest this syndicate knows."""
    from syndicate.store import StoreError
    from syndicate.store.migrations import current_revision, head_revision

    try:
        revision = current_revision(obj.settings.database_url)
    except StoreError as exc:
        raise click.ClickException(f"storage.url: {exc}") from None
    click.echo(f"current: {revision or '(none: empty, or from before migrations)'}")
    click.echo(f"head:    {head_revision()}")
