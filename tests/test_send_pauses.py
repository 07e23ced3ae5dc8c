"""Issue 10, "A transient outage loses the week": a send paused by failed requests is
retried by the service's jobs on its own, with capped backoff within digest.grace; one the
provider refused (401/403) stays paused for the operator. The real SendGrid client against
the loopback stand-in, which fails for a while; an injected clock; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.sendgrid_standin import Fault, SendGridStandIn
from tests.service_support import (
    SECRET,
    FakeClock,
    RecordingSender,
    captured_logs,
    make_jobs,
    site_settings,
    subscribe,
    utc,
    write_articles,
)

from syndicate.config import Settings
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.pipeline.pauses import next_retry, pause_problem
from syndicate.pipeline.send import send_edition
from syndicate.service.jobs import JobEnv, Jobs
from syndicate.service.logs import EventLog
from syndicate.store import SendStatus, Store

W14_AT = utc(2026, 3, 30, 6, 0)  # mon 08:00 Europe/Berlin
WEEK = "2026-W13"  # what the Monday of W14 sends: the week that just ended
KEY = f"weekly:{WEEK}"  # its key in the ledger
API_KEY = "SG.pause-key"
FAILED_REQUEST = [Fault.status(500)] * 2  # one request: a try and its one retry
PAUSES_AFTER = 5  # delivery.max_consecutive_failures, the default


@pytest.fixture
def settings(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The scheduler tests' site: three articles of the day before the W14 Monday."""
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    write_articles(tmp_path, W14_AT - timedelta(days=1), 3)
    return site_settings(tmp_path, database_url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.database_url) as opened:
        make_jobs(
            settings, opened, FakeClock(W14_AT - timedelta(hours=1)), RecordingSender()
        ).gather()
        yield opened


@pytest.fixture
def standin() -> Iterator[SendGridStandIn]:
    with SendGridStandIn(API_KEY) as running:
        yield running


def sendgrid_jobs(
    settings: Settings, store: Store, clock: FakeClock, standin: SendGridStandIn
) -> Jobs:
    def sender() -> SendGridSender:
        return SendGridSender(
            API_KEY, base_url=standin.base_url, timeout=30, max_retries=1, sleep=lambda _: None
        )

    env = JobEnv(settings, store, clock, sender, "test:1", lambda: False, EventLog("test"))
    return Jobs(env)


def status_of(store: Store) -> SendStatus:
    status = store.send_status(KEY)
    assert status is not None
    return status


def test_an_outage_at_digest_time_is_retried_after_5_then_15_minutes_and_the_week_goes_out(
    settings: Settings, store: Store, standin: SendGridStandIn
) -> None:
    readers = subscribe(store, 3, W14_AT)
    clock = FakeClock(W14_AT)
    jobs = sendgrid_jobs(settings, store, clock, standin)
    standin.inject(*FAILED_REQUEST * PAUSES_AFTER)
    (first,) = jobs.digest()
    assert first.outcome == "failed" and "5 failed requests in a row" in first.detail
    paused = status_of(store)
    assert paused.pause_kind == "failures" and paused.paused_at == W14_AT
    problem = pause_problem(settings, KEY, paused)
    assert problem is not None
    assert f"retries it at {(W14_AT + timedelta(minutes=5)).isoformat()} (retry 1)" in problem

    clock.now = W14_AT + timedelta(minutes=4, seconds=59)
    asked = standin.requests
    assert jobs.retry_paused() == [] and standin.requests == asked

    clock.now = W14_AT + timedelta(minutes=5)
    standin.inject(*FAILED_REQUEST * PAUSES_AFTER)  # still down
    with captured_logs() as logs:
        (second,) = jobs.retry_paused()
    assert second.outcome == "failed" and not standin.copies
    assert any(e["event"] == "digest.retry" and e["retry"] == 1 for e in logs.events())
    again = status_of(store)
    assert again.retries == 1 and again.paused_at == clock.now

    clock.advance(minutes=14)
    assert jobs.retry_paused() == []
    clock.advance(minutes=1)  # 15 minutes after the second pause; the provider is back
    (third,) = jobs.retry_paused()
    assert third.outcome == "ok"
    assert dict(standin.copies) == {email: 1 for email in readers}
    done = status_of(store)
    assert done.finished_at is not None and pause_problem(settings, KEY, done) is None
    clock.advance(hours=2)
    assert jobs.retry_paused() == []


def test_a_refused_api_key_stays_paused_until_the_operator_sends(
    settings: Settings, store: Store, standin: SendGridStandIn
) -> None:
    readers = subscribe(store, 2, W14_AT)
    clock = FakeClock(W14_AT)
    jobs = sendgrid_jobs(settings, store, clock, standin)
    standin.inject(Fault.status(401))
    (run,) = jobs.digest()
    assert run.outcome == "failed" and "401" in run.detail
    paused = status_of(store)
    assert paused.pause_kind == "refused" and next_retry(settings, paused) is None
    for hours in (1, 6, 30):
        clock.now = W14_AT + timedelta(hours=hours)
        assert jobs.retry_paused() == []
    (scheduled,) = jobs.digest()  # the weekly trigger: it does not resume a refused send
    assert scheduled.outcome == "skipped" and not standin.copies
    assert status_of(store).pause_kind == "refused"
    problem = pause_problem(settings, KEY, paused)
    assert problem is not None and "until the operator" in problem
    assert f"digest send --cadence weekly --period {WEEK}" in problem
    sender = SendGridSender(API_KEY, base_url=standin.base_url, max_retries=0)
    report = send_edition(settings, store, sender, WEEK, clock=clock)  # the operator acts
    assert report.paused is None and dict(standin.copies) == {e: 1 for e in readers}


def _paused(after: timedelta, retries: int) -> SendStatus:
    return SendStatus(KEY, W14_AT, None, "down", "failures", W14_AT + after, retries)


def test_the_backoff_is_5_then_15_minutes_then_hourly_and_ends_with_the_grace(
    settings: Settings,
) -> None:
    assert settings.digest.grace == timedelta(days=2)
    waits = [next_retry(settings, _paused(timedelta(0), n)) for n in range(5)]
    assert [w - W14_AT for w in waits if w] == [
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
        timedelta(hours=1),
        timedelta(hours=1),
    ]
    near_the_end = timedelta(days=2) - timedelta(minutes=30)
    assert next_retry(settings, _paused(near_the_end, 6)) is None  # an hour would be too late
    problem = pause_problem(settings, KEY, _paused(near_the_end, 6))
    assert problem is not None and "no more retries on its own" in problem
    never = settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update={"retry_paused": []})}
    )
    assert next_retry(never, _paused(timedelta(0), 0)) is None


def test_the_service_checks_for_paused_sends_every_minute(settings: Settings, store: Store) -> None:
    from syndicate.service.lease import make_lease
    from syndicate.service.runner import RETRY_DIGEST, Service, ServiceClock
    from syndicate.service.signals import StopFlag

    lease = make_lease(settings.database_url, "test:1")
    service = Service(
        settings,
        store,
        lease,
        clock=ServiceClock(W14_AT),
        sender_factory=RecordingSender,
        instance="test:1",
        stop=StopFlag(),
        log=EventLog("test"),
    )
    try:
        job = service.scheduler.get_job(RETRY_DIGEST)
        assert job is not None and job.trigger.interval == timedelta(minutes=1)
        assert job.args[1] == service.jobs.retry_paused
    finally:
        lease.release()
