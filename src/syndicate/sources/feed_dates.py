"""Dates as feeds write them, read with their true instant. Pure.

ISO 8601 / RFC 3339 first, then RFC 822 (and the ways feeds bend it: two-digit years, long
month names, swapped day and month, stray commas, ``GMT-01:00``, ``Etc/GMT``) with a table of
the zone names and abbreviations feeds use, then every other format feedparser knows (it
reads them as UTC). A date that names no zone is taken in the source's time zone; so is one
whose zone name nobody knows (feedparser would call it UTC).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

# Hours east of UTC. feedparser 6 knows only UT/GMT/Z, the North American zones and MET/MEST.
_NAMED_ZONES: dict[str, float] = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0, "west": 1,
    "adt": -3, "ast": -4, "at": -4,
    "edt": -4, "est": -5, "et": -5,
    "cdt": -5, "cst": -6, "ct": -6,
    "mdt": -6, "mst": -7, "mt": -7,
    "pdt": -7, "pst": -8, "pt": -8,
    "akst": -9, "akdt": -8, "hst": -10,
    "cet": 1, "cest": 2, "met": 1, "mest": 2, "mez": 1, "mesz": 2,
    "eet": 2, "eest": 3, "bst": 1, "ist": 5.5, "msk": 3,
    "jst": 9, "kst": 9, "hkt": 8, "sgt": 8, "awst": 8,
    "acst": 9.5, "acdt": 10.5, "aest": 10, "aedt": 11, "nzst": 12, "nzdt": 13,
}  # fmt: skip
# RFC 822's military zones, with its signs (as feedparser reads them): A is -1, N is +1.
_MILITARY = {
    **{letter: -(n + 1) for n, letter in enumerate("abcdefghi")},
    **{letter: -(n + 10) for n, letter in enumerate("klm")},
    **{letter: n + 1 for n, letter in enumerate("nopqrstuvwxy")},
}
ZONES: dict[str, float] = {**_MILITARY, **_NAMED_ZONES}

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DAY_NAMES = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?", re.ASCII)
_FOUR_DIGIT_YEAR = re.compile(r"\d{4}(?:-|T|$)", re.ASCII)
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_feed_date(value: str, tz: tzinfo) -> datetime | None:
    """The instant ``value`` names, zone kept; None when it is no date anyone can read."""
    value = value.strip()
    if not value:
        return None
    # Python takes any character between date and time; ISO 8601 only "T" (RFC 3339: " ").
    iso = len(value) <= 10 or value[10] in "Tt "
    try:
        moment = datetime.fromisoformat(value) if iso else None
    except ValueError:
        moment = None
    if moment is not None:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
    found = _rfc822(value, tz)
    return found if found is not None else _feedparser_date(value)


def _zone(text: str, tz: tzinfo) -> tzinfo | None:
    """A zone token as a tzinfo; ``tz`` for a name nobody knows; None for a broken offset."""
    token = text.lower().removeprefix("etc/")
    if token.startswith("gmt") and len(token) > 3:
        token = token[3:]
    if token[:1] in ("+", "-"):
        match = _OFFSET.fullmatch(token)
        if match is None:
            return None
        sign = -1 if match[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3] or 0)))
    hours = ZONES.get(token)
    if hours is None:
        return tz
    return UTC if hours == 0 else timezone(timedelta(hours=hours))


def _rfc822(value: str, tz: tzinfo) -> datetime | None:
    parts = value.replace(",", " ").lower().split()
    if parts and parts[0][:3] in _DAY_NAMES:
        parts = parts[1:]
    if len(parts) < 3:
        return None
    day_text, month_text, year_text, *rest = parts
    if not _digits(day_text):  # "Aug 30 2012": month and day swapped
        day_text, month_text = month_text, day_text
    month = _MONTHS.get(month_text.rstrip(".")[:3])
    if not (_digits(day_text) and _digits(year_text) and month) or len(rest) > 2:
        return None
    year = int(year_text)
    if len(year_text) <= 2:
        year += 2000 if year < 90 else 1900
    hour = minute = second = 0
    zone: tzinfo | None = tz
    if rest:
        clock = _TIME.fullmatch(rest[0])
        if clock is None:
            return None
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if len(rest) == 2:
            zone = _zone(rest[1], tz)
    if zone is None:
        return None
    try:
        return datetime(year, month, int(day_text), hour, minute, second, tzinfo=zone)
    except ValueError:
        return None


def _feedparser_date(value: str) -> datetime | None:
    """Every other format feedparser reads (W3DTF variants, asctime, Korean, Greek, …), as
    UTC. Its parsers are tried narrowest first: in feedparser's own order its loose ISO 8601
    parser takes a Hungarian month name for December. That parser reads any prefix it can
    (``2003-12-31T25:14:55Z`` becomes a date in 2004), so only the two-digit-year forms it
    exists for go to it; a four-digit year is W3DTF's to read or refuse."""
    from feedparser import datetimes  # imported when needed: a rare path

    handlers: list[Callable[[str], time.struct_time | None]] = [
        datetimes._parse_date_onblog,
        datetimes._parse_date_nate,
        datetimes._parse_date_greek,
        datetimes._parse_date_hungarian,
        datetimes._parse_date_perforce,
        datetimes._parse_date_asctime,
        datetimes._parse_date_w3dtf,
    ]
    if not _FOUR_DIGIT_YEAR.match(value):
        handlers.append(datetimes._parse_date_iso8601)
    for handler in handlers:
        try:
            parsed = handler(value)
        except (KeyError, OverflowError, ValueError, AttributeError):
            continue
        if parsed:
            try:
                return datetime(*parsed[:6], tzinfo=UTC)
            except ValueError:
                return None
    return None
