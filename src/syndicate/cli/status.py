"""`syndicate status`: articles, editions with their send state and ledger counts, the jobs of
`syndicate run` with their next and last runs; as text or as one JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from syndicate.cli.app import Context, echo_json, main, pass_ctx
from syndicate.errors import StoreError

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.models import Cadence
    from syndicate.store import JobRun, SendStatus
    from syndicate.store.status_reads import StatusReads

LAST_RUNS = 10
EDITIONS = 10


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@pass_ctx
def status(obj: Context, as_json: bool) -> None:
    """Articles by category, the last gather, the editions (with their send: not started,
    sending, paused and why, done; and the ledger's counts), and the jobs of `syndicate run`:
    their next run times and their last runs."""
    try:
        with obj.status_reads() as reads:
            data = status_data(obj.settings, reads, obj.now())
    except StoreError as exc:  # a damaged store: one line, as when opening it fails
        raise click.ClickException(f"storage.url: {exc}") from None
    if as_json:
        echo_json(data)
    else:
        for line in status_lines(data):
            click.echo(line)


def send_summary(status: SendStatus | None, counts: dict[str, int]) -> dict[str, Any]:
    """An edition's send as data: state, why it paused, and the ledger's counts."""
    if status is None:
        state = "not started"
    elif status.finished_at is not None:
        state = "done"
    elif status.paused_reason:
        state = "paused"
    else:
        state = "sending"
    return {
        "state": state,
        "paused_reason": status.paused_reason if status is not None else None,
        "started": _iso(status.started_at if status else None),
        "finished": _iso(status.finished_at if status else None),
        "counts": counts,
    }


def status_data(settings: Settings, reads: StatusReads, now: datetime) -> dict[str, Any]:
    from syndicate.pipeline.pauses import next_retry

    last = reads.last_gather()
    editions = []
    for week, created, count in reads.editions(EDITIONS):
        status = reads.send_status(week)
        send = send_summary(status, reads.delivery_counts(week))
        send["retry_at"] = _iso(next_retry(settings, status) if status else None)  # issue 10
        editions.append(
            {"week": week, "prepared": created.isoformat(), "articles": count, "send": send}
        )
    return {
        "articles": {
            "total": reads.article_count(),
            "by_category": dict(reads.categories()),
            "unlisted": [
                {
                    "state": "draft" if state == "draft" else "scheduled",
                    "title": title,
                    "source": source,
                    "dated": dated.isoformat(),
                }
                for state, title, source, dated in reads.unlisted_articles(now)
            ],
        },
        "last_gather": _iso(last),
        "subscribers": reads.subscriber_counts(),
        "editions": editions,
        "jobs": _jobs(settings, reads, now),
        "last_runs": [_run(run) for run in reads.last_job_runs(LAST_RUNS)],
    }


def status_lines(data: dict[str, Any]) -> list[str]:
    lines = [f"articles: {data['articles']['total']}"]
    lines += [f"  {count:6d}  {name}" for name, count in data["articles"]["by_category"].items()]
    lines += [
        f"  {item['state']}: {item['title']} ({item['source']}, dated {item['dated']})"
        for item in data["articles"]["unlisted"]
    ]
    lines.append(f"last gather: {data['last_gather'] or 'never'}")
    people = ", ".join(f"{n} {status}" for status, n in data["subscribers"].items() if n)
    lines.append(f"subscribers: {people or 'none'}")
    lines.append(f"editions: {len(data['editions'])}")
    for edition in data["editions"]:
        send = edition["send"]
        state = send["state"] + (f" ({send['paused_reason']})" if send["paused_reason"] else "")
        if send.get("retry_at"):
            state += f", `syndicate run` retries it at {send['retry_at']}"
        counts = send["counts"]
        shown = ", ".join(
            f"{counts.get(key, 0)} {key}" for key in ("sent", "failed", "uncertain", "pending")
        )
        ledger = f"; {shown}" if send["state"] != "not started" else ""
        lines.append(
            f"  {edition['week']}  {edition['articles']} articles  prepared "
            f"{edition['prepared']}  send: {state}{ledger}"
        )
    jobs = data["jobs"]
    lines += [
        "jobs of `syndicate run`:",
        f"  gather  every {jobs['gather']['every']}; next {jobs['gather']['next_shown']}",
        f"  digest  {jobs['digest']['schedule']}; next {jobs['digest']['next_shown']}",
    ]
    for item in jobs["due"]:
        lines.append(
            f"  due now: {item['action']} {item['week']} (scheduled {item['late_hours']:.1f} h "
            "ago); `syndicate run` does it when it starts"
        )
    for item in jobs["skipped"]:
        lines.append(
            f"  not sent on its own: {item['week']} was scheduled before the first "
            f"`syndicate run`; to send it: {item['command']}"
        )
    runs = data["last_runs"]
    lines.append(f"last runs: {'none' if not runs else ''}".rstrip())
    lines += [
        f"  {r['started']}  {r['job']:7s} {r['outcome']:8s}{r['seconds']:8.1f}s  {r['detail']}"
        f"  [{r['instance']}]"
        for r in runs
    ]
    return lines


def _jobs(settings: Settings, reads: StatusReads, now: datetime) -> dict[str, Any]:
    from syndicate.config import format_duration
    from syndicate.service.plan import GATHER, planned_runs

    digest = settings.digest
    tz = digest.zone
    planned = planned_runs(settings, now, reads.last_success(GATHER))
    first_run = reads.first_run()
    due: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for cadence in digest.cadences:
        cadence_due, cadence_skipped = _due(settings, reads, cadence, now, first_run)
        due += cadence_due
        skipped += cadence_skipped
    return {
        "gather": {
            "every": format_duration(settings.schedule.gather_every),
            "next": planned["gather"].isoformat(),
            "next_shown": _when(planned["gather"], tz),
        },
        "digest": {
            "schedule": ", ".join(f"{c} {digest.schedule_of(c)}" for c in digest.cadences)
            + f" {digest.timezone}",
            "next": planned["digest"].isoformat(),
            "next_shown": _when(planned["digest"], tz),
        },
        "first_run": _iso(first_run),
        "due": due,
        "skipped": skipped,
    }


def _due(
    settings: Settings,
    reads: StatusReads,
    cadence: Cadence,
    now: datetime,
    first_run: datetime | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What `syndicate run` would send of ``cadence`` now, and what it leaves to the operator
    (scheduled before the site's first start, or before now if it never started)."""
    from syndicate.service.catchup import (
        digests_due,
        periods_to_check,
        send_state,
        skipped_before_first_run,
    )

    digest = settings.digest
    when, tz = digest.schedule_of(cadence), digest.zone
    states = {p.key: send_state(reads.send_status(p.key)) for p in periods_to_check(now, when, tz)}
    first = first_run or now
    due = [
        {"action": item.action, "week": item.week, "late_hours": item.late.total_seconds() / 3600}
        for item in digests_due(now, when, tz, digest.grace, states, first)
    ]
    left = skipped_before_first_run(now, when, tz, states, first)
    skipped = []
    if left is not None and reads.period_has_articles(*left.bounds(tz), now):
        from syndicate.digest.periods import send_command

        skipped.append({"week": left.key, "command": send_command(left)})
    return due, skipped


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.strftime('%a %Y-%m-%d %H:%M %Z')} ({moment.isoformat()})"


def _run(run: JobRun) -> dict[str, Any]:
    return {
        "job": run.job,
        "started": run.started.isoformat(timespec="seconds"),
        "finished": run.finished.isoformat(timespec="seconds"),
        "outcome": run.outcome,
        "seconds": round(run.duration_seconds, 1),
        "detail": run.detail,
        "instance": run.instance,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
