"""Issue 9, items 2, 4 and 5 on intake, claim by claim: enclosure URLs resolve against the
base their format defines (the xml:base in scope first), a broken feed gathered through the
pipeline gives one warning line and its good entries, and an entry without a date keeps the
time it was first seen when the feed changes later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.config import Settings
from syndicate.models import Enclosure
from syndicate.pipeline import gather
from syndicate.sources import read_feed
from syndicate.store import Store

UTC_TZ = ZoneInfo("UTC")
FEED_URL = "https://feeds.example/f/cast.xml"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CHANNEL = (
    '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"'
    "{base}><channel><title>Cast</title><link>https://cast.example/</link><description>d"
    "</description>{items}</channel></rss>"
)
EPISODE = (
    "<item><title>Episode 7</title><link>https://cast.example/episodes/7</link>"
    "<pubDate>Tue, 10 Jun 2003 09:41:01 CEST</pubDate>{body}"
    '<enclosure url="media/ep7.mp3" length="5650889" type="audio/mpeg"/>'
    '<media:content url="media/ep7.ogg" type="audio/ogg" fileSize="99"/></item>'
)


def _enclosures(base: str, body: str = "") -> tuple[Enclosure, ...]:
    data = CHANNEL.format(base=base, items=EPISODE.format(body=body)).encode()
    (entry,) = read_feed(data, source_url=FEED_URL, tz=UTC_TZ).entries
    return entry.observation.enclosures


def test_an_rss_enclosure_resolves_against_the_xml_base_in_scope_first() -> None:
    base = ' xml:base="https://cdn.example/show/"'
    expected = (
        Enclosure("https://cdn.example/show/media/ep7.mp3", "audio/mpeg", 5650889),
        Enclosure("https://cdn.example/show/media/ep7.ogg", "audio/ogg", 99),
    )
    assert _enclosures(base, "<description>Talk.</description>") == expected
    assert _enclosures(base) == expected  # an item without content: still in the base's scope


def test_an_rss_enclosure_without_xml_base_resolves_against_the_item_link() -> None:
    assert [e.url for e in _enclosures("")] == [
        "https://cast.example/episodes/media/ep7.mp3",
        "https://cast.example/episodes/media/ep7.ogg",
    ]


def test_an_atom_enclosure_resolves_against_xml_base_then_the_document_not_the_entry_link() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
 xmlns:media="http://search.yahoo.com/mrss/"><title>t</title><id>urn:x</id>
<updated>2026-11-01T00:00:00Z</updated>
<entry><title>A</title><id>urn:1</id><updated>2026-11-01T00:00:00Z</updated>
<link href="https://elsewhere.example/posts/a/"/>
<link rel="enclosure" href="snd/a.ogg" type="audio/ogg" length="10"/>
<media:content url="vid/a.mp4" type="video/mp4"/><content type="html">x</content></entry>
</feed>"""
    (entry,) = read_feed(atom, source_url=FEED_URL, tz=UTC_TZ).entries
    assert [e.url for e in entry.observation.enclosures] == [
        "https://feeds.example/f/snd/a.ogg",
        "https://feeds.example/f/vid/a.mp4",
    ]
    based = atom.replace(b"<entry>", b'<entry xml:base="https://media.example/x/">')
    (entry,) = read_feed(based, source_url=FEED_URL, tz=UTC_TZ).entries
    assert [e.url for e in entry.observation.enclosures] == [
        "https://media.example/x/snd/a.ogg",
        "https://media.example/x/vid/a.mp4",
    ]


def _site(tmp: Path, database_url: str) -> Settings:
    return Settings.model_validate(
        {
            "site": {"url": "https://site.example.org/"},
            "storage": {"url": database_url},
            "sources": [{"name": "cast", "kind": "feed", "url": "cast.xml"}],
            "root": tmp,
        }
    )


ITEM = "<item><title>{title}</title><link>https://cast.example/{n}</link>{date}</item>"
DATED = "<pubDate>Tue, 17 Nov 2026 12:00:00 GMT</pubDate>"


def test_a_broken_feed_gathered_gives_its_entries_and_one_warning_line(
    tmp_path: Path, database_url: str
) -> None:
    items = "".join(ITEM.format(title=t, n=n, date=DATED) for n, t in enumerate(["A", "B & C"]))
    (tmp_path / "cast.xml").write_text(CHANNEL.format(base="", items=items))
    lines: list[str] = []
    with Store(database_url) as store:
        report = gather(_site(tmp_path, database_url), store, now=NOW, on_error=lines.append)
        titles = sorted(a.title for a in store.latest_articles(10, NOW))
    assert (report.new, report.failed) == (2, 0)
    assert titles == ["A", "B & C"]
    (line,) = lines
    assert line.startswith("warning: sources[cast]: not well-formed XML")
    assert "2 entries recovered" in line
    assert [f"warning: {w}" for w in report.warnings] == [line]


def test_a_download_cut_inside_an_item_is_one_warning_and_no_failure(
    tmp_path: Path, database_url: str
) -> None:
    items = "".join(ITEM.format(title=t, n=n, date=DATED) for n, t in enumerate(["A", "B"]))
    whole = CHANNEL.format(base="", items=items + "<item><title>C, cut off</title><li")
    (tmp_path / "cast.xml").write_text(whole[: whole.rindex("<li") + 3])
    lines: list[str] = []
    with Store(database_url) as store:
        report = gather(_site(tmp_path, database_url), store, now=NOW, on_error=lines.append)
    assert (report.new, report.failed) == (2, 0)  # `gather` exits 0: nothing failed
    (line,) = lines
    assert line.startswith("warning: sources[cast]: not well-formed XML")
    assert line.endswith("2 entries recovered, 1 incomplete left out")


def test_an_undated_entry_keeps_the_time_it_was_first_seen(
    tmp_path: Path, database_url: str
) -> None:
    feed = tmp_path / "cast.xml"
    undated = ITEM.format(title="{title}", n=0, date="")
    feed.write_text(CHANNEL.format(base="", items=undated.format(title="Undated")))
    settings = _site(tmp_path, database_url)
    later, last = NOW + timedelta(days=1), NOW + timedelta(days=5)
    with Store(database_url) as store:
        assert gather(settings, store, now=NOW).new == 1
        # The feed changes: the entry's own title is edited and a dated entry added.
        items = undated.format(title="Undated, edited") + ITEM.format(title="New", n=1, date=DATED)
        feed.write_text(CHANNEL.format(base="", items=items))
        report = gather(settings, store, now=later)
        assert (report.new, report.updated) == (1, 1)
        feed.write_text(CHANNEL.format(base="", items=items.replace("edited", "again")))
        assert gather(settings, store, now=last).updated == 1
        stored = {a.title: a.published for a in store.latest_articles(10, last)}
    assert stored == {"Undated, again": NOW, "New": datetime(2026, 11, 17, 12, 0, tzinfo=UTC)}
