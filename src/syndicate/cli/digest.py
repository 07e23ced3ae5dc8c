"""Digest commands: preview, send, test-send, resend-uncertain."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from syndicate.cli.app import Context, echo_json, main, pass_ctx, progress_bar
from syndicate.models import CADENCES

if TYPE_CHECKING:
    from datetime import datetime

    from syndicate.delivery import Sender
    from syndicate.digest.periods import Period
    from syndicate.models import DeliveryState
    from syndicate.pipeline.send import SendReport
    from syndicate.store import JobOutcome, Store


@main.group()
def digest() -> None:
    """The digest: one edition per period of each cadence (daily, weekly, monthly)."""


def period_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--cadence, --period and the older --week (a weekly period)."""
    for option in reversed(
        (
            click.option(
                "--cadence",
                type=click.Choice(CADENCES),
                help="daily, weekly or monthly [default: digest.default_cadence].",
            ),
            click.option(
                "--period",
                help="The period: 2026-11-23 (daily), 2026-W47 (weekly), 2026-11 (monthly) "
                "[default: the last complete one].",
            ),
            click.option("--week", help="Same as --cadence weekly --period WEEK."),
        )
    ):
        command = option(command)
    return command


def chosen_period(
    obj: Context, cadence: str | None, period: str | None, week: str | None
) -> Period:
    from syndicate.pipeline import EditionError
    from syndicate.pipeline.edition import choose_period

    if week is not None:
        if period is not None or cadence not in (None, "weekly"):
            raise click.BadParameter("give --week or --cadence/--period", param_hint="--week")
        cadence, period = "weekly", week
    try:
        return choose_period(obj.settings, cadence, period, now=obj.now())
    except EditionError as exc:
        message = str(exc)
        if week is not None:
            message = message.replace("--period:", "--week:", 1)
        raise click.ClickException(message) from None


def preview_period(obj: Context, period: Period | None) -> None:
    from syndicate.pipeline import EditionError, preview_edition

    now = obj.now()
    chosen = period or chosen_period(obj, None, None, None)
    with obj.store() as store:
        try:
            report = preview_edition(obj.settings, store, chosen, now=now)
        except EditionError as exc:
            raise click.ClickException(str(exc)) from None
    if report is None:
        click.echo(f"digest {chosen.key}: no articles in it, nothing to preview")
        return
    edition = report.edition
    more = f" (+{edition.more} more on the site)" if edition.more else ""
    state = "as sent" if edition.frozen else "as a send now would send it"
    click.echo(
        f"digest {chosen.key}: {len(edition.articles)} articles{more} ({state}; nothing sent)"
    )
    for path in (report.html, report.text, report.eml):
        click.echo(f"  {path}")


@digest.command()
@period_options
@pass_ctx
def preview(obj: Context, cadence: str | None, period: str | None, week: str | None) -> None:
    """Write digest.html, digest.txt and digest.eml into the outbox folder."""
    preview_period(obj, chosen_period(obj, cadence, period, week))


def sender_for(obj: Context) -> Sender:
    from syndicate.delivery.registry import make_sender
    from syndicate.errors import ConfigError

    try:
        return make_sender(obj.settings, obj.now)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@digest.command()
@period_options
@click.option("--dry-run", is_flag=True, help="Show who would get which variant; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: one JSON document.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes sharing the send (default: delivery.workers).",
)
@pass_ctx
def send(
    obj: Context,
    cadence: str | None,
    period: str | None,
    week: str | None,
    dry_run: bool,
    as_json: bool,
    workers: int | None,
) -> None:
    """Send the edition to every active subscriber of its cadence not yet sent it (resumes a
    stopped send). The edition is frozen with its recipients when its send starts."""
    from syndicate.pipeline import EditionError
    from syndicate.pipeline.send import SendError, plan_send

    if as_json and not dry_run:
        raise click.BadParameter("only with --dry-run", param_hint="--json")
    chosen = chosen_period(obj, cadence, period, week)
    week = chosen.key
    with obj.store() as store:
        try:
            if dry_run:
                report = plan_send(obj.settings, store, chosen, now=obj.now())
                uncertain = 0
            else:
                report = _send(obj, store, chosen, workers or obj.settings.delivery.workers)
                # The ledger's counts as the send ended (a send with nothing new has none):
                # a count, not a list of the edition's rows.
                uncertain = (report.counts or store.delivery_counts(week))[_uncertain().value]
        except (EditionError, SendError) as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json(
            {
                "week": week,
                "messages": sum(report.variants.values()),
                "variants": dict(sorted(report.variants.items())),
                "left_out": [{"email": e, "why": why} for e, why in report.left_out],
            }
        )
        return
    click.echo(report.summary())
    for label, count in sorted(report.variants.items()):
        click.echo(f"  {count:8d}  {label}")
    if report.left_out:
        click.echo(f"{len(report.left_out)} active subscribers would get nothing:")
        for email, why in report.left_out:
            click.echo(f"  {email}: {why}")
    if uncertain:
        click.echo(
            f"{uncertain} uncertain (the request's answer was lost; not resent): "
            "see `syndicate digest resend-uncertain "
            f"--cadence {chosen.cadence} --period {chosen.name}`",
            err=True,
        )
    if report.paused:
        raise SystemExit(2)


def _send(obj: Context, store: Store, period: Period, workers: int) -> SendReport:
    """The send, with a progress bar or log lines, recorded as a run of the job "send"."""
    from syndicate.pipeline.send import send_edition

    settings_checked(obj)
    started = obj.now()
    if workers > 1:
        report = _send_in_workers(obj, store, period, workers)
        record_send(obj, store, "send", started, report)
        return report
    sender = sender_for(obj)
    try:
        with progress_bar(f"sending {period.key}") as progress:
            report = send_edition(
                obj.settings,
                store,
                sender,
                period,
                clock=obj.now,
                on_event=lambda line: click.echo(line, err=True),
                progress=progress,
            )
    finally:
        sender.close()
    record_send(obj, store, "send", started, report)
    return report


def _send_in_workers(obj: Context, store: Store, period: Period, count: int) -> SendReport:
    from syndicate.pipeline.workers import Workers

    sender_for(obj).close()  # a bad setting is one line here, not one per worker
    workers = Workers(
        obj.settings,
        period,
        count,
        clock=obj.now,
        make_sender=lambda: sender_for(obj),
        on_event=lambda line: click.echo(line, err=True),
    )
    workers.start(store)
    with progress_bar(f"sending {period.key} ({count} workers)") as progress:
        return workers.wait(store, progress=progress)


def record_send(
    obj: Context, store: Store, job: str, started: datetime, report: SendReport
) -> None:
    """A send from the CLI is a run of ``job`` in the job log, as the service's are."""
    import os
    import socket

    from syndicate.store import JobRun

    outcome: JobOutcome = "failed" if report.paused else "ok"
    instance = f"cli:{socket.gethostname()}:{os.getpid()}"
    store.record_job_run(JobRun(job, started, obj.now(), outcome, report.summary(), instance))


def settings_checked(obj: Context) -> None:
    """Refuse to send with the example defaults of a new site (see sendcheck)."""
    from syndicate.pipeline.sendcheck import unsafe_defaults

    problems = unsafe_defaults(obj.settings)
    if problems:
        raise click.ClickException("not sending with example settings: " + "; ".join(problems))


def _uncertain() -> DeliveryState:
    from syndicate.models import DeliveryState

    return DeliveryState.UNCERTAIN


@digest.command("resend-uncertain")
@period_options
@click.option("--list", "list_only", is_flag=True, help="Only list the uncertain recipients.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def resend_uncertain(
    obj: Context,
    cadence: str | None,
    period: str | None,
    week: str | None,
    list_only: bool,
    yes: bool,
) -> None:
    """Put the edition's uncertain recipients back in the queue: they may get a second copy."""
    if period is None and week is None:
        raise click.UsageError("give --period (or --week): which edition's send")
    chosen = chosen_period(obj, cadence, period, week)
    week = chosen.key
    with obj.store() as store:
        rows = store.deliveries(week, _uncertain())
        for row in rows:
            click.echo(f"{row.email}\t{row.error}")
        if list_only or not rows:
            click.echo(f"{len(rows)} uncertain recipients for {week}")
            return
        if not yes:
            click.confirm(f"Queue {len(rows)} uncertain recipients again?", abort=True)
        from syndicate.digest.periods import send_command
        from syndicate.pipeline.owners import describe
        from syndicate.pipeline.send import resend_uncertain as requeue

        count, kept = requeue(obj.settings, store, week, obj.now())
    for sender, rows_kept in kept:
        click.echo(
            f"refused {rows_kept}: {describe(sender)} is still sending them; "
            "run this again once it has ended",
            err=True,
        )
    click.echo(f"{count} recipients queued again; run `{send_command(chosen)}`")
    if kept:
        raise SystemExit(2)


@digest.command("test-send")
@click.argument("email")
@period_options
@pass_ctx
def test_send(
    obj: Context, email: str, cadence: str | None, period: str | None, week: str | None
) -> None:
    """Send one copy of the edition to EMAIL, outside the ledger."""
    from syndicate.audience import AddressError, normalize_address
    from syndicate.pipeline import EditionError
    from syndicate.pipeline.send import SendError, send_test

    try:
        address = normalize_address(email)
    except AddressError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from None
    chosen = chosen_period(obj, cadence, period, week)
    week = chosen.key
    with obj.store() as store:
        sender = sender_for(obj)
        try:
            outcome = send_test(obj.settings, store, sender, chosen, address, now=obj.now())
        except (EditionError, SendError) as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            sender.close()
    line = f"test copy of {week} to {address}: {outcome.state} {outcome.error}".rstrip()
    if outcome.state != "sent":
        raise click.ClickException(line)
    click.echo(line)
