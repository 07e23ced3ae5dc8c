"""What digest is due: a pure function of the clock, the schedule and the ledger.

"The database is the truth, the scheduler is only a clock": whether a week's digest goes
out is decided here from the send state of the weeks concerned, both when the weekly trigger
fires and at start-up, so a missed, repeated or doubled trigger changes nothing.

- Each ISO week has exactly one scheduled moment: ``WeeklyTime`` on that week's day, on the
  wall clock of the digest's time zone. A wall time that does not exist that day (the spring
  gap) is taken as the same offset from midnight in the old offset, so it falls just after
  the gap (02:30 becomes 03:30); a wall time that exists twice (the autumn fold) is its first
  occurrence.
- The latest scheduled week not yet started is due if it is at most ``grace`` late.
- A send that started and did not finish, in the latest two scheduled weeks, is resumed.
- A finished send is never repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Literal
from zoneinfo import ZoneInfo

from syndicate.config import WeeklyTime
from syndicate.digest.select import iso_week, parse_week
from syndicate.store import SendStatus

RESUME_WEEKS = 2  # a half-sent edition of the latest two scheduled weeks is finished


class SendState(Enum):
    NOT_STARTED = "not started"
    STARTED = "started"  # recipients frozen, not finished: paused, stopped or crashed
    FINISHED = "finished"


def send_state(status: SendStatus | None) -> SendState:
    if status is None:
        return SendState.NOT_STARTED
    return SendState.FINISHED if status.finished_at is not None else SendState.STARTED


@dataclass(frozen=True, slots=True)
class DueDigest:
    week: str
    scheduled: datetime  # the week's scheduled moment, in UTC
    action: Literal["send", "resume"]
    late: timedelta  # how long after the scheduled moment this was decided


def shift_week(week: str, weeks: int) -> str:
    year, number = parse_week(week)
    monday = date.fromisocalendar(year, number, 1) + timedelta(weeks=weeks)
    shifted_year, shifted, _ = monday.isocalendar()
    return f"{shifted_year:04d}-W{shifted:02d}"


def scheduled_time(week: str, when: WeeklyTime, tz: ZoneInfo) -> datetime:
    """The one moment (UTC) at which ``week``'s digest is scheduled."""
    year, number = parse_week(week)
    day = date.fromisocalendar(year, number, when.weekday + 1)
    # fold=0: in a gap this is the pre-transition offset (the time lands after the gap), in
    # a fold the first occurrence.
    local = datetime.combine(day, time(when.hour, when.minute), tzinfo=tz)
    return local.astimezone(UTC)


def last_scheduled(now: datetime, when: WeeklyTime, tz: ZoneInfo, count: int) -> list[str]:
    """The ``count`` latest weeks whose scheduled moment is at or before ``now``, newest
    first."""
    week = iso_week(now, tz)
    if scheduled_time(week, when, tz) > now:
        week = shift_week(week, -1)
    return [shift_week(week, -n) for n in range(count)]


def next_scheduled(now: datetime, when: WeeklyTime, tz: ZoneInfo) -> datetime:
    """The first scheduled moment after ``now`` (UTC)."""
    latest = last_scheduled(now, when, tz, 1)[0]
    return scheduled_time(shift_week(latest, 1), when, tz)


def weeks_to_check(now: datetime, when: WeeklyTime, tz: ZoneInfo) -> list[str]:
    """The weeks whose send state ``digests_due`` needs, newest first."""
    return last_scheduled(now, when, tz, RESUME_WEEKS)


def digests_due(
    now: datetime,
    when: WeeklyTime,
    tz: ZoneInfo,
    grace: timedelta,
    states: Mapping[str, SendState],
) -> list[DueDigest]:
    """The sends to run now, oldest week first. ``states`` holds the weeks of
    ``weeks_to_check``; a week missing from it counts as not started."""
    if now.tzinfo is None:
        raise ValueError(f"digests_due: now {now.isoformat()} has no time zone")
    due: list[DueDigest] = []
    weeks = weeks_to_check(now, when, tz)
    for position, week in reversed(list(enumerate(weeks))):
        scheduled = scheduled_time(week, when, tz)
        late = now - scheduled
        state = states.get(week, SendState.NOT_STARTED)
        if state is SendState.STARTED:
            due.append(DueDigest(week, scheduled, "resume", late))
        elif state is SendState.NOT_STARTED and position == 0 and late <= grace:
            due.append(DueDigest(week, scheduled, "send", late))
    return due


def describe_nothing_due(
    now: datetime, when: WeeklyTime, tz: ZoneInfo, grace: timedelta, states: Mapping[str, SendState]
) -> str:
    """Why ``digests_due`` is empty, in one line for the log and the job record."""
    week = weeks_to_check(now, when, tz)[0]
    state = states.get(week, SendState.NOT_STARTED)
    if state is SendState.NOT_STARTED:
        late = now - scheduled_time(week, when, tz)
        return f"{week} was due {_hours(late)} ago, more than digest.grace ({_hours(grace)})"
    return f"{week} {state.value} already"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
