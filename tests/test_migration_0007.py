"""Revision 0007 (issue 9) upgrades a database made at 0006 in place: articles and
observations get an empty enclosures list, an article never changed since it was gathered
gets its published date as ``updated``, and the next gather reads every source again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, insert, select, table
from tests.test_migrations import alembic

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.store import Store
from syndicate.store.engine import make_engine
from syndicate.store.schema import articles

# These tests make their schemas themselves, from empty.
pytestmark = pytest.mark.empty_database

SITE = "https://old.example.org/"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WHEN = datetime(2026, 11, 12, 5, 0, tzinfo=UTC)
GATHERED = NOW - timedelta(days=9)
TEXT = "Winter seeing\n\nNovember 12, 2026\n\nSteady air all night.\n"

_articles = table(*["articles"], *[column(c) for c in (
    "guid", "slug", "title", "link", "published", "category", "summary", "content", "author",
    "source", "tags", "first_seen", "updated", "content_hash", "key", "status")])  # fmt: skip
_files = table(*["files"], *[column(c) for c in (
    "source", "path", "size", "mtime_ns", "sha256", "error", "gathered_at")])  # fmt: skip


def write_0006_store(url: str) -> None:
    engine = make_engine(url)
    alembic(engine, "upgrade", "0006")
    with engine.begin() as conn:
        conn.execute(insert(_files).values(
            source="blog", path="a.txt", size=1, mtime_ns=1, sha256="0" * 64, error=None,
            gathered_at=GATHERED))  # fmt: skip
        for slug, updated in (("winter-seeing", GATHERED), ("edited", NOW - timedelta(days=2))):
            conn.execute(insert(_articles).values(
                guid=f"urn:uuid:00000000-0000-0000-0000-{len(slug):012d}", slug=slug,
                title=slug, link=SITE + slug, published=WHEN, category="Blog", summary="s",
                content="<p>c</p>", author="", source="blog", tags="[]", first_seen=GATHERED,
                updated=updated, content_hash="old", key=slug, status="published"))  # fmt: skip
    engine.dispose()


def test_a_0006_store_upgrades_in_place(tmp_path: Path, database_url: str) -> None:
    write_0006_store(database_url)
    engine = make_engine(database_url)
    alembic(engine, "upgrade", "0007")
    with engine.connect() as conn:
        query = select(articles.c.slug, articles.c.updated, articles.c.enclosures)
        rows = {r.slug: r for r in conn.execute(query)}
        files = list(conn.execute(select(table("files", column("size"), column("sha256")))))
    engine.dispose()
    assert {slug: r.enclosures for slug, r in rows.items()} == {"winter-seeing": "", "edited": ""}
    assert rows["winter-seeing"].updated == WHEN  # never changed: its published date now
    assert rows["edited"].updated == NOW - timedelta(days=2)  # changed: kept
    assert [(f.size, f.sha256) for f in files] == [(-1, "")]  # read again at the next gather
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text(TEXT, encoding="utf-8")
    settings = Settings.model_validate(
        {
            "site": {"url": SITE, "timezone": "UTC"},
            "storage": {"url": database_url},
            "sources": [{"name": "blog", "path": "articles", "category": "Blog"}],
            "root": tmp_path,
        }
    )
    with Store(database_url) as store:
        report = pipeline.gather(settings, store, now=NOW)
        assert report.failed == 0
        (article,) = [a for a in store.latest_articles(10, NOW) if a.key == "winter-seeing"]
    assert article.link == SITE + "winter-seeing/" and article.enclosures == ()
