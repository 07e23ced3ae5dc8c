"""Issue 9b: a build after a few changes writes only what they change (the page manifest's
delta, the feeds of the changed articles' old and new categories) and its output is byte for
byte what a full build from scratch writes into an empty folder: after an edit in and out of
a feed, a category move, a removal, a draft, a scheduled article coming due, a page's link
taken by another article, a killed build and when the delta is folded into the manifest. On
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.test_site import example_settings

from syndicate import content
from syndicate.config import Settings
from syndicate.feeds import publish as feeds_publish
from syndicate.models import Article, ArticleStatus
from syndicate.pipeline import FeedsReport, build_all_feeds, page_manifest
from syndicate.pipeline import publish as pipeline_publish
from syndicate.pipeline.feed_choice import RECORD
from syndicate.pipeline.page_manifest import DELTA, MANIFEST, read_manifest
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SITE = "https://millbrook-astro.example.org/"
CATEGORIES = ["Alpha", "Beta", "Gamma", "Delta"]
ITEMS = 3  # each feed holds 3 articles: most of a category's are in none of its feeds
SOURCE = "bench"
DRAFT = ArticleStatus.DRAFT


def article(i: int, **changes: object) -> Article:
    title = f"Night {i} at the reservoir"
    html = f"<p>Seeing was {i} out of ten.</p>"
    made = Article(
        guid=f"urn:night:{i}",
        slug=f"night-{i}",
        title=title,
        link=f"{SITE}night-{i}/",
        published=NOW - timedelta(hours=5 * i + 1),
        category=CATEGORIES[i % len(CATEGORIES)],
        summary=content.excerpt(content.html_to_text(html)),
        content=html,
        source=SOURCE,
        content_hash=content.content_hash(title, html),
    )
    made = replace(made, **changes)  # type: ignore[arg-type]
    parts = (made.title, made.content, made.category, made.link, made.published.isoformat())
    return replace(made, content_hash=content.content_hash(*parts))  # as a gather's covers all


@dataclass
class Site:
    settings: Settings
    store: Store
    root: Path

    def folder(self, name: str) -> Settings:
        feeds = self.settings.feeds.model_copy(update={"output_dir": str(self.root / name)})
        return self.settings.model_copy(update={"feeds": feeds})

    @property
    def public(self) -> Path:
        return self.settings.path(self.settings.feeds.output_dir)

    def write(self, *articles: Article) -> None:
        self.store.upsert_articles(list(articles), NOW)

    def build(self, now: datetime = NOW) -> FeedsReport:
        return build_all_feeds(self.settings, self.store, now)

    def from_scratch(self, now: datetime, name: str) -> Path:
        fresh = self.folder(name)
        build_all_feeds(fresh, self.store, now)
        return fresh.path(fresh.feeds.output_dir)


def files(folder: Path) -> dict[str, bytes]:
    """Every file a reader is served (the dot files hold the builds' marks and dates)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def category_feeds(report: FeedsReport) -> set[str]:
    return {p.split("/")[1] for p in report.written if p.startswith("category/")}


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    settings = example_settings(tmp_path)
    storage = settings.storage.model_copy(update={"url": database_url})
    feeds = settings.feeds.model_copy(
        update={"output_dir": str(tmp_path / "public"), "items": ITEMS}
    )
    described = settings.site.model_copy(update={"url": SITE})
    update = {"storage": storage, "feeds": feeds, "site": described, "root": tmp_path}
    with Store(database_url) as store:
        built = Site(settings.model_copy(update=update), store, tmp_path)
        built.write(*(article(i) for i in range(16)))
        built.build()
        assert (built.public / RECORD).is_file() and (built.public / MANIFEST).is_file()
        yield built


Edit = Callable[[Site], None]

EDITS: dict[str, tuple[Edit, set[str]]] = {
    # what changes → the categories whose feeds the build makes again (newest 3 of each:
    # Alpha 0, 4, 8; Beta 1, 5, 9; Gamma 2, 6, 10; Delta 3, 7, 11 at first)
    "edit in a feed": (lambda s: s.write(article(1, content="<p>Clouds.</p>")), {"beta"}),
    "edit in no feed": (lambda s: s.write(article(13, content="<p>Fog.</p>")), {"beta"}),
    "move into a feed": (lambda s: s.write(article(2, category="Alpha")), {"alpha", "gamma"}),
    "move in no feed": (lambda s: s.write(article(15, category="Alpha")), {"alpha"}),
    "removal": (lambda s: s.write(article(3, status=ArticleStatus.REMOVED)), {"delta"}),
    "draft": (lambda s: s.write(article(5, status=DRAFT)), {"beta"}),
    "link taken": (
        lambda s: s.write(
            article(6, link=f"{SITE}night-4/"), article(4, status=ArticleStatus.DRAFT)
        ),
        {"alpha", "gamma"},
    ),
    "new article": (lambda s: s.write(article(20)), {"alpha"}),
}


@pytest.mark.parametrize(
    ("compact_after", "scans"),
    [(2_000, 64), (0, 64), (2_000, 0)],
    ids=["delta", "manifest-whole", "manifest-parsed"],  # parsed: its lines looked up in dicts
)
def test_each_change_builds_what_a_full_build_builds(
    site: Site, compact_after: int, scans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page_manifest, "COMPACT_AFTER", compact_after)
    monkeypatch.setattr(page_manifest, "SCANS", scans)
    made: list[str | None] = []
    real = pipeline_publish.build_feeds

    def spied(*args: Any, **kwargs: Any) -> dict[str, bytes]:
        made.append(kwargs.get("category_slug"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_publish, "build_feeds", spied)
    for step, (name, (edit, rebuilt)) in enumerate(EDITS.items()):
        edit(site)
        made.clear()
        report = site.build()
        assert set(made) - {None} == rebuilt and category_feeds(report) <= rebuilt, name
        fresh = site.from_scratch(NOW, f"fresh-{step}")
        assert files(site.public) == files(fresh), name
        assert read_manifest(site.public).pages == read_manifest(fresh).pages, name
        assert (site.public / DELTA).exists() is (compact_after > 0), name
        assert site.build().written == [], name


def test_a_scheduled_article_coming_due_rebuilds_its_category(site: Site) -> None:
    site.write(article(7, published=NOW + timedelta(days=1), content="<p>Later.</p>"))
    site.build()
    later = NOW + timedelta(days=2)
    report = site.build(later)
    assert "night-7/index.html" in report.written and category_feeds(report) == {"delta"}
    assert files(site.public) == files(site.from_scratch(later, "fresh"))


def test_an_untouched_category_keeps_its_files(site: Site) -> None:
    kept = site.public / "category" / "gamma" / "rss.xml"
    before = kept.stat().st_mtime_ns
    site.write(article(1, content="<p>Clouds.</p>"))
    assert "category/gamma/rss.xml" not in site.build().written
    assert kept.stat().st_mtime_ns == before


@pytest.mark.parametrize("killed_at", range(9))
def test_a_build_killed_midway_then_another_change_still_matches(
    site: Site, monkeypatch: pytest.MonkeyPatch, killed_at: int
) -> None:
    """Moved Alpha → Beta, the build killed after ``killed_at`` files (the feed record
    first), moved again to Gamma: Beta's feeds (written by the killed build, perhaps) lose
    it."""
    real, done = feeds_publish.write_file_atomically, []

    def dies(path: Path, data: bytes) -> None:
        if len(done) == killed_at:
            raise KeyboardInterrupt("killed")
        done.append(path)
        real(path, data)

    site.write(article(4, category="Beta"))
    monkeypatch.setattr(feeds_publish, "write_file_atomically", dies)
    with pytest.raises(KeyboardInterrupt):
        site.build()
    monkeypatch.undo()
    site.write(article(4, category="Gamma"))
    site.build()
    assert files(site.public) == files(site.from_scratch(NOW, "fresh"))


def test_a_missing_feed_file_or_record_is_written_again(site: Site) -> None:
    (site.public / "category" / "gamma" / "atom.xml").unlink()
    assert category_feeds(site.build()) == {"gamma"}
    (site.public / RECORD).write_text("not json")
    site.build()
    assert files(site.public) == files(site.from_scratch(NOW, "fresh"))
    assert site.build().written == []
