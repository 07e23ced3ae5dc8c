"""What `syndicate status` reads: plain SQL, run through either of two connections.

- the stdlib ``sqlite3`` module's, read-only (``file:…?mode=ro``), for a SQLite store at
  the head revision: the command then never imports SQLAlchemy (~0.25 s of its start);
- a Store's SQLAlchemy connection, for PostgreSQL and for a SQLite store that is missing,
  older or newer (opening the Store creates, migrates or refuses it, with its messages).

Both run the same SQL text and shape the rows the same way (no twin to drift apart);
tests/test_status_reads.py checks them against each other and against the Store's queries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.store.build_reads import CATEGORIES, VISIBLE
from syndicate.store.moments import moment_value, stored_moment
from syndicate.store.records import JobOutcome, JobRun, SendStatus
from syndicate.store.sqlite_direct import Reads
from syndicate.store.sqlite_direct import read_only as sqlite_read_only

LAST_GATHER = "SELECT max(finished) FROM gather_runs"
EDITIONS = (
    "SELECT editions.week, editions.created_at, count(edition_articles.guid) FROM editions"
    " LEFT OUTER JOIN edition_articles ON editions.week = edition_articles.week"
    " GROUP BY editions.week, editions.created_at"
    " ORDER BY editions.created_at DESC, editions.week LIMIT :limit"
)
SEND_STATUS = (
    "SELECT week, started_at, finished_at, paused_reason, pause_kind, paused_at, retries"
    " FROM edition_sends WHERE week = :week"
)
# One count per state in one pass, no GROUP BY: SQLite grouped by state through a temporary
# b-tree of every row of the week (a send counts as it starts and ends; at 150,000 rows the
# sort spilled to a temporary file, and it was 1.6 % of a million-row send's profile).
_STATES = tuple(s.value for s in DeliveryState)
DELIVERY_COUNTS = (
    "SELECT "
    + ", ".join(f"count(CASE WHEN state = '{state}' THEN 1 END)" for state in _STATES)
    + " FROM deliveries WHERE week = :week"
)


def delivery_counts_of(row: Sequence[Any]) -> dict[str, int]:
    """DELIVERY_COUNTS' one row as the week's ledger rows by state, every state present."""
    return dict(zip(_STATES, map(int, row), strict=True))


ARTICLE_COUNT = "SELECT count(*) FROM articles"
UNLISTED = (
    "SELECT status, title, source, published FROM articles"
    " WHERE status = 'draft' OR (status = 'published' AND published > :now)"
    " ORDER BY published, guid"
)
PERIOD_HAS_ARTICLES = (
    f"SELECT 1 FROM articles WHERE published >= :start AND published < :end AND {VISIBLE} LIMIT 1"
)
SUBSCRIBER_COUNTS = "SELECT status, count(*) FROM subscribers GROUP BY status"
_RUNS = "SELECT job, started, finished, outcome, detail, instance FROM job_runs"
_NEWEST_RUNS = " ORDER BY finished DESC, id DESC LIMIT :limit"
LAST_JOB_RUNS = _RUNS + _NEWEST_RUNS
LAST_SUCCESS = _RUNS + " WHERE job = :job AND outcome = 'ok'" + _NEWEST_RUNS
SITE_MOMENT = "SELECT at FROM site_state WHERE name = :name"

FIRST_RUN = "first_run"  # store.site_state.FIRST_RUN


class StatusReads(Reads):
    """The reads of `syndicate status`, over one connection."""

    def last_gather(self) -> datetime | None:
        """When the last gather run finished, or None if none has."""
        return moment_value(self._rows(LAST_GATHER)[0][0])

    def editions(self, limit: int) -> list[tuple[str, datetime, int]]:
        """(key, created_at, article count) of the newest ``limit`` stored editions."""
        rows = self._rows(EDITIONS, limit=limit)
        return [(week, stored_moment(created), int(count)) for week, created, count in rows]

    def send_status(self, week: str) -> SendStatus | None:
        rows = self._rows(SEND_STATUS, week=week)
        if not rows:
            return None
        week, started, finished, reason, kind, paused, retries = rows[0]
        return SendStatus(
            week,
            stored_moment(started),
            moment_value(finished),
            reason,
            kind,
            moment_value(paused),
            retries,
        )

    def delivery_counts(self, week: str) -> dict[str, int]:
        """The week's ledger rows by state; every state is present, zero or not."""
        return delivery_counts_of(self._rows(DELIVERY_COUNTS, week=week)[0])

    def article_count(self) -> int:
        return int(self._rows(ARTICLE_COUNT)[0][0])

    def categories(self) -> list[tuple[str, int]]:
        """The categories of the published articles (scheduled ones too), with their counts."""
        return [(name, int(n)) for name, n in self._rows(CATEGORIES)]

    def unlisted_articles(self, now: datetime) -> list[tuple[str, str, str, datetime]]:
        """(status, title, source, published) of the drafts and scheduled articles (dated
        after ``now``), soonest first."""
        rows = self._rows(UNLISTED, now=now)
        return [(status, title, source, stored_moment(at)) for status, title, source, at in rows]

    def period_has_articles(self, start: datetime, end: datetime, now: datetime) -> bool:
        """Whether an article visible at ``now`` is dated in [start, end)."""
        return bool(self._rows(PERIOD_HAS_ARTICLES, start=start, end=end, now=now))

    def subscriber_counts(self) -> dict[str, int]:
        """Subscribers by status; every status is present, zero or not."""
        counts = dict.fromkeys((s.value for s in SubscriberStatus), 0)
        counts.update((status, int(n)) for status, n in self._rows(SUBSCRIBER_COUNTS))
        return counts

    def last_job_runs(self, limit: int) -> list[JobRun]:
        """The newest runs of every job, newest first."""
        return [_job_run(row) for row in self._rows(LAST_JOB_RUNS, limit=limit)]

    def last_success(self, job: str) -> JobRun | None:
        """The newest run of ``job`` whose outcome was ok."""
        rows = self._rows(LAST_SUCCESS, job=job, limit=1)
        return _job_run(rows[0]) if rows else None

    def first_run(self) -> datetime | None:
        """When `syndicate run` first started on this database, if it has."""
        rows = self._rows(SITE_MOMENT, name=FIRST_RUN)
        return moment_value(rows[0][0]) if rows else None


def _job_run(row: tuple[Any, ...]) -> JobRun:
    job, started, finished, outcome, detail, instance = row
    return JobRun(
        job,
        stored_moment(started),
        stored_moment(finished),
        cast(JobOutcome, outcome),
        detail,
        instance,
    )


# --- the sqlite3 connection ---------------------------------------------------------------


@contextmanager
def read_only(url: str) -> Iterator[StatusReads | None]:
    """The reads over a read-only sqlite3 connection; None when the store is not a SQLite
    file at the head revision (the caller then opens a Store, which says what is wrong)."""
    with sqlite_read_only(url) as run:
        yield None if run is None else StatusReads(run, "sqlite")
