"""32 real-world-shaped feeds gathered side by side with a folder: every entry that has an
id or a link is one article of its own source, and nothing overwrites anything."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tests.feed_corpus import corpus

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FOLDER_TEXT = "Weekly links\n\nNovember 3, 2026\n\nThe folder's own weekly links.\n"


@pytest.mark.slow
def test_every_entry_with_an_id_or_a_link_is_gathered_and_nothing_overwrites(
    tmp_path: Path, database_url: str
) -> None:
    feeds = corpus()
    assert len(feeds) >= 30
    (tmp_path / "feeds").mkdir()
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "weekly.txt").write_text(FOLDER_TEXT, encoding="utf-8")
    for item in feeds:
        (tmp_path / "feeds" / item.filename).write_text(item.document, encoding="utf-8")
    sources = [{"name": "folder", "path": "articles"}] + [
        {"name": item.name, "kind": "feed", "url": f"feeds/{item.filename}"} for item in feeds
    ]
    settings = Settings.model_validate(
        {
            "site": {"url": "https://site.example.org/"},
            "storage": {"url": database_url},
            "sources": sources,
            "root": tmp_path,
        }
    )
    errors: list[str] = []
    with Store(database_url) as store:
        report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
        stored = store.latest_articles(10_000, NOW + timedelta(days=1))
        again = pipeline.gather(settings, store, now=NOW + timedelta(hours=1))
    assert report.feeds_failed == 0, errors
    per_source = Counter(article.source for article in stored)
    expected = {item.name: item.expected for item in feeds}
    assert {name: per_source[name] for name in expected} == expected
    assert per_source["folder"] == 1
    assert report.new == sum(expected.values()) + 1
    for article in stored:  # each article keeps what its own source said
        if article.source == "folder":
            assert "folder's own" in article.content
            assert article.link == "https://site.example.org/weekly-links/"  # its page
        elif urlsplit(article.link).hostname != "site.example.org":
            assert urlsplit(article.link).hostname == f"{article.source}.example"
    assert len({article.guid for article in stored}) == len(stored)
    assert (again.new, again.updated, again.removed) == (0, 0, 0)
