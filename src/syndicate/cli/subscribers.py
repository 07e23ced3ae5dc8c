"""Subscriber commands: add, import, export, list, remove."""

from __future__ import annotations

import csv
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import click

from syndicate.cli.app import Context, echo_json, main, pass_ctx, progress_bar
from syndicate.models import CADENCES

STATUSES = ["pending", "active", "unsubscribed", "bounced", "complained"]


@main.group()
def subscribers() -> None:
    """The people who get the digest."""


@subscribers.command()
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name.")
@click.option(
    "--categories", default="", help="Comma-separated categories of the site [default: all]."
)
@click.option(
    "--cadence",
    type=click.Choice(CADENCES),
    help="daily, weekly or monthly, one of digest.cadences [default: digest.default_cadence].",
)
@pass_ctx
def add(obj: Context, email: str, name: str, categories: str, cadence: str | None) -> None:
    """Add an active subscriber (the operator vouches for consent)."""
    from syndicate.audience import (
        AddressError,
        normalize_address,
        parse_categories,
        subscriber_name,
    )
    from syndicate.models import SubscriberStatus
    from syndicate.pipeline.subscriptions import UnknownCategory, check_categories, site_categories
    from syndicate.store import DuplicateSubscriber

    try:
        address = normalize_address(email)
    except AddressError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    cadence = enabled_cadence(obj, cadence, "--cadence")
    with obj.store() as store:
        try:
            chosen = check_categories(
                site_categories(store, obj.settings), parse_categories(categories)
            )
        except UnknownCategory as exc:
            raise click.BadParameter(str(exc), param_hint="--categories") from None
        try:
            subscriber = store.add_subscriber(
                address, subscriber_name(name), chosen, SubscriberStatus.ACTIVE, obj.now(), cadence
            )
        except DuplicateSubscriber:
            raise click.ClickException(f"{address}: already subscribed") from None
    click.echo(f"added {subscriber.email} (id {subscriber.id}, {subscriber.cadence})")


def enabled_cadence(obj: Context, cadence: str | None, where: str) -> str:
    """``cadence`` if digest.cadences enables it; without one, digest.default_cadence."""
    digest = obj.settings.digest
    if cadence is None or cadence == "":
        return digest.default_cadence
    if cadence not in digest.cadences:
        enabled = ", ".join(digest.cadences)
        raise click.BadParameter(
            f"{cadence} is not in digest.cadences ({enabled})", param_hint=where
        )
    return cadence


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--reactivate",
    is_flag=True,
    help="Make known unsubscribed, bounced or complained addresses active again when the "
    "file says they are active (without it, import never raises a status).",
)
@pass_ctx
def import_(obj: Context, file: Path, reactivate: bool) -> None:
    """Import FILE: our export, another provider's (Mailchimp, Substack, Buttondown, listmonk)
    or any CSV with an email column; bad rows are reported, good ones kept."""
    from syndicate.pipeline.subscriptions import check_categories, site_categories
    from syndicate.subscriber_csv import CsvFormatError, parse_subscriber_file

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{file}: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror or exc}") from None
    with obj.store() as store:
        known = site_categories(store, obj.settings)

        try:  # an unknown category (an InputError) rejects its row
            records, errors = parse_subscriber_file(text, partial(check_categories, known))
        except CsvFormatError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
        default = obj.settings.digest.default_cadence
        records = [r if r.cadence else replace(r, cadence=default) for r in records]
        for error in errors:
            click.echo(f"{file}: {error}", err=True)
        with progress_bar("importing") as progress:
            counts = store.restore_subscribers(records, obj.now(), reactivate=reactivate)
            if progress is not None:
                progress(len(records), len(records))
    changed = f", {counts.suppressed} suppressed" if counts.suppressed else ""
    if reactivate:
        changed += f", {counts.reactivated} reactivated"
    click.echo(
        f"import: {counts.added} added{changed}, {counts.unchanged} unchanged, "
        f"{len(errors)} rejected"
    )
    if errors:
        sys.exit(1)


@subscribers.command()
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@pass_ctx
def export(obj: Context, status: str | None) -> None:
    """Write subscribers as CSV to stdout: every field `import` needs to restore them
    (email, name, categories, cadence, status, created, confirmed)."""
    from syndicate.models import SubscriberStatus
    from syndicate.subscriber_csv import export_rows

    writer = csv.writer(sys.stdout, lineterminator="\n")
    with obj.store() as store:
        writer.writerows(
            export_rows(store.list_subscribers(SubscriberStatus(status) if status else None))
        )


@subscribers.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of subscribers.")
@pass_ctx
def list_(obj: Context, status: str | None, as_json: bool) -> None:
    """List subscribers."""
    from syndicate.models import SubscriberStatus
    from syndicate.subscriber_csv import subscriber_data

    count = 0
    with obj.store() as store:
        found = store.list_subscribers(SubscriberStatus(status) if status else None)
        if as_json:
            echo_json([subscriber_data(s) for s in found])
            return
        for s in found:
            categories = ",".join(sorted(s.categories)) or "(all)"
            line = f"{s.id:6d}  {s.status.value:12s}  {s.email}  {s.name}  [{categories}]"
            click.echo(f"{line}  {s.cadence}")
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
