"""The Store's other article reads (a gather's writes are store.gather_writes', a feeds
build's reads store.build_reads')."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    func,
    literal_column,
    or_,
    select,
)

from syndicate.models import Article, ArticleStatus
from syndicate.store.convert import article_from_row
from syndicate.store.schema import articles

NEWEST_FIRST = (articles.c.published.desc(), articles.c.guid)


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
