"""``syndicate bounces fetch``: read the bounce mailbox once (SMTP senders)."""

from __future__ import annotations

import click

from syndicate.cli.app import Context, main, pass_ctx


@main.group()
def bounces() -> None:
    """The bounce mailbox: delivery status notifications, complaints, mailto: unsubscribes."""


@bounces.command("fetch")
@pass_ctx
def fetch(obj: Context) -> None:
    """Read the [bounces] mailbox once: record its reports, suppress hard bounces and
    complaints (soft bounces after bounces.soft_limit in a row), carry out mailto:
    unsubscribes, and delete the reports it understood."""
    from syndicate.pipeline.bounces import BounceError, fetch_bounces

    with obj.store() as store:
        try:
            report = fetch_bounces(obj.settings, store, now=obj.now())
        except BounceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
