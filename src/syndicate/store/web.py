"""What the web front's archive reads: the editions whose send has started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from syndicate.store.schema import edition_articles, edition_sends, editions


def archived_editions(conn: Connection) -> list[tuple[str, datetime, int]]:
    """(week, created_at, article count) of every edition whose send has started, newest
    week first, in one query."""
    query = (
        select(editions.c.week, editions.c.created_at, func.count(edition_articles.c.guid))
        .select_from(
            editions.join(edition_sends, edition_sends.c.week == editions.c.week).outerjoin(
                edition_articles, edition_articles.c.week == editions.c.week
            )
        )
        .group_by(editions.c.week, editions.c.created_at)
        .order_by(editions.c.created_at.desc(), editions.c.week.desc())
    )
    return [(week, created_at, count) for week, created_at, count in conn.execute(query)]
