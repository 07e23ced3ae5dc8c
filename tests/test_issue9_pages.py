"""Issue 9, items 2, 6 and 7, the claims tests/test_article_pages.py leaves open: pages are
on by default, a page names its author, the front page dates and files every headline,
with pages off a link is exactly site.url + slug, and the digest and the archive link to
articles only by absolute URLs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.feedcheck import relative_references
from tests.test_article_pages import SITE, build, parse

from syndicate.config import Settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.pipeline import prepare_edition, preview_edition
from syndicate.store import Store
from syndicate.web import create_app

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # the Monday send of week 47
WEEK = "2026-W47"
TELESCOPE = "beginners-night-first-telescope"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store]]:
    settings, store = build(tmp_path_factory.mktemp("issue9-pages"))
    yield settings, store
    store.close()


def test_pages_are_enabled_by_default() -> None:
    assert Settings.model_validate({}).pages.enabled is True


def test_an_article_page_names_its_author_date_and_category(site: tuple[Settings, Store]) -> None:
    settings, _ = site
    page = parse((settings.path(settings.feeds.output_dir) / TELESCOPE / "index.html").read_bytes())
    text = " ".join(" ".join(page.text).split())
    assert "Equipment · November 5, 2026 · Tom Okafor" in text
    (time,) = page.all("time")
    assert (time["datetime"] or "").startswith("2026-11-05")


def test_every_front_page_headline_has_its_category_and_date(site: tuple[Settings, Store]) -> None:
    settings, store = site
    data = (settings.path(settings.feeds.output_dir) / "index.html").read_text()
    for article in store.latest_articles(20, NOW):
        start = data.index(f'<a href="{article.link}">')
        meta = data[data.rindex('<li class="headline">', 0, start) : start]
        assert f'<span class="category">{article.category}</span>' in meta, article.slug
        day = article.published.astimezone(settings.site.zone).date().isoformat()
        assert f'<time datetime="{day}' in meta, article.slug


def test_with_pages_off_a_link_is_exactly_the_site_url_and_the_slug(tmp_path: Path) -> None:
    _, store = build(tmp_path, pages__enabled=False)  # type: ignore[arg-type]
    with store:
        articles = store.latest_articles(100, NOW)
    folder = [a for a in articles if a.link.startswith(SITE)]
    assert len(folder) >= 10
    assert all(a.link == SITE + a.slug for a in folder)


def test_the_digest_links_only_by_absolute_urls(site: tuple[Settings, Store]) -> None:
    settings, store = site
    assert preview_edition(settings, store, WEEK, now=NOW) is not None
    outbox = settings.path(settings.delivery.outbox_dir)
    html = (outbox / "digest.html").read_text(encoding="utf-8")
    assert html.count(SITE) >= 5
    assert relative_references(html) == []


def test_the_archive_links_to_articles_only_by_absolute_urls(
    site: tuple[Settings, Store], tmp_path: Path
) -> None:
    settings, store = site
    edition = prepare_edition(settings, store, WEEK, now=NOW)
    assert edition is not None
    store.freeze_edition(edition, NOW)
    app = create_app(
        settings, store, sender_factory=lambda: OutboxSender(tmp_path), clock=lambda: NOW
    )
    client = TestClient(app)
    page = client.get(f"/archive/{WEEK}/")
    assert page.status_code == 200
    hrefs = [a["href"] or "" for a in parse(page.content).all("a")]
    assert len([href for href in hrefs if href.startswith(SITE)]) >= 3
    # Only the web front's own navigation (its stylesheet, the archive, /subscribe) is named
    # by path, as every page it serves names it; no article link is relative.
    assert all(ref.startswith("/") for ref in relative_references(page.text))
    mailed = client.get(f"/archive/{WEEK}/email.html")
    assert mailed.status_code == 200
    assert relative_references(mailed.text) == []
