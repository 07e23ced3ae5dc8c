"""index.html (autodiscovery, escaping) and the atomic writer."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.feed_samples import ARTICLES, OPTIONS, SCRIPT

from syndicate.feeds import FeedLink, build_feeds, write_atomically
from syndicate.feeds.pages import CategoryFeeds, PageRenderer, SitePage
from syndicate.resources import package_dir, page_templates

# --- the front page (index.html) ----------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_head = False
        self.head_links: list[dict[str, str | None]] = []
        self.anchors: list[str | None] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "head":
            self.in_head = True
        elif tag == "link" and self.in_head:
            self.head_links.append(dict(attrs))
        elif tag == "a":
            self.anchors.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False


def _renderer(title: str = "Field Notes") -> PageRenderer:
    site = SitePage(title, "https://notes.example/", "https://notes.example/", "en", UTC)
    return PageRenderer([page_templates(), package_dir("syndicate.web", "static")], site)


def test_front_page_lists_every_feed_with_autodiscovery_links() -> None:
    feeds = [
        FeedLink("Field Notes (RSS)", "https://notes.example/rss.xml", "application/rss+xml"),
        FeedLink("Field Notes (JSON Feed)", "https://notes.example/feed.json",
                 "application/feed+json"),
    ]  # fmt: skip
    garden = FeedLink(
        "Field Notes: Garden (Atom)",
        "https://notes.example/category/garden/atom.xml",
        "application/atom+xml",
    )
    page = _Page()
    page.feed(_renderer().front([], feeds, [CategoryFeeds("Garden", (garden,))]).decode("utf-8"))
    alternates = [link for link in page.head_links if link.get("rel") == "alternate"]
    assert [(a["type"], a["href"], a["title"]) for a in alternates] == [
        (e.media_type, e.href, e.title) for e in [*feeds, garden]
    ]
    for e in [*feeds, garden]:
        assert e.href in page.anchors
    assert "style" in page.tags


def test_front_page_escapes_everything() -> None:
    evil = f'"><{SCRIPT[1:]}'
    page_bytes = _renderer(f"Site {SCRIPT}\x00").front(
        [], [FeedLink(evil, evil, evil)], [CategoryFeeds(evil, ())]
    )
    assert b"<script" not in page_bytes
    assert b"\x00" not in page_bytes
    page = _Page()
    page.feed(page_bytes.decode("utf-8"))
    assert "script" not in page.tags
    assert page.head_links[-1]["title"] == evil
    assert page.head_links[-1]["href"] == evil


# --- atomic writing ------------------------------------------------------------------------


def test_write_creates_files_and_directories(tmp_path: Path) -> None:
    files = {"rss.xml": b"one", "category/garden/atom.xml": b"two"}
    report = write_atomically(tmp_path / "public", files)
    assert report.written == ["rss.xml", "category/garden/atom.xml"]
    assert report.unchanged == []
    assert (tmp_path / "public" / "category" / "garden" / "atom.xml").read_bytes() == b"two"
    assert (tmp_path / "public" / "rss.xml").stat().st_mode & 0o777 == 0o644


def test_write_leaves_unchanged_files_alone_and_replaces_changed_ones(tmp_path: Path) -> None:
    write_atomically(tmp_path, {"same.xml": b"same", "changed.xml": b"old", "long.xml": b"x"})
    past = time.time_ns() - 3_600_000_000_000
    for name in ("same.xml", "changed.xml", "long.xml"):
        os.utime(tmp_path / name, ns=(past, past))
    old_inode = (tmp_path / "changed.xml").stat().st_ino
    report = write_atomically(
        tmp_path, {"same.xml": b"same", "changed.xml": b"new", "long.xml": b"xx"}
    )
    assert report.unchanged == ["same.xml"]
    assert report.written == ["changed.xml", "long.xml"]
    assert (tmp_path / "same.xml").stat().st_mtime_ns == past
    changed = (tmp_path / "changed.xml").stat()
    assert changed.st_mtime_ns != past
    assert changed.st_ino != old_inode  # replaced by rename, not rewritten in place
    assert (tmp_path / "changed.xml").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changed.xml", "long.xml", "same.xml"]


def test_write_keeps_the_mode_of_a_replaced_file(tmp_path: Path) -> None:
    (tmp_path / "feed.json").write_bytes(b"old")
    (tmp_path / "feed.json").chmod(0o640)
    write_atomically(tmp_path, {"feed.json": b"new"})
    assert (tmp_path / "feed.json").stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "bad", ["../escape.xml", "/etc/passwd", "a/../../x", "a//b", "./a", "", "a\\b", "a/"]
)
def test_write_rejects_paths_outside_root_and_writes_nothing(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "root"
    with pytest.raises(ValueError, match=r"path|outside"):
        write_atomically(root, {"ok.xml": b"fine", bad: b"evil"})
    assert not (root / "ok.xml").exists()
    assert not (tmp_path / "escape.xml").exists()


def test_write_rejects_a_symlink_leading_out_of_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="outside"):
        write_atomically(root, {"link/rss.xml": b"evil"})
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_published_files_round_trip(tmp_path: Path) -> None:
    files = build_feeds(ARTICLES, OPTIONS)
    assert sorted(write_atomically(tmp_path, files).written) == sorted(files)
    assert sorted(write_atomically(tmp_path, files).unchanged) == sorted(files)
    assert json.loads((tmp_path / "feed.json").read_bytes())["title"] == "Field Notes"
