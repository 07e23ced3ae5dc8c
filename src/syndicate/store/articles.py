"""The article archive: bulk upsert and the newest-first listings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)

from syndicate.content import article_guid_in
from syndicate.models import Article, ArticleStatus
from syndicate.store.convert import article_from_row, article_row, chunks
from syndicate.store.schema import articles
from syndicate.store.sqlite_direct import SOURCE_ARTICLE_COUNT

NEWEST_FIRST = (articles.c.published.desc(), articles.c.guid)
_STORE_KEPT = {"id", "first_seen", "updated", "changed_seq"}
# Held for the rest of a write transaction on PostgreSQL: writers of articles take their
# change numbers one after another, so none commits a number below a mark a build has read.
_CHANGE_LOCK = 0x73796E9
_CONTENT_COLUMNS = tuple(c.name for c in articles.columns if c.name not in _STORE_KEPT)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What a merge needs to know of an article already stored."""

    guid: str
    content_hash: str
    status: ArticleStatus
    published: datetime
    updated: datetime | None = None


def stored_articles(conn: Connection, source: str, keys: Iterable[str]) -> dict[str, StoredArticle]:
    """key → the stored article, for those of these keys the source has."""
    found: dict[str, StoredArticle] = {}
    for part in chunks(sorted(set(keys))):
        query = select(
            articles.c.key,
            articles.c.guid,
            articles.c.content_hash,
            articles.c.status,
            articles.c.published,
            articles.c.updated,
        ).where(articles.c.source == source, articles.c.key.in_(part))
        for row in conn.execute(query):
            status = ArticleStatus(row.status)
            found[row.key] = StoredArticle(
                row.guid, row.content_hash, status, row.published, row.updated
            )
    return found


def taken_guids(conn: Connection, guids: Iterable[str]) -> set[str]:
    taken: set[str] = set()
    for part in chunks(sorted(set(guids))):
        taken.update(conn.scalars(select(articles.c.guid).where(articles.c.guid.in_(part))))
    return taken


def upsert_articles(
    conn: Connection, source: str, batch: Sequence[Article], now: datetime
) -> tuple[int, int]:
    """Insert the source's new articles (by key) and rewrite those whose content or status
    changed; a stored article keeps its guid. Returns (new, updated).

    ``updated`` is when the article's content last changed: a new article's is its published
    date (so a store rebuilt from the same files holds the same dates), a changed one's is
    ``now`` (never before its published date); a change of status alone keeps it."""
    _check_unique_keys(batch)
    existing = stored_articles(conn, source, (a.key for a in batch))
    fresh = [a for a in batch if a.key not in existing]
    changed = [
        replace(a, guid=old.guid, updated=_changed_at(old, a, now))
        for a in batch
        if (old := existing.get(a.key)) is not None
        and (old.content_hash != a.content_hash or old.status != a.status)
    ]
    seq = next_change(conn) if fresh or changed else 0
    if fresh:
        taken = taken_guids(conn, (a.guid for a in fresh))
        kept = {"first_seen": now, "changed_seq": seq}
        rows = [
            {**article_row(_unclash(a, source, taken)), **kept, "updated": a.published}
            for a in fresh
        ]
        conn.execute(insert(articles), rows)
    if changed:
        conn.execute(_update_by_key(), [_update_params(a, seq) for a in changed])
    return len(fresh), len(changed)


def next_change(conn: Connection) -> int:
    """The change number of this write: one past the highest stored. On SQLite the write
    transaction holds the database's lock; on PostgreSQL an advisory lock until it ends (a
    sequence would let a slower transaction commit a number below one already read)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_CHANGE_LOCK)))
    return int(conn.scalar(select(func.max(articles.c.changed_seq))) or 0) + 1


def _changed_at(old: StoredArticle, new: Article, now: datetime) -> datetime:
    if old.content_hash == new.content_hash and old.updated is not None:
        return old.updated
    return max(now, new.published)


def _unclash(article: Article, source: str, taken: set[str]) -> Article:
    """Articles of one title (two sources', or a feed's entries) would share a guid: each
    after the first gets one made from its source and key too."""
    if article.guid not in taken:
        taken.add(article.guid)
        return article
    guid = article_guid_in(article.guid, f"{source}/{article.key}")
    taken.add(guid)
    return replace(article, guid=guid)


def mark_removed(conn: Connection, source: str, keys: Sequence[str], now: datetime) -> int:
    """These articles of the source lost every file that made them; how many changed."""
    removed, seq = 0, next_change(conn) if keys else 0
    for part in chunks(sorted(set(keys))):
        result = conn.execute(
            update(articles)
            .where(
                articles.c.source == source,
                articles.c.key.in_(part),
                articles.c.status != ArticleStatus.REMOVED.value,
            )
            .values(status=ArticleStatus.REMOVED.value, updated=now, changed_seq=seq)
        )
        removed += result.rowcount
    return removed


def source_article_count(conn: Connection, source: str) -> int:
    """The source's articles that are not removed."""
    return int(conn.scalar(text(SOURCE_ARTICLE_COUNT), {"source": source}) or 0)


def visible(now: datetime) -> ColumnElement[bool]:
    """Articles a reader may see at ``now``: published (not draft or removed) and due."""
    return and_(
        articles.c.status == literal_column(f"'{ArticleStatus.PUBLISHED.value}'"),
        articles.c.published <= now,
    )


def unlisted(conn: Connection, now: datetime) -> list[Article]:
    """Drafts and scheduled articles (published, dated after ``now``), soonest first."""
    query = (
        select(articles)
        .where(
            or_(
                articles.c.status == ArticleStatus.DRAFT.value,
                and_(
                    articles.c.status == ArticleStatus.PUBLISHED.value,
                    articles.c.published > now,
                ),
            )
        )
        .order_by(articles.c.published, articles.c.guid)
    )
    return [article_from_row(row) for row in conn.execute(query)]


def came_due(conn: Connection, after: datetime, until: datetime) -> int:
    """Published articles whose date falls in (after, until]: scheduled, now due."""
    query = select(func.count()).where(
        articles.c.status == ArticleStatus.PUBLISHED.value,
        articles.c.published > after,
        articles.c.published <= until,
    )
    return int(conn.scalar(query) or 0)


def article_count(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(articles)) or 0)


def _check_unique_keys(batch: Sequence[Article]) -> None:
    seen: set[str] = set()
    for article in batch:
        if article.key in seen:
            raise ValueError(f"upsert_articles: key {article.key!r} given twice")
        seen.add(article.key)


def _update_by_key() -> Any:
    values: dict[str, Any] = {name: bindparam(f"b_{name}") for name in _CONTENT_COLUMNS}
    values["updated"] = bindparam("b_updated")
    values["changed_seq"] = bindparam("b_changed_seq")
    where = and_(
        articles.c.source == bindparam("b_where_source"), articles.c.key == bindparam("b_where_key")
    )
    return update(articles).where(where).values(values)


def _update_params(article: Article, seq: int) -> dict[str, Any]:
    params = {f"b_{name}": value for name, value in article_row(article).items()}
    return {
        **params,
        "b_updated": article.updated,
        "b_changed_seq": seq,
        "b_where_source": article.source,
        "b_where_key": article.key,
    }
