"""APScheduler triggers for the jobs (the next run times `syndicate status` shows: plan.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syndicate.config import Settings, WeeklyTime

_TICK = timedelta(microseconds=1)


class DigestTrigger(CronTrigger):  # type: ignore[misc]
    """A weekly CronTrigger that fires once at a wall time occurring twice (the autumn fold).

    CronTrigger fires at both occurrences of an ambiguous time; the second is skipped here.
    A wall time in the spring gap fires once, just after the gap (as CronTrigger does).
    """

    def __init__(self, when: WeeklyTime, tz: ZoneInfo) -> None:
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        super().__init__(
            day_of_week=days[when.weekday], hour=when.hour, minute=when.minute, timezone=tz
        )

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and _second_occurrence(fire):
            after = (fire.astimezone(UTC) + _TICK).astimezone(fire.tzinfo)
            fire = super().get_next_fire_time(None, after)
        # A wall time in the gap (02:30 on the spring change) as the real time it stands for
        # (03:30): such an object is never == to another zone's equal moment (PEP 495).
        return None if fire is None else fire.astimezone(UTC).astimezone(fire.tzinfo)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _second_occurrence(moment: datetime) -> bool:
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


class ShiftedTrigger(BaseTrigger):  # type: ignore[misc]
    """``inner`` seen from a clock running ``offset`` ahead of the real one.

    APScheduler fires by the real clock; `syndicate --now X run` runs the service on a clock
    that starts at X, so its triggers are computed in that time and moved back by the offset.
    """

    def __init__(self, inner: BaseTrigger, offset: timedelta) -> None:
        self.inner, self.offset = inner, offset

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # In UTC: adding to a zoned datetime moves its wall clock, not the moment.
        previous = None if previous_fire_time is None else _utc(previous_fire_time) + self.offset
        fire: datetime | None = self.inner.get_next_fire_time(previous, _utc(now) + self.offset)
        return None if fire is None else _utc(fire) - self.offset

    def __str__(self) -> str:
        return f"{self.inner} shifted by {self.offset}"


def digest_trigger(settings: Settings) -> DigestTrigger:
    return DigestTrigger(settings.digest.weekly_time, ZoneInfo(settings.digest.timezone))


def gather_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(seconds=settings.schedule.gather_every.total_seconds(), timezone=UTC)


def bounces_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(seconds=settings.bounces.poll_every.total_seconds(), timezone=UTC)


def shifted(trigger: BaseTrigger, offset: timedelta) -> BaseTrigger:
    return trigger if not offset else ShiftedTrigger(trigger, offset)
