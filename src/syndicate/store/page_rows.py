"""What the article pages depend on, read by what changed since the last build.

Every write of an article takes a change number (``articles.next_change``); a build keeps
the highest it has seen (its ``Mark``) and next time reads only the rows past it, and the
published articles whose date the clock passed in between (scheduled ones that came due).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, String, cast, select, text

from syndicate.store.articles import visible
from syndicate.store.convert import chunks
from syndicate.store.schema import articles
from syndicate.store.sqlite_direct import (
    CAME_DUE,
    CHANGE_MARK,
    Mark,
    PageRow,
    came_due_params,
    mark_of,
)

__all__ = [  # Mark and PageRow live in store.sqlite_direct (no SQLAlchemy there)
    "Mark",
    "PageChanges",
    "PageRow",
    "change_mark",
    "changed_page_rows",
    "every_page_row",
    "holds_mark",
    "page_changes",
    "page_owners",
]


def _stamp() -> ColumnElement[str]:
    # Made by the database, so no datetime is needed in Python; its text is opaque.
    return (
        articles.c.content_hash + " " + cast(articles.c.updated, String) + " "
        + articles.c.category
    )  # fmt: skip


def _rows(now: datetime) -> Select[Any]:
    shown = visible(now).label("shown")
    columns = (articles.c.id, articles.c.guid, articles.c.link, _stamp(), shown)
    return select(*columns, articles.c.category)


def _read(conn: Connection, query: Select[Any]) -> list[PageRow]:
    return [
        PageRow(i, guid, link, mark, bool(shown), category)
        for i, guid, link, mark, shown, category in conn.execute(query)
    ]


def change_mark(conn: Connection) -> Mark:
    """Read before the rows: a write committed in between is past the mark, read again."""
    return mark_of([tuple(row) for row in conn.execute(text(CHANGE_MARK))])


def holds_mark(conn: Connection, mark: Mark) -> bool:
    """Whether this store has been written up to ``mark`` (its article still has it, or a
    later number)."""
    query = select(articles.c.changed_seq).where(articles.c.guid == mark.guid)
    seq = conn.scalar(query)
    return seq is not None and int(seq) >= mark.seq


def every_page_row(conn: Connection, now: datetime) -> list[PageRow]:
    """The visible articles, oldest stored first (the first of one link owns its page)."""
    return _read(conn, _rows(now).where(visible(now)).order_by(articles.c.id))


def changed_page_rows(
    conn: Connection, mark: Mark, since: datetime, now: datetime, limit: int
) -> list[PageRow] | None:
    """The articles written after ``mark``, and the published ones dated between ``since``
    (the last build's now) and ``now`` (either way: a clock set back hides them again);
    None when there are more than ``limit``."""
    due = text(CAME_DUE).bindparams(**came_due_params(since, now, conn.dialect.name))
    found: dict[int, PageRow] = {}
    for where in (articles.c.changed_seq > mark.seq, due):
        for row in _read(conn, _rows(now).where(where).limit(limit + 1)):
            found[row.id] = row
        if len(found) > limit:
            return None
    return sorted(found.values(), key=lambda row: row.id)


def page_owners(conn: Connection, links: Iterable[str], now: datetime) -> dict[str, PageRow]:
    """link → the first stored visible article with that link, for those that have one."""
    owners: dict[str, PageRow] = {}
    for part in chunks(sorted(set(links))):
        # By link alone: with visible() in the WHERE, SQLite walks the status index instead
        # (every visible row, 0.1 s at 100,000 articles); a link has few rows.
        query = _rows(now).where(articles.c.link.in_(part))
        for row in _read(conn, query.order_by(articles.c.id)):
            if row.shown:
                owners.setdefault(row.link, row)
    return owners


@dataclass(frozen=True, slots=True)
class PageChanges:
    """``rows``: the articles whose pages may have changed since ``held`` (``every``: all the
    visible ones, when there was no usable mark or too many changed); ``mark``: to hold for
    the next build."""

    mark: Mark
    rows: list[PageRow]
    every: bool


def page_changes(
    conn: Connection, now: datetime, held: Mark | None, since: datetime | None, limit: int
) -> PageChanges:
    mark = change_mark(conn)
    if held is not None and since is not None and held.seq <= mark.seq and holds_mark(conn, held):
        rows = changed_page_rows(conn, held, since, now, limit)
        if rows is not None:
            return PageChanges(mark, rows, every=False)
    return PageChanges(mark, every_page_row(conn, now), every=True)
