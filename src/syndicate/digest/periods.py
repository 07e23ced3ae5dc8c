"""Cadences and their periods: calendar days, ISO weeks and months in the digest's time zone.

An edition is one period of one cadence; its key names both (``weekly:2026-W47``,
``daily:2026-11-23``, ``monthly:2026-11``). Pure functions, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicate.models import CADENCES, Cadence

KEY_SEPARATOR = ":"

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_EXAMPLES = {"daily": "2026-11-23", "weekly": "2026-W47", "monthly": "2026-11"}
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_cadence(text: str) -> Cadence:
    """``text`` as a cadence, or ValueError naming the allowed ones."""
    value = text.strip().lower()
    if value not in CADENCES:
        raise ValueError(f"cadence {text!r}: expected one of {', '.join(CADENCES)}")
    return value  # narrowed by the membership test above


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One calendar period of a cadence: ``first`` is its first day (a Monday for a week, the
    1st for a month)."""

    cadence: Cadence
    first: date

    @property
    def name(self) -> str:
        """``2026-W47``, ``2026-11-23`` or ``2026-11``."""
        if self.cadence == "weekly":
            year, week, _ = self.first.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if self.cadence == "daily":
            return self.first.isoformat()
        return f"{self.first.year:04d}-{self.first.month:02d}"

    @property
    def key(self) -> str:
        """The edition key: ``weekly:2026-W47``."""
        return f"{self.cadence}{KEY_SEPARATOR}{self.name}"

    @property
    def slug(self) -> str:
        """``weekly-2026-W47``: the editor's note file and other names without a colon."""
        return f"{self.cadence}-{self.name}"

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.shift(1).first

    def shift(self, count: int) -> Period:
        if self.cadence == "daily":
            return Period("daily", self.first + timedelta(days=count))
        if self.cadence == "weekly":
            return Period("weekly", self.first + timedelta(weeks=count))
        months = self.first.year * 12 + self.first.month - 1 + count
        return Period("monthly", date(months // 12, months % 12 + 1, 1))

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """Start (midnight of the first day in ``tz``) and end (exclusive), aware."""
        return local_midnight(self.first, tz), local_midnight(self.end, tz)

    @property
    def label(self) -> str:
        """``Week 47 · November 16 – 22, 2026``, ``Monday, November 23, 2026`` or
        ``November 2026``."""
        if self.cadence == "daily":
            return f"{_WEEKDAYS[self.first.weekday()]}, {format_date(self.first)}"
        if self.cadence == "monthly":
            return f"{_MONTHS[self.first.month - 1]} {self.first.year}"
        return f"Week {self.first.isocalendar().week} · {_span(self.first, self.end)}"

    @property
    def phrase(self) -> str:
        """How an intro names it: ``in week 47``, ``on November 23``, ``in November 2026``."""
        if self.cadence == "daily":
            return f"on {_MONTHS[self.first.month - 1]} {self.first.day}"
        if self.cadence == "monthly":
            return f"in {self.label}"
        return f"in week {self.first.isocalendar().week}"


def _span(first: date, end: date) -> str:
    last = end - timedelta(days=1)
    if first.year != last.year:
        return f"{format_date(first)} – {format_date(last)}"
    if first.month != last.month:
        return f"{_MONTHS[first.month - 1]} {first.day} – {format_date(last)}"
    return f"{_MONTHS[first.month - 1]} {first.day} – {last.day}, {last.year}"


def send_command(period: Period) -> str:
    """The command that sends (or resumes) this period's edition by hand."""
    return f"syndicate digest send --cadence {period.cadence} --period {period.name}"


def format_date(day: date) -> str:
    """``November 15, 2025``; English month names whatever the process locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # Through UTC and back: where midnight falls in a DST gap, the day starts at the
    # first wall time that exists.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def period_of(moment: datetime, cadence: Cadence, tz: ZoneInfo) -> Period:
    """The period of ``cadence`` that ``moment`` falls in, as seen in ``tz``."""
    if moment.tzinfo is None:
        raise ValueError(f"period_of: {moment.isoformat()} has no time zone")
    day = moment.astimezone(tz).date()
    if cadence == "weekly":
        return Period("weekly", day - timedelta(days=day.weekday()))
    if cadence == "monthly":
        return Period("monthly", day.replace(day=1))
    return Period("daily", day)


def parse_period(cadence: Cadence, text: str) -> Period:
    """``parse_period("weekly", "2026-W47")``; ValueError saying what is wrong otherwise."""
    value = text.strip()
    if cadence == "weekly":
        return Period("weekly", _parse_week(value))  # its message names the week
    try:
        if cadence == "daily" and (day := _DAY.fullmatch(value)):
            return Period("daily", date(int(day[1]), int(day[2]), int(day[3])))
        if cadence == "monthly" and (month := _MONTH.fullmatch(value)):
            return Period("monthly", date(int(month[1]), int(month[2]), 1))
    except ValueError as exc:
        raise ValueError(f"{cadence} period {text!r}: {exc}") from None
    raise ValueError(f"{cadence} period {text!r}: expected a period like {_EXAMPLES[cadence]}")


def _parse_week(text: str) -> date:
    year, week = parse_week(text)
    return date.fromisocalendar(year, week, 1)


def weeks_in_year(year: int) -> int:
    """52 or 53: December 28th is always in the ISO year's last week."""
    return date(year, 12, 28).isocalendar().week


def parse_week(text: str) -> tuple[int, int]:
    """``"2026-W47"`` → ``(2026, 47)``; ValueError saying what is wrong otherwise."""
    match = _WEEK.fullmatch(text)
    if match is None:
        raise ValueError(f"week {text!r}: expected an ISO week like 2026-W47")
    year, week = int(match[1]), int(match[2])
    if year < 1 or year > 9998:  # 9998: the end of its last week must still be a date
        raise ValueError(f"week {text!r}: year must be between 0001 and 9998")
    last = weeks_in_year(year)
    if not 1 <= week <= last:
        raise ValueError(f"week {text!r}: {year} has weeks 01 to {last:02d}")
    return year, week


def parse_key(key: str) -> Period:
    """An edition key (``weekly:2026-W47``); a bare ISO week is a weekly one (as stored
    before cadences, and as the custom_args of mails sent then carry it)."""
    cadence, sep, name = key.partition(KEY_SEPARATOR)
    if not sep:
        return parse_period("weekly", key)
    return parse_period(check_cadence(cadence), name)


def parse_slug(slug: str) -> Period:
    """An archive slug or a period on its own: ``2026-W47`` (a week, as the archive has
    always named them), ``daily-2026-11-23``, ``monthly-2026-11``; a bare ``2026-11-23`` is
    a day and ``2026-11`` a month."""
    cadence, sep, name = slug.partition("-")
    if sep and cadence in CADENCES:
        return parse_period(check_cadence(cadence), name)
    if _DAY.fullmatch(slug.strip()):
        return parse_period("daily", slug)
    if _MONTH.fullmatch(slug.strip()):
        return parse_period("monthly", slug)
    return parse_period("weekly", slug)


def archive_slug(period: Period) -> str:
    """The archive's name of a period: a week keeps its bare ISO week (old URLs stay)."""
    return period.name if period.cadence == "weekly" else period.slug
