"""Issue 9, item 5: every category and tag, and every enclosure, is stored and published;
entries without a title or a date are kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.feedcheck import ATOM, check_atom, check_json_feed, check_rss

from syndicate.config import Settings
from syndicate.feeds import FeedOptions, build_feeds
from syndicate.models import Article, Enclosure
from syndicate.pipeline import build_all_feeds, gather
from syndicate.sources import ParseError, read_feed
from syndicate.sources.folder import parse_file
from syndicate.store import Store

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MP3 = "https://cdn.example/ep1.mp3"

PODCAST = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Cast</title>
<link>https://cast.example/</link><description>d</description>
<item><title>Episode 1</title><link>https://cast.example/1</link>
<pubDate>Tue, 17 Nov 2026 12:00:00 GMT</pubDate>
<category>Audio</category><category>Interviews</category><category>Sky</category>
<enclosure url="https://cdn.example/ep1.mp3" length="1234567" type="audio/mpeg"/></item>
<item><title>Episode 2</title><link>https://cast.example/2</link>
<pubDate>Wed, 18 Nov 2026 12:00:00 GMT</pubDate>
<media:content url="video/ep2.mp4" type="video/mp4" fileSize="999"/></item>
<item><description>Seen from the ridge tonight: Jupiter and four moons. Clear skies.</description>
<guid isPermaLink="false">toot-1</guid></item>
</channel></rss>"""

ATOM_FEED = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<id>urn:x</id><updated>2026-11-01T00:00:00Z</updated>
<entry><title>A</title><id>urn:1</id><updated>2026-11-01T00:00:00Z</updated>
<link href="https://a.example/1"/>
<link rel="enclosure" href="https://a.example/a.ogg" type="audio/ogg" length="10"/>
<category term="One"/><category term="Two"/><content type="html">x</content></entry></feed>"""

JSON_FEED = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
{"id": "1", "url": "https://j.example/1", "content_text": "Hello there. More text.",
 "tags": ["a", "b"],
 "attachments": [{"url": "https://j.example/1.m4a", "mime_type": "audio/x-m4a",
                  "size_in_bytes": 77}]}]}"""


def test_rss_categories_enclosures_and_media_rss_are_read() -> None:
    parsed = read_feed(PODCAST, source_url="https://cast.example/rss", tz=UTC_TZ)
    first, second, toot = (e.observation for e in parsed.entries)
    assert first.tags == ("Audio", "Interviews", "Sky")
    assert first.enclosures == (Enclosure(MP3, "audio/mpeg", 1234567),)
    assert second.enclosures == (Enclosure("https://cast.example/video/ep2.mp4", "video/mp4", 999),)
    assert toot.title == "Seen from the ridge tonight: Jupiter and four moons."
    assert not parsed.entries[2].dated  # gets the time it was first seen


def test_atom_and_json_feed_enclosures_are_read() -> None:
    (atom,) = read_feed(ATOM_FEED, source_url="", tz=UTC_TZ).entries
    assert atom.observation.enclosures == (Enclosure("https://a.example/a.ogg", "audio/ogg", 10),)
    assert atom.observation.tags == ("One", "Two")
    (item,) = read_feed(JSON_FEED, source_url="", tz=UTC_TZ).entries
    assert item.observation.enclosures == (Enclosure("https://j.example/1.m4a", "audio/x-m4a", 77),)
    assert item.observation.title == "Hello there."


def test_front_matter_enclosure_and_its_errors() -> None:
    text = (
        "---\ntitle: Ep\ndate: 2026-11-04\nenclosure: {url: audio/ep.mp3, type: audio/mpeg,"
        " length: 42}\n---\nBody.\n"
    )
    (obs,) = parse_file("ep.md", text.encode(), tz=UTC_TZ, max_size=10**6)
    assert obs.enclosures == (Enclosure("audio/ep.mp3", "audio/mpeg", 42),)
    for bad in ("enclosure: {type: audio/mpeg}", "enclosure: {url: 'javascript:x'}",
                "enclosure: {url: a.mp3, length: lots}"):  # fmt: skip
        with pytest.raises(ParseError, match="front matter 'enclosure'"):
            parse_file("e.md", f"---\ntitle: E\ndate: 2026-11-04\n{bad}\n---\nB.\n".encode(),
                       tz=UTC_TZ, max_size=10**6)  # fmt: skip


def _article(**extra: object) -> Article:
    fields: dict[str, object] = {
        "guid": "urn:uuid:00000000-0000-0000-0000-000000000001",
        "slug": "ep-1",
        "title": "Episode 1",
        "link": "https://cast.example/ep-1/",
        "published": datetime(2026, 11, 17, 12, 0, tzinfo=UTC),
        "category": "Audio",
        "summary": "An interview.",
        "content": "<p>An interview.</p>",
        "tags": ("Interviews", "audio", "Sky"),
        "enclosures": (
            Enclosure(MP3, "audio/mpeg", 1234567),
            Enclosure("https://cdn.example/ep1.ogg", "audio/ogg", 0),
        ),
    }
    fields.update(extra)
    return Article(**fields)  # type: ignore[arg-type]


def test_every_category_and_tag_and_enclosure_is_published() -> None:
    options = FeedOptions(site_title="Cast", site_url="https://cast.example/")
    files = build_feeds([_article()], options)
    rss = check_rss(files["rss.xml"])
    item = rss.find("channel/item")
    assert [c.text for c in item.findall("category")] == ["Audio", "Interviews", "Sky"]
    (enclosure,) = item.findall("enclosure")  # RSS allows one: the first
    assert (enclosure.get("url"), enclosure.get("length"), enclosure.get("type")) == (
        MP3, "1234567", "audio/mpeg",
    )  # fmt: skip
    atom = check_atom(files["atom.xml"])
    entry = atom.find(f"{ATOM}entry")
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == [
        "Audio",
        "Interviews",
        "Sky",
    ]
    links = {
        ln.get("href"): ln.get("length") for ln in entry.findall(f"{ATOM}link[@rel='enclosure']")
    }
    assert links == {MP3: "1234567", "https://cdn.example/ep1.ogg": "0"}
    doc = check_json_feed(files["feed.json"])
    (json_item,) = doc["items"]
    assert json_item["tags"] == ["Audio", "Interviews", "Sky"]
    assert json_item["attachments"] == [
        {"url": MP3, "mime_type": "audio/mpeg", "size_in_bytes": 1234567},
        {"url": "https://cdn.example/ep1.ogg", "mime_type": "audio/ogg"},
    ]


def test_a_podcast_feed_source_comes_through_the_store_whole(
    tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "cast.xml").write_bytes(PODCAST)
    settings = Settings.model_validate(
        {
            "site": {"url": "https://astro.example.org/", "title": "Astro"},
            "storage": {"url": database_url},
            "sources": [{"name": "cast", "kind": "feed", "url": "cast.xml"}],
            "feeds": {"output_dir": "public"},
            "root": tmp_path,
        }
    )
    with Store(settings.database_url) as store:
        assert gather(settings, store, now=NOW).failed == 0
        build_all_feeds(settings, store, NOW)
    public = settings.path("public")
    rss = check_rss((public / "rss.xml").read_bytes())
    items = {i.findtext("title"): i for i in rss.iter("item")}
    assert set(items) == {
        "Episode 1", "Episode 2", "Seen from the ridge tonight: Jupiter and four moons.",
    }  # fmt: skip
    assert items["Episode 1"].find("enclosure").get("url") == MP3
    assert [c.text for c in items["Episode 1"].findall("category")] == [
        "Audio", "Interviews", "Sky",
    ]  # fmt: skip
    check_atom((public / "atom.xml").read_bytes())
    check_json_feed((public / "feed.json").read_bytes())


SECOND_ENCLOSURE = '<enclosure url="https://x.example/a" length="1" type="a/b"/>'


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("rss.xml", ' length="1234567"', "", "without length"),
        ("rss.xml", 'type="audio/mpeg"', 'type="mp3"', "MIME"),
        ("rss.xml", 'url="https://cdn.example/ep1.mp3"', 'url="ep1.mp3"', "absolute"),
        ("rss.xml", "<pubDate>", SECOND_ENCLOSURE + "<pubDate>",
         "DuplicateEnclosure"),
        ("atom.xml", 'length="1234567"', 'length="big"', "number of bytes"),
        ("feed.json", '"size_in_bytes": 1234567', '"size_in_bytes": -1', "number of bytes"),
    ],
)  # fmt: skip
def test_feedcheck_holds_the_enclosure_rules(name: str, old: str, new: str, message: str) -> None:
    checkers = {"rss.xml": check_rss, "atom.xml": check_atom, "feed.json": check_json_feed}
    good = build_feeds(
        [_article()], FeedOptions(site_title="Cast", site_url="https://cast.example/")
    )
    checkers[name](good[name])
    text = good[name].decode()
    assert old in text
    with pytest.raises(AssertionError, match=message):
        checkers[name](text.replace(old, new, 1).encode())
