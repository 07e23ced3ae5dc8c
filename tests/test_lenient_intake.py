"""Issue 9, item 4: a feed that is not well-formed XML is read as feedparser reads it,
keeping every entry it recovers, with one warning; entity declarations stay refused."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from tests.feed_documents import BILLION_LAUGHS, BROKEN_XML

from syndicate.sources import ParseError, read_feed

UTC_TZ = ZoneInfo("UTC")

ITEMS = "".join(
    f"<item><title>Post {n}</title><link>https://b.example/{n}</link>"
    f"<pubDate>Mon, 0{n} Nov 2026 10:00:00 GMT</pubDate></item>"
    for n in range(1, 4)
)
WHOLE = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>'
    f"<link>https://b.example/</link><description>d</description>{ITEMS}</channel></rss>"
)


def titles(data: bytes) -> list[str]:
    return [e.observation.title for e in read_feed(data, source_url="", tz=UTC_TZ).entries]


def test_a_bare_ampersand_keeps_every_entry_with_one_warning() -> None:
    data = WHOLE.replace("<title>Post 2</title>", "<title>Fish & chips</title>").encode()
    parsed = read_feed(data, source_url="", tz=UTC_TZ)
    assert [e.observation.title for e in parsed.entries] == ["Post 1", "Fish & chips", "Post 3"]
    (warning,) = parsed.warnings
    assert warning.startswith("not well-formed XML at line 1") and "3 entries recovered" in warning


def test_a_truncated_download_keeps_the_entries_before_the_cut() -> None:
    cut = WHOLE.index("<item><title>Post 3")
    data = (WHOLE[:cut] + "<item><title>Post 3</title><li").encode()
    assert titles(data)[:2] == ["Post 1", "Post 2"]
    parsed = read_feed(data, source_url="", tz=UTC_TZ)
    (warning,) = parsed.warnings
    assert "2 entries recovered, 1 incomplete left out" in warning
    assert parsed.skipped == ()  # the cut item is part of the one warning, not a failure


def test_a_mismatched_tag_keeps_the_good_entries() -> None:
    parsed = read_feed(BROKEN_XML, source_url="", tz=UTC_TZ)
    assert parsed.entries[0].observation.title == "Fine so far"
    assert "mismatched tag" in parsed.warnings[0]


def test_a_well_formed_feed_has_no_warning() -> None:
    assert read_feed(WHOLE.encode(), source_url="", tz=UTC_TZ).warnings == ()


def test_entity_declarations_are_still_refused_before_parsing() -> None:
    with pytest.raises(ParseError, match="declares entities"):
        read_feed(BILLION_LAUGHS, source_url="", tz=UTC_TZ)


def test_an_untitled_entry_takes_its_first_sentence_cut_under_100_characters() -> None:
    long = "word " * 40
    rss = WHOLE.replace("<title>Post 1</title>", "<description>Short one. Then more.</description>")
    rss = rss.replace("<title>Post 2</title>", f"<description>{long}end.</description>")
    first, second, _ = titles(rss.encode())
    assert first == "Short one."
    assert len(second) < 100 and second.endswith("…") and second.startswith("word word")
