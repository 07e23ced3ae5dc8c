"""Digest editions: what each issue held, and what no issue has held yet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, exists, func, insert, select

from syndicate.models import Article, Edition
from syndicate.store.articles import NEWEST_FIRST, visible
from syndicate.store.convert import article_from_row, chunks
from syndicate.store.schema import articles, edition_articles, editions


def get_edition(conn: Connection, week: str) -> Edition | None:
    head = conn.execute(
        select(editions.c.created_at, editions.c.subject).where(editions.c.week == week)
    ).first()
    if head is None:
        return None
    query = (
        select(articles)
        .join(edition_articles, edition_articles.c.guid == articles.c.guid)
        .where(edition_articles.c.week == week)
        .order_by(edition_articles.c.position)
    )
    items = tuple(article_from_row(row) for row in conn.execute(query))
    return Edition(week=week, created_at=head.created_at, articles=items, subject=head.subject)


def edition_candidates(conn: Connection, before: datetime, limit: int) -> list[Article]:
    in_an_edition = exists().where(edition_articles.c.guid == articles.c.guid)
    query = (
        select(articles)
        .where(articles.c.published < before, visible(before), ~in_an_edition)
        .order_by(*NEWEST_FIRST)
        .limit(limit)
    )
    return [article_from_row(row) for row in conn.execute(query)]


def insert_edition(
    conn: Connection, week: str, created_at: datetime, subject: str, guids: Sequence[str]
) -> None:
    """Write a new edition; the caller's transaction fails on the week's unique key if
    another writer got there first."""
    _check_guids(conn, week, guids)
    conn.execute(insert(editions).values(week=week, created_at=created_at, subject=subject))
    if guids:
        rows = [{"week": week, "guid": g, "position": i} for i, g in enumerate(guids)]
        conn.execute(insert(edition_articles), rows)


def list_editions(conn: Connection) -> list[tuple[str, datetime, int]]:
    query = (
        select(editions.c.week, editions.c.created_at, func.count(edition_articles.c.guid))
        .select_from(editions.outerjoin(edition_articles))
        .group_by(editions.c.week, editions.c.created_at)
        .order_by(editions.c.week.desc())
    )
    return [(week, created_at, count) for week, created_at, count in conn.execute(query)]


def _check_guids(conn: Connection, week: str, guids: Sequence[str]) -> None:
    if len(set(guids)) != len(guids):
        raise ValueError(f"create_edition {week}: an article guid is given twice")
    known: set[str] = set()
    for part in chunks(guids):
        known.update(conn.scalars(select(articles.c.guid).where(articles.c.guid.in_(part))))
    missing = [g for g in guids if g not in known]
    if missing:
        raise ValueError(f"create_edition {week}: unknown article guid {missing[0]!r}")
