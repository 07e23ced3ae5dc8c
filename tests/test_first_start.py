"""Issue 10, item 5: a send scheduled before the site's first `syndicate run` is never caught
up on its own; one scheduled after it goes out; `syndicate status` says how to send it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.service_support import (
    SECRET,
    FakeClock,
    RecordingSender,
    make_jobs,
    site_settings,
    subscribe,
    utc,
    write_articles,
)

from syndicate.cli import main
from syndicate.config import Settings
from syndicate.store import Store

W14_AT = utc(2026, 3, 30, 6, 0)  # Monday 08:00 in Berlin: the send of 2026-W13


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
