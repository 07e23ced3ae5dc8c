"""Issue 9, item 1, the claims tests/test_true_dates.py leaves to the golden files: RSS
``lastBuildDate`` and JSON Feed ``date_modified`` are the articles' own dates (never the
gather time), they follow an edit, and a file touched without a change in its content
changes no date and rewrites no feed (the content hash decides)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from lxml import etree
from tests.test_site import REPO, example_settings
from tests.test_true_dates import NOW, _build

from syndicate.config import Settings
from syndicate.pipeline import build_all_feeds, gather
from syndicate.store import Store

LEONIDS = "2026-11-19-leonids-2026-reservoir.txt"


def _rss_dates(data: bytes) -> tuple[datetime, list[datetime]]:
    channel = etree.fromstring(data).find("channel")
    items = [parsedate_to_datetime(i.findtext("pubDate")) for i in channel.iter("item")]
    return parsedate_to_datetime(channel.findtext("lastBuildDate")), items


def test_rss_last_build_date_is_the_newest_entrys_not_the_gather_time(tmp_path: Path) -> None:
    files = _build(tmp_path, NOW)
    rss = [name for name in files if name.endswith("rss.xml")]
    assert len(rss) >= 7
    for name in rss:
        built, items = _rss_dates(files[name])
        assert built == max(items), name
        assert NOW not in (built, *items), name


def test_json_feed_date_modified_is_the_published_date_of_an_unedited_article(
    tmp_path: Path,
) -> None:
    files = _build(tmp_path, NOW)
    feeds = [name for name in files if name.endswith("feed.json")]
    assert len(feeds) >= 7
    for name in feeds:
        items = json.loads(files[name])["items"]
        assert items, name
        for item in items:
            assert item["date_modified"] == item["date_published"], (name, item["id"])
            assert item["date_modified"] != NOW.isoformat(), (name, item["id"])


def _copied_site(tmp: Path) -> tuple[Settings, Path]:
    articles = tmp / "articles"
    shutil.copytree(REPO / "examples" / "articles", articles)
    settings = example_settings(tmp)
    folder = settings.sources[0].model_copy(update={"path": str(articles)})
    return settings.model_copy(update={"sources": [folder]}), articles


def _outputs(settings: Settings) -> dict[str, bytes]:
    public = settings.path(settings.feeds.output_dir)
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.*")}


def test_an_edit_moves_rss_last_build_date_and_json_date_modified(tmp_path: Path) -> None:
    settings, articles = _copied_site(tmp_path)
    later = NOW + timedelta(days=1)
    with Store(settings.database_url) as store:
        gather(settings, store, now=NOW)
        page = articles / LEONIDS
        page.write_text(page.read_text().replace("rarely generous", "rarely kind", 1))
        assert gather(settings, store, now=later).updated == 1
        build_all_feeds(settings, store, later)
    files = _outputs(settings)
    built, _ = _rss_dates(files["rss.xml"])
    assert built == later
    assert f"<lastBuildDate>{format_datetime(later)}</lastBuildDate>".encode() in files["rss.xml"]
    items: list[dict[str, Any]] = json.loads(files["feed.json"])["items"]
    edited = [item for item in items if item["date_modified"] == later.isoformat()]
    assert [item["title"] for item in edited] == [
        "Leonids 2026: twenty-three meteors from the reservoir"
    ]
    assert edited[0]["date_published"] != later.isoformat()


def test_a_file_touched_without_a_change_keeps_its_dates_and_its_feeds(tmp_path: Path) -> None:
    settings, articles = _copied_site(tmp_path)
    later = NOW + timedelta(days=2)
    with Store(settings.database_url) as store:
        gather(settings, store, now=NOW)
        build_all_feeds(settings, store, NOW)
        before = _outputs(settings)
        stamp = later.timestamp()
        for path in articles.iterdir():
            path.write_bytes(path.read_bytes())  # rewritten: same bytes, a new mtime
            os.utime(path, (stamp, stamp))
        report = gather(settings, store, now=later)
        assert report.updated == report.new == 0
        built = build_all_feeds(settings, store, later)
        updated = {a.title: a.updated for a in store.latest_articles(100, later)}
    assert built.written == []
    assert _outputs(settings) == before
    assert later not in updated.values()
    assert all(moment is None or moment < later for moment in updated.values())


def test_the_example_feeds_never_carry_the_gather_time(tmp_path: Path) -> None:
    odd = datetime(2026, 11, 22, 3, 17, 29, tzinfo=UTC)  # a moment no article has
    for name, data in _build(tmp_path, odd).items():
        if name.endswith((".xml", ".json")):
            for text in (odd.isoformat(), format_datetime(odd), "03:17:29"):
                assert text.encode() not in data, (name, text)
