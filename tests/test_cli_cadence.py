"""Issue 10 from the command line: cadences in the settings, `subscribers add --cadence`,
the CSV cadence column, `digest preview|send --cadence C --period P`, and the old
`digest.schedule` read as `weekly` with a one-line notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main

NOW = "2026-11-23T08:00:00+00:00"  # Monday 08:00
ARTICLE = "Meteors over the dam\n\nNovember 20, 2026\n\nForty meteors before the clouds.\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    (site / "articles" / "meteors.txt").write_text(ARTICLE, encoding="utf-8")
    config = site / "config" / "syndicate.toml"
    text = config.read_text().replace(
        'cadences = ["weekly"]', 'cadences = ["daily", "weekly", "monthly"]'
    )
    config.write_text(text)
    return site


def run(site: Path, *args: str) -> tuple[int, str, str]:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW, *args])
    return result.exit_code, result.stdout, result.stderr


def test_subscribers_have_a_cadence_from_add_and_the_csv(site: Path) -> None:
    assert run(site, "subscribers", "add", "day@example.org", "--cadence", "daily")[0] == 0
    assert run(site, "subscribers", "add", "week@example.org")[0] == 0
    people = site / "people.csv"
    people.write_text("email,cadence\nmonth@example.org,monthly\nbad@example.org,hourly\n")
    code, _, err = run(site, "subscribers", "import", str(people))
    assert code == 1 and "line 3: cadence 'hourly'" in err
    code, out, _ = run(site, "subscribers", "export")
    lines = sorted(out.splitlines()[1:])
    assert [line.split(",")[3] for line in lines] == ["daily", "monthly", "weekly"]


def test_a_disabled_cadence_is_refused_in_one_line(site: Path) -> None:
    config = site / "config" / "syndicate.toml"
    config.write_text(config.read_text().replace('"daily", "weekly", "monthly"', '"weekly"'))
    code, _, err = run(site, "subscribers", "add", "day@example.org", "--cadence", "daily")
    assert code == 2 and "daily is not in digest.cadences (weekly)" in err
    code, _, err = run(site, "digest", "preview", "--cadence", "daily")
    assert code == 1 and err.count("\n") == 1 and "not in digest.cadences" in err


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ((), "weekly:2026-W47"),
        (("--cadence", "daily", "--period", "2026-11-20"), "daily:2026-11-20"),
        (("--cadence", "monthly", "--period", "2026-11"), "monthly:2026-11"),
        (("--week", "2026-W47"), "weekly:2026-W47"),
    ],
)
def test_preview_and_dry_run_name_the_cadence_and_period(
    site: Path, args: tuple[str, ...], key: str
) -> None:
    assert run(site, "gather")[0] == 0
    code, out, _ = run(site, "digest", "preview", *args)
    assert code == 0 and f"digest {key}: 1 articles" in out
    assert "Meteors over the dam" in (site / "var" / "outbox" / "digest.txt").read_text()
    code, out, _ = run(site, "digest", "send", *args, "--dry-run")
    assert code == 0 and f"digest {key}: would send" in out


def test_the_old_schedule_key_is_read_as_weekly_with_a_notice(site: Path) -> None:
    config = site / "config" / "syndicate.toml"
    config.write_text(config.read_text().replace('weekly = "mon 08:00"', 'schedule = "sun 02:30"'))
    code, out, err = run(site, "status")
    assert code == 0 and "weekly sun 02:30" in out
    notices = [line for line in err.splitlines() if "digest.schedule" in line]
    assert notices == [
        "notice: digest.schedule is deprecated: it is read as digest.weekly; "
        "rename the key to 'weekly'"
    ]
