"""Issue 10, item 2: catch-up, grace and the DST rules hold for every cadence. An injected
clock moves minute by minute across both DST changes in Europe/Berlin and America/New_York,
with schedules inside the spring gap (fires once, just after it) and the autumn fold (fires
once, at its first occurrence); the APScheduler trigger fires at exactly those moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syndicate.config import CadenceTime, parse_schedule
from syndicate.digest.periods import parse_period
from syndicate.service.catchup import (
    SendState,
    digests_due,
    periods_to_check,
    scheduled_time,
)
from syndicate.service.triggers import DigestTrigger

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
GRACE = timedelta(days=2)
MINUTE = timedelta(minutes=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def when(cadence: str, text: str) -> CadenceTime:
    return parse_schedule(cadence, text)


# (zone, schedule, the DST change's day): Berlin changes on 2027-03-28 and 2026-10-25, New
# York on 2026-03-08 and 2026-11-01. 02:30 is in Berlin's gap and fold and New York's gap;
# 01:30 is in New York's fold.
SWEEPS = [
    (BERLIN, when("daily", "02:30"), utc(2027, 3, 28)),
    (BERLIN, when("daily", "02:30"), utc(2026, 10, 25)),
    (NEW_YORK, when("daily", "02:30"), utc(2026, 3, 8)),
    (NEW_YORK, when("daily", "01:30"), utc(2026, 11, 1)),
    (BERLIN, when("daily", "08:00"), utc(2027, 3, 28)),
    (NEW_YORK, when("daily", "08:00"), utc(2026, 11, 1)),
    (BERLIN, when("weekly", "sun 02:30"), utc(2027, 3, 28)),
    (BERLIN, when("weekly", "sun 02:30"), utc(2026, 10, 25)),
    (NEW_YORK, when("weekly", "sun 02:30"), utc(2026, 3, 8)),
    (NEW_YORK, when("weekly", "sun 01:30"), utc(2026, 11, 1)),
    (BERLIN, when("monthly", "28 02:30"), utc(2027, 3, 28)),
    (BERLIN, when("monthly", "25 02:30"), utc(2026, 10, 25)),
    (NEW_YORK, when("monthly", "8 02:30"), utc(2026, 3, 8)),
    (NEW_YORK, when("monthly", "1 01:30"), utc(2026, 11, 1)),
]


def trigger_fires(trigger: DigestTrigger, start: datetime, end: datetime) -> list[datetime]:
    """As APScheduler walks a trigger: the first fire from ``start``, then each next one."""
    found = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire.astimezone(UTC) < end:
        found.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return found


@pytest.mark.parametrize(("tz", "schedule", "change"), SWEEPS)
def test_minute_by_minute_across_a_dst_change_each_period_goes_out_once_on_time(
    tz: ZoneInfo, schedule: CadenceTime, change: datetime
) -> None:
    start, end = change - timedelta(days=1), change + timedelta(days=2)
    # What went out before the walk is finished: only the walk's own sends count.
    states = {p.key: SendState.FINISHED for p in periods_to_check(start, schedule, tz)}
    sent: dict[str, datetime] = {}
    now = start
    while now < end:
        for item in digests_due(now, schedule, tz, GRACE, states, first_run=start):
            assert item.action == "send" and item.week not in sent
            states[item.week] = SendState.FINISHED
            sent[item.week] = now
        now += MINUTE
    assert sent, "the change's own scheduled moment is inside the walk"
    for key, moment in sent.items():
        cadence, _, name = key.partition(":")
        assert cadence == schedule.cadence
        assert moment == scheduled_time(parse_period(schedule.cadence, name), schedule, tz)
    # The service's trigger fires at exactly those moments, once each.
    assert trigger_fires(DigestTrigger(schedule, tz), start, end) == sorted(sent.values())
    on_the_day = [m for m in sent.values() if m.astimezone(tz).date() == change.date()]
    (moment,) = on_the_day  # the change's day has its moment exactly once
    local = moment.astimezone(tz)
    in_the_gap = change.month == 3 and (schedule.hour, schedule.minute) == (2, 30)
    if in_the_gap:  # 02:30 does not exist: just after the gap, on the new offset
        assert (local.hour, local.minute) == (3, 30)
    else:  # the fold (or a time that exists once): its first occurrence
        assert (local.hour, local.minute, local.fold) == (schedule.hour, schedule.minute, 0)
        in_the_fold = change.month != 3 and schedule.hour < 8
        if in_the_fold:  # an hour later the clock reads the same again: no second send
            again = (moment + timedelta(hours=1)).astimezone(tz)
            assert (again.hour, again.minute, again.fold) == (local.hour, local.minute, 1)


def test_spring_gap_a_service_started_at_0329_sends_at_0330() -> None:
    # Seen: `digest.schedule = "sun 02:30"` in Europe/Berlin, a service started at 03:29 on
    # 2027-03-28 never sent that week: APScheduler's CronTrigger saw 02:30 as past, the
    # start-up check saw 01:30Z as not yet due.
    schedule = when("weekly", "sun 02:30")
    started = datetime(2027, 3, 28, 3, 29, tzinfo=BERLIN).astimezone(UTC)
    assert digests_due(started, schedule, BERLIN, GRACE, {}, first_run=started) == []
    fire = DigestTrigger(schedule, BERLIN).get_next_fire_time(None, started)
    assert fire is not None and fire.astimezone(UTC) == started + MINUTE
    (item,) = digests_due(fire, schedule, BERLIN, GRACE, {}, first_run=started)
    assert (item.week, item.action) == ("weekly:2027-W11", "send")  # the week before


@pytest.mark.parametrize(
    ("schedule", "period", "expected"),
    [
        (when("daily", "08:00"), "2026-11-22", utc(2026, 11, 23, 7)),
        (when("weekly", "mon 08:00"), "2026-W47", utc(2026, 11, 23, 7)),
        (when("monthly", "1 08:00"), "2026-11", utc(2026, 12, 1, 7)),
        (when("monthly", "15 08:00"), "2026-12", utc(2027, 1, 15, 7)),
    ],
)
def test_each_period_is_sent_in_the_period_after_it(
    schedule: CadenceTime, period: str, expected: datetime
) -> None:
    covered = parse_period(schedule.cadence, period)  # type: ignore[arg-type]
    assert scheduled_time(covered, schedule, BERLIN) == expected


def test_grace_and_resume_per_cadence() -> None:
    schedule = when("daily", "08:00")
    missed = utc(2026, 11, 23, 7) + timedelta(hours=5)  # down at 08:00, back at 13:00
    (item,) = digests_due(missed, schedule, BERLIN, timedelta(hours=6), {})
    assert (item.week, item.action) == ("daily:2026-11-22", "send")
    assert digests_due(missed, schedule, BERLIN, timedelta(hours=4), {}) == []
    half = {"daily:2026-11-21": SendState.STARTED, "daily:2026-11-22": SendState.FINISHED}
    (resumed,) = digests_due(missed, schedule, BERLIN, timedelta(0), half)
    assert (resumed.week, resumed.action) == ("daily:2026-11-21", "resume")


def test_schedules_read_from_settings_text() -> None:
    assert str(when("daily", " 8:05 ")) == "08:05"
    assert str(when("monthly", "1 08:00")) == "1 08:00"
    for cadence, bad in [("daily", "mon 08:00"), ("monthly", "29 08:00"), ("monthly", "0 8:00")]:
        with pytest.raises(ValueError, match=r"expected|1 to 28"):
            when(cadence, bad)
