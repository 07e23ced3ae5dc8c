"""One-off announcements (issue 10): an edition row without articles, and its message."""

from __future__ import annotations

import json

from sqlalchemy import ColumnElement, Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from syndicate.models import Announcement
from syndicate.store.schema import announcements, editions


def insert_announcement(conn: Connection, item: Announcement) -> None:
    conn.execute(
        insert(editions).values(week=item.key, created_at=item.created_at, subject=item.subject)
    )
    conn.execute(
        insert(announcements).values(
            week=item.key,
            preheader=item.preheader,
            body_html=item.html,
            body_text=item.text,
            categories=json.dumps(list(item.categories)),
            source_hash=item.source_hash,
        )
    )


def get_announcement(conn: Connection, key: str) -> Announcement | None:
    return _first(conn, editions.c.week == key)


def announcement_by_hash(conn: Connection, source_hash: str) -> Announcement | None:
    """The newest announcement made from a file with these bytes."""
    return _first(conn, announcements.c.source_hash == source_hash)


def _first(conn: Connection, where: ColumnElement[bool]) -> Announcement | None:
    query = (
        select(editions.c.subject, editions.c.created_at, announcements)
        .join(announcements, announcements.c.week == editions.c.week)
        .where(where)
        .order_by(editions.c.created_at.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    return Announcement(
        key=row.week,
        subject=row.subject,
        preheader=row.preheader,
        html=row.body_html,
        text=row.body_text,
        categories=tuple(json.loads(row.categories)),
        created_at=row.created_at,
        source_hash=row.source_hash,
    )


class AnnouncementQueries:
    """The Store's methods for the above (mixed into Store)."""

    _engine: Engine
    _writer: Engine

    def create_announcement(self, item: Announcement) -> Announcement:
        """Store it (edition and message in one transaction); if the key exists already,
        return the stored one (the caller compares ``source_hash``)."""
        try:
            with self._writer.begin() as conn:
                existing = get_announcement(conn, item.key)
                if existing is not None:
                    return existing
                insert_announcement(conn, item)
                return item
        except IntegrityError:
            raced = self.get_announcement(item.key)
            if raced is None:
                raise
            return raced

    def get_announcement(self, key: str) -> Announcement | None:
        with self._engine.connect() as conn:
            return get_announcement(conn, key)

    def announcement_by_hash(self, source_hash: str) -> Announcement | None:
        """The newest announcement made from a file with these bytes, any day."""
        with self._engine.connect() as conn:
            return announcement_by_hash(conn, source_hash)
