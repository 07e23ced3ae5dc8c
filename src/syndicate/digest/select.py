"""What goes into an edition: ISO-week arithmetic, the choice of articles, the subject line
(made for each variant: its own count and top headline).

Pure functions; the store supplies the candidates and the clock supplies ``now``.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from syndicate.content import header_safe
from syndicate.digest.periods import local_midnight
from syndicate.digest.periods import parse_week as parse_week  # where it has always been
from syndicate.digest.periods import weeks_in_year as weeks_in_year
from syndicate.models import Article

SUBJECT_FIELDS = ("site", "week", "count", "top_title", "more", "period", "label", "cadence")
NOTHING_MORE = " + {more} more"  # left out of a subject when the variant has one article


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week (``2026-W47``) that ``moment`` falls in, as seen in ``tz``.

    The year is the ISO year: 2026-12-31 is in 2026-W53, 2027-01-01 in 2026-W53 too.
    """
    if moment.tzinfo is None:
        raise ValueError(f"iso_week: {moment.isoformat()} has no time zone")
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The week's start (Monday 00:00 in ``tz``) and end (the next Monday 00:00), aware.

    The end is exclusive. Across a DST change the week is 167 or 169 hours long.
    """
    year, number = parse_week(week)
    monday = date.fromisocalendar(year, number, 1)
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


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


def edition_subject(
    template: str,
    *,
    site: str,
    week: str,
    count: int,
    top_title: str = "",
    period: str = "",
    label: str = "",
    cadence: str = "weekly",
) -> str:
    """The subject line from ``template``, on one line: {count} is the reader's own count,
    {top_title} their newest headline and {more} the count after it (the default subject's
    " + {more} more" is left out when it would say "+ 0 more"); {week} and {period} name
    the period (``2026-W47``), {label} says it in words, {cadence} is its cadence."""
    _check_subject_template(template)
    more = max(count - 1, 0)
    if not more:
        template = template.replace(NOTHING_MORE, "")
    values = {
        "site": site,
        "week": week,
        "count": count,
        "top_title": top_title,
        "more": more,
        "period": period or week,
        "label": label,
        "cadence": cadence,
    }
    try:
        subject = template.format(**values)
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
