"""What goes into an edition: ISO-week arithmetic, the choice of articles, the subject line.

Pure functions; the store supplies the candidates and the clock supplies ``now``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicate.content import header_safe
from syndicate.models import Article

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
SUBJECT_FIELDS = ("site", "week", "count")


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week (``2026-W47``) that ``moment`` falls in, as seen in ``tz``.

    The year is the ISO year: 2026-12-31 is in 2026-W53, 2027-01-01 in 2026-W53 too.
    """
    if moment.tzinfo is None:
        raise ValueError(f"iso_week: {moment.isoformat()} has no time zone")
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year:04d}-W{week:02d}"


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


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The week's start (Monday 00:00 in ``tz``) and end (the next Monday 00:00), aware.

    The end is exclusive. Across a DST change the week is 167 or 169 hours long.
    """
    year, number = parse_week(week)
    monday = date.fromisocalendar(year, number, 1)
    return _local_midnight(monday, tz), _local_midnight(monday + timedelta(days=7), tz)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    # Through UTC and back: where midnight falls in a DST gap, the day starts at the
    # first wall time that exists.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def select_edition_articles(candidates: Sequence[Article], max_items: int) -> list[Article]:
    """The newest ``max_items`` candidates, newest first; equal times ordered by guid."""
    if max_items < 1:
        raise ValueError(f"max_items must be at least 1, got {max_items}")
    by_guid = sorted(candidates, key=lambda a: a.guid)
    return sorted(by_guid, key=_published_utc, reverse=True)[:max_items]


def _published_utc(article: Article) -> datetime:
    if article.published.tzinfo is None:
        raise ValueError(f"article {article.guid}: published time has no time zone")
    # Aware datetimes sharing one tzinfo compare by wall time; UTC makes them comparable.
    return article.published.astimezone(UTC)


def edition_subject(template: str, *, site: str, week: str, count: int) -> str:
    """The subject line from ``template`` ({site}, {week}, {count}), on one line."""
    _check_subject_template(template)
    try:
        subject = template.format(site=site, week=week, count=count)
    except (KeyError, IndexError, ValueError) as exc:  # e.g. "{count:x}" or "{count:{y}}"
        raise ValueError(f"digest subject {template!r}: cannot fill in: {exc}") from None
    return header_safe(subject)


def _check_subject_template(template: str) -> None:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"digest subject {template!r}: {exc}") from None
    unknown = sorted({f"{{{name}}}" for name in fields if name not in SUBJECT_FIELDS})
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in SUBJECT_FIELDS)
        raise ValueError(
            f"digest subject {template!r}: unknown placeholder {', '.join(unknown)}"
            f" (use {allowed}; write {{{{ and }}}} for literal braces)"
        )
