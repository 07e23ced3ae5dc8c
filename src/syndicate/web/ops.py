"""/healthz and /metrics, for the operator's monitoring.

The health callback
-------------------
``create_app(..., health=callback)``: the face that runs the scheduler (``syndicate run``)
passes a function, called on every /healthz and /metrics request (in a worker thread; keep
it quick and free of I/O), that returns::

    {
        "scheduler": {"running": bool, ...},    # anything JSON-able; "running": False = unhealthy
        "jobs": {
            "gather": {
                "last_success": 1763712000.0,    # epoch seconds of the last ok run, or None
                "last_duration_seconds": 0.42,   # of the last run (ok or not), or None
                "next_run": "2026-11-23T08:00:00+01:00",  # ISO 8601 with offset, or None
            },
            ...
        },
    }

Both keys are optional. Without a callback (the web front alone) "scheduler" is null and
health depends on the database only. A callback that raises makes /healthz answer 503.

/healthz: 200 ``{"status": "ok", "database": "ok", "scheduler": {...}, "next_runs": {job:
iso}}`` when the database answers and the scheduler (if any) runs; else 503 with
``"status": "error"`` and the failing part's message. 503 with ``"status": "degraded"`` and
the reasons in ``"degraded"`` when all runs but sending cannot work: no SYNDICATE_SECRET_KEY,
no provider key, a paused send (bad credentials pause it).

/metrics: Prometheus text exposition format 0.0.4; every value is a gauge.

Who may see what (issue 13): both need ``Authorization: Bearer <token>``, the token in the
variable ``web.metrics_token_env`` names, compared in constant time. Without it /healthz
says only ``{"status": "ok"}`` (200) or ``{"status": "degraded"}`` (503): no counts, no
names, no host. /metrics without it answers 401 (404 when no token is configured), unless
``web.metrics_public`` is true.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syndicate.config import Settings
from syndicate.delivery.registry import sender_kind
from syndicate.log import EventLog, error_line
from syndicate.pipeline.pauses import pause_problem
from syndicate.store import Store
from syndicate.web.context import HealthCallback, WebContext
from syndicate.web.security import bearer_matches

log = EventLog("syndicate.web")
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class HealthReport:
    database: str = "ok"  # "ok" or "error: …"
    scheduler: Mapping[str, Any] | None = None
    jobs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)  # up, but sending cannot work

    @property
    def healthy(self) -> bool:
        return not self.problems and not self.degraded

    def as_json(self) -> dict[str, Any]:
        status = "error" if self.problems else "degraded" if self.degraded else "ok"
        return {
            "status": status,
            "database": self.database,
            "scheduler": self.scheduler,
            "next_runs": {name: job.get("next_run") for name, job in self.jobs.items()},
            "problems": self.problems,
            "degraded": self.degraded,
        }


def check_database(store: Store) -> str:
    """ "ok", or "error: <one line>"."""
    try:
        # The engine is public for exactly this: a round trip, no table touched.
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure at all means "not reachable" here
        log.warning("healthz.database_failed", error=error_line(exc))
        return f"error: {type(exc).__name__}"
    return "ok"


RECENT_EDITIONS = 3  # whose paused sends /healthz reports


def sending_problems(settings: Settings, store: Store, now: datetime) -> list[str]:
    """Why sending cannot work now: no signing key, no provider key, a paused send."""
    problems: list[str] = []
    if not settings.secret_key:
        problems.append("SYNDICATE_SECRET_KEY is not set: no subscribing, no sending")
    kind = sender_kind(settings.delivery.backend)
    for secret in kind.secrets:
        variable = getattr(kind.options(settings), secret.setting)
        if secret.required and not os.environ.get(variable):
            problems.append(f"${variable} is not set: no sending")
    for week, _created, _count in store.editions()[:RECENT_EDITIONS]:
        status = store.send_status(week)
        paused = pause_problem(settings, week, status)
        if paused is not None:
            problems.append(paused)
    return problems


def health_report(
    store: Store,
    health: HealthCallback | None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> HealthReport:
    report = HealthReport(database=check_database(store))
    if report.database != "ok":
        report.problems.append("database unreachable")
    elif settings is not None and now is not None:
        report.degraded = sending_problems(settings, store, now)
    if health is None:
        return report
    try:
        data = health()
    except Exception as exc:
        log.warning("healthz.callback_failed", error=error_line(exc))
        report.scheduler = {"error": type(exc).__name__}
        report.problems.append("scheduler state unknown")
        return report
    scheduler = data.get("scheduler")
    report.scheduler = dict(scheduler) if isinstance(scheduler, Mapping) else None
    jobs = data.get("jobs")
    if isinstance(jobs, Mapping):
        report.jobs = {str(k): v for k, v in jobs.items() if isinstance(v, Mapping)}
    if report.scheduler is not None and report.scheduler.get("running") is False:
        report.problems.append("scheduler not running")
    return report


# --- Prometheus text format ---------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


class Exposition:
    """Builds the text: one HELP and TYPE per metric, then its samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def gauge(
        self,
        name: str,
        help_text: str,
        samples: Iterable[tuple[Mapping[str, str], float]],
    ) -> None:
        rows = list(samples)
        if not rows:
            return
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in rows:
            shown = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            self.lines.append(
                f"{name}{{{shown}}} {_number(value)}" if shown else f"{name} {_number(value)}"
            )

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def metrics_text(store: Store, report: HealthReport) -> str:
    out = Exposition()
    out.gauge("syndicate_up", "1 when /healthz would answer 200.", [({}, float(report.healthy))])
    database_up = report.database == "ok"
    out.gauge("syndicate_database_up", "1 when the database answers.", [({}, float(database_up))])
    if database_up:
        try:
            _store_metrics(out, store)
        except Exception as exc:  # the database went away since the check: report, go on
            log.warning("metrics.store_failed", error=error_line(exc))
    if report.scheduler is not None:
        running = report.scheduler.get("running")
        if isinstance(running, bool):
            out.gauge(
                "syndicate_scheduler_running", "1 while the scheduler runs.", [({}, float(running))]
            )
    _job_metrics(out, report.jobs)
    return out.text()


def _store_metrics(out: Exposition, store: Store) -> None:
    out.gauge("syndicate_articles", "Articles in the store.", [({}, store.article_count())])
    out.gauge(
        "syndicate_gather_articles",
        "The last gather's counts (each source's newest run): articles new, updated, "
        "unchanged, removed; files or entries failed.",
        [({"outcome": name}, n) for name, n in store.last_gather_counts().items()],
    )
    out.gauge(
        "syndicate_articles_by_category",
        "Articles in the store by category.",
        [({"category": name}, n) for name, n in store.categories()],
    )
    out.gauge(
        "syndicate_subscribers",
        "Subscribers by status.",
        [({"status": status}, n) for status, n in sorted(store.subscriber_counts().items())],
    )
    editions = store.editions()
    out.gauge("syndicate_editions", "Digest editions stored.", [({}, len(editions))])
    archived = store.archived_editions()
    if archived:
        latest = archived[0][0]
        counts = store.delivery_counts(latest)
        out.gauge(
            "syndicate_deliveries",
            "Ledger rows of the newest edition whose send has started, by state.",
            [({"week": latest, "state": state}, n) for state, n in sorted(counts.items())],
        )


def _job_metrics(out: Exposition, jobs: Mapping[str, Mapping[str, Any]]) -> None:
    def samples(key: str) -> list[tuple[Mapping[str, str], float]]:
        rows: list[tuple[Mapping[str, str], float]] = []
        for name, job in sorted(jobs.items()):
            value = _seconds(job.get(key))
            if value is not None:
                rows.append(({"job": name}, value))
        return rows

    out.gauge(
        "syndicate_job_last_success_timestamp_seconds",
        "When the job last finished without error (Unix time).",
        samples("last_success"),
    )
    out.gauge(
        "syndicate_job_last_duration_seconds",
        "How long the job's last run took.",
        samples("last_duration_seconds"),
    )
    out.gauge(
        "syndicate_job_next_run_timestamp_seconds",
        "When the job runs next (Unix time).",
        samples("next_run"),
    )


def _seconds(value: Any) -> float | None:
    """A number, or an ISO 8601 time with offset, as seconds; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.timestamp()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.timestamp() if parsed.tzinfo is not None else None
    return None


def routes(ctx: WebContext) -> list[BaseRoute]:
    web = ctx.settings.web
    token = os.environ.get(web.metrics_token_env, "") if web.metrics_token_env else ""

    async def healthz(request: Request) -> Response:
        report = await run_in_threadpool(
            health_report, ctx.store, ctx.health, ctx.settings, ctx.clock()
        )
        shown = report.as_json()
        if not bearer_matches(request, token):
            shown = {"status": "ok" if shown["status"] == "ok" else "degraded"}
        # default=str: a callback that hands over a datetime still gets an answer.
        body = json.dumps(shown, default=str, ensure_ascii=False)
        return Response(
            body, status_code=200 if report.healthy else 503, media_type="application/json"
        )

    async def metrics(request: Request) -> Response:
        if not web.metrics_public and not bearer_matches(request, token):
            if not token:
                return ctx.pages.message(404, "Not found", "There is no page at this address.")
            return Response(
                "A bearer token is required.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )

        def collect() -> str:
            return metrics_text(
                ctx.store, health_report(ctx.store, ctx.health, ctx.settings, ctx.clock())
            )

        body = await run_in_threadpool(collect)
        return Response(body, headers={"Content-Type": PROMETHEUS_TYPE})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
