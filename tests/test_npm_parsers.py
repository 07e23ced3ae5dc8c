"""Done-when of issue 9: every feed of the example site (plus a podcast article with tags and
enclosures) reads the same in feedparser and in two npm parsers (installed by `make corpus`
into .cache/npm): titles, links, dates (the instant, zone included), categories and
enclosures. RSS and Atom: rss-parser and @rowanmanning/feed-parser. JSON Feed: feedsmith and
@extractus/feed-extractor; feedparser 6 does not read JSON Feed, so each JSON feed's items
are held against what feedparser reads from the Atom feed beside it (the same articles)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from tests.test_site import REPO, example_settings

from syndicate.pipeline import build_all_feeds, gather
from syndicate.store import Store

NODE = shutil.which("node")
MODULES = REPO / ".cache" / "npm" / "node_modules"
SCRIPT = Path(__file__).with_name("npm_parse.js")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PARSERS = {".xml": ("rss-parser", "@rowanmanning/feed-parser")}
PARSERS[".json"] = ("feedsmith", "@extractus/feed-extractor")

pytestmark = pytest.mark.skipif(
    NODE is None or not all((MODULES / p).is_dir() for both in PARSERS.values() for p in both),
    reason="node or the npm parsers are not installed (run `make corpus`)",
)

PODCAST = """---
title: Podcast episode 12
date: 2026-11-18T19:30:00+01:00
category: Club News
tags: [Audio, Interviews]
enclosure: {url: "https://cdn.example.org/ep12.mp3", type: audio/mpeg, length: 31337}
---
We talk to the new committee.
"""


def _iso(parsed: time.struct_time | None) -> str | None:
    if parsed is None:
        return None
    return datetime(*parsed[:6], tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def feedparser_items(data: bytes) -> list[dict[str, Any]]:
    return [
        {
            "title": e.get("title"),
            "link": e.get("link"),
            "date": _iso(e.get("published_parsed")),
            "categories": [t["term"] for t in e.get("tags", [])],
            "enclosures": [[x["href"], x.get("type"), x.get("length", "0")] for x in e.enclosures],
        }
        for e in feedparser.parse(data).entries
    ]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site's output folder, with a podcast article added."""
    tmp = tmp_path_factory.mktemp("npm")
    podcast = tmp / "podcast"
    podcast.mkdir()
    (podcast / "ep12.md").write_text(PODCAST)
    settings = example_settings(tmp)
    extra = settings.sources[0].model_copy(update={"name": "podcast", "path": str(podcast)})
    settings = settings.model_copy(update={"sources": [*settings.sources, extra]})
    with Store(settings.database_url) as store:
        assert gather(settings, store, now=NOW).failed == 0
        build_all_feeds(settings, store, NOW)
    return settings.path(settings.feeds.output_dir)


def npm_read(paths: list[Path]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """path -> parser -> items, as tests/npm_parse.js reads them."""
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(SCRIPT), *map(str, paths)],
        capture_output=True,
        env={"NODE_PATH": str(MODULES), "PATH": str(Path(NODE).parent)},
        timeout=120,  # a hang guard only
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    read: dict[str, dict[str, list[dict[str, Any]]]] = json.loads(run.stdout)
    return read


def compare(feeds: list[Path], expected_from: Callable[[Path], Path]) -> int:
    """Each feed as both npm parsers of its kind read it == feedparser's reading of the
    feed ``expected_from`` names; how many items were compared."""
    read = npm_read(feeds)
    compared = 0
    for path in feeds:
        expected = feedparser_items(expected_from(path).read_bytes())
        assert expected and all(item["title"] and item["link"] for item in expected), path
        for parser in PARSERS[path.suffix]:
            assert read[str(path)][parser] == expected, (path, parser)
            compared += len(expected)
    return compared


def test_feedparser_and_two_npm_parsers_read_the_same_items(public: Path) -> None:
    feeds = sorted(public.rglob("*.xml"))
    assert len(feeds) >= 14
    assert compare(feeds, lambda path: path) > 100
    site_rss = feedparser_items((public / "rss.xml").read_bytes())
    (episode,) = [item for item in site_rss if item["title"] == "Podcast episode 12"]
    assert episode["categories"] == ["Club News", "Audio", "Interviews"]
    assert episode["enclosures"] == [["https://cdn.example.org/ep12.mp3", "audio/mpeg", "31337"]]
    assert episode["date"] == "2026-11-18T18:30:00.000Z"


def test_two_npm_parsers_read_each_json_feed_as_feedparser_reads_its_atom_feed(
    public: Path,
) -> None:
    feeds = sorted(public.rglob("feed.json"))
    assert len(feeds) >= 7
    assert compare(feeds, lambda path: path.with_name("atom.xml")) > 50
    read = npm_read([public / "feed.json"])[str(public / "feed.json")]
    for parser in PARSERS[".json"]:
        (episode,) = [item for item in read[parser] if item["title"] == "Podcast episode 12"]
        assert episode["categories"] == ["Club News", "Audio", "Interviews"]
        assert episode["enclosures"] == [
            ["https://cdn.example.org/ep12.mp3", "audio/mpeg", "31337"]
        ]
        assert episode["date"] == "2026-11-18T18:30:00.000Z"
