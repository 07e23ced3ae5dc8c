from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.digest.periods import local_midnight as _local_midnight
from syndicate.digest.select import (
    edition_subject,
    iso_week,
    parse_week,
    select_edition_articles,
    week_bounds,
)
from syndicate.models import Article

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def article(guid: str, published: datetime) -> Article:
    return Article(
        guid=guid,
        slug=guid,
        title=guid,
        link=f"https://example.com/{guid}",
        published=published,
        category="News",
        summary="",
        content="",
    )


# --- iso_week ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 18, 12, tzinfo=UTC), "2026-W47"),
        (datetime(2026, 12, 31, 12, tzinfo=UTC), "2026-W53"),  # 2026 has 53 weeks
        (datetime(2027, 1, 3, 12, tzinfo=UTC), "2026-W53"),  # ISO year, not calendar year
        (datetime(2027, 1, 4, 0, tzinfo=UTC), "2027-W01"),
        (datetime(2024, 12, 30, 9, tzinfo=UTC), "2025-W01"),  # December, next ISO year
        (datetime(2021, 1, 3, 9, tzinfo=UTC), "2020-W53"),
        (datetime(2025, 12, 28, 23, 59, tzinfo=UTC), "2025-W52"),
    ],
)
def test_iso_week_uses_the_iso_year(moment: datetime, expected: str) -> None:
    assert iso_week(moment, ZoneInfo("UTC")) == expected


def test_iso_week_is_the_week_in_the_given_zone() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin, but still Sunday in New York.
    moment = datetime(2025, 12, 28, 23, 30, tzinfo=UTC)
    assert iso_week(moment, ZoneInfo("UTC")) == "2025-W52"
    assert iso_week(moment, BERLIN) == "2026-W01"
    assert iso_week(moment, NEW_YORK) == "2025-W52"
    # Monday 03:00 UTC is still Sunday evening in New York.
    assert iso_week(datetime(2026, 1, 5, 3, tzinfo=UTC), NEW_YORK) == "2026-W01"
    assert iso_week(datetime(2026, 1, 5, 3, tzinfo=UTC), BERLIN) == "2026-W02"


def test_iso_week_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        iso_week(datetime(2026, 1, 1), BERLIN)


# --- parse_week -------------------------------------------------------------------------


def test_parse_week() -> None:
    assert parse_week("2026-W47") == (2026, 47)
    assert parse_week("2026-W01") == (2026, 1)
    assert parse_week("2026-W53") == (2026, 53)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-W60", "2026 has weeks 01 to 53"),
        ("2025-W53", "2025 has weeks 01 to 52"),
        ("2026-W00", "has weeks 01 to 53"),
        ("foo", "expected an ISO week like 2026-W47"),
        ("", "expected an ISO week"),
        ("2026-w47", "expected an ISO week"),
        ("2026-W7", "expected an ISO week"),
        ("2026-W47\n", "expected an ISO week"),
        (" 2026-W47", "expected an ISO week"),
        ("0000-W01", "year must be between"),
        ("9999-W01", "year must be between"),
    ],
)
def test_parse_week_rejects_bad_text_clearly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_week(text)
    assert repr(text) in str(info.value)
    assert "\n" not in str(info.value).replace(repr(text), "")


# --- week_bounds ------------------------------------------------------------------------


def test_week_bounds_are_local_mondays_at_midnight() -> None:
    start, end = week_bounds("2026-W47", BERLIN)
    assert start == datetime(2026, 11, 16, tzinfo=BERLIN)
    assert end == datetime(2026, 11, 23, tzinfo=BERLIN)
    assert start.utcoffset() == HOUR
    assert (start.weekday(), start.hour, end.weekday(), end.hour) == (0, 0, 0, 0)


def test_week_bounds_across_the_year_end() -> None:
    start, end = week_bounds("2026-W53", NEW_YORK)
    assert (start.date(), end.date()) == (date(2026, 12, 28), date(2027, 1, 4))
    start, end = week_bounds("2025-W01", NEW_YORK)
    assert (start.date(), end.date()) == (date(2024, 12, 30), date(2025, 1, 6))


@pytest.mark.parametrize(
    ("week", "tz", "hours"),
    [
        ("2025-W13", BERLIN, 167),  # summer time begins Sunday 30 March
        ("2025-W43", BERLIN, 169),  # and ends Sunday 26 October
        ("2025-W10", NEW_YORK, 167),  # DST begins Sunday 9 March
        ("2025-W44", NEW_YORK, 169),  # and ends Sunday 2 November
        ("2025-W20", NEW_YORK, 168),
    ],
)
def test_week_bounds_across_dst(week: str, tz: ZoneInfo, hours: int) -> None:
    start, end = week_bounds(week, tz)
    assert (start.hour, end.hour) == (0, 0)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)


def test_midnight_in_a_dst_gap_is_the_first_time_that_exists() -> None:
    # São Paulo skipped 00:00-01:00 on 2018-11-04: that day began at 01:00 (-02:00).
    day_start = _local_midnight(date(2018, 11, 4), ZoneInfo("America/Sao_Paulo"))
    assert day_start.astimezone(UTC) == datetime(2018, 11, 4, 3, tzinfo=UTC)
    assert (day_start.hour, day_start.utcoffset()) == (1, -2 * HOUR)


@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2090, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=9))]),
    ),
    tz=st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("UTC"), ZoneInfo("Pacific/Auckland")]),
)
def test_a_moment_lies_inside_the_bounds_of_its_week(moment: datetime, tz: ZoneInfo) -> None:
    week = iso_week(moment, tz)
    start, end = week_bounds(week, tz)
    assert start <= moment < end
    assert iso_week(start, tz) == week
    assert iso_week(end, tz) != week
    assert timedelta(hours=166) <= end - start <= timedelta(hours=170)


# --- select_edition_articles ------------------------------------------------------------


def test_newest_first_then_guid_and_capped() -> None:
    t = datetime(2026, 11, 18, 12, tzinfo=UTC)
    candidates = [
        article("b", t),
        article("old", t - 3 * HOUR),
        article("a", t),
        article("new", t + HOUR),
        article("oldest", t - 9 * HOUR),
    ]
    before = list(candidates)
    assert [a.guid for a in select_edition_articles(candidates, 10)] == [
        "new",
        "a",
        "b",
        "old",
        "oldest",
    ]
    assert [a.guid for a in select_edition_articles(candidates, 2)] == ["new", "a"]
    assert candidates == before


def test_order_compares_instants_not_wall_times() -> None:
    # 20:00 in Tokyo is 11:00 UTC: earlier than 12:00 UTC though its wall time is later.
    tokyo = datetime(2026, 11, 18, 20, tzinfo=ZoneInfo("Asia/Tokyo"))
    utc = datetime(2026, 11, 18, 12, tzinfo=UTC)
    picked = select_edition_articles([article("tokyo", tokyo), article("utc", utc)], 5)
    assert [a.guid for a in picked] == ["utc", "tokyo"]
    # The hour Berlin repeats when summer time ends: 02:15 the second time (fold=1, 01:15
    # UTC) is later than 02:30 the first time (00:30 UTC). Same tzinfo, so wall times lie.
    first = datetime(2025, 10, 26, 2, 30, tzinfo=BERLIN)
    second = datetime(2025, 10, 26, 2, 15, tzinfo=BERLIN, fold=1)
    picked = select_edition_articles([article("first", first), article("second", second)], 5)
    assert [a.guid for a in picked] == ["second", "first"]


def test_select_edge_cases() -> None:
    assert select_edition_articles([], 20) == []
    with pytest.raises(ValueError, match="max_items must be at least 1"):
        select_edition_articles([article("a", datetime(2026, 1, 1, tzinfo=UTC))], 0)
    with pytest.raises(ValueError, match="article naive"):
        select_edition_articles([article("naive", datetime(2026, 1, 1))], 3)


# --- edition_subject --------------------------------------------------------------------


def test_edition_subject_fills_the_fields() -> None:
    assert (
        edition_subject("{site} — week {week}", site="Headache Notes", week="2026-W47", count=3)
        == "Headache Notes — week 2026-W47"
    )
    assert (
        edition_subject("{count} new from {site} {{{week}}}", site="S", week="2026-W01", count=12)
        == "12 new from S {2026-W01}"
    )
    assert edition_subject("{count:03d}", site="S", week="W", count=7) == "007"


def test_edition_subject_is_one_line() -> None:
    subject = edition_subject(
        "{site}\r\nBcc: x@example.com {week}", site="A\nB\tC", week="2026-W47", count=1
    )
    assert subject == "A B C Bcc: x@example.com 2026-W47"
    assert "\r" not in subject and "\n" not in subject


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{site} {sitename} {wek}", r"unknown placeholder \{sitename\}, \{wek\}"),
        ("{} new", r"unknown placeholder \{\}"),
        ("{0}", r"unknown placeholder \{0\}"),
        ("{site.__class__}", r"unknown placeholder \{site.__class__\}"),
        ("{site[0]}", r"unknown placeholder \{site\[0\]\}"),
        ("Week {week", "digest subject 'Week {week'"),
        ("{site:d}", "cannot fill in"),
        ("{count:{nope}}", "cannot fill in"),
    ],
)
def test_edition_subject_rejects_bad_templates(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        edition_subject(template, site="S", week="2026-W47", count=1)


def test_unknown_placeholder_message_lists_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"use \{site\}, \{week\}, \{count\}"):
        edition_subject("{title}", site="S", week="2026-W47", count=1)
