"""Service commands: run (the long-running service, or --once) and status."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from syndicate.cli.app import Context, main, pass_ctx
from syndicate.cli.digest import preview_week
from syndicate.cli.site import feeds_step, gather_step

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.store import JobRun, Store

LAST_RUNS = 10


@main.command()
@click.option("--once", is_flag=True, help="Gather, build feeds and preview the digest, then exit.")
@click.option("--no-web", is_flag=True, help="Run the jobs without the web front.")
@click.pass_context
def run(ctx: click.Context, once: bool, no_web: bool) -> None:
    """Run the service: gather every schedule.gather_every, send the digest at
    digest.schedule, serve the web front; SIGTERM or SIGINT stop it cleanly.

    With --once: gather → feeds → digest preview, then exit.
    """
    obj = ctx.find_object(Context)
    assert obj is not None
    if once:
        ok = gather_step(obj)
        feeds_step(obj)
        preview_week(obj, None)
        if not ok:
            sys.exit(1)
        return
    from syndicate.service import ServiceError, exit_now_if_abandoned, run_service

    # --now starts the service's clock at that moment; it runs on at the real pace.
    start_at = obj.now() if ctx.find_root().params.get("now") else None
    try:
        stopped = run_service(obj.settings, start_at=start_at, web=not no_web)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    exit_now_if_abandoned(stopped)


@main.command()
@pass_ctx
def status(obj: Context) -> None:
    """Articles by category, the last gather, the editions, and the jobs of `syndicate run`:
    their next run times and their last runs."""
    now = obj.now()
    with obj.store() as store:
        categories = store.categories()
        last = store.last_gather()
        editions = store.editions()
        total = store.article_count()
        unlisted = store.unlisted_articles(now)
        jobs = _job_lines(obj.settings, store, now)
    click.echo(f"articles: {total}")
    for name, count in categories:
        click.echo(f"  {count:6d}  {name}")
    for article in unlisted:
        state = "draft" if article.status == "draft" else "scheduled"
        when = article.published.isoformat()
        click.echo(f"  {state}: {article.title} ({article.source}, dated {when})")
    click.echo(f"last gather: {last.isoformat() if last else 'never'}")
    click.echo(f"editions: {len(editions)}")
    for week, created, count in editions[:10]:
        click.echo(f"  {week}  {count} articles  prepared {created.isoformat()}")
    for line in jobs:
        click.echo(line)


def _job_lines(settings: Settings, store: Store, now: datetime) -> list[str]:
    from syndicate.config import format_duration
    from syndicate.service.catchup import digests_due, send_state, weeks_to_check
    from syndicate.service.jobs import GATHER
    from syndicate.service.triggers import planned_runs

    digest = settings.digest
    when, tz = digest.weekly_time, ZoneInfo(digest.timezone)
    planned = planned_runs(settings, now, store.last_success(GATHER))
    every = format_duration(settings.schedule.gather_every)
    lines = [
        "jobs of `syndicate run`:",
        f"  gather  every {every}; next {_when(planned['gather'], tz)}",
        f"  digest  {digest.schedule} {digest.timezone}; next {_when(planned['digest'], tz)}",
    ]
    states = {w: send_state(store.send_status(w)) for w in weeks_to_check(now, when, tz)}
    for item in digests_due(now, when, tz, digest.grace, states):
        hours = item.late.total_seconds() / 3600
        lines.append(
            f"  due now: {item.action} {item.week} (scheduled {hours:.1f} h ago); "
            "`syndicate run` does it when it starts"
        )
    runs = store.last_job_runs(LAST_RUNS)
    lines.append(f"last runs: {'none' if not runs else ''}".rstrip())
    lines += [f"  {_run_line(run)}" for run in runs]
    return lines


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.strftime('%a %Y-%m-%d %H:%M %Z')} ({moment.isoformat()})"


def _run_line(run: JobRun) -> str:
    return (
        f"{run.started.isoformat(timespec='seconds')}  {run.job:7s} {run.outcome:8s}"
        f"{run.duration_seconds:8.1f}s  {run.detail}  [{run.instance}]"
    )
