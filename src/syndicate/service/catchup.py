"""What digest is due: a pure function of the clock, the schedule, the ledger and the first
start.

"The database is the truth, the scheduler is only a clock": whether an edition goes out is
decided here from the send state of the periods concerned, both when a cadence's trigger fires
and at start-up, so a missed, repeated or doubled trigger changes nothing. Each cadence is
decided on its own.

- The send that covers a period is scheduled once, in the period after it: ``CadenceTime`` on
  that day (daily), weekday (weekly) or day of the month (monthly), on the wall clock of the
  digest's time zone. A wall time that does not exist that day (the spring gap) is taken as
  the same offset from midnight in the old offset, so it falls just after the gap (02:30
  becomes 03:30); a wall time that exists twice (the autumn fold) is its first occurrence.
- The latest scheduled period not yet started is due if it is at most ``grace`` late and was
  not scheduled before the site's first `syndicate run` (that one is the operator's to send).
- A send that started and did not finish, in the latest two scheduled periods, is resumed.
- A finished send is never repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import Enum
from typing import Literal, cast
from zoneinfo import ZoneInfo

from syndicate.config import CadenceTime
from syndicate.digest.periods import Period, period_of, send_command
from syndicate.models import Cadence
from syndicate.store import SendStatus

RESUME_PERIODS = 2  # a half-sent edition of the latest two scheduled periods is finished


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
    period: Period
    scheduled: datetime  # the period's scheduled moment, in UTC
    action: Literal["send", "resume"]
    late: timedelta  # how long after the scheduled moment this was decided

    @property
    def week(self) -> str:
        """The edition key (the ledger's ``week``): ``weekly:2026-W47``."""
        return self.period.key


def cadence_of(when: CadenceTime) -> Cadence:
    return cast(Cadence, when.cadence)


def scheduled_time(period: Period, when: CadenceTime, tz: ZoneInfo) -> datetime:
    """The one moment (UTC) at which the send covering ``period`` is scheduled."""
    first = period.end
    if when.cadence == "weekly":
        day = first + timedelta(days=when.day)
    elif when.cadence == "monthly":
        day = first.replace(day=when.day)
    else:
        day = first
    # fold=0: in a gap this is the pre-transition offset (the time lands after the gap), in
    # a fold the first occurrence.
    local = datetime.combine(day, time(when.hour, when.minute), tzinfo=tz)
    return local.astimezone(UTC)


def last_scheduled(now: datetime, when: CadenceTime, tz: ZoneInfo, count: int) -> list[Period]:
    """The ``count`` latest periods whose send's scheduled moment is at or before ``now``,
    newest first."""
    period = period_of(now, cadence_of(when), tz).shift(-1)
    if scheduled_time(period, when, tz) > now:
        period = period.shift(-1)
    return [period.shift(-n) for n in range(count)]


def next_scheduled(now: datetime, when: CadenceTime, tz: ZoneInfo) -> datetime:
    """The first scheduled moment after ``now`` (UTC)."""
    latest = last_scheduled(now, when, tz, 1)[0]
    return scheduled_time(latest.shift(1), when, tz)


def periods_to_check(now: datetime, when: CadenceTime, tz: ZoneInfo) -> list[Period]:
    """The periods whose send state ``digests_due`` needs, newest first."""
    return last_scheduled(now, when, tz, RESUME_PERIODS)


def digests_due(
    now: datetime,
    when: CadenceTime,
    tz: ZoneInfo,
    grace: timedelta,
    states: Mapping[str, SendState],
    first_run: datetime | None = None,
) -> list[DueDigest]:
    """The sends to run now, oldest period first. ``states`` holds the keys of
    ``periods_to_check``; a key missing from it counts as not started. A send scheduled
    before ``first_run`` is never sent on its own (None: no first start is known)."""
    if now.tzinfo is None:
        raise ValueError(f"digests_due: now {now.isoformat()} has no time zone")
    due: list[DueDigest] = []
    periods = periods_to_check(now, when, tz)
    for position, period in reversed(list(enumerate(periods))):
        scheduled = scheduled_time(period, when, tz)
        late = now - scheduled
        state = states.get(period.key, SendState.NOT_STARTED)
        if state is SendState.STARTED:
            due.append(DueDigest(period, scheduled, "resume", late))
        elif (
            state is SendState.NOT_STARTED
            and position == 0
            and late <= grace
            and (first_run is None or scheduled >= first_run)
        ):
            due.append(DueDigest(period, scheduled, "send", late))
    return due


def skipped_before_first_run(
    now: datetime,
    when: CadenceTime,
    tz: ZoneInfo,
    states: Mapping[str, SendState],
    first_run: datetime | None,
) -> Period | None:
    """The latest scheduled period left unsent because it was scheduled before the first
    start (the operator may send it by hand), or None (None for ``first_run`` too, as in
    ``digests_due``)."""
    period = periods_to_check(now, when, tz)[0]
    if first_run is None or states.get(period.key, SendState.NOT_STARTED) is not (
        SendState.NOT_STARTED
    ):
        return None
    return period if scheduled_time(period, when, tz) < first_run else None


def describe_nothing_due(
    now: datetime,
    when: CadenceTime,
    tz: ZoneInfo,
    grace: timedelta,
    states: Mapping[str, SendState],
    first_run: datetime | None = None,
) -> str:
    """Why ``digests_due`` is empty, in one line for the log and the job record."""
    period = periods_to_check(now, when, tz)[0]
    state = states.get(period.key, SendState.NOT_STARTED)
    if state is not SendState.NOT_STARTED:
        return f"{period.key} {state.value} already"
    scheduled = scheduled_time(period, when, tz)
    if first_run is not None and scheduled < first_run:
        return (
            f"{period.key} was scheduled before the first start ({first_run.isoformat()}): "
            f"not sent on its own; {send_hint(period)}"
        )
    late = now - scheduled
    return f"{period.key} was due {_hours(late)} ago, more than digest.grace ({_hours(grace)})"


def send_hint(period: Period) -> str:
    return f"to send it: {send_command(period)}"


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"
