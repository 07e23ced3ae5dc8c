"""The jobs `syndicate run` fires: gather (+ feeds), each cadence's digest, and reading the
bounce mailbox when one is configured.

Each run calls the pipeline, logs one line, and records a row in the job log. A job never
raises: a failure is an outcome, logged with its traceback, and the next run tries again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from syndicate.config import Settings
from syndicate.delivery import Sender
from syndicate.digest.periods import Period, parse_key, send_command
from syndicate.models import Cadence
from syndicate.pipeline import (
    EditionError,
    FeedsReport,
    announce_changes,
    build_all_feeds,
    gather,
)
from syndicate.pipeline.bounces import BounceError, fetch_bounces
from syndicate.pipeline.pauses import REFUSED, RETRIED, retry_due
from syndicate.pipeline.send import STOPPED, SendError, SendReport, send_edition
from syndicate.pipeline.workers import Workers
from syndicate.service.catchup import (
    DueDigest,
    describe_nothing_due,
    digests_due,
    periods_to_check,
    send_state,
    skipped_before_first_run,
)
from syndicate.service.logs import EventLog, error_line
from syndicate.service.plan import BOUNCES, DIGEST, GATHER
from syndicate.store import JobOutcome, JobRun, Store

Clock = Callable[[], datetime]
Trigger = Literal["schedule", "startup", "retry"]
FIRST_GATHER_WAIT = 120.0  # seconds the start-up digest waits for the first gather


@dataclass(frozen=True)
class JobEnv:
    settings: Settings
    store: Store
    clock: Clock
    sender_factory: Callable[[], Sender]
    instance: str
    should_stop: Callable[[], bool]
    log: EventLog


class Jobs:
    def __init__(self, env: JobEnv) -> None:
        self.env = env
        # The first gather of a process builds the feeds anyway; later ones when an article
        # changed, or a scheduled one came due since the last build.
        self._feeds_built_at: datetime | None = None
        self.first_gather_done = threading.Event()

    # --- gather -----------------------------------------------------------------------

    def gather(self) -> JobRun:
        try:
            return self._gather()
        finally:
            self.first_gather_done.set()

    def _gather(self) -> JobRun:
        env = self.env
        started, clock_start = env.clock(), time.monotonic()
        try:
            report = gather(env.settings, env.store, now=started, on_error=self._file_error)
            detail = report.summary()
            written = None
            if report.changed or self._came_due(started):
                feeds = build_all_feeds(env.settings, env.store, started)
                written = len(feeds.written)
                self._feeds_built_at = started
                detail += f"; feeds: {written} files written"
                detail += self._announce(feeds)
        except Exception as exc:
            return self._crashed(GATHER, started, exc)
        env.log.info(
            "gather.finished",
            new=report.new,
            updated=report.updated,
            unchanged=report.unchanged,
            removed=report.removed,
            failed=report.failed,
            feeds_written=written,
            seconds=round(time.monotonic() - clock_start, 3),
        )
        return self._record(GATHER, started, "ok", detail)

    def _came_due(self, now: datetime) -> bool:
        built = self._feeds_built_at
        return built is None or self.env.store.articles_came_due(built, now) > 0

    def _file_error(self, message: str) -> None:
        self.env.log.warning("gather.file_error", error=message)

    def _announce(self, feeds: FeedsReport) -> str:
        """Tell the WebSub hub (if any) about the changed feeds; its failures are logged."""
        hub = announce_changes(self.env.settings, feeds, sleep=self._pause)
        if hub is None:
            return ""
        for line in hub.errors:
            self.env.log.warning("gather.hub_error", error=line)
        return f"; hub: {hub.summary()}"

    def _pause(self, seconds: float) -> None:
        """A retry's wait, cut short when the service stops."""
        deadline = time.monotonic() + seconds
        while not self.env.should_stop() and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.2))

    # --- digest -----------------------------------------------------------------------

    def digest_at_start(self, wait: float = FIRST_GATHER_WAIT) -> list[JobRun]:
        """The start-up check (a missed or half-sent digest), once the first gather has
        brought the articles up to date, or after ``wait`` seconds if it hangs."""
        deadline = time.monotonic() + wait
        while not self.first_gather_done.wait(0.2):
            if self.env.should_stop():
                return []
            if time.monotonic() > deadline:
                self.env.log.warning("digest.no_first_gather", waited_seconds=wait)
                break
        return self.digest("startup")

    def digest(
        self, trigger: Trigger = "schedule", cadences: Sequence[Cadence] | None = None
    ) -> list[JobRun]:
        """Send what the ledger says is due now, for each cadence (default: every enabled
        one): the period just scheduled, a missed one within digest.grace, or a half-sent
        one. The trigger is only the occasion."""
        runs: list[JobRun] = []
        for cadence in cadences or self.env.settings.digest.cadences:
            if self.env.should_stop():
                break
            runs += self._digest_of(cadence, trigger)
        return runs

    def _digest_of(self, cadence: Cadence, trigger: Trigger) -> list[JobRun]:
        env = self.env
        now = env.clock()
        digest = env.settings.digest
        when, tz = digest.schedule_of(cadence), digest.zone
        try:
            first_run = env.store.first_run()
            states = {
                p.key: send_state(env.store.send_status(p.key))
                for p in periods_to_check(now, when, tz)
            }
        except Exception as exc:
            env.log.exception("digest.failed", cadence=cadence, error=error_line(exc))
            return [self._record(DIGEST, now, "failed", error_line(exc))]
        due = [
            d
            for d in digests_due(now, when, tz, digest.grace, states, first_run)
            if self._may(d, trigger)
        ]
        if not due:
            reason = describe_nothing_due(now, when, tz, digest.grace, states, first_run)
            skipped = skipped_before_first_run(now, when, tz, states, first_run)
            if skipped is not None and trigger == "startup":
                env.log.warning(
                    "digest.skipped",
                    cadence=cadence,
                    period=skipped.name,
                    reason=reason,
                    command=send_command(skipped),
                )
            else:
                env.log.info("digest.nothing_due", cadence=cadence, trigger=trigger, reason=reason)
            if trigger == "startup":
                return []
            return [self._record(DIGEST, now, "skipped", reason)]
        runs: list[JobRun] = []
        for item in due:
            if env.should_stop():
                break
            runs.append(self._send(item, trigger))
        return runs

    def _may(self, item: DueDigest, trigger: Trigger) -> bool:
        """A send the provider refused (401/403) waits for the operator: the schedule does
        not resume it (a start of the service, or `digest send`, does)."""
        if item.action != "resume" or trigger == "startup":
            return True
        status = self.env.store.send_status(item.week)
        if status is None or status.pause_kind != REFUSED:
            return True
        self.env.log.info("digest.refused_waits", week=item.week, paused=status.paused_reason)
        return False

    def retry_paused(self) -> list[JobRun]:
        """Retry the sends paused by failed requests whose next wait is over (see
        pipeline.pauses); each retry is a run of the digest job, trigger "retry"."""
        env = self.env
        now = env.clock()
        try:
            due = [s for s in env.store.paused_sends(RETRIED) if retry_due(env.settings, s, now)]
        except Exception as exc:
            env.log.exception("digest.failed", trigger="retry", error=error_line(exc))
            return [self._record(DIGEST, now, "failed", error_line(exc))]
        runs: list[JobRun] = []
        for status in due:
            if env.should_stop():
                break
            try:
                period = parse_key(status.week)
            except ValueError:
                continue  # an announcement: `syndicate announce` resumes it, not the schedule
            retry = env.store.count_retry(status.week)
            env.log.info("digest.retry", week=status.week, retry=retry, paused=status.paused_reason)
            late = now - status.started_at
            runs.append(self._send(DueDigest(period, status.started_at, "resume", late), "retry"))
        return runs

    def _send(self, item: DueDigest, trigger: Trigger) -> JobRun:
        env = self.env
        started = env.clock()
        env.log.info(
            "digest.due",
            week=item.week,
            action=item.action,
            trigger=trigger,
            scheduled=item.scheduled.isoformat(),
            late_seconds=round(item.late.total_seconds()),
        )
        try:
            report = self._send_edition(item.period)
        except (EditionError, SendError) as exc:
            env.log.error("digest.failed", week=item.week, error=str(exc))
            return self._record(DIGEST, started, "failed", f"{item.week}: {exc}")
        except Exception as exc:
            env.log.exception("digest.failed", week=item.week, error=error_line(exc))
            return self._record(DIGEST, started, "failed", f"{item.week}: {error_line(exc)}")
        outcome, detail = self._judge(report)
        log = env.log.info if outcome != "failed" else env.log.warning
        log(
            "digest.finished",
            week=item.week,
            outcome=outcome,
            requests=report.requests,
            frozen=report.frozen,
            recovered=report.recovered,
            paused=report.paused,
            **{f"ledger_{state}": n for state, n in report.counts.items()},
        )
        return self._record(DIGEST, started, outcome, detail)

    def _send_edition(self, period: Period) -> SendReport:
        env = self.env
        week = period.key
        count = env.settings.delivery.workers
        if count > 1:  # delivery.workers processes share the send (pipeline.workers)
            workers = Workers(
                env.settings,
                period,
                count,
                clock=env.clock,
                make_sender=env.sender_factory,
                on_event=lambda line: env.log.warning("digest.event", week=week, message=line),
            )
            workers.start(env.store)
            return workers.wait(env.store, should_stop=env.should_stop)
        sender = env.sender_factory()
        try:
            return send_edition(
                env.settings,
                env.store,
                sender,
                period,
                clock=env.clock,
                on_event=lambda line: env.log.warning("digest.event", week=week, message=line),
                should_stop=env.should_stop,
            )
        finally:
            sender.close()

    def _judge(self, report: SendReport) -> tuple[JobOutcome, str]:
        if self.env.store.get_edition(report.week) is None:
            return "skipped", f"{report.week}: no new articles, no edition"
        if report.paused == STOPPED:
            return "failed", f"{report.summary()}; resumes at the next start"
        return ("failed" if report.paused else "ok"), report.summary()

    # --- bounces ----------------------------------------------------------------------

    def bounces(self) -> JobRun:
        """Read the bounce mailbox once (``bounces.imap_url``)."""
        env = self.env
        started = env.clock()
        try:
            report = fetch_bounces(env.settings, env.store, now=started)
        except BounceError as exc:
            env.log.error("bounces.failed", error=str(exc))
            return self._record(BOUNCES, started, "failed", str(exc))
        except Exception as exc:
            return self._crashed(BOUNCES, started, exc)
        env.log.info(
            "bounces.finished",
            messages=report.messages,
            reports=report.reports,
            new_events=report.events.new,
            status_changes=report.events.status_changes,
            unsubscribed=report.unsubscribed,
            unmatched=report.unmatched,
        )
        return self._record(BOUNCES, started, "ok", report.summary())

    # --- the job log ------------------------------------------------------------------

    def _crashed(self, job: str, started: datetime, exc: Exception) -> JobRun:
        """An unexpected failure: logged with its traceback, recorded as failed."""
        self.env.log.exception(f"{job}.failed", error=error_line(exc))
        return self._record(job, started, "failed", error_line(exc))

    def _record(self, job: str, started: datetime, outcome: JobOutcome, detail: str) -> JobRun:
        env = self.env
        run = JobRun(job, started, env.clock(), outcome, detail, env.instance)
        try:
            env.store.record_job_run(run)
        except Exception as exc:
            env.log.exception("job.record_failed", job=job, error=error_line(exc))
        return run
