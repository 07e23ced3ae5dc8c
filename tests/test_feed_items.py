"""``feeds.items`` is applied once, by the query that reads the newest articles: the build
writes every article it is given (distinct by guid), so the cap is where the rows are read
and no second cut can drift from it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_site import NOW, example_settings

from syndicate.pipeline import build_all_feeds, gather
from syndicate.store import Store


def test_every_feed_holds_the_newest_feeds_items_articles(tmp_path: Path) -> None:
    settings = example_settings(tmp_path)
    settings = settings.model_copy(update={"feeds": settings.feeds.model_copy(update={"items": 2})})
    with Store(settings.database_url) as store:
        assert gather(settings, store, now=NOW).failed == 0
        newest = [a.guid for a in store.latest_articles(1000, NOW)]
        build_all_feeds(settings, store, NOW)
    public = Path(settings.path(settings.feeds.output_dir))
    site = json.loads((public / "feed.json").read_text(encoding="utf-8"))
    assert len(newest) > 2 and [i["id"] for i in site["items"]] == newest[:2]
    categories = list((public / "category").glob("*/feed.json"))
    assert categories
    for path in categories:
        assert 1 <= len(json.loads(path.read_text(encoding="utf-8"))["items"]) <= 2
