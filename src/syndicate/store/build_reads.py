"""What a feeds build reads: plain SQL, run through either of two connections.

- the stdlib ``sqlite3`` module's, read-only, for a SQLite store at the head revision:
  `syndicate feeds` then never imports SQLAlchemy (~0.2 s of its start), whether it builds
  or finds that nothing changed;
- a Store's SQLAlchemy connection (the Store's article reads are these), for PostgreSQL, the
  service, and a SQLite store that is missing, older or newer.

Both run the same SQL text and shape the rows the same way, as store.status_reads does.

The page reads: every write of an article takes a change number (``articles.next_change``);
a build keeps the highest it has seen (its ``Mark``) and next time reads only the rows past
it, and the published articles whose date the clock passed in between (scheduled ones that
came due).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from syndicate.models import Article, ArticleStatus
from syndicate.store.convert import chunks, enclosures_from_text, tags_from_text
from syndicate.store.moments import moment_value, stored_moment
from syndicate.store.sqlite_direct import Reads, in_list
from syndicate.store.sqlite_direct import read_only as sqlite_read_only

# store.articles.visible: published, and due at :now
VISIBLE = "status = 'published' AND published <= :now"
# store.schema.articles' columns an Article is made of, in _article's order
ARTICLE_COLUMNS = (
    "guid, slug, title, link, published, category, summary, content, author, source, tags,"
    " first_seen, updated, content_hash, key, status, enclosures"
)
NEWEST_FIRST = "ORDER BY published DESC, guid"  # store.articles.NEWEST_FIRST
# Both walk an index and stop (ix_articles_published_guid, ix_articles_category_published).
LATEST = f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE {VISIBLE} {NEWEST_FIRST} LIMIT :limit"
LATEST_IN = (
    f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE {VISIBLE} AND category = :category"
    f" {NEWEST_FIRST} LIMIT :limit"
)
BY_GUID = f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE guid IN ({{guids}})"
_COUNTED = " GROUP BY category ORDER BY category"
CATEGORIES_VISIBLE = f"SELECT category, count(*) FROM articles WHERE {VISIBLE}{_COUNTED}"
# of every published article, scheduled ones too
CATEGORIES = f"SELECT category, count(*) FROM articles WHERE status = 'published'{_COUNTED}"

# The highest change number stored and an article that holds it (Mark).
CHANGE_MARK = "SELECT changed_seq, guid FROM articles ORDER BY changed_seq DESC LIMIT 1"
HOLDS_MARK = "SELECT changed_seq FROM articles WHERE guid = :guid"
# Published articles dated in (:early, :late]: the clock made them visible (or, set back,
# hid them) between two builds.
CAME_DUE = "status = 'published' AND published > :early AND published <= :late"
ANY_CAME_DUE = f"SELECT 1 FROM articles WHERE {CAME_DUE} LIMIT 1"
# PageRow's columns. The stamp is made by the database, so no datetime is needed in Python;
# its text is opaque (compared only with what the same store gave an earlier build).
_PAGE_ROW = (
    "SELECT id, guid, link,"
    " content_hash || ' ' || CAST(updated AS VARCHAR) || ' ' || category,"
    f" ({VISIBLE}), category FROM articles WHERE "
)
EVERY_PAGE_ROW = _PAGE_ROW + f"{VISIBLE} ORDER BY id"
CHANGED_PAGE_ROWS = _PAGE_ROW + "changed_seq > :seq LIMIT :limit"
DUE_PAGE_ROWS = _PAGE_ROW + f"{CAME_DUE} LIMIT :limit"
# By link alone: with the visible test in the WHERE, SQLite walks the status index instead
# (every visible row, 0.1 s at 100,000 articles); a link has few rows.
PAGE_ROWS_BY_LINK = _PAGE_ROW + "link IN ({links}) ORDER BY id"


@dataclass(frozen=True, slots=True)
class Mark:
    """The highest change number stored, and an article that holds it (the check that a
    mark is this store's: a store rebuilt or swapped since does not have it)."""

    seq: int = 0
    guid: str = ""


@dataclass(frozen=True, slots=True)
class PageRow:
    """An article as its page depends on it: ``stamp`` changes whenever what the page shows
    may (its content hash, updated date, category); ``shown``: visible at the build's now;
    ``category``: whose feeds it may be in."""

    id: int
    guid: str
    link: str
    stamp: str
    shown: bool
    category: str


@dataclass(frozen=True, slots=True)
class PageChanges:
    """``rows``: the articles whose pages may have changed since ``held`` (``every``: all the
    visible ones, when there was no usable mark or too many changed); ``mark``: to hold for
    the next build."""

    mark: Mark
    rows: list[PageRow]
    every: bool


class ArticleSource(Protocol):
    """What a feeds build reads (a Store, or BuildReads over one connection)."""

    def latest_articles(
        self, limit: int, now: datetime, category: str | None = None
    ) -> list[Article]: ...

    def categories(self, now: datetime | None = None) -> list[tuple[str, int]]: ...

    def page_changes(
        self, now: datetime, held: Mark | None, since: datetime | None, limit: int
    ) -> PageChanges: ...

    def page_owners(self, links: Iterable[str], now: datetime) -> dict[str, PageRow]: ...

    def articles_by_guid(self, guids: Iterable[str]) -> list[Article]: ...


class BuildReads(Reads):
    """The reads of a feeds build, over one connection."""

    # --- articles ---------------------------------------------------------------------

    def latest_articles(
        self, limit: int, now: datetime, category: str | None = None
    ) -> list[Article]:
        """The articles visible at ``now`` (published, not draft or removed), newest first."""
        if category is None:
            rows = self._rows(LATEST, now=now, limit=limit)
        else:
            rows = self._rows(LATEST_IN, now=now, limit=limit, category=category)
        return [_article(row) for row in rows]

    def articles_by_guid(self, guids: Iterable[str]) -> list[Article]:
        found: list[Article] = []
        for part in chunks(sorted(set(guids))):
            names, params = in_list("g", part)
            found.extend(_article(row) for row in self._rows(BY_GUID.format(guids=names), **params))
        return found

    def categories(self, now: datetime | None = None) -> list[tuple[str, int]]:
        """Categories of the articles visible at ``now`` (None: of every published one,
        scheduled ones too), with their counts."""
        rows = self._rows(CATEGORIES) if now is None else self._rows(CATEGORIES_VISIBLE, now=now)
        return [(name, int(count)) for name, count in rows]

    # --- what changed since the last build --------------------------------------------

    def change_mark(self) -> Mark:
        """Read before the rows: a write committed in between is past the mark, read again."""
        rows = self._rows(CHANGE_MARK)
        return Mark() if not rows else Mark(int(rows[0][0]), str(rows[0][1]))

    def any_came_due(self, since: datetime, now: datetime) -> bool:
        return bool(self._rows(ANY_CAME_DUE, **came_due(since, now)))

    def holds_mark(self, mark: Mark, current: Mark) -> bool:
        """Whether this store, now at ``current``, has been written up to ``mark`` (its
        article still has it, or a later number)."""
        if mark.seq > current.seq:
            return False
        rows = self._rows(HOLDS_MARK, guid=mark.guid)
        return bool(rows) and int(rows[0][0]) >= mark.seq

    def every_page_row(self, now: datetime) -> list[PageRow]:
        """The visible articles, oldest stored first (the first of one link owns its page)."""
        return _page_rows(self._rows(EVERY_PAGE_ROW, now=now))

    def changed_page_rows(
        self, mark: Mark, since: datetime, now: datetime, limit: int
    ) -> list[PageRow] | None:
        """The articles written after ``mark``, and the published ones dated between
        ``since`` (the last build's now) and ``now`` (either way: a clock set back hides them
        again); None when there are more than ``limit``."""
        found: dict[int, PageRow] = {}
        changed = self._rows(CHANGED_PAGE_ROWS, now=now, seq=mark.seq, limit=limit + 1)
        due = self._rows(DUE_PAGE_ROWS, now=now, limit=limit + 1, **came_due(since, now))
        for rows in (changed, due):
            for row in _page_rows(rows):
                found[row.id] = row
            if len(found) > limit:
                return None
        return sorted(found.values(), key=lambda row: row.id)

    def page_changes(
        self, now: datetime, held: Mark | None, since: datetime | None, limit: int
    ) -> PageChanges:
        """The articles whose pages may have changed since the build that held ``held`` at
        ``since`` (every visible one without a mark of this store, or past ``limit``)."""
        mark = self.change_mark()
        if held is not None and since is not None and self.holds_mark(held, mark):
            rows = self.changed_page_rows(held, since, now, limit)
            if rows is not None:
                return PageChanges(mark, rows, every=False)
        return PageChanges(mark, self.every_page_row(now), every=True)

    def page_owners(self, links: Iterable[str], now: datetime) -> dict[str, PageRow]:
        """link → the visible article whose page it is (the first stored of that link)."""
        owners: dict[str, PageRow] = {}
        for part in chunks(sorted(set(links))):
            names, params = in_list("l", part)
            rows = self._rows(PAGE_ROWS_BY_LINK.format(links=names), now=now, **params)
            for row in _page_rows(rows):
                if row.shown:
                    owners.setdefault(row.link, row)
        return owners


def came_due(since: datetime, now: datetime) -> dict[str, datetime]:
    """CAME_DUE's parameters between two builds' nows, in either order."""
    early, late = sorted((since, now))
    return {"early": early, "late": late}


def _page_rows(rows: Iterable[tuple[Any, ...]]) -> list[PageRow]:
    return [
        PageRow(int(i), guid, link, stamp, bool(shown), category)
        for i, guid, link, stamp, shown, category in rows
    ]


def _article(row: tuple[Any, ...]) -> Article:
    (guid, slug, title, link, published, category, summary, content, author, source, tags,
     first_seen, updated, content_hash, key, status, enclosures) = row  # fmt: skip
    return Article(
        guid=guid,
        slug=slug,
        title=title,
        link=link,
        published=stored_moment(published),
        category=category,
        summary=summary,
        content=content,
        author=author,
        source=source,
        tags=tags_from_text(tags),
        first_seen=moment_value(first_seen),
        updated=moment_value(updated),
        content_hash=content_hash,
        key=key,
        status=ArticleStatus(status),
        enclosures=enclosures_from_text(enclosures),
    )


@contextmanager
def read_only(url: str) -> Iterator[BuildReads | None]:
    """The reads over a read-only sqlite3 connection, in one read transaction; None when
    the store is not a SQLite file at the head revision (the caller then opens a Store)."""
    with sqlite_read_only(url) as run:
        yield None if run is None else BuildReads(run, "sqlite")
