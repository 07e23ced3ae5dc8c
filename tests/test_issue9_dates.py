"""Issue 9, item 3, claim by claim: the zones feedparser knows read as feedparser reads them,
every military letter, feedparser's own date strings (held against its runtests.py when the
corpus is there), and a date with no zone, RFC 822 or ISO 8601, from RSS, Atom and JSON Feed
sources, in the source's time zone or else the site's."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feedparser.datetimes import _parse_date
from feedparser.datetimes.rfc822 import timezone_names
from tests.feedparser_dates import FEEDPARSER_DATES

from syndicate.config import Settings
from syndicate.pipeline import gather
from syndicate.sources.feed_dates import ZONES, parse_feed_date
from syndicate.store import Store

REPO = Path(__file__).resolve().parents[1]
RUNTESTS = REPO / ".cache" / "feedparser-tests" / "tests" / "runtests.py"
NOON_UTC = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
# RFC 822's military letters: A–I are -1…-9, K–M -10…-12, N–Y +1…+12 (its signs, which
# feedparser keeps), Z is UTC; J is no zone.
MILITARY = {
    **{letter: -(n + 1) for n, letter in enumerate("ABCDEFGHI")},
    **{letter: -(n + 10) for n, letter in enumerate("KLM")},
    **{letter: n + 1 for n, letter in enumerate("NOPQRSTUVWXY")},
    "Z": 0,
}


def _rfc822(zone: str, hours: float) -> str:
    return (NOON_UTC + timedelta(hours=hours)).strftime(f"%a, %d %b %Y %H:%M:%S {zone}")


@pytest.mark.parametrize(("letter", "hours"), MILITARY.items())
def test_every_military_letter(letter: str, hours: int) -> None:
    assert ZONES[letter.lower()] == hours
    assert parse_feed_date(_rfc822(letter, hours), UTC) == NOON_UTC


@pytest.mark.parametrize("zone", sorted(timezone_names))
def test_a_zone_feedparser_knows_reads_as_feedparser_reads_it(zone: str) -> None:
    text = _rfc822(zone.upper(), timezone_names[zone])
    theirs = _parse_date(text)
    assert theirs is not None
    assert parse_feed_date(text, UTC) == datetime(*theirs[:6], tzinfo=UTC) == NOON_UTC


def _runtests_date_strings() -> set[tuple[str, tuple[int, ...] | None]]:
    """(string, expected UTC tuple) of every entry of runtests.py's ``date_tests``."""
    tree = ast.parse(RUNTESTS.read_text(encoding="utf-8"))
    (table,) = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "date_tests" for t in node.targets)
    ]
    assert isinstance(table, ast.Dict)
    found: set[tuple[str, tuple[int, ...] | None]] = set()
    for cases in table.values:
        for case in ast.literal_eval(cases):
            text, expected = case
            found.add((text, None if expected is None else tuple(expected[:6])))
    return found


@pytest.mark.skipif(not RUNTESTS.is_file(), reason=f"{RUNTESTS} is absent (run `make corpus`)")
def test_the_date_strings_are_all_of_feedparsers_own() -> None:
    ours = set(FEEDPARSER_DATES)
    theirs = _runtests_date_strings()
    assert len(theirs) > 60
    assert ours == theirs, (sorted(theirs - ours)[:5], sorted(ours - theirs)[:5])


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://r.example/</link><description>d</description><item><title>R</title>
<link>https://r.example/1</link><pubDate>Wed, 17 Jun 2026 14:00:00</pubDate></item>
</channel></rss>"""
ATOM = """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<id>urn:a</id><updated>2026-06-17T14:00:00</updated><author><name>a</name></author>
<entry><title>A</title><id>urn:a:1</id><link href="https://a.example/1"/>
<published>2026-06-17T14:00:00</published><updated>2026-06-17T14:00:00</updated>
<content type="html">x</content></entry></feed>"""
JSON = """{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "j1",
"url": "https://j.example/1", "title": "J", "content_text": "x",
"date_published": "2026-06-17T14:00:00"}]}"""


def _gather(tmp: Path, database_url: str, zone: dict[str, Any]) -> dict[str, datetime]:
    """The three feeds gathered, each with ``zone`` as its [[sources]] settings."""
    sources = []
    for name, text in (("rss", RSS), ("atom", ATOM), ("json", JSON)):
        (tmp / f"{name}.feed").write_text(text)
        sources.append({"name": name, "kind": "feed", "url": f"{name}.feed", **zone})
    settings = Settings.model_validate(
        {
            "site": {"url": "https://site.example.org/", "timezone": "Europe/Berlin"},
            "storage": {"url": database_url},
            "sources": sources,
            "root": tmp,
        }
    )
    with Store(database_url) as store:
        assert gather(settings, store, now=LATER).failed == 0
        return {a.title: a.published for a in store.latest_articles(10, LATER)}


def test_a_date_with_no_zone_takes_the_sources_timezone(tmp_path: Path, database_url: str) -> None:
    # 14:00 in Athens (EEST, +3) is 11:00Z; the site's zone (Berlin) must not be used.
    published = _gather(tmp_path, database_url, {"timezone": "Europe/Athens"})
    assert published == dict.fromkeys(("R", "A", "J"), NOON_UTC - timedelta(hours=1))


def test_without_a_source_timezone_a_date_with_no_zone_takes_the_sites(
    tmp_path: Path, database_url: str
) -> None:
    # 14:00 in Berlin (CEST, +2) is noon UTC.
    assert _gather(tmp_path, database_url, {}) == dict.fromkeys(("R", "A", "J"), NOON_UTC)
