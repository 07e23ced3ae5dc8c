"""The jobs of `syndicate run` with an injected clock, a real store (SQLite, and PostgreSQL
when configured) and a recording sender: what the ledger says is due is what goes out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
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

from syndicate.cli import main
from syndicate.config import Settings
from syndicate.models import DeliveryState
from syndicate.pipeline.send import STOPPED
from syndicate.service import jobs as jobs_module
from syndicate.store import Store

# Europe/Berlin, mon 08:00: the send of 2026-W13 (the week before) is scheduled at 06:00 UTC
# on 2026-03-30, Monday of 2026-W14, the day after the March change.
W14_AT = utc(2026, 3, 30, 6, 0)
W13 = "weekly:2026-W13"  # the edition it sends


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    write_articles(tmp_path, W14_AT - timedelta(days=1), 3)
    return site_settings(tmp_path, database_url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.database_url) as opened:
        yield opened


def gathered(settings: Settings, store: Store, now: datetime) -> None:
    run = make_jobs(settings, store, FakeClock(now), RecordingSender()).gather()
    assert run.outcome == "ok", run.detail


# --- gather ------------------------------------------------------------------------------


def test_gather_records_its_run_and_builds_the_feeds_when_something_changed(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    clock = FakeClock(W14_AT - timedelta(hours=5))
    jobs = make_jobs(settings, store, clock, RecordingSender())
    first = jobs.gather()
    assert first.outcome == "ok" and "3 new" in first.detail and "feeds:" in first.detail
    assert (tmp_path / "public" / "rss.xml").is_file()
    clock.advance(minutes=15)
    second = jobs.gather()
    assert second.outcome == "ok" and "3 unchanged" in second.detail
    assert "feeds:" not in second.detail  # nothing changed, nothing rebuilt
    write_articles(tmp_path, W14_AT, 1, prefix="Comet")
    clock.advance(minutes=15)
    assert "feeds:" in jobs.gather().detail
    runs = store.last_job_runs(10)
    assert [run.job for run in runs] == ["gather"] * 3
    assert runs[-1].started == W14_AT - timedelta(hours=5) and runs[0].instance == "test:1"
    last = store.last_success("gather")
    assert last is not None and last.started == clock.now


def test_a_failing_gather_is_an_outcome_and_a_log_line_not_an_exception(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(jobs_module, "gather", broken)
    jobs = make_jobs(settings, store, FakeClock(W14_AT), RecordingSender())
    with captured_logs() as logs:
        run = jobs.gather()
    assert run.outcome == "failed" and run.detail == "OSError: disk on fire"
    (event,) = [e for e in logs.events() if e["event"] == "gather.failed"]
    assert event["level"] == "error" and "disk on fire" in event["traceback"]
    assert store.last_success("gather") is None
    assert jobs.first_gather_done.is_set()


def test_a_bad_file_is_logged_and_the_run_still_succeeds(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    (tmp_path / "articles" / "empty.txt").write_bytes(b"")
    with captured_logs() as logs:
        run = make_jobs(settings, store, FakeClock(W14_AT), RecordingSender()).gather()
    assert run.outcome == "ok" and "1 failed" in run.detail
    assert any("empty.txt" in e.get("error", "") for e in logs.events())


# --- the digest --------------------------------------------------------------------------


def test_on_time_every_subscriber_gets_one_copy_and_a_second_fire_is_skipped(
    settings: Settings, store: Store
) -> None:
    gathered(settings, store, W14_AT - timedelta(hours=1))
    emails = subscribe(store, 5, W14_AT)
    sender = RecordingSender(max_batch=2)
    clock = FakeClock(W14_AT)
    jobs = make_jobs(settings, store, clock, sender)
    (run,) = jobs.digest("schedule")
    assert run.outcome == "ok" and W13 in run.detail
    assert sender.copies == {email: 1 for email in emails} and sender.batches == 3
    clock.advance(hours=1)  # the trigger fires again (a fold, a restart...)
    (again,) = jobs.digest("schedule")
    assert again.outcome == "skipped" and again.detail == f"{W13} finished already"
    assert sum(sender.copies.values()) == 5
    runs = store.last_job_runs(5)
    assert [(r.job, r.outcome) for r in runs] == [
        ("digest", "skipped"),
        ("digest", "ok"),
        ("gather", "ok"),
    ]


def test_a_missed_monday_goes_out_once_at_start_up_within_grace(
    settings: Settings, store: Store
) -> None:
    gathered(settings, store, W14_AT - timedelta(days=2))
    emails = subscribe(store, 3, W14_AT)
    sender = RecordingSender()
    tuesday = FakeClock(W14_AT + timedelta(days=1, hours=3))
    with captured_logs() as logs:
        (run,) = make_jobs(settings, store, tuesday, sender).digest("startup")
    assert run.outcome == "ok"
    due = next(e for e in logs.events() if e["event"] == "digest.due")
    assert due["week"] == W13 and due["late_seconds"] == 27 * 3600
    assert due["action"] == "send" and due["trigger"] == "startup"
    # Restarted again the same day: nothing due, nothing recorded.
    assert make_jobs(settings, store, tuesday, sender).digest("startup") == []
    assert sender.copies == {email: 1 for email in emails}
    assert len(store.last_job_runs(10)) == 2  # the gather and the send


def test_beyond_grace_a_missed_week_is_not_sent(settings: Settings, store: Store) -> None:
    gathered(settings, store, W14_AT - timedelta(days=2))
    subscribe(store, 2, W14_AT)
    sender = RecordingSender()
    thursday = FakeClock(W14_AT + timedelta(days=3))
    assert make_jobs(settings, store, thursday, sender).digest("startup") == []
    (run,) = make_jobs(settings, store, thursday, sender).digest("schedule")
    assert run.outcome == "skipped" and "more than digest.grace" in run.detail
    assert not sender.copies and store.get_edition(W13) is None


def test_no_new_articles_means_no_edition_and_a_skipped_run(
    tmp_path: Path, database_url: str
) -> None:
    settings = site_settings(tmp_path, database_url)
    with Store(database_url) as store:
        subscribe(store, 1, W14_AT)
        (run,) = make_jobs(settings, store, FakeClock(W14_AT), RecordingSender()).digest()
        assert run.outcome == "skipped" and "no new articles" in run.detail


def test_without_the_secret_key_the_send_fails_cleanly(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    gathered(settings, store, W14_AT - timedelta(hours=1))
    subscribe(store, 1, W14_AT)
    monkeypatch.delenv("SYNDICATE_SECRET_KEY")
    (run,) = make_jobs(settings, store, FakeClock(W14_AT), RecordingSender()).digest()
    assert run.outcome == "failed" and "SYNDICATE_SECRET_KEY is not set" in run.detail


def test_a_stop_between_batches_pauses_and_the_next_start_resumes(
    settings: Settings, store: Store
) -> None:
    gathered(settings, store, W14_AT - timedelta(hours=1))
    emails = subscribe(store, 5, W14_AT)
    stop = threading.Event()
    sender = RecordingSender(max_batch=2)
    sender.on_send = stop.set  # SIGTERM arrives while the first request is in flight
    clock = FakeClock(W14_AT)
    (run,) = make_jobs(settings, store, clock, sender, stop=stop.is_set).digest()
    assert run.outcome == "failed" and "resumes at the next start" in run.detail
    assert sum(sender.copies.values()) == 2  # the request in flight finished and counts
    counts = store.delivery_counts(W13)
    assert counts[DeliveryState.SENT.value] == 2 and counts[DeliveryState.PENDING.value] == 3
    status = store.send_status(W13)
    assert status is not None and status.paused_reason == STOPPED and status.finished_at is None
    # The next start: the half-sent edition resumes, however late.
    sender.on_send = None
    clock.advance(days=3)
    (resumed,) = make_jobs(settings, store, clock, sender).digest("startup")
    assert resumed.outcome == "ok"
    assert sender.copies == {email: 1 for email in emails}
    status = store.send_status(W13)
    assert status is not None and status.finished_at is not None and status.paused_reason is None


def test_the_autumn_fold_sends_once(tmp_path: Path, database_url: str) -> None:
    settings = site_settings(tmp_path, database_url, weekly="sun 02:30")
    first = utc(2026, 10, 25, 0, 30)  # 02:30 summer time; 02:30 winter time is an hour later
    write_articles(tmp_path, first - timedelta(days=7), 2)  # 2026-W42, which this sends
    with Store(database_url) as store:
        gathered(settings, store, first - timedelta(hours=2))
        emails = subscribe(store, 3, first)
        sender = RecordingSender()
        clock = FakeClock(first)
        jobs = make_jobs(settings, store, clock, sender)
        assert [run.outcome for run in jobs.digest()] == ["ok"]
        clock.advance(hours=1)
        assert [run.outcome for run in jobs.digest()] == ["skipped"]
        assert sender.copies == {email: 1 for email in emails}


def test_two_instances_firing_together_send_each_subscriber_once(
    settings: Settings, database_url: str
) -> None:
    with Store(database_url) as store:
        gathered(settings, store, W14_AT - timedelta(hours=1))
        emails = subscribe(store, 40, W14_AT)
    sender = RecordingSender(max_batch=3, delay=0.002)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def instance(name: str) -> None:
        with Store(database_url) as own:
            jobs = make_jobs(settings, own, FakeClock(W14_AT), sender, instance=name)
            start.wait()
            outcomes.extend(run.outcome for run in jobs.digest())

    threads = [threading.Thread(target=instance, args=(f"host{n}:1",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sender.copies == {email: 1 for email in emails}
    assert "ok" in outcomes
    with Store(database_url) as store:
        assert store.delivery_counts(W13)[DeliveryState.SENT.value] == 40


def test_the_start_up_check_waits_for_the_first_gather_but_not_forever(
    settings: Settings, store: Store
) -> None:
    gathered(settings, store, W14_AT - timedelta(hours=1))
    subscribe(store, 1, W14_AT)
    sender = RecordingSender()
    jobs = make_jobs(settings, store, FakeClock(W14_AT + timedelta(hours=1)), sender)
    with captured_logs() as logs:
        (run,) = jobs.digest_at_start(wait=0.3)  # no gather has run in this process
    assert run.outcome == "ok" and "digest.no_first_gather" in logs.names()
    stopped = threading.Event()
    stopped.set()
    idle = make_jobs(settings, store, FakeClock(W14_AT), sender, stop=stopped.is_set)
    assert idle.digest_at_start(wait=5) == []


def test_a_scheduled_post_reaches_the_feeds_at_the_first_gather_after_its_time(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    due = W14_AT + timedelta(hours=3)
    (tmp_path / "articles" / "later.md").write_text(
        f"---\ntitle: Scheduled comet\ndate: {due.isoformat()}\n---\n\nIt comes.\n",
        encoding="utf-8",
    )
    clock = FakeClock(W14_AT)
    jobs = make_jobs(settings, store, clock, RecordingSender())
    with captured_logs() as logs:
        first = jobs.gather()
    rss = tmp_path / "public" / "rss.xml"
    assert "4 new" in first.detail and "Scheduled comet" not in rss.read_text("utf-8")
    (event,) = [e for e in logs.events() if e["event"] == "gather.finished"]
    counts = {k: event[k] for k in ("new", "updated", "unchanged", "removed", "failed")}
    assert counts == {"new": 4, "updated": 0, "unchanged": 0, "removed": 0, "failed": 0}
    assert store.last_gather_counts() == counts  # what /metrics shows
    clock.advance(hours=2, minutes=59)
    assert "feeds:" not in jobs.gather().detail  # nothing changed, nothing came due
    clock.advance(minutes=2)
    again = jobs.gather()
    assert "0 new" in again.detail and "feeds:" in again.detail
    assert "Scheduled comet" in rss.read_text("utf-8")


# --- issue 10, item 5: a send scheduled before the first `syndicate run` ------------------


def test_a_first_start_at_0759_still_sends_at_0800(settings: Settings, store: Store) -> None:
    emails = subscribe(store, 3, W14_AT)
    sender = RecordingSender()
    start = W14_AT - timedelta(minutes=1)
    store.record_first_run(start)
    clock = FakeClock(start)
    jobs = make_jobs(settings, store, clock, sender)
    assert jobs.gather().outcome == "ok"
    assert jobs.digest("startup") == []  # nothing due yet
    clock.advance(minutes=1)
    (run,) = jobs.digest("schedule")
    assert run.outcome == "ok" and sender.copies == {email: 1 for email in emails}


def test_a_first_start_at_0802_sends_nothing_on_its_own(settings: Settings, store: Store) -> None:
    subscribe(store, 3, W14_AT)
    sender = RecordingSender()
    start = W14_AT + timedelta(minutes=2)
    store.record_first_run(start)
    clock = FakeClock(start)
    jobs = make_jobs(settings, store, clock, sender)
    assert jobs.gather().outcome == "ok"
    assert jobs.digest("startup") == []
    clock.advance(hours=1)
    (run,) = jobs.digest("schedule")  # a trigger firing again, a restart: still nothing
    assert run.outcome == "skipped" and "scheduled before the first start" in run.detail
    assert "syndicate digest send --cadence weekly --period 2026-W13" in run.detail
    assert sender.copies == {}
    # The next Monday goes out as scheduled.
    clock.now = W14_AT + timedelta(weeks=1)
    write_articles(Path(settings.root), W14_AT + timedelta(days=3), 1, prefix="Comet")
    assert jobs.gather().outcome == "ok"
    (next_week,) = jobs.digest("schedule")
    assert next_week.outcome == "ok" and "weekly:2026-W14" in next_week.detail


def test_status_says_how_to_send_what_the_first_start_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_DIGEST__TIMEZONE", "Europe/Berlin")
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    (site / "articles" / "night.txt").write_text(
        "A night out\n\nMarch 25, 2026\n\nClear skies.\n", encoding="utf-8"
    )
    config = str(site / "config" / "syndicate.toml")
    now = (W14_AT + timedelta(hours=3)).isoformat()

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", config, "--now", now, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    run("gather")
    with Store(f"sqlite:///{site / 'var' / 'syndicate.db'}") as store:
        store.record_first_run(W14_AT + timedelta(hours=2))
    out = run("status")
    assert "due now" not in out
    assert (
        "not sent on its own: weekly:2026-W13 was scheduled before the first `syndicate run`; "
        "to send it: syndicate digest send --cadence weekly --period 2026-W13"
    ) in out
