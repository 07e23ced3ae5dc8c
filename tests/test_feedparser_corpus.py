"""Issue 9, item 8: feedparser's own test corpus (its sdist's tests/, fetched into
.cache/feedparser-tests by `make corpus`) gathered through a loopback HTTP server. How many
documents are read as feeds and how many entries come in is recorded in
tests/fixtures/feedparser_corpus.json; the counts may only go up."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from tests.feed_servers import FeedServer, static

from syndicate.config.settings import FetchSettings
from syndicate.sources import ParseError, read_feed
from syndicate.sources.fetching import FetchError, fetch_feed

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".cache" / "feedparser-tests" / "tests"
RECORD = REPO / "tests" / "fixtures" / "feedparser_corpus.json"
FOLDERS = ("wellformed", "illformed")
UPDATE = os.environ.get("SYNDICATE_UPDATE_GOLDEN") == "1"

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"feedparser's test corpus is not in {CORPUS} (run `make corpus`)"
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def documents() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (CORPUS / folder).rglob("*.xml"))


@pytest.mark.slow
def test_the_corpus_comes_in_and_the_counts_only_go_up(server: FeedServer) -> None:
    options = FetchSettings(allow_private=True, max_bytes=5_000_000)
    counts = {folder: {"documents": 0, "feeds": 0, "entries": 0} for folder in FOLDERS}
    refused: list[str] = []
    for path in documents():
        name = path.relative_to(CORPUS).as_posix()
        folder = counts[name.split("/", 1)[0]]
        folder["documents"] += 1
        url = server.add(f"/{name}", static(path.read_bytes()))
        fetched = fetch_feed(url, options)
        try:
            parsed = read_feed(fetched.body, source_url=fetched.url, tz=UTC)
        except (ParseError, FetchError) as exc:
            refused.append(f"{name}: {exc}")
            continue
        folder["feeds"] += 1
        folder["entries"] += len(parsed.entries)
        assert all("\n" not in line for line in parsed.warnings)
    if UPDATE:
        RECORD.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    recorded = json.loads(RECORD.read_text())
    for folder in FOLDERS:
        for key in ("feeds", "entries"):
            assert counts[folder][key] >= recorded[folder][key], (folder, key, refused[:20])
    assert sum(c["documents"] for c in counts.values()) > 1000
