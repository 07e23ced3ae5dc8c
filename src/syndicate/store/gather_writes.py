"""A unit of work: the steps of a gather on one connection, committed together or not at all.

Plain SQL, run through either of two connections in one write transaction: a Store's
SQLAlchemy one (``Store.transaction()``), or, for a SQLite store at the head revision, the
stdlib ``sqlite3`` module's (store.sqlite_gather), so that `syndicate gather` after
an edit never imports SQLAlchemy. Both run the same SQL text; none of these steps commits.
A gather of one source (file records, observations, merged articles, the run's counts) is
written through one of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from syndicate.content import article_guid_in
from syndicate.models import Article, ArticleStatus, Observation
from syndicate.store.convert import (
    CHUNK,
    article_row,
    chunks,
    observation_from_row,
    observation_row,
)
from syndicate.store.feed_state import VALIDATOR_MAX, FeedState
from syndicate.store.moments import moment_value, stored_moment
from syndicate.store.records import FileRecord, FileState
from syndicate.store.sqlite_direct import Run, Sql, bound, in_list

GatherCounts = tuple[int, int, int, int, int]  # new, updated, unchanged, removed, failed


def _insert(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join(f':{c}' for c in columns)})"


# --- files and observations ---------------------------------------------------------------

# A source's files as its last gather left them (store.records.FileState's fields).
FILE_STATES = "SELECT path, size, mtime_ns, sha256, error FROM files WHERE source = :source"
SOURCE_ARTICLE_COUNT = (
    "SELECT count(*) FROM articles WHERE source = :source AND status != 'removed'"
)
GATHER_COUNTS = ("new", "updated", "unchanged", "removed", "failed")  # GatherCounts' order
RECORD_GATHER_RUN = _insert("gather_runs", ("source", "started", "finished", *GATHER_COUNTS))

_FILE_COLUMNS = ("source", "path", "size", "mtime_ns", "sha256", "error", "gathered_at")
INSERT_FILE = _insert("files", _FILE_COLUMNS)
TOUCH_FILE = (
    "UPDATE files SET size = :size, mtime_ns = :mtime_ns WHERE source = :source AND path = :path"
)
_OBSERVED = (
    "slug", "kind", "title", "published", "category", "summary", "content", "author", "link",
    "tags", "key", "draft", "enclosures",
)  # fmt: skip
INSERT_OBSERVATION = _insert("observations", ("source", "path", "position", *_OBSERVED))
_OBSERVATIONS = f"SELECT id, source, path, position, {', '.join(_OBSERVED)} FROM observations"
OBSERVATIONS_NAMED = (
    _OBSERVATIONS + " WHERE source = :source AND (key IN ({in_}) OR slug IN ({in_}))"
)
OBSERVATIONS_TITLED = _OBSERVATIONS + " WHERE source IN ({sources}) AND slug IN ({slugs})"
NAMES_OF = "SELECT slug, key FROM observations WHERE source = :source AND path IN ({paths})"
DELETE_OBSERVATIONS = "DELETE FROM observations WHERE source = :source AND path IN ({paths})"
DELETE_FILES = "DELETE FROM files WHERE source = :source AND path IN ({paths})"

# --- articles -----------------------------------------------------------------------------

STORED_ARTICLES = (
    "SELECT key, guid, content_hash, status, published, updated FROM articles"
    " WHERE source = :source AND key IN ({keys})"
)
TAKEN_GUIDS = "SELECT guid FROM articles WHERE guid IN ({guids})"
_CONTENT = (  # convert.article_row's
    "guid", "slug", "title", "link", "published", "category", "summary", "content", "author",
    "source", "tags", "content_hash", "key", "status", "enclosures",
)  # fmt: skip
INSERT_ARTICLE = _insert("articles", (*_CONTENT, "first_seen", "updated", "changed_seq"))
_SET = ", ".join(f"{c} = :{c}" for c in (*_CONTENT, "updated", "changed_seq"))
UPDATE_ARTICLE = f"UPDATE articles SET {_SET} WHERE source = :source AND key = :key"
HIGHEST_CHANGE = "SELECT max(changed_seq) FROM articles"
# Held for the rest of a write transaction on PostgreSQL: writers of articles take their
# change numbers one after another, so none commits a number below a mark a build has read.
CHANGE_LOCK = "SELECT pg_advisory_xact_lock(1937337065)"  # 0x73796E9
MARK_REMOVED = (
    "UPDATE articles SET status = 'removed', updated = :now, changed_seq = :seq"
    " WHERE source = :source AND status != 'removed' AND key IN ({keys}) RETURNING id"
)

# --- feed sources' fetch state ------------------------------------------------------------

_FEED_STATE = (
    "source", "url", "etag", "last_modified", "sha256", "fetched_at", "checked_at", "error"
)  # fmt: skip
FEED_STATE = f"SELECT {', '.join(_FEED_STATE)} FROM feed_state WHERE source = :source"
DELETE_FEED_STATE = "DELETE FROM feed_state WHERE source = :source"
INSERT_FEED_STATE = _insert("feed_state", _FEED_STATE)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What a merge needs to know of an article already stored."""

    guid: str
    content_hash: str
    status: ArticleStatus
    published: datetime
    updated: datetime | None = None


def file_states_of(run: Run, source: str) -> dict[str, FileState]:
    """The source's files as its last gather left them, by path."""
    return {row[0]: FileState(*row) for row in run(FILE_STATES, {"source": source})}


def feed_state_of(run: Run, source: str) -> FeedState | None:
    rows = run(FEED_STATE, {"source": source})
    if not rows:
        return None
    source, url, etag, modified, sha256, fetched, checked, error = rows[0]
    checked_at = moment_value(checked)
    assert checked_at is not None  # a NOT NULL column
    return FeedState(source, url, etag, modified, sha256, moment_value(fetched), checked_at, error)


class UnitOfWork:
    """The steps of a gather, over one connection in one write transaction."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    def _rows(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        return self._sql.run(sql, bound(params, self._sql.dialect))

    def _many(self, sql: str, rows: Iterable[Mapping[str, object]]) -> None:
        given = [bound(row, self._sql.dialect) for row in rows]
        if given:
            self._sql.many(sql, given)

    # --- what was read before -------------------------------------------------------------

    def file_states(self, source: str) -> dict[str, FileState]:
        return file_states_of(self._sql.run, source)

    def save_files(
        self, source: str, records: Sequence[FileRecord], removed: Sequence[str], now: datetime
    ) -> set[str]:
        """Replace these files' rows and observations and drop the removed ones; the keys
        and title slugs of every observation replaced or written."""
        paths = [r.path for r in records]
        duplicated = _first_duplicate([*paths, *removed])
        if duplicated is not None:
            raise ValueError(f"save_files: path {duplicated!r} given twice")
        affected: set[str] = set()
        for part in chunks([*paths, *removed]):
            in_, params = in_list("p", part)
            for slug, key in self._rows(NAMES_OF.format(paths=in_), source=source, **params):
                affected.update((slug, key))
            self._rows(DELETE_OBSERVATIONS.format(paths=in_), source=source, **params)
            self._rows(DELETE_FILES.format(paths=in_), source=source, **params)
        self._many(INSERT_FILE, (_file_row(source, r, now) for r in records))
        self._many(
            INSERT_OBSERVATION,
            (
                observation_row(source, r.path, position, obs)
                for r in records
                for position, obs in enumerate(r.observations)
            ),
        )
        affected.update(obs.slug for r in records for obs in r.observations)
        affected.update(obs.key for r in records for obs in r.observations)
        return affected

    def touch_files(self, source: str, seen: Sequence[tuple[str, int, int]]) -> None:
        """(path, size, mtime_ns) of files whose content hash is unchanged."""
        self._many(
            TOUCH_FILE,
            ({"source": source, "path": p, "size": s, "mtime_ns": m} for p, s, m in seen),
        )

    def feed_state(self, source: str) -> FeedState | None:
        return feed_state_of(self._sql.run, source)

    def save_feed_state(self, state: FeedState) -> None:
        self._rows(DELETE_FEED_STATE, source=state.source)
        etag = state.etag if len(state.etag) <= VALIDATOR_MAX else ""
        modified = state.last_modified if len(state.last_modified) <= VALIDATOR_MAX else ""
        values = (state.source, state.url, etag, modified, state.sha256, state.fetched_at,
                  state.checked_at, state.error)  # fmt: skip
        self._rows(INSERT_FEED_STATE, **dict(zip(_FEED_STATE, values, strict=True)))

    # --- observations -> articles -----------------------------------------------------------

    def observations_named(
        self, source: str, names: Iterable[str]
    ) -> list[tuple[str, Observation]]:
        """(path, observation): every observation of the source a merge of the articles
        keyed or titled by ``names`` involves: those whose key or title slug is one of them,
        those that share a key or slug with one of those, and so on. In (path, position)
        order."""
        wanted, asked = set(names), set[str]()
        found: dict[int, tuple[str, int, Observation]] = {}
        while todo := sorted(wanted - asked):
            asked.update(todo)
            for batch in chunks(todo, CHUNK // 2):
                in_, params = in_list("n", batch)
                query = OBSERVATIONS_NAMED.format(in_=in_)
                for row in self._rows(query, source=source, **params):
                    if row[0] not in found:
                        obs = _observation(row)
                        found[row[0]] = (row[2], row[3], obs)
                        wanted.update((obs.slug, obs.key))
        ordered = sorted(found.values(), key=lambda item: (item[0], item[1]))
        return [(path, obs) for path, _, obs in ordered]

    def observations_titled(
        self, sources: Sequence[str], slugs: Iterable[str]
    ) -> list[tuple[str, Observation]]:
        """(source, observation) of these sources' observations with one of these slugs."""
        found: list[tuple[str, str, int, Observation]] = []
        if not sources:
            return []
        in_sources, source_params = in_list("s", sorted(set(sources)))
        for batch in chunks(sorted(set(slugs)), CHUNK - len(source_params)):
            in_slugs, params = in_list("t", batch)
            query = OBSERVATIONS_TITLED.format(sources=in_sources, slugs=in_slugs)
            for row in self._rows(query, **source_params, **params):
                found.append((row[1], row[2], row[3], _observation(row)))
        found.sort(key=lambda item: item[:3])
        return [(source, obs) for source, _, _, obs in found]

    def stored_articles(self, source: str, keys: Iterable[str]) -> dict[str, StoredArticle]:
        """key → the stored article, for those of these keys the source has."""
        found: dict[str, StoredArticle] = {}
        for part in chunks(sorted(set(keys))):
            in_, params = in_list("k", part)
            for key, guid, content_hash, status, published, updated in self._rows(
                STORED_ARTICLES.format(keys=in_), source=source, **params
            ):
                found[key] = StoredArticle(
                    guid, content_hash, ArticleStatus(status), stored_moment(published),
                    moment_value(updated),
                )  # fmt: skip
        return found

    def upsert_articles(
        self, source: str, batch: Sequence[Article], now: datetime
    ) -> tuple[int, int]:
        """Insert the source's new articles (by key) and rewrite those whose content or
        status changed; a stored article keeps its guid. Returns (new, updated).

        ``updated`` is when the article's content last changed: a new article's is its
        published date (so a store rebuilt from the same files holds the same dates), a
        changed one's is ``now`` (never before its published date); a change of status
        alone keeps it."""
        _check_unique_keys(batch)
        existing = self.stored_articles(source, (a.key for a in batch))
        fresh = [a for a in batch if a.key not in existing]
        changed = [
            replace(a, guid=old.guid, updated=_changed_at(old, a, now))
            for a in batch
            if (old := existing.get(a.key)) is not None
            and (old.content_hash != a.content_hash or old.status != a.status)
        ]
        seq = self.next_change() if fresh or changed else 0
        if fresh:
            taken = self._taken_guids(a.guid for a in fresh)
            kept = {"first_seen": now, "changed_seq": seq}
            self._many(
                INSERT_ARTICLE,
                (
                    {**article_row(_unclash(a, source, taken)), **kept, "updated": a.published}
                    for a in fresh
                ),
            )
        self._many(
            UPDATE_ARTICLE,
            ({**article_row(a), "updated": a.updated, "changed_seq": seq} for a in changed),
        )
        return len(fresh), len(changed)

    def next_change(self) -> int:
        """The change number of this write: one past the highest stored. On SQLite the
        write transaction holds the database's lock; on PostgreSQL an advisory lock until it
        ends (a sequence would let a slower transaction commit a number below one already
        read)."""
        if self._sql.dialect == "postgresql":
            self._rows(CHANGE_LOCK)
        return int(self._rows(HIGHEST_CHANGE)[0][0] or 0) + 1

    def _taken_guids(self, guids: Iterable[str]) -> set[str]:
        taken: set[str] = set()
        for part in chunks(sorted(set(guids))):
            in_, params = in_list("g", part)
            taken.update(row[0] for row in self._rows(TAKEN_GUIDS.format(guids=in_), **params))
        return taken

    def mark_removed(self, source: str, keys: Sequence[str], now: datetime) -> int:
        """These articles of the source lost every file that made them; how many changed."""
        removed, seq = 0, self.next_change() if keys else 0
        for part in chunks(sorted(set(keys))):
            in_, params = in_list("k", part)
            query = MARK_REMOVED.format(keys=in_)
            removed += len(self._rows(query, source=source, now=now, seq=seq, **params))
        return removed

    def source_article_count(self, source: str) -> int:
        """The source's articles that are not removed."""
        return int(self._rows(SOURCE_ARTICLE_COUNT, source=source)[0][0] or 0)

    def record_gather_run(
        self, source: str, started: datetime, finished: datetime, counts: GatherCounts
    ) -> None:
        runs = dict(zip(GATHER_COUNTS, counts, strict=True))
        self._rows(RECORD_GATHER_RUN, source=source, started=started, finished=finished, **runs)


def _observation(row: tuple[Any, ...]) -> Observation:
    values = dict(zip(_OBSERVED, row[4:], strict=True))
    values["published"] = stored_moment(values["published"])
    return observation_from_row(values)


def _file_row(source: str, record: FileRecord, now: datetime) -> dict[str, object]:
    return {
        "source": source,
        "path": record.path,
        "size": record.size,
        "mtime_ns": record.mtime_ns,
        "sha256": record.sha256,
        "error": record.error,
        "gathered_at": now,
    }


def _changed_at(old: StoredArticle, new: Article, now: datetime) -> datetime:
    if old.content_hash == new.content_hash and old.updated is not None:
        return old.updated
    return max(now, new.published)


def _unclash(article: Article, source: str, taken: set[str]) -> Article:
    """Articles of one title (two sources', or a feed's entries) would share a guid: each
    after the first gets one made from its source and key too."""
    if article.guid not in taken:
        taken.add(article.guid)
        return article
    guid = article_guid_in(article.guid, f"{source}/{article.key}")
    taken.add(guid)
    return replace(article, guid=guid)


def _check_unique_keys(batch: Sequence[Article]) -> None:
    seen: set[str] = set()
    for article in batch:
        if article.key in seen:
            raise ValueError(f"upsert_articles: key {article.key!r} given twice")
        seen.add(article.key)


def _first_duplicate(items: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None
