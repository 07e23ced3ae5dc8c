"""Digest editions: the articles of a period, and what each edition held once frozen.

An edition is computed from its period until its send starts; ``insert_edition`` then writes
what it holds, in the same transaction as its recipients (see ``recipients``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, delete, exists, func, insert, select

from syndicate.models import Article, Cadence, Edition
from syndicate.store.articles import NEWEST_FIRST, visible
from syndicate.store.convert import article_from_row, chunks
from syndicate.store.schema import articles, edition_articles, edition_sends, editions


def get_edition(conn: Connection, key: str) -> Edition | None:
    """The stored edition of ``key`` (frozen if its send started), or None."""
    head = conn.execute(select(editions).where(editions.c.week == key)).first()
    if head is None:
        return None
    query = (
        select(articles)
        .join(edition_articles, edition_articles.c.guid == articles.c.guid)
        .where(edition_articles.c.week == key)
        .order_by(edition_articles.c.position)
    )
    items = tuple(article_from_row(row) for row in conn.execute(query))
    started = conn.scalar(select(edition_sends.c.week).where(edition_sends.c.week == key))
    return Edition(
        key=key,
        cadence=cast(Cadence, head.cadence),
        period=head.period or key.partition(":")[2],
        created_at=head.created_at,
        articles=items,
        subject=head.subject,
        more=head.more,
        note=head.note,
        frozen=started is not None,
    )


def period_articles(
    conn: Connection, start: datetime, end: datetime, now: datetime, limit: int
) -> tuple[list[Article], int]:
    """The newest ``limit`` articles published in [start, end) that a reader may see at
    ``now`` (due, not drafts, not removed), and how many there are in all."""
    where = (articles.c.published >= start, articles.c.published < end, visible(now))
    query = select(articles).where(*where).order_by(*NEWEST_FIRST).limit(limit)
    found = [article_from_row(row) for row in conn.execute(query)]
    total = len(found)
    if total == limit:
        total = conn.scalar(select(func.count()).select_from(articles).where(*where)) or 0
    return found, total


def insert_edition(
    conn: Connection,
    edition: Edition,
    guids: Sequence[str] | None = None,
    *,
    replace_unsent: bool = True,
) -> None:
    """Write the edition as it is now (its articles, or ``guids`` in that order). With
    ``replace_unsent``, a row of the same key whose send has not started (a prepared edition
    of older code) is replaced; a started one never is (its ledger rows point at it, so a
    racing writer fails on the foreign key). The caller's transaction fails on the key's
    unique constraint if another writer got there first."""
    if guids is None:
        guids = [article.guid for article in edition.articles]
    _check_guids(conn, edition.key, guids)
    if replace_unsent:
        _delete_unsent(conn, edition.key)
    conn.execute(
        insert(editions).values(
            week=edition.key,
            created_at=edition.created_at,
            subject=edition.subject,
            cadence=edition.cadence,
            period=edition.period,
            more=edition.more,
            note=edition.note,
        )
    )
    if guids:
        rows = [{"week": edition.key, "guid": g, "position": i} for i, g in enumerate(guids)]
        conn.execute(insert(edition_articles), rows)


def _delete_unsent(conn: Connection, key: str) -> None:
    started = exists().where(edition_sends.c.week == key)
    unsent = conn.scalar(select(editions.c.week).where(editions.c.week == key, ~started))
    if unsent is not None:
        conn.execute(delete(edition_articles).where(edition_articles.c.week == key))
        conn.execute(delete(editions).where(editions.c.week == key))


def list_editions(conn: Connection) -> list[tuple[str, datetime, int]]:
    """(key, created_at, article count) of the stored editions, newest first."""
    query = (
        select(editions.c.week, editions.c.created_at, func.count(edition_articles.c.guid))
        .select_from(editions.outerjoin(edition_articles))
        .group_by(editions.c.week, editions.c.created_at)
        .order_by(editions.c.created_at.desc(), editions.c.week)
    )
    return [(key, created_at, count) for key, created_at, count in conn.execute(query)]


def _check_guids(conn: Connection, key: str, guids: Sequence[str]) -> None:
    if len(set(guids)) != len(guids):
        raise ValueError(f"edition {key}: an article guid is given twice")
    known: set[str] = set()
    for part in chunks(guids):
        known.update(conn.scalars(select(articles.c.guid).where(articles.c.guid.in_(part))))
    missing = [g for g in guids if g not in known]
    if missing:
        raise ValueError(f"edition {key}: unknown article guid {missing[0]!r}")
