"""`syndicate run`: APScheduler fires the jobs on the instance holding the lease, uvicorn
serves the web front beside it, and SIGTERM/SIGINT stop both in order.

Threads: the main thread keeps the lease and waits for a signal; APScheduler's own thread
submits jobs to two one-thread pools (gather, digest), so a hung source delays no digest and
two gathers never overlap; the web front has its thread.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url

from syndicate.config import Settings, secret_env_names
from syndicate.delivery import Sender
from syndicate.service.catchup import next_scheduled
from syndicate.service.jobs import FIRST_GATHER_WAIT, JobEnv, Jobs
from syndicate.service.lease import Lease
from syndicate.service.logs import EventLog, error_line
from syndicate.service.plan import BOUNCES, DIGEST, GATHER, JOBS
from syndicate.service.signals import StopFlag
from syndicate.service.triggers import bounces_trigger, digest_triggers, gather_trigger, shifted
from syndicate.service.webserver import WebServer
from syndicate.store import JobRun, Store

STOP_TIMEOUT = 25.0  # seconds the jobs in flight get after SIGTERM (systemd allows 35)
STARTUP_DIGEST = "digest-startup"
RETRY_DIGEST = "digest-retry"
RETRY_CHECK = timedelta(minutes=1)  # how often the leader looks for a paused send to retry


class ServiceClock:
    """The real clock, or one that starts at ``start_at`` and runs at the real pace."""

    def __init__(
        self, start_at: datetime | None = None, real: Callable[[], datetime] | None = None
    ) -> None:
        self.real = real or (lambda: datetime.now(UTC))
        self.offset = start_at - self.real() if start_at is not None else timedelta(0)

    def __call__(self) -> datetime:
        return self.real() + self.offset


@dataclass
class JobStats:
    """What /healthz and /metrics show of a job, kept in memory (the health callback does no
    I/O): seeded from the job log at start, updated by each run."""

    last_success: float | None = None  # epoch seconds, on the service's clock
    last_duration: float | None = None  # of the last run, ok or not

    def note(self, run: JobRun) -> None:
        self.last_duration = run.duration_seconds
        if run.outcome == "ok":
            self.last_success = run.finished.timestamp()


@dataclass
class Stopped:
    clean: bool  # every job in flight finished
    abandoned: list[str]


class Service:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        lease: Lease,
        *,
        clock: ServiceClock,
        sender_factory: Callable[[], Sender],
        instance: str,
        stop: StopFlag,
        log: EventLog,
        first_gather_wait: float = FIRST_GATHER_WAIT,
    ) -> None:
        self.settings, self.store, self.lease = settings, store, lease
        self.first_gather_wait = first_gather_wait
        self.clock, self.instance, self.stop, self.log = clock, instance, stop, log
        self.jobs = Jobs(JobEnv(settings, store, clock, sender_factory, instance, stop.is_set, log))
        self.leader = False
        self._waiting_logged = False
        self.web: WebServer | None = None
        self._running: dict[str, int] = {}
        self._idle = threading.Condition()
        names = (*JOBS, BOUNCES) if settings.bounces.imap_url else JOBS
        self.stats = {name: JobStats() for name in names}
        self._seed_stats()
        self.scheduler = self._scheduler()

    def _seed_stats(self) -> None:
        for name, stats in self.stats.items():
            try:
                last = self.store.last_success(name)
            except Exception as exc:
                self.log.warning("job.stats_unavailable", job=name, error=error_line(exc))
                continue
            if last is not None:
                stats.last_success = last.finished.timestamp()
                stats.last_duration = last.duration_seconds

    def _scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            executors={name: ThreadPoolExecutor(1) for name in (GATHER, DIGEST, BOUNCES)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        # An interval is the same on any clock; the scheduled moments move with --now.
        scheduler.add_job(
            self._guarded,
            gather_trigger(self.settings),
            args=[GATHER, self.jobs.gather],
            id=GATHER,
            name=GATHER,
            executor=GATHER,
        )
        if self.settings.bounces.imap_url:
            scheduler.add_job(
                self._guarded,
                bounces_trigger(self.settings),
                args=[BOUNCES, self.jobs.bounces],
                id=BOUNCES,
                name=BOUNCES,
                executor=BOUNCES,
            )
        for cadence, trigger in digest_triggers(self.settings).items():
            scheduler.add_job(
                self._guarded,
                shifted(trigger, self.clock.offset),
                args=[DIGEST, self.jobs.digest, "schedule", [cadence]],
                id=digest_job_id(cadence),
                name=digest_job_id(cadence),
                executor=DIGEST,
            )
        scheduler.add_job(
            self._guarded,
            IntervalTrigger(seconds=RETRY_CHECK.total_seconds(), timezone=UTC),
            args=[DIGEST, self.jobs.retry_paused],
            id=RETRY_DIGEST,
            name=RETRY_DIGEST,
            executor=DIGEST,
        )
        return scheduler

    # --- running the jobs ---------------------------------------------------------------

    def _guarded(self, name: str, job: Callable[..., Any], *args: Any) -> None:
        """Run ``job`` only on the leader and never after a stop; count it while it runs."""
        if self.stop.is_set() or not self.leader or not self.lease.check():
            self.log.info("job.not_run", job=name, stopping=self.stop.is_set(), leader=self.leader)
            return
        with self._idle:
            self._running[name] = self._running.get(name, 0) + 1
        try:
            result = job(*args)
            for run in result if isinstance(result, list) else [result]:
                self.stats[name].note(run)
        except Exception as exc:  # the jobs catch their own; this is the last guard
            self.log.exception("job.crashed", job=name, error=error_line(exc))
        finally:
            with self._idle:
                self._running[name] -= 1
                self._idle.notify_all()

    def running_jobs(self) -> list[str]:
        with self._idle:
            return sorted(name for name, n in self._running.items() if n)

    # --- the lease ----------------------------------------------------------------------

    def tick(self) -> None:
        """Renew or take the lease; start or pause the jobs with it."""
        if self.leader:
            if not self.lease.check():
                self.leader = False
                self.scheduler.pause()
                self.log.warning(
                    "lease.lost", lease=self.lease.description, error=_error(self.lease)
                )
            return
        if self.lease.acquire():
            self._lead()
        elif not self._waiting_logged:
            self._waiting_logged = True
            self.log.info(
                "lease.waiting",
                holder=self.lease.holder(),
                lease=self.lease.description,
                error=_error(self.lease),
            )

    def _lead(self) -> None:
        """Leader now: the start-up digest check (catch-up and resume), a gather now, and
        the schedule from here on."""
        self.leader = True
        self._waiting_logged = False
        self.log.info("lease.acquired", lease=self.lease.description, instance=self.instance)
        self.scheduler.add_job(
            self._guarded,
            args=[DIGEST, self.jobs.digest_at_start, self.first_gather_wait],
            id=STARTUP_DIGEST,
            name=STARTUP_DIGEST,
            executor=DIGEST,
            replace_existing=True,
        )
        self.scheduler.modify_job(GATHER, next_run_time=datetime.now(UTC))
        self.scheduler.resume()

    # --- start, wait, stop --------------------------------------------------------------

    def run(self) -> Stopped:
        """Until the stop flag is set; then stop in order."""
        self.scheduler.start(paused=True)
        settings = self.settings
        digest = settings.digest
        tz = digest.zone
        now = self.clock()
        first_run = self._record_first_run(now)
        self.log.info(
            "service.started",
            instance=self.instance,
            lease=self.lease.description,
            gather_every=settings.schedule.gather_every.total_seconds(),
            digest=", ".join(
                f"{c} {digest.schedule_of(c)} {digest.timezone}" for c in digest.cadences
            ),
            next_digest=min(
                next_scheduled(now, digest.schedule_of(c), tz) for c in digest.cadences
            ).isoformat(),
            first_run=None if first_run is None else first_run.isoformat(),
            clock_offset_seconds=round(self.clock.offset.total_seconds()),
        )
        interval = settings.schedule.lease_check.total_seconds()
        self.tick()
        while not self.stop.wait(interval):
            self.tick()
        return self.shutdown()

    def _record_first_run(self, now: datetime) -> datetime | None:
        """The site's first start, recorded now if this is it (sends scheduled before it are
        never caught up on their own)."""
        try:
            return self.store.record_first_run(now)
        except Exception as exc:
            self.log.warning("service.first_run_unrecorded", error=error_line(exc))
            return None

    def shutdown(self, timeout: float = STOP_TIMEOUT) -> Stopped:
        deadline = time.monotonic() + timeout
        self.log.info("service.stopping", reason=self.stop.reason, running=self.running_jobs())
        if self.scheduler.running:
            self.scheduler.pause()
        with self._idle:
            self._idle.wait_for(
                lambda: not any(self._running.values()), max(0.0, deadline - time.monotonic())
            )
        abandoned = self.running_jobs()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.web is not None:
            self.web.stop(timeout=max(1.0, min(5.0, deadline - time.monotonic())))
        self.lease.release()
        self.leader = False
        return Stopped(clean=not abandoned, abandoned=abandoned)

    # --- health, for the web front --------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """For the web front's /healthz and /metrics: quick, from memory."""
        jobs: dict[str, dict[str, Any]] = {}
        for name, stats in self.stats.items():
            next_run = self._next_run(name)
            jobs[name] = {
                "last_success": stats.last_success,
                "last_duration_seconds": stats.last_duration,
                "next_run": _shifted_iso(next_run, self.clock.offset),
            }
        return {
            "scheduler": {
                "running": self.scheduler.running and not self.stop.is_set(),
                "leader": self.leader,
                "instance": self.instance,
            },
            "jobs": jobs,
        }

    def _next_run(self, name: str) -> datetime | None:
        """A job's next run; the digest's is the soonest of its cadences'."""
        ids = (
            [name] if name != DIGEST else [digest_job_id(c) for c in self.settings.digest.cadences]
        )
        found = [job.next_run_time for job in map(self.scheduler.get_job, ids) if job is not None]
        times = [moment for moment in found if moment is not None]
        return min(times) if times else None


def digest_job_id(cadence: str) -> str:
    return f"{DIGEST}:{cadence}"


def _shifted_iso(moment: datetime | None, offset: timedelta) -> str | None:
    return None if moment is None else (moment.astimezone(UTC) + offset).isoformat()


def _error(lease: Lease) -> str | None:
    return lease.last_error or None


def instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def secret_values(settings: Settings) -> list[str]:
    """What must never be logged: the secret environment values and the database password."""
    values = [os.environ.get(name, "") for name in secret_env_names(settings)]
    try:
        password = make_url(settings.database_url).password
    except Exception:
        password = None
    return [v for v in [*values, password or ""] if v]
