"""The feed parser: RSS, Atom and JSON Feed bytes → observations; hostile bytes → ParseError."""

from __future__ import annotations

import contextlib
import io
import re
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.feed_documents import (
    ATOM,
    BILLION_LAUGHS,
    HTML_PAGE,
    JSON_FEED,
    QUADRATIC_BLOWUP,
    RSS,
    rss_items,
)

from syndicate.content import content_hash
from syndicate.sources import ParseError, read_feed
from syndicate.sources.feed_entries import UNDATED
from syndicate.sources.feed_xml import declares_entities

NEW_YORK = ZoneInfo("America/New_York")


def by_title(data: bytes, source_url: str = "https://feeds.example/feed") -> dict[str, object]:
    parsed = read_feed(data, source_url=source_url, tz=NEW_YORK)
    return {entry.observation.title: entry for entry in parsed.entries}


def test_rss_entries_become_sanitized_observations_with_their_own_zone() -> None:
    parsed = read_feed(RSS, source_url="https://birds.example/rss.xml", tz=NEW_YORK)
    assert parsed.format == "rss20"
    first, second, _undated = (entry.observation for entry in parsed.entries)
    assert first.title == "Bitterns booming at dawn"
    assert first.slug == "bitterns-booming-at-dawn"
    assert first.published == datetime(2026, 11, 17, 6, 30, tzinfo=timezone(timedelta(hours=1)))
    assert first.link == "https://birds.example/2026/bitterns"  # relative → absolute
    assert (first.category, first.tags, first.author) == (
        "Field Reports",
        ("Field Reports",),
        "Mo Heron",
    )
    assert first.kind == "full"
    assert "<b>called</b>" in first.content
    for bad in ("<script", "javascript:", "onerror", "alert"):
        assert bad not in first.content
    assert 'src="https://birds.example/img/bittern.jpg"' in first.content
    assert first.summary == "Three males calling from the north bed."
    # A description alone is the body; no category leaves it to the rules and the default.
    assert second.content == "<p>We counted 212 teal with a new telescope.</p>"
    assert (second.summary, second.category) == ("", "")
    assert second.published == datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def test_duplicates_are_dropped_and_an_entry_without_a_date_is_kept_undated() -> None:
    parsed = read_feed(RSS, source_url="https://birds.example/rss.xml", tz=NEW_YORK)
    assert [e.observation.title for e in parsed.entries] == [
        "Bitterns booming at dawn",
        "Counting teal on the lagoon",
        "A note with no date",
    ]
    assert [e.dated for e in parsed.entries] == [True, True, False]
    assert parsed.entries[2].observation.published == UNDATED  # the gather dates it
    assert parsed.duplicates == 1
    assert parsed.skipped == ()


def test_atom_html_title_is_text_and_content_is_sanitized() -> None:
    parsed = read_feed(ATOM, source_url="https://shop.example/atom.xml", tz=NEW_YORK)
    assert parsed.format == "atom10"
    chisels, glue = (entry.observation for entry in parsed.entries)
    assert chisels.title == "Sharpening & honing chisels"
    assert chisels.content == "<p>Start at 1000 grit.</p>"  # the iframe is gone
    assert chisels.summary == "Water stones, a strop and patience."
    assert (chisels.author, chisels.category) == ("Sam Plane", "Tools")
    assert chisels.published == datetime(2026, 11, 18, 19, 0, tzinfo=timezone(timedelta(hours=1)))
    # Plain-text content is escaped into paragraphs; updated stands in for published.
    assert glue.content == (
        "<p>Cauls keep the boards flat.</p>\n<p>Alternate the clamps above and below.</p>"
    )
    assert glue.published == datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    assert parsed.duplicates == 1  # the third entry repeats the second's link


def test_json_feed_items() -> None:
    parsed = read_feed(JSON_FEED, source_url="https://kitchen.example/feed.json", tz=NEW_YORK)
    assert parsed.format == "json1.1"
    bread, stock, undated = (entry.observation for entry in parsed.entries)
    assert bread.link == "https://kitchen.example/sourdough"
    assert bread.content == "<p>Cold retard overnight.</p>"
    assert (bread.summary, bread.author, bread.category) == (
        "Twelve hours in the fridge.",
        "Pat Baker",
        "Baking",
    )
    assert bread.tags == ("Baking", "Bread")
    assert bread.published == datetime(2026, 11, 19, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert stock.content == "<p>Onion skins &amp; carrot ends &lt;b&gt;stay&lt;/b&gt; text.</p>"
    assert stock.published == datetime(2026, 11, 12, 18, 0, tzinfo=NEW_YORK)  # no zone: tz
    assert (undated.title, undated.published) == ("No date here", UNDATED)
    assert parsed.skipped == ("entry 4: not a JSON object",)
    keys = [entry.key for entry in parsed.entries]
    assert keys == ["guid:k-7", "guid:8", "guid:k-9"]
    assert [o.key for o in (bread, stock, undated)] == keys


def test_read_feed_gives_each_entry_an_observation() -> None:
    parsed = read_feed(ATOM, source_url="https://shop.example/atom.xml", tz=NEW_YORK)
    observations = [entry.observation for entry in parsed.entries]
    assert [o.slug for o in observations] == ["sharpening-honing-chisels", "gluing-up-a-table-top"]


def test_an_entry_without_a_title_is_titled_by_its_text() -> None:
    data = RSS.replace(b"<title>Bitterns booming at dawn</title>", b"")
    parsed = read_feed(data, source_url="", tz=NEW_YORK)
    assert parsed.skipped == () and len(parsed.entries) == 3
    untitled = parsed.entries[0].observation
    assert untitled.title == "Three males calling from the north bed."
    assert untitled.slug == "three-males-calling-from-the-north-bed"


def test_entries_of_one_title_with_their_own_ids_are_distinct() -> None:
    data = (
        rss_items(3)
        .replace(b"item number 1", b"item number 0")
        .replace(b"item number 2", b"item number 0")
    )
    parsed = read_feed(data, source_url="", tz=UTC_ZONE)
    assert [e.observation.title for e in parsed.entries] == ["item number 0"] * 3
    assert len({e.key for e in parsed.entries}) == 3 and parsed.duplicates == 0


def test_an_entry_with_no_id_no_link_and_no_date_is_skipped() -> None:
    data = rss_items(1).replace(b"<guid>item-0</guid>", b"")
    data = data.replace(b"<link>https://many.example/item/0</link>", b"")
    data = re.sub(rb"<pubDate>[^<]*</pubDate>", b"", data)
    parsed = read_feed(data, source_url="", tz=UTC_ZONE)
    assert parsed.entries == ()
    assert parsed.skipped == ("entry 1 ('item number 0'): no id, link, nor title and date",)


def test_an_entry_without_guid_is_keyed_by_link_then_title() -> None:
    data = rss_items(2).replace(b"<guid>item-0</guid>", b"").replace(b"<guid>item-1</guid>", b"")
    data = data.replace(b"<link>https://many.example/item/1</link>", b"")
    keys = [entry.key for entry in read_feed(data, source_url="", tz=UTC_ZONE).entries]
    (second,) = [e for e in read_feed(data, source_url="", tz=UTC_ZONE).entries if e.key != keys[0]]
    moment = second.observation.published.astimezone(UTC).isoformat()
    assert keys == [
        "link:https://many.example/item/0",
        "hash:" + content_hash(second.observation.title, moment),
    ]


UTC_ZONE = ZoneInfo("UTC")


def test_an_entry_hash_changes_with_what_it_says() -> None:
    before = read_feed(rss_items(3), source_url="", tz=UTC_ZONE).entries
    after = read_feed(
        rss_items(3).replace(b"Body of item 1,", b"New body of item 1,"), source_url="", tz=UTC_ZONE
    ).entries
    assert [a.sha256 == b.sha256 for a, b in zip(before, after, strict=True)] == [True, False, True]


def test_html_entities_of_hand_made_feeds_are_tolerated() -> None:
    data = rss_items(1).replace(b"item number 0", b"Caf&eacute;&nbsp;night")
    (entry,) = read_feed(data, source_url="", tz=UTC_ZONE).entries
    assert entry.observation.title == "Café night"  # whitespace folded, NBSP too


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a feed: the document is empty"),
        (b" \n\t ", "not a feed: the document is empty"),
        (HTML_PAGE, "not a feed: an HTML page"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe",
            "not a feed: neither RSS, Atom nor JSON Feed",
        ),
        (b"just some words", "not a feed: neither RSS, Atom nor JSON Feed"),
        (b'<?xml version="1.0"?><note><to>Tove</to></note>', "not a feed: neither RSS"),
        (b'{"version": "1", "items": []}', "not a feed: JSON, but not a JSON Feed"),
        (b"[1, 2, 3]", "not a feed: JSON, but not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "broken JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "without an 'items' list"),
        (b"[" * 100_000, "not a feed: JSON nested too deeply"),
    ],
)
def test_what_is_not_a_feed_is_a_one_line_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_feed(data, source_url="https://x.example/feed", tz=UTC_ZONE)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


@pytest.mark.parametrize("bomb", [BILLION_LAUGHS, QUADRATIC_BLOWUP], ids=["laughs", "quadratic"])
def test_entity_bombs_are_refused_without_being_expanded(bomb: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match=r"refused: the XML declares entities"):
            read_feed(bomb, source_url="", tz=UTC_ZONE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Nothing was expanded: the memory stays within a small multiple of the document.
    assert peak < 10 * len(bomb) + 1_000_000


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_entity_declarations_are_found_in_wide_encodings(codec: str) -> None:
    text = BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', "")
    assert declares_entities(text.encode(codec))


def test_a_doctype_without_entities_is_fine() -> None:
    data = rss_items(1).replace(
        b'<?xml version="1.0"?>',
        b'<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE rss PUBLIC '
        b'"-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">',
    )
    assert not declares_entities(data)
    assert len(read_feed(data, source_url="", tz=UTC_ZONE).entries) == 1


def test_feedparser_itself_does_not_expand_the_billion_laughs() -> None:
    """Checked, not assumed: feedparser drops entity declarations that reference other
    entities; ours refuses the document before that anyway (test above)."""
    result = feedparser.parse(io.BytesIO(BILLION_LAUGHS))
    assert len(result.entries[0].title) < 100  # expanded, it would be 3 GB


def test_bytes_naming_a_local_file_are_not_read_as_that_file(tmp_path: Path) -> None:
    feed_file = tmp_path / "real.xml"
    feed_file.write_bytes(rss_items(1))
    # feedparser.parse(bytes) would open the file those bytes name; read_feed must not.
    with pytest.raises(ParseError, match="not a feed"):
        read_feed(str(feed_file).encode(), source_url="", tz=UTC_ZONE)


def test_five_hundred_entries_parse_into_five_hundred_articles() -> None:
    parsed = read_feed(rss_items(500), source_url="https://many.example/rss", tz=UTC_ZONE)
    assert len(parsed.entries) == 500 and len({e.key for e in parsed.entries}) == 500


@given(st.binary(max_size=300))
def test_any_bytes_give_entries_or_a_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        read_feed(data, source_url="https://x.example/", tz=UTC_ZONE)


@given(
    st.text(max_size=40),
    st.sampled_from(["<b>{}</b>", "{}", "&lt;i&gt;{}&lt;/i&gt;", "<![CDATA[{}]]>"]),
)
def test_any_title_text_gives_entries_or_a_parse_error(title: str, wrap: str) -> None:
    body = wrap.format(title.replace("]]>", ""))
    data = rss_items(1).replace(b"item number 0", body.encode("utf-8", "surrogatepass"))
    try:
        parsed = read_feed(data, source_url="", tz=UTC_ZONE)
    except ParseError:
        return
    for entry in parsed.entries:
        assert entry.observation.title == " ".join(entry.observation.title.split())
        assert "<" not in entry.observation.content or entry.observation.content.startswith("<p>")
