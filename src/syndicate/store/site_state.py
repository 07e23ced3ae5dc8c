"""Facts about the site's life, one moment each (e.g. its first `syndicate run`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from syndicate.store.schema import site_state

FIRST_RUN = "first_run"


def get_moment(conn: Connection, name: str) -> datetime | None:
    found: datetime | None = conn.scalar(select(site_state.c.at).where(site_state.c.name == name))
    return found


def set_moment_once(conn: Connection, name: str, at: datetime) -> datetime:
    """``at`` unless a moment of that name is recorded already; the recorded one."""
    recorded = get_moment(conn, name)
    if recorded is not None:
        return recorded
    conn.execute(insert(site_state).values(name=name, at=at))
    return at
