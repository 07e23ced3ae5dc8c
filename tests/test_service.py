"""The service around the jobs: the lease starts and pauses them, a hung gather holds back no
digest, a stop lets the request in flight finish, and the health report for the web front.

A real BackgroundScheduler runs here; only the lease is a stand-in (the real ones are in
test_service_lease.py) and the clock starts at a chosen moment (ServiceClock).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from tests.service_support import (
    SECRET,
    LogBuffer,
    RecordingSender,
    captured_logs,
    site_settings,
    subscribe,
    utc,
    write_articles,
)

from syndicate.config import Settings
from syndicate.models import DeliveryState
from syndicate.pipeline import gather
from syndicate.pipeline.send import STOPPED
from syndicate.service.jobs import DIGEST, GATHER
from syndicate.service.logs import EventLog
from syndicate.service.runner import Service, ServiceClock, digest_job_id
from syndicate.service.signals import StopFlag, stop_on_signals
from syndicate.store import Store

W14_AT = utc(2026, 3, 30, 6, 0)  # mon 08:00 in Berlin


class FakeLease:
    shared = True
    description = "test lease"
    last_error = ""

    def __init__(self, free: bool = True) -> None:
        self.free, self.held = free, False

    def acquire(self) -> bool:
        self.held = self.held or self.free
        return self.held

    def check(self) -> bool:
        return self.held

    def holder(self) -> str | None:
        return None if self.held else "other-host:42"

    def release(self) -> None:
        self.held = False

    def lose(self) -> None:
        self.held = self.free = False


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    write_articles(tmp_path, W14_AT - timedelta(days=1), 3)
    return site_settings(tmp_path, f"sqlite:///{tmp_path / 'db' / 'site.db'}")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.database_url) as opened:
        subscribe(opened, 5, W14_AT)
        opened.record_first_run(W14_AT - timedelta(weeks=4))  # a site that ran before
        yield opened


@pytest.fixture
def logs() -> Iterator[LogBuffer]:
    with captured_logs() as buffer:
        yield buffer


def make_service(
    settings: Settings,
    store: Store,
    lease: FakeLease,
    sender: RecordingSender,
    *,
    start_at: datetime = W14_AT + timedelta(hours=1),
    first_gather_wait: float = 5.0,
) -> Service:
    return Service(
        settings,
        store,
        lease,
        clock=ServiceClock(start_at),
        sender_factory=lambda: sender,
        instance="test-host:1",
        stop=StopFlag(),
        log=EventLog("syndicate.test"),
        first_gather_wait=first_gather_wait,
    )


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def runs_of(store: Store, job: str) -> list[str]:
    return [run.outcome for run in store.last_job_runs(50) if run.job == job]


@pytest.fixture
def started() -> Iterator[list[Service]]:
    """Services started in a test are shut down after it, whatever happened."""
    services: list[Service] = []
    yield services
    for service in services:
        service.stop.set("test over")
        if service.scheduler.running:
            service.shutdown(timeout=5)


def test_jobs_fire_only_while_the_lease_is_held(
    settings: Settings, store: Store, logs: LogBuffer, started: list[Service]
) -> None:
    lease = FakeLease(free=False)
    sender = RecordingSender()
    service = make_service(settings, store, lease, sender)
    started.append(service)
    service.scheduler.start(paused=True)
    service.tick()
    assert not service.leader and service.scheduler.state == STATE_PAUSED
    waiting = next(e for e in logs.events() if e["event"] == "lease.waiting")
    assert waiting["holder"] == "other-host:42"
    assert store.last_job_runs(5) == []

    lease.free = True
    service.tick()  # leader: a gather now, then the start-up check sends the missed Monday
    assert service.leader and service.scheduler.state == STATE_RUNNING
    eventually(lambda: runs_of(store, DIGEST) == ["ok"] and runs_of(store, GATHER) == ["ok"])
    assert sum(sender.copies.values()) == 5

    lease.lose()
    service.tick()
    assert not service.leader and service.scheduler.state == STATE_PAUSED
    assert "lease.lost" in logs.names()


def test_health_reports_the_scheduler_and_each_job(
    settings: Settings, store: Store, started: list[Service]
) -> None:
    service = make_service(settings, store, FakeLease(), RecordingSender())
    started.append(service)
    service.scheduler.start(paused=True)
    before = service.health()
    assert before["scheduler"] == {"running": True, "leader": False, "instance": "test-host:1"}
    assert before["jobs"][GATHER]["last_success"] is None
    service.tick()
    eventually(lambda: runs_of(store, DIGEST) == ["ok"] and runs_of(store, GATHER) == ["ok"])
    health = service.health()
    assert health["scheduler"]["leader"] is True
    for job in (GATHER, DIGEST):
        entry = health["jobs"][job]
        assert isinstance(entry["last_success"], float)
        assert entry["last_duration_seconds"] >= 0
    # Next runs are on the service's clock (it started at W14 + 1 h): next Monday 08:00.
    next_digest = datetime.fromisoformat(health["jobs"][DIGEST]["next_run"])
    assert next_digest == W14_AT + timedelta(weeks=1)
    next_gather = datetime.fromisoformat(health["jobs"][GATHER]["next_run"])
    assert timedelta(0) < next_gather - (W14_AT + timedelta(hours=1)) <= timedelta(minutes=16)


def test_a_hung_gather_holds_back_no_digest(
    settings: Settings, store: Store, started: list[Service]
) -> None:
    gather(settings, store, now=W14_AT - timedelta(hours=2))  # gathered before the hang
    release = threading.Event()
    sender = RecordingSender()
    service = make_service(settings, store, FakeLease(), sender, first_gather_wait=0.2)
    started.append(service)

    def hung_gather() -> None:
        release.wait(20)  # a source on a dead network share

    service.scheduler.modify_job(GATHER, args=[GATHER, hung_gather])
    service.scheduler.start(paused=True)
    try:
        service.tick()
        eventually(lambda: runs_of(store, DIGEST) == ["ok"])  # the start-up check
        weekly = digest_job_id("weekly")
        service.scheduler.modify_job(weekly, next_run_time=datetime.now(UTC))  # Monday
        eventually(lambda: runs_of(store, DIGEST) == ["skipped", "ok"])
        # The digest job records its run a moment before it returns to the scheduler.
        eventually(lambda: service.running_jobs() == [GATHER])  # gather: hanging all along
        # Another gather is not started beside the hung one.
        service.scheduler.modify_job(GATHER, next_run_time=datetime.now(UTC))
        time.sleep(0.3)
        assert service.running_jobs() == [GATHER]
    finally:
        release.set()
    assert sum(sender.copies.values()) == 5


def test_a_stop_lets_the_request_in_flight_finish_and_records_it(
    settings: Settings, store: Store, logs: LogBuffer, started: list[Service]
) -> None:
    sender = RecordingSender(max_batch=2)
    sender.gate = threading.Event()
    service = make_service(settings, store, FakeLease(), sender)
    started.append(service)
    service.scheduler.start(paused=True)
    service.tick()
    eventually(sender.in_send.is_set)  # the first request is out
    service.stop.set("SIGTERM")
    result: list[object] = []
    stopping = threading.Thread(target=lambda: result.append(service.shutdown(timeout=10)))
    stopping.start()
    time.sleep(0.3)
    assert stopping.is_alive() and service.running_jobs() == [DIGEST]  # waiting for it
    sender.gate.set()  # the answer comes back
    stopping.join(10)
    (stopped,) = result
    assert stopped.clean and stopped.abandoned == []  # type: ignore[attr-defined]
    counts = store.delivery_counts("weekly:2026-W13")
    assert counts[DeliveryState.SENT.value] == 2 and counts[DeliveryState.PENDING.value] == 3
    status = store.send_status("weekly:2026-W13")
    assert status is not None and status.paused_reason == STOPPED
    (run,) = [r for r in store.last_job_runs(10) if r.job == DIGEST]
    assert run.outcome == "failed" and "resumes at the next start" in run.detail
    assert "service.stopping" in logs.names()
    assert service.scheduler.running is False


def test_a_job_that_outlives_the_stop_timeout_is_abandoned(
    settings: Settings, store: Store, started: list[Service]
) -> None:
    sender = RecordingSender()
    sender.gate = threading.Event()
    service = make_service(settings, store, FakeLease(), sender)
    started.append(service)
    service.scheduler.start(paused=True)
    service.tick()
    eventually(sender.in_send.is_set)
    service.stop.set("SIGTERM")
    stopped = service.shutdown(timeout=0.5)  # returns at all: the job itself never ends
    assert not stopped.clean and stopped.abandoned == [DIGEST]
    sender.gate.set()


def test_run_ticks_until_the_stop_flag_then_stops_cleanly(
    settings: Settings, store: Store, logs: LogBuffer
) -> None:
    service = make_service(settings, store, FakeLease(), RecordingSender())
    runner = threading.Thread(target=lambda: setattr(service, "result", service.run()))
    runner.start()
    eventually(lambda: runs_of(store, GATHER) == ["ok"] and runs_of(store, DIGEST) == ["ok"])
    service.stop.set("SIGINT")
    runner.join(15)
    assert not runner.is_alive() and service.result.clean  # type: ignore[attr-defined]
    started = next(e for e in logs.events() if e["event"] == "service.started")
    assert started["next_digest"] == (W14_AT + timedelta(weeks=1)).isoformat()
    ours = [name for name in logs.names() if not name.startswith("apscheduler")]
    assert ours[-1] == "service.stopping"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_set_the_stop_flag(signum: int) -> None:
    flag = StopFlag()
    before = signal.getsignal(signum)
    with stop_on_signals(flag):
        os.kill(os.getpid(), signum)
        assert flag.wait(2)
    assert flag.reason == signal.Signals(signum).name
    assert signal.getsignal(signum) is before


# --- issue 10, item 5: no surprises on the first start ----------------------------------


def test_the_first_start_after_a_scheduled_send_records_itself_and_sends_nothing(
    settings: Settings, logs: LogBuffer
) -> None:
    # Seen: on a brand-new site with subscribers, the first `syndicate run` sent that week's
    # digest at once (trigger=startup late_seconds=123321).
    with Store(settings.database_url) as fresh:
        subscribe(fresh, 5, W14_AT)
        assert fresh.first_run() is None
        sender = RecordingSender()
        at = W14_AT + timedelta(minutes=2)  # Monday 08:02: the 08:00 send came before
        service = make_service(settings, fresh, FakeLease(), sender, start_at=at)
        runner = threading.Thread(target=lambda: setattr(service, "result", service.run()))
        runner.start()
        eventually(lambda: "digest.skipped" in logs.names() and runs_of(fresh, GATHER) == ["ok"])
        service.stop.set("SIGINT")
        runner.join(15)
        assert not runner.is_alive()
        first = fresh.first_run()
        assert first is not None and timedelta(0) <= first - at < timedelta(seconds=5)
        assert sender.copies == {} and fresh.send_status("weekly:2026-W13") is None
        skipped = next(e for e in logs.events() if e["event"] == "digest.skipped")
        assert skipped["command"] == "syndicate digest send --cadence weekly --period 2026-W13"
        assert "digest.due" not in logs.names()
        # A later start keeps the first one.
        assert fresh.record_first_run(at + timedelta(days=1)) == first
