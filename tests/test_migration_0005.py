"""Revision 0005 (article identity) upgrades a database in place without changing a guid:
a store written by the code before it, gathered again by this code, publishes the same
guids and reports its articles unchanged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, insert, table
from tests.test_migrations import alembic

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.store import Store
from syndicate.store.engine import make_engine

# These tests make their schemas themselves, from empty.
pytestmark = pytest.mark.empty_database

SITE = "https://old.example.org/"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WHEN = datetime(2026, 11, 11, 15, 0, tzinfo=UTC)  # midnight of November 12 in Tokyo
TEXT = "Winter seeing\n\nNovember 12, 2026\n\nSteady air all night.\n"
MARKDOWN = "---\ntitle: A new scope\ndate: 2026-11-12\nslug: my-scope\n---\n\nFirst light.\n"

_articles = table(*["articles"], *[column(c) for c in (
    "guid", "slug", "title", "link", "published", "category", "summary", "content", "author",
    "source", "tags", "first_seen", "updated", "content_hash")])  # fmt: skip
_observations = table(*["observations"], *[column(c) for c in (
    "source", "path", "position", "slug", "kind", "title", "published", "category", "summary",
    "content", "author", "link", "tags")])  # fmt: skip
_files = table(*["files"], *[column(c) for c in (
    "source", "path", "size", "mtime_ns", "sha256", "error", "gathered_at")])  # fmt: skip


def old_guid(slug: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, SITE + slug)}"


def write_old_store(url: str) -> None:
    """What the code before revision 0005 stored for the two files (identity = title slug)."""
    engine = make_engine(url)
    alembic(engine, "upgrade", "0004")
    rows = [  # the first as this code would merge it, the second with a stale summary
        ("winter-seeing", "Winter seeing", "a.txt", "", "<p>Steady air all night.</p>",
         "Steady air all night."),
        ("a-new-scope", "A new scope", "b.md", "my-scope", "<p>First light.</p>", "stale"),
    ]  # fmt: skip
    with engine.begin() as conn:
        for slug, title, path, link, content, summary in rows:
            conn.execute(
                insert(_files).values(source="blog", path=path, size=1, mtime_ns=1,
                                      sha256="0" * 64, error=None, gathered_at=NOW)
            )  # fmt: skip
            conn.execute(insert(_observations).values(
                source="blog", path=path, position=0, slug=slug, kind="full", title=title,
                published=WHEN, category="", summary="", content=content, author="",
                link=link, tags="[]"))  # fmt: skip
            conn.execute(insert(_articles).values(
                guid=old_guid(slug), slug=slug, title=title, link=SITE + (link or slug),
                published=WHEN, category="Blog", summary=summary, content=content, author="",
                source="blog", tags=json.dumps([]), first_seen=NOW - timedelta(days=9),
                updated=NOW - timedelta(days=9), content_hash="old"))  # fmt: skip
    engine.dispose()


def test_an_old_store_upgrades_keeping_every_guid(tmp_path: Path, database_url: str) -> None:
    write_old_store(database_url)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "articles" / "b.md").write_text(MARKDOWN, encoding="utf-8")
    settings = Settings.model_validate(
        {
            "site": {"url": SITE, "timezone": "Asia/Tokyo"},
            "storage": {"url": database_url},
            "sources": [{"name": "blog", "path": "articles", "category": "Blog"}],
            # Links as the code before 0005 made them (article pages came with issue 9).
            "pages": {"enabled": False},
            "root": tmp_path,
        }
    )
    with Store(database_url) as store:
        upgraded = {a.title: (a.key, a.guid) for a in store.latest_articles(10, NOW)}
        assert upgraded == {
            "Winter seeing": ("winter-seeing", old_guid("winter-seeing")),
            "A new scope": ("my-scope", old_guid("a-new-scope")),
        }
        report = pipeline.gather(settings, store, now=NOW)
        after = {a.title: (a.key, a.guid, a.link) for a in store.latest_articles(10, NOW)}
    assert after == {
        "Winter seeing": ("winter-seeing", old_guid("winter-seeing"), SITE + "winter-seeing"),
        "A new scope": ("my-scope", old_guid("a-new-scope"), SITE + "my-scope"),
    }
    # Every file was read again and merged: the hash 0005 computed from the stored row is the
    # merge's own, so only the article whose summary was stale is updated.
    assert (report.new, report.updated, report.unchanged, report.removed) == (0, 1, 1, 0)
