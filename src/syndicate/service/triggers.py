"""APScheduler triggers for the jobs (the next run times `syndicate status` shows: plan.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syndicate.config import CadenceTime, Settings
from syndicate.models import Cadence
from syndicate.service.catchup import next_scheduled

_TICK = timedelta(microseconds=1)


class DigestTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at each scheduled moment of one cadence, as ``catchup`` computes them: the
    trigger and the start-up check agree by construction. A wall time in the spring gap fires
    once, just after the gap; one in the autumn fold fires once, at its first occurrence."""

    def __init__(self, when: CadenceTime, tz: ZoneInfo) -> None:
        self.when, self.tz = when, tz

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = _utc(now) - _TICK if previous_fire_time is None else _utc(previous_fire_time)
        return next_scheduled(after, self.when, self.tz).astimezone(self.tz)

    def __str__(self) -> str:
        return f"digest[{self.when.cadence} {self.when} {self.tz.key}]"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


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


def digest_triggers(settings: Settings) -> dict[Cadence, DigestTrigger]:
    """One trigger per enabled cadence."""
    tz = settings.digest.zone
    return {c: DigestTrigger(settings.digest.schedule_of(c), tz) for c in settings.digest.cadences}


def gather_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(seconds=settings.schedule.gather_every.total_seconds(), timezone=UTC)


def bounces_trigger(settings: Settings) -> IntervalTrigger:
    return IntervalTrigger(seconds=settings.bounces.poll_every.total_seconds(), timezone=UTC)


def shifted(trigger: BaseTrigger, offset: timedelta) -> BaseTrigger:
    return trigger if not offset else ShiftedTrigger(trigger, offset)
