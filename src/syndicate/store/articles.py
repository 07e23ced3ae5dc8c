"""The article archive: bulk upsert and the newest-first listings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update

from syndicate.models import Article
from syndicate.store.convert import article_from_row, article_row, chunks
from syndicate.store.schema import articles

NEWEST_FIRST = (articles.c.published.desc(), articles.c.guid)
_STORE_KEPT = {"id", "first_seen", "updated"}
_CONTENT_COLUMNS = tuple(c.name for c in articles.columns if c.name not in _STORE_KEPT)


def upsert_articles(conn: Connection, batch: Sequence[Article], now: datetime) -> tuple[int, int]:
    """Insert new articles, rewrite those whose content hash changed; (new, updated)."""
    _check_unique_slugs(batch)
    existing = _hashes_by_slug(conn, [a.slug for a in batch])
    fresh = [a for a in batch if a.slug not in existing]
    changed = [a for a in batch if a.slug in existing and existing[a.slug] != a.content_hash]
    if fresh:
        rows = [{**article_row(a), "first_seen": now, "updated": now} for a in fresh]
        conn.execute(insert(articles), rows)
    if changed:
        conn.execute(_update_by_slug(), [_update_params(a, now) for a in changed])
    return len(fresh), len(changed)


def latest_query(limit: int, category: str | None = None) -> Select[Any]:
    """Newest first; walks ix_articles_published_guid (or the category index) and stops."""
    query = select(articles).order_by(*NEWEST_FIRST).limit(limit)
    if category is not None:
        query = query.where(articles.c.category == category)
    return query


def latest_articles(conn: Connection, limit: int, category: str | None = None) -> list[Article]:
    return [article_from_row(row) for row in conn.execute(latest_query(limit, category))]


def categories(conn: Connection) -> list[tuple[str, int]]:
    query = (
        select(articles.c.category, func.count())
        .group_by(articles.c.category)
        .order_by(articles.c.category)
    )
    return [(name, count) for name, count in conn.execute(query)]


def article_count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(articles)) or 0)


def _check_unique_slugs(batch: Sequence[Article]) -> None:
    seen: set[str] = set()
    for article in batch:
        if article.slug in seen:
            raise ValueError(f"upsert_articles: slug {article.slug!r} given twice")
        seen.add(article.slug)


def _hashes_by_slug(conn: Connection, slugs: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in chunks(slugs):
        query = select(articles.c.slug, articles.c.content_hash).where(articles.c.slug.in_(part))
        found.update((slug, content_hash) for slug, content_hash in conn.execute(query))
    return found


def _update_by_slug() -> Any:
    values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in _CONTENT_COLUMNS}
    values["updated"] = bindparam("b_updated")
    return update(articles).where(articles.c.slug == bindparam("b_key")).values(values)


def _update_params(article: Article, now: datetime) -> dict[str, Any]:
    params = {f"b_{name}": value for name, value in article_row(article).items()}
    return {**params, "b_updated": now, "b_key": article.slug}
