"""Gathering's bookkeeping read by the Store: the last gather runs (the gather's writes are
store.gather_writes')."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from syndicate.store.gather_writes import GATHER_COUNTS
from syndicate.store.schema import gather_runs


def last_gather_counts(conn: Connection) -> dict[str, int]:
    """The counts of each source's newest gather run, added up (the numbers of the last
    gather summary line)."""
    newest = (
        select(gather_runs.c.source, func.max(gather_runs.c.id).label("id"))
        .group_by(gather_runs.c.source)
        .subquery()
    )
    columns = [func.coalesce(func.sum(gather_runs.c[name]), 0) for name in GATHER_COUNTS]
    row = conn.execute(
        select(*columns).select_from(gather_runs.join(newest, newest.c.id == gather_runs.c.id))
    ).one()
    return {name: int(value) for name, value in zip(GATHER_COUNTS, row, strict=True)}


def last_gather(conn: Connection) -> datetime | None:
    finished: datetime | None = conn.scalar(select(func.max(gather_runs.c.finished)))
    return finished
