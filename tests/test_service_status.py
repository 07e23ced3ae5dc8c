"""`syndicate status`: the jobs' next run times from the settings and the clock, what the
service would catch up on at start, and the last runs with their outcome."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.service_support import utc

from syndicate.cli import main
from syndicate.store import JobRun, Store

W14_AT = utc(2026, 3, 30, 6, 0)  # mon 08:00 Europe/Berlin, the day after the March change


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    monkeypatch.setenv("SYNDICATE_DIGEST__TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("SYNDICATE_SCHEDULE__GATHER_EVERY", "15m")
    return site


def status(site: Path, now: str) -> str:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", now, "status"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_status_on_a_new_site_shows_the_schedule_and_no_runs(site: Path) -> None:
    out = status(site, "2026-03-28T12:00:00+00:00")
    assert "jobs of `syndicate run`:" in out
    assert "  gather  every 15m; next Sat 2026-03-28 13:00 CET (2026-03-28T12:00:00+00:00)" in out
    # The first Monday 08:00 after the change is summer time: 06:00 UTC.
    assert "  digest  weekly mon 08:00 Europe/Berlin; next Mon 2026-03-30 08:00 CEST" in out
    assert "(2026-03-30T06:00:00+00:00)" in out
    assert "due now" not in out and "last runs: none" in out


def test_status_shows_the_last_runs_and_a_missed_digest(site: Path) -> None:
    database = f"sqlite:///{site / 'var' / 'syndicate.db'}"
    gather_at = W14_AT + timedelta(hours=2)
    with Store(database) as store:
        store.record_first_run(W14_AT - timedelta(weeks=2))  # `syndicate run` ran before
        store.record_job_run(
            JobRun(
                "digest",
                W14_AT - timedelta(weeks=1),
                W14_AT - timedelta(weeks=1),
                "ok",
                "digest 2026-W13: 1 requests",
                "host:1",
            )
        )
        store.record_job_run(
            JobRun(
                "gather",
                gather_at,
                gather_at + timedelta(seconds=2),
                "failed",
                "OSError: disk on fire",
                "host:1",
            )
        )
        store.record_job_run(
            JobRun(
                "gather",
                gather_at - timedelta(minutes=15),
                gather_at,
                "ok",
                "3 new, 0 updated, 0 unchanged, 0 failed",
                "host:2",
            )
        )
    out = status(site, (W14_AT + timedelta(hours=3)).isoformat())
    # The last ok gather started at 07:45 UTC, every 15 minutes: overdue, so "now".
    assert "next Mon 2026-03-30 11:00 CEST (2026-03-30T09:00:00+00:00)" in out
    assert "due now: send weekly:2026-W13 (scheduled 3.0 h ago)" in out
    runs = out.split("last runs:\n", 1)[1].splitlines()
    assert runs[0].split()[1:4] == ["gather", "failed", "2.0s"] and "disk on fire" in runs[0]
    assert runs[1].split()[1:4] == ["gather", "ok", "900.0s"]
    assert runs[2].split()[1:3] == ["digest", "ok"] and runs[2].endswith("[host:1]")
