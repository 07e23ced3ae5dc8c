"""The APScheduler triggers, walked the way APScheduler walks them, across the DST dates:
the digest trigger fires once a week, at the moment catchup.scheduled_time names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syndicate.config import CadenceTime, Settings
from syndicate.digest.periods import period_of
from syndicate.digest.select import iso_week
from syndicate.service.catchup import scheduled_time
from syndicate.service.plan import planned_runs
from syndicate.service.triggers import (
    DigestTrigger,
    ShiftedTrigger,
    digest_triggers,
    gather_trigger,
    shifted,
)
from syndicate.store import JobRun

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
RUN_TAKES = timedelta(seconds=1)  # APScheduler asks for the next time just after a run


def WeeklyTime(day: int, hour: int, minute: int) -> CadenceTime:
    return CadenceTime("weekly", day, hour, minute)


def digest_trigger(settings: Settings) -> DigestTrigger:
    return digest_triggers(settings)["weekly"]


def fires(trigger: DigestTrigger | ShiftedTrigger, start: datetime, count: int) -> list[datetime]:
    """What APScheduler does: the first fire time from ``start``, then each next one from the
    previous fire time, asked a moment after that fire. In UTC: a local time in a fold is
    never == to the same moment in another zone (PEP 495)."""
    found: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and len(found) < count:
        found.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire + RUN_TAKES)
    return found


CASES = [
    (BERLIN, WeeklyTime(6, 2, 30)),  # gap on 2026-03-29, fold on 2026-10-25
    (BERLIN, WeeklyTime(0, 8, 0)),
    (NEW_YORK, WeeklyTime(6, 2, 30)),  # gap on 2026-03-08
    (NEW_YORK, WeeklyTime(6, 1, 30)),  # fold on 2026-11-01
    (NEW_YORK, WeeklyTime(0, 8, 0)),
]


@pytest.mark.parametrize(("tz", "when"), CASES)
def test_a_year_of_fires_is_one_per_week_at_the_scheduled_moment(
    tz: ZoneInfo, when: CadenceTime
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found = fires(DigestTrigger(when, tz), start, 53)
    covered = period_of(found[0], "weekly", tz).shift(-1)  # each send covers the week before
    expected = [scheduled_time(covered.shift(n), when, tz) for n in range(53)]
    assert found == expected
    assert len({iso_week(moment, tz) for moment in found}) == 53


@pytest.mark.parametrize(
    ("tz", "when", "first", "then"),
    [
        # Autumn fold: the first 02:30 (summer time) fires; the second does not.
        (BERLIN, WeeklyTime(6, 2, 30), datetime(2026, 10, 25, 0, 30), datetime(2026, 11, 1, 1, 30)),
        (
            NEW_YORK,
            WeeklyTime(6, 1, 30),
            datetime(2026, 11, 1, 5, 30),
            datetime(2026, 11, 8, 6, 30),
        ),
        # Spring gap: 02:30 does not exist; it fires once, at 03:30 summer time.
        (BERLIN, WeeklyTime(6, 2, 30), datetime(2026, 3, 29, 1, 30), datetime(2026, 4, 5, 0, 30)),
        (NEW_YORK, WeeklyTime(6, 2, 30), datetime(2026, 3, 8, 7, 30), datetime(2026, 3, 15, 6, 30)),
    ],
)
def test_dst_changes_fire_once(
    tz: ZoneInfo, when: CadenceTime, first: datetime, then: datetime
) -> None:
    trigger = DigestTrigger(when, tz)
    start = first.replace(tzinfo=UTC) - timedelta(hours=6)
    assert fires(trigger, start, 2) == [first.replace(tzinfo=UTC), then.replace(tzinfo=UTC)]


def test_started_inside_the_fold_after_the_first_occurrence_waits_a_week() -> None:
    # 02:45 summer time on 2026-10-25: the 02:30 of this week has passed (its digest is the
    # start-up check's business); the repeated 02:30 an hour later must not fire.
    trigger = DigestTrigger(WeeklyTime(6, 2, 30), BERLIN)
    inside = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, inside)
    assert fire.astimezone(UTC) == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_a_shifted_trigger_fires_by_the_real_clock_at_the_shifted_moments() -> None:
    offset = timedelta(days=3, hours=5, seconds=7)
    inner = DigestTrigger(WeeklyTime(0, 8, 0), NEW_YORK)
    real_start = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)
    real_fires = fires(ShiftedTrigger(inner, offset), real_start, 3)
    assert [fire + offset for fire in real_fires] == fires(inner, real_start + offset, 3)
    assert shifted(inner, timedelta(0)) is inner


def settings_for(tmp_path: Path, **digest: str) -> Settings:
    return Settings.model_validate(
        {"digest": digest, "schedule": {"gather_every": "15m"}, "root": tmp_path}
    )


def test_triggers_come_from_the_settings(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, weekly="Sunday 2:30", timezone="Europe/Berlin")
    now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    fire = digest_trigger(settings).get_next_fire_time(None, now)
    assert fire.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    gather = gather_trigger(settings)
    assert gather.get_next_fire_time(now, now + RUN_TAKES) == now + timedelta(minutes=15)


def test_planned_runs_for_status(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, weekly="mon 08:00", timezone="America/New_York")
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert planned_runs(settings, now, None) == {
        "gather": now,
        "digest": datetime(2026, 11, 2, 13, 0, tzinfo=UTC),
        "digest:weekly": datetime(2026, 11, 2, 13, 0, tzinfo=UTC),
    }
    recent = JobRun("gather", now - timedelta(minutes=5), now - timedelta(minutes=4), "ok")
    assert planned_runs(settings, now, recent)["gather"] == now + timedelta(minutes=10)
    old = JobRun("gather", now - timedelta(hours=5), now - timedelta(hours=5), "ok")
    assert planned_runs(settings, now, old)["gather"] == now
