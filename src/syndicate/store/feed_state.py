"""Feed sources' fetch state: one row per source (the entries themselves are file rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from syndicate.store.schema import feed_state

VALIDATOR_MAX = 1000  # an ETag / Last-Modified longer than this is not kept


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the last fetch of a feed source said. ``etag`` and ``last_modified`` are "" when
    the server sent none; ``sha256`` is of the last body parsed ("" when none was)."""

    source: str
    url: str
    etag: str
    last_modified: str
    sha256: str
    fetched_at: datetime | None
    checked_at: datetime
    error: str | None = None


def get_feed_state(conn: Connection, source: str) -> FeedState | None:
    row = conn.execute(select(feed_state).where(feed_state.c.source == source)).first()
    if row is None:
        return None
    return FeedState(
        row.source,
        row.url,
        row.etag,
        row.last_modified,
        row.sha256,
        row.fetched_at,
        row.checked_at,
        row.error,
    )


def save_feed_state(conn: Connection, state: FeedState) -> None:
    conn.execute(delete(feed_state).where(feed_state.c.source == state.source))
    conn.execute(
        insert(feed_state).values(
            source=state.source,
            url=state.url,
            etag=state.etag if len(state.etag) <= VALIDATOR_MAX else "",
            last_modified=state.last_modified if len(state.last_modified) <= VALIDATOR_MAX else "",
            sha256=state.sha256,
            fetched_at=state.fetched_at,
            checked_at=state.checked_at,
            error=state.error,
        )
    )
