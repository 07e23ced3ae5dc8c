"""Subscriber commands: add, import, export, list, remove."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from syndicate.cli.app import Context, main, pass_ctx

STATUSES = ["pending", "active", "unsubscribed", "bounced", "complained"]


@main.group()
def subscribers() -> None:
    """The people who get the digest."""


@subscribers.command()
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name.")
@click.option("--categories", default="", help="Comma-separated categories [default: all].")
@pass_ctx
def add(obj: Context, email: str, name: str, categories: str) -> None:
    """Add an active subscriber (the operator vouches for consent)."""
    from syndicate.audience import (
        AddressError,
        normalize_address,
        parse_categories,
        subscriber_name,
    )
    from syndicate.models import SubscriberStatus
    from syndicate.store import DuplicateSubscriber

    try:
        address = normalize_address(email)
    except AddressError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    with obj.store() as store:
        try:
            subscriber = store.add_subscriber(
                address,
                subscriber_name(name),
                parse_categories(categories),
                SubscriberStatus.ACTIVE,
                obj.now(),
            )
        except DuplicateSubscriber:
            raise click.ClickException(f"{address}: already subscribed") from None
    click.echo(f"added {subscriber.email} (id {subscriber.id})")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_(obj: Context, file: Path) -> None:
    """Import FILE.csv (header email,name,categories); bad rows are reported, good ones kept."""
    from syndicate.audience import CsvFormatError, parse_subscriber_csv

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        rows, errors = parse_subscriber_csv(text)
    except CsvFormatError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for error in errors:
        click.echo(f"{file}: {error}", err=True)
    with obj.store() as store:
        added, unchanged = store.import_subscribers(rows, obj.now())
    click.echo(f"import: {added} added, {unchanged} unchanged, {len(errors)} rejected")
    if errors:
        sys.exit(1)


@subscribers.command()
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@pass_ctx
def export(obj: Context, status: str | None) -> None:
    """Write subscribers as CSV (email,name,categories,status) to stdout."""
    from syndicate.models import SubscriberStatus

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["email", "name", "categories", "status"])
    with obj.store() as store:
        for s in store.list_subscribers(SubscriberStatus(status) if status else None):
            writer.writerow([s.email, s.name, ",".join(sorted(s.categories)), s.status.value])


@subscribers.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@pass_ctx
def list_(obj: Context, status: str | None) -> None:
    """List subscribers."""
    from syndicate.models import SubscriberStatus

    count = 0
    with obj.store() as store:
        for s in store.list_subscribers(SubscriberStatus(status) if status else None):
            categories = ",".join(sorted(s.categories)) or "(all)"
            click.echo(f"{s.id:6d}  {s.status.value:12s}  {s.email}  {s.name}  [{categories}]")
            count += 1
    click.echo(f"{count} subscribers")


@subscribers.command()
@click.argument("email")
@pass_ctx
def remove(obj: Context, email: str) -> None:
    """Delete a subscriber and their preferences (the send ledger keeps its history)."""
    with obj.store() as store:
        if not store.remove_subscriber(email):
            raise click.ClickException(f"{email}: no such subscriber")
    click.echo(f"removed {email}")
