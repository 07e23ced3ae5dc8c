"""The [digest] section: cadences, their schedules, the edition's size and its subject."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from syndicate.config.section import Section
from syndicate.config.values import (
    CadenceTime,
    Duration,
    check_timezone,
    parse_schedule,
    within,
)
from syndicate.models import CADENCES, Cadence

DEFAULT_SUBJECT = "{top_title} + {more} more · {site}"
SCHEDULE_DEPRECATED = (
    "digest.schedule is deprecated: it is read as digest.weekly; rename the key to 'weekly'"
)


class DigestSettings(Section):
    cadences: tuple[Cadence, ...] = Field(
        ("weekly",),
        description="The cadences readers may choose, among daily, weekly and monthly; each "
        "has its own editions (one per day, ISO week or month) and schedule.",
    )
    default_cadence: Cadence = Field(
        "weekly",
        description="The cadence of a new subscriber who chose none; one of digest.cadences "
        "(without it: weekly if enabled, else the first one).",
    )
    daily: str = Field(
        "08:00",
        description="When the daily edition goes out ('HH:MM'): it holds the day before.",
    )
    weekly: str = Field(
        "mon 08:00",
        description="When the weekly edition goes out ('DAY HH:MM'): it holds the ISO week "
        "(Monday to Sunday) before the one it goes out in.",
    )
    monthly: str = Field(
        "1 08:00",
        description="When the monthly edition goes out ('DAY HH:MM', DAY 1–28): it holds the "
        "month before.",
    )
    schedule: str = Field(
        "",
        description="Deprecated: the old name of digest.weekly, read as it with a notice.",
    )
    timezone: str = Field(
        "UTC",
        description="Time zone of the schedules and of the days, weeks and months that "
        "editions cover.",
    )
    grace: Duration = Field(
        timedelta(days=2),
        description="`syndicate run` sends a digest missed while it was down at start-up, if "
        "it is at most this late ('2d', '6h'; '0s' = never late; under 7 days).",
    )
    max_items: int = Field(
        20,
        gt=0,
        le=500,
        description="Most headlines in one edition; the rest are counted ('and 12 more on "
        "the site').",
    )
    subject: str = Field(
        DEFAULT_SUBJECT,
        description="Subject line, made for each reader's variant: {top_title}, {more}, "
        "{count}, {site}, {period}, {label}, {cadence} and {week} are filled in (see "
        "docs/templates.md).",
    )

    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v))
    _grace = field_validator("grace")(within(timedelta(0), timedelta(days=7)))

    @model_validator(mode="before")
    @classmethod
    def _implied(cls, data: Any) -> Any:
        """The old ``schedule`` key stands for ``weekly`` unless that is given too; without a
        default_cadence, a list of cadences without weekly defaults to its first."""
        if not isinstance(data, dict):
            return data
        if data.get("schedule") and "weekly" not in data:
            data = {**data, "weekly": data["schedule"]}
        cadences = data.get("cadences")
        if isinstance(cadences, list | tuple) and cadences and "default_cadence" not in data:
            names = [str(c).strip().lower() for c in cadences]
            data = {**data, "default_cadence": "weekly" if "weekly" in names else names[0]}
        return data

    @field_validator("daily", "weekly", "monthly", "schedule")
    @classmethod
    def _schedules(cls, value: str, info: Any) -> str:
        if info.field_name == "schedule":
            return str(parse_schedule("weekly", value)) if value else ""
        return str(parse_schedule(info.field_name, value))

    @field_validator("cadences", mode="before")
    @classmethod
    def _cadences(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"name at least one of {', '.join(CADENCES)}")
            return tuple(dict.fromkeys(str(v).strip().lower() for v in value))
        return value

    @model_validator(mode="after")
    def _default_enabled(self) -> DigestSettings:
        if self.default_cadence not in self.cadences:
            message = (
                f"digest.default_cadence: {self.default_cadence!r} is not one of "
                f"digest.cadences ({', '.join(self.cadences)})"
            )
            raise PydanticCustomError("setting", "{message}", {"message": message})
        return self

    def schedule_of(self, cadence: Cadence) -> CadenceTime:
        """When ``cadence``'s edition goes out."""
        return self.schedules[cadence]

    @cached_property
    def schedules(self) -> dict[Cadence, CadenceTime]:
        return {cadence: parse_schedule(cadence, getattr(self, cadence)) for cadence in CADENCES}

    @cached_property
    def zone(self) -> ZoneInfo:
        """The zone of the schedules and of the periods editions cover."""
        return ZoneInfo(self.timezone)

    @property
    def notices(self) -> list[str]:
        """One line per deprecated key in use, for the commands to print."""
        return [SCHEDULE_DEPRECATED] if self.schedule else []
