"""Issue 9 (left open): a build reads only the articles written since the last one (the
store's change mark) and stays right: a changed article rewrites its page, a removed (or
drafted) one loses it, a moved one (its link changed) moves, a scheduled one gets it when it
comes due (and loses it when the clock is set back), a changed template or site setting
rebuilds every page, a killed build is redone, a missing or tampered manifest costs one full
comparison and deletes nothing else. On SQLite and PostgreSQL. bench/bench_pipeline.py
measures the speed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.test_site import REPO, example_settings

from syndicate.config import Settings
from syndicate.feeds import publish as feeds_publish
from syndicate.models import ArticleStatus
from syndicate.pipeline import FeedsReport, build_all_feeds, gather
from syndicate.pipeline import publish as pipeline_publish
from syndicate.pipeline.page_manifest import DELTA, MANIFEST, read_manifest
from syndicate.store import Store
from syndicate.store.build_reads import BuildReads

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
def site(tmp_path: Path, database_url: str) -> Iterator[Site]:
    articles = tmp_path / "articles"
    articles.mkdir()
    for source in (REPO / "examples" / "articles").iterdir():
        (articles / source.name).write_bytes(source.read_bytes())
    (articles / COMET_FILE).write_text(COMET_TEXT)
    settings = example_settings(tmp_path)
    folder = settings.sources[0].model_copy(update={"path": str(articles)})
    storage = settings.storage.model_copy(update={"url": database_url})
    update = {"sources": [folder], "root": tmp_path, "storage": storage}
    settings = settings.model_copy(update=update)
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


def test_one_changed_article_is_all_a_build_reads(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_full_comparison(*args: object) -> None:
        raise AssertionError("every visible article was read")

    monkeypatch.setattr(BuildReads, "every_page_row", no_full_comparison)
    read: list[list[str]] = []
    real = site.store.articles_by_guid
    monkeypatch.setattr(site.store, "articles_by_guid", lambda g: read.append(list(g)) or real(g))
    page = site.articles / LEONIDS_FILE
    page.write_text(page.read_text().replace("rarely generous", "rarely kind", 1))
    site.gather()
    manifest = (site.public / MANIFEST).read_bytes()
    assert pages(site.build()) == [f"{LEONIDS}/index.html"]
    (guid,) = (g for p, (g, _stamp) in read_manifest(site.public).pages.items() if LEONIDS in p)
    assert read == [[guid]]
    assert (site.public / MANIFEST).read_bytes() == manifest  # left as it is: the delta
    header, *lines = (site.public / DELTA).read_text().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [[f"{LEONIDS}/index.html", guid]]
    assert json.loads(header)["mark"] > json.loads(manifest.split(b"\n", 1)[0])["mark"]
    assert site.build().written == []


def test_a_moved_article_moves_its_page(site: Site) -> None:
    comet = site.articles / COMET_FILE
    comet.write_text(COMET_TEXT.replace("Comet watch", "Comet hunt"))
    site.gather()
    report = site.build()
    assert report.removed == [f"{COMET}/index.html"]
    assert pages(report) == ["comet-hunt-from-the-reservoir/index.html"]
    comet.write_text(COMET_TEXT.replace("---\n", "---\nurl: https://example.net/comet\n", 1))
    site.gather()
    report = site.build()
    assert report.removed == ["comet-hunt-from-the-reservoir/index.html"]
    assert pages(report) == []  # linked elsewhere: no page of ours
    assert set(read_manifest(site.public).pages) == site.pages_on_disk()


def test_a_page_two_articles_link_to_is_the_first_stored_ones(site: Site) -> None:
    (first,) = site.store.articles_by_guid(
        [g for p, (g, _stamp) in read_manifest(site.public).pages.items() if COMET in p]
    )
    twin = replace(first, guid="urn:twin", source="other", key="twin", title="A twin")
    twin = replace(twin, content_hash="twin")
    site.store.upsert_articles([twin], NOW)
    assert pages(site.build()) == []  # the first stored keeps the page
    site.store.upsert_articles([replace(first, status=ArticleStatus.DRAFT)], NOW)
    assert pages(site.build()) == [f"{COMET}/index.html"]
    assert "A twin" in (site.public / COMET / "index.html").read_text()
    assert read_manifest(site.public).pages[f"{COMET}/index.html"][0] == "urn:twin"


def test_a_clock_set_back_hides_a_scheduled_page_again(site: Site) -> None:
    (site.articles / "2026-11-25-later.md").write_text(
        "---\ntitle: Occultation of Regulus\ndate: 2026-11-25\ncategory: Sky Guide\n---\n"
        "The Moon covers Regulus before dawn.\n"
    )
    site.gather()
    assert pages(site.build(datetime(2026, 11, 26, tzinfo=UTC))) == [
        "occultation-of-regulus/index.html"
    ]
    assert site.build(NOW).removed == ["occultation-of-regulus/index.html"]


def test_a_build_killed_after_one_change_is_redone(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = site.articles / LEONIDS_FILE
    page.write_text(page.read_text().replace("rarely generous", "rarely kind", 1))
    site.gather()

    def killed(path: Path, data: bytes) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(feeds_publish, "write_file_atomically", killed)
    with pytest.raises(KeyboardInterrupt):
        site.build()
    monkeypatch.undo()
    assert pages(site.build()) == [f"{LEONIDS}/index.html"]
    assert "rarely kind" in (site.public / LEONIDS / "index.html").read_text()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda text: "",  # missing: no page is known to delete
        lambda text: "not json\n" + text,
        lambda text: text.replace('"mark": [', '"mark": [99999', 1),  # past the store's
        lambda text: text.replace('"mark": [', '"mark": [0, "urn:elsewhere"], "x": [', 1),
    ],
    ids=["missing", "unreadable", "mark-ahead", "mark-of-another-store"],
)
def test_a_missing_or_tampered_manifest_costs_one_full_comparison(
    site: Site, tamper: Callable[[str], str]
) -> None:
    manifest = site.public / MANIFEST
    text = tamper(manifest.read_text())
    if text:
        manifest.write_text(text)
    else:
        manifest.unlink()
    (site.public / "notes").mkdir()
    (site.public / "notes" / "index.html").write_text("not a page of ours")
    (site.articles / COMET_FILE).unlink()
    site.gather()
    report = site.build()
    assert pages(report) == []
    assert (site.public / "notes" / "index.html").is_file()
    if text.startswith("{"):  # the manifest still names the comet's page, which goes
        assert report.removed == [f"{COMET}/index.html"]
    else:
        assert report.removed == []
    held = read_manifest(site.public)
    assert set(held.pages) | {"notes/index.html", f"{COMET}/index.html"} >= site.pages_on_disk()
    assert site.build().written == []
