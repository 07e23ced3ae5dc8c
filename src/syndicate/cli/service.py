"""Service commands: run (the long-running service, or --once)."""

from __future__ import annotations

import sys

import click

from syndicate.cli.app import Context, main
from syndicate.cli.digest import preview_period
from syndicate.cli.site import feeds_step, gather_step


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
        preview_period(obj, None)
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
