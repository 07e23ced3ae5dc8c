"""Issue 9, item 3: dates on intake carry their true instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.feedparser_dates import FEEDPARSER_DATES

from syndicate.config import Settings
from syndicate.pipeline import gather
from syndicate.sources import read_feed
from syndicate.sources.feed_dates import ZONES, parse_feed_date
from syndicate.store import Store

NEW_YORK = ZoneInfo("America/New_York")
NOON_UTC = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)


# Where feedparser's own parsers disagree: its W3DTF test says "22013" is no date (a year of
# five digits), its ISO 8601 parser reads it as the 13th day of 2022 (YYDDD, as "03335").
DISAGREE = {"22013": (2022, 1, 13, 0, 0, 0)}


@pytest.mark.parametrize(("text", "expected"), FEEDPARSER_DATES)
def test_feedparsers_own_date_strings(text: str, expected: tuple[int, ...] | None) -> None:
    expected = DISAGREE.get(text, expected)
    moment = parse_feed_date(text, UTC)  # feedparser takes a date with no zone as UTC
    if expected is None:
        assert moment is None
    else:
        assert moment is not None
        assert moment.astimezone(UTC).replace(microsecond=0) == datetime(*expected, tzinfo=UTC)


ABBREVIATIONS = {
    "UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7, "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "EET": 2,
    "EEST": 3, "BST": 1, "IST": 5.5, "JST": 9, "AEST": 10, "AEDT": 11,
    "A": -1, "I": -9, "K": -10, "M": -12, "N": 1, "Y": 12,
}  # fmt: skip


@pytest.mark.parametrize(("zone", "hours"), ABBREVIATIONS.items())
def test_every_zone_abbreviation_feeds_use(zone: str, hours: float) -> None:
    local = NOON_UTC + timedelta(hours=hours)
    text = local.strftime(f"%a, %d %b %Y %H:%M:%S {zone}")
    assert parse_feed_date(text, NEW_YORK) == NOON_UTC, text
    assert ZONES[zone.lower()] == hours


@pytest.mark.parametrize(
    "text",
    [
        "Tue, 17 Nov 2026 12:00:00 -0000",
        "Tue, 17 Nov 2026 12:00:00 +0000",
        "Tue, 17 Nov 2026 13:00:00 CET",
        "Tue, 17 Nov 2026 14:00:00 MEST",
        "Tue, 17 Nov 2026 13:00:00 +01:00",
        "2026-11-17T12:00:00Z",
        "2026-11-17T07:00:00-05:00",
    ],
)
def test_what_was_misread_reads_as_noon_utc(text: str) -> None:
    assert parse_feed_date(text, NEW_YORK) == NOON_UTC


@pytest.mark.parametrize(
    "text", ["Tue, 17 Nov 2026 07:00:00", "2026-11-17T07:00:00", "2026-11-17 07:00", "17 Nov 2026"]
)
def test_a_date_without_a_zone_is_in_the_sources_zone(text: str) -> None:
    moment = parse_feed_date(text, NEW_YORK)
    assert moment is not None and moment.tzinfo == NEW_YORK


def test_an_unknown_zone_name_is_the_sources_zone_not_utc() -> None:
    moment = parse_feed_date("Tue, 17 Nov 2026 07:00:00 XYZT", NEW_YORK)
    assert moment == datetime(2026, 11, 17, 7, 0, tzinfo=NEW_YORK)


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://blog.example/</link><description>d</description>
<item><title>A</title><link>https://blog.example/a</link><pubDate>{date}</pubDate></item>
</channel></rss>"""


def test_the_rss_reader_keeps_the_true_instant() -> None:
    for text in ("Tue, 17 Nov 2026 13:00:00 CET", "Tue, 17 Nov 2026 12:00:00 -0000"):
        data = RSS.format(date=text).encode()
        (entry,) = read_feed(data, source_url="", tz=NEW_YORK).entries
        assert entry.observation.published == NOON_UTC


def test_a_sources_timezone_setting_dates_its_zoneless_entries(
    tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "feed.xml").write_text(RSS.format(date="Tue, 17 Nov 2026 13:00:00"))
    settings = Settings.model_validate(
        {
            "site": {"url": "https://astro.example.org/", "timezone": "America/New_York"},
            "storage": {"url": database_url},
            "sources": [
                {"name": "berlin", "kind": "feed", "url": "feed.xml", "timezone": "Europe/Berlin"}
            ],
            "root": tmp_path,
        }
    )
    with Store(settings.database_url) as store:
        assert gather(settings, store, now=NOON_UTC + timedelta(days=1)).failed == 0
        (article,) = store.latest_articles(5, NOON_UTC + timedelta(days=1))
    assert article.published == NOON_UTC


def test_an_unknown_source_timezone_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings.model_validate(
            {"sources": [{"name": "x", "kind": "feed", "url": "f.xml", "timezone": "Mars/Base"}]}
        )
