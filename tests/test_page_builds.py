"""Issue 9 (left open): a build checks the article pages in one comparison, not one per page,
and stays right: a changed article rewrites its page, a removed (or drafted) one loses it, a
scheduled one gets it when it comes due, a changed template or site setting rebuilds every
page, a killed build is redone. bench/bench_pipeline.py measures the speed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.test_site import REPO, example_settings

from syndicate.config import Settings
from syndicate.feeds import publish as feeds_publish
from syndicate.pipeline import FeedsReport, build_all_feeds, gather
from syndicate.pipeline import publish as pipeline_publish
from syndicate.pipeline.site_pages import MANIFEST, read_manifest
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LEONIDS = "leonids-2026-twenty-three-meteors-from-the-reservoir"
LEONIDS_FILE = "2026-11-19-leonids-2026-reservoir.txt"
SKY_GUIDE_FILE = "2026-11-16-december-sky-guide.md"
COMET_FILE = "2026-11-18-comet-watch.md"  # no teaser names it: removed, it is gone
COMET = "comet-watch-from-the-reservoir"
COMET_TEXT = """---
title: Comet watch from the reservoir
date: 2026-11-18
category: Observing Reports
---
A faint tail, low in the west after sunset.
"""


@dataclass
class Site:
    settings: Settings
    store: Store
    articles: Path

    @property
    def public(self) -> Path:
        return self.settings.path(self.settings.feeds.output_dir)

    def gather(self, now: datetime = NOW) -> None:
        assert gather(self.settings, self.store, now=now).failed == 0

    def build(self, now: datetime = NOW) -> FeedsReport:
        return build_all_feeds(self.settings, self.store, now)

    def pages_on_disk(self) -> set[str]:
        return {
            p.relative_to(self.public).as_posix()
            for p in self.public.rglob("index.html")
            if p.parent != self.public
        }


def pages(report: FeedsReport) -> list[str]:
    return sorted(p for p in report.written if p.endswith("/index.html"))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    articles = tmp_path / "articles"
    articles.mkdir()
    for source in (REPO / "examples" / "articles").iterdir():
        (articles / source.name).write_bytes(source.read_bytes())
    (articles / COMET_FILE).write_text(COMET_TEXT)
    settings = example_settings(tmp_path)
    folder = settings.sources[0].model_copy(update={"path": str(articles)})
    settings = settings.model_copy(update={"sources": [folder], "root": tmp_path})
    with Store(settings.database_url) as store:
        built = Site(settings, store, articles)
        built.gather()
        assert len(pages(built.build())) >= 10
        yield built


def test_an_unchanged_build_reads_no_article_and_writes_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[Any] = []
    monkeypatch.setattr(site.store, "articles_by_guid", lambda guids: read.append(guids) or [])
    report = site.build()
    assert report.written == [] and report.removed == [] and read == []
    held = read_manifest(site.public)
    assert held.mark is not None and held.built == NOW
    changes = site.store.page_changes(NOW, held.mark, held.built, 10)
    assert not changes.every and changes.rows == []  # nothing past the mark
    assert set(held.pages) == site.pages_on_disk()


def test_a_changed_article_rewrites_its_page_only(site: Site) -> None:
    page = site.articles / LEONIDS_FILE
    page.write_text(page.read_text().replace("rarely generous", "rarely kind", 1))
    site.gather()
    report = site.build()
    assert pages(report) == [f"{LEONIDS}/index.html"]
    assert "rarely kind" in (site.public / LEONIDS / "index.html").read_text()
    assert site.build().written == []


def test_a_removed_article_loses_its_page_and_folder(site: Site) -> None:
    assert (site.public / COMET / "index.html").is_file()
    (site.articles / COMET_FILE).unlink()
    site.gather()
    report = site.build()
    assert report.removed == [f"{COMET}/index.html"]
    assert not (site.public / COMET).exists()
    assert f"{COMET}/index.html" not in read_manifest(site.public).pages
    assert site.public.is_dir() and (site.public / "index.html").is_file()


def test_a_drafted_article_loses_its_page_and_gets_it_back(site: Site) -> None:
    guide = site.articles / SKY_GUIDE_FILE
    original = guide.read_text()
    guide.write_text(original.replace("---\n", "---\ndraft: true\n", 1))
    site.gather()
    (removed,) = site.build().removed
    assert not (site.public / removed).exists()
    guide.write_text(original)
    site.gather()
    assert pages(site.build()) == [removed]


def test_a_scheduled_article_gets_its_page_when_it_comes_due(site: Site) -> None:
    (site.articles / "2026-11-25-later.md").write_text(
        "---\ntitle: Occultation of Regulus\ndate: 2026-11-25\ncategory: Sky Guide\n---\n"
        "The Moon covers Regulus before dawn.\n"
    )
    site.gather()
    site.build()
    assert not any("occultation" in p for p in site.pages_on_disk())
    later = datetime(2026, 11, 26, tzinfo=UTC)
    assert pages(site.build(later)) == ["occultation-of-regulus/index.html"]  # no gather


def test_a_changed_template_or_site_setting_rebuilds_every_page(site: Site) -> None:
    every = site.pages_on_disk()
    own = site.settings.root / "templates" / "pages"
    own.mkdir(parents=True)
    (own / "article.html").write_text("<!DOCTYPE html><p>{{ article.title }}</p>\n")
    assert set(pages(site.build())) == every
    assert site.build().written == []
    described = site.settings.site.model_copy(update={"description": "Another line"})
    site.settings = site.settings.model_copy(update={"site": described})
    (own / "article.html").write_text("<!DOCTYPE html><p>{{ site.description }}</p>\n")
    assert set(pages(site.build())) == every
    assert "Another line" in (site.public / LEONIDS / "index.html").read_text()


def test_a_build_killed_while_writing_pages_is_redone(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = site.settings.root / "templates" / "pages"
    own.mkdir(parents=True)
    (own / "article.html").write_text("<!DOCTYPE html><p>New look: {{ article.title }}</p>\n")
    real, done = feeds_publish.write_file_atomically, []

    def dies_after_three(path: Path, data: bytes) -> None:
        if len(done) == 3:
            raise KeyboardInterrupt("killed")
        done.append(path)
        real(path, data)

    monkeypatch.setattr(feeds_publish, "write_file_atomically", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        site.build()
    monkeypatch.undo()
    site.build()
    for page in site.pages_on_disk():
        assert (site.public / page).read_text().startswith("<!DOCTYPE html><p>New look: ")
    assert site.build().written == []


def test_a_build_killed_before_its_manifest_is_redone(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    (site.articles / COMET_FILE).unlink()
    site.gather()

    def killed(root: Path, paths: list[str]) -> list[str]:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(pipeline_publish, "remove_files", killed)
    with pytest.raises(KeyboardInterrupt):
        site.build()
    monkeypatch.undo()
    assert (site.public / COMET / "index.html").is_file()  # the manifest still names it
    assert site.build().removed == [f"{COMET}/index.html"]
    assert set(read_manifest(site.public).pages) == site.pages_on_disk()


def test_pages_disabled_after_enabled_removes_them_and_the_manifest(site: Site) -> None:
    disabled = site.settings.pages.model_copy(update={"enabled": False})
    site.settings = site.settings.model_copy(update={"pages": disabled})
    report = site.build()
    assert len(report.removed) >= 10
    assert site.pages_on_disk() == set() and not (site.public / MANIFEST).exists()
    assert (site.public / "index.html").is_file() and (site.public / "rss.xml").is_file()


def test_a_manifest_naming_other_files_deletes_none_of_them(site: Site) -> None:
    manifest = site.public / MANIFEST
    header, *lines = manifest.read_text().splitlines()
    lines += ["rss.xml\tx", "../outside/index.html\tx"]
    manifest.write_text("\n".join([header, *lines]) + "\n")
    (site.articles / COMET_FILE).unlink()
    site.gather()
    report = site.build()
    assert (site.public / "rss.xml").is_file()
    assert report.removed == [f"{COMET}/index.html"]
