"""The database: the only place that speaks SQL.

``Store(url)`` opens SQLite or PostgreSQL from the URL alone, creates the schema on first
use, migrates an older one (store.migrate) and refuses a database written by a newer schema.
Every method is one transaction; ``transaction()`` gives a unit of work for several steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from syndicate.errors import StoreError
from syndicate.models import (
    Article,
    Edition,
    Subscriber,
    SubscriberStatus,
)
from syndicate.store import articles as _articles
from syndicate.store import editions as _editions
from syndicate.store import events as _events
from syndicate.store import feed_state as _feed_state
from syndicate.store import files as _files
from syndicate.store import jobs as _jobs
from syndicate.store import restore as _restore
from syndicate.store import site_state as _site_state
from syndicate.store import subscribers as _subscribers
from syndicate.store import web as _web
from syndicate.store.announcements import AnnouncementQueries  # issue 10
from syndicate.store.engine import SchemaVersionError, make_engine, where, writer
from syndicate.store.event_batch import EventBatchQueries  # issue 13
from syndicate.store.events import EventEffect, EventOutcome, WebhookEvent
from syndicate.store.feed_state import FeedState
from syndicate.store.jobs import JobOutcome, JobRun
from syndicate.store.ledger import SendStatus
from syndicate.store.links import LinkQueries  # issue 13
from syndicate.store.migrate import prepare_schema
from syndicate.store.recipients import VARIANT_SEPARATOR, variant_categories, variant_key
from syndicate.store.records import FileRecord, FileState
from syndicate.store.restore import ImportCounts
from syndicate.store.schema import SCHEMA_VERSION
from syndicate.store.senders import SenderQueries, SenderRow  # issue 10
from syndicate.store.sending import SendingQueries  # issue 14
from syndicate.store.subscribers import DuplicateSubscriber
from syndicate.store.unit import GatherCounts, UnitOfWork

if TYPE_CHECKING:  # the address checks (email_validator) load only where records are made
    from syndicate.subscriber_csv import SubscriberRecord

__all__ = [
    "SCHEMA_VERSION",
    "VARIANT_SEPARATOR",
    "DuplicateSubscriber",
    "EventEffect",
    "EventOutcome",
    "FeedState",
    "FileRecord",
    "FileState",
    "GatherCounts",
    "ImportCounts",
    "JobOutcome",
    "JobRun",
    "SchemaVersionError",
    "SendStatus",
    "SenderRow",
    "Store",
    "StoreError",
    "UnitOfWork",
    "WebhookEvent",
    "variant_categories",
    "variant_key",
]


class Store(LinkQueries, EventBatchQueries, SenderQueries, SendingQueries, AnnouncementQueries):
    def __init__(self, url: str) -> None:
        self._engine = make_engine(url)
        self._writer = writer(self._engine)
        try:
            prepare_schema(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for health checks and tests; queries belong in this package."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- gathering -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One unit of work: every step through it commits together, or none does. A
        database error becomes StoreError (one line); any exception rolls it all back."""
        try:
            with self._writer.begin() as conn:
                yield UnitOfWork(conn)
        except DBAPIError as exc:
            detail = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
            raise StoreError(f"{where(self._engine)}: {detail}") from exc

    def file_states(self, source: str) -> dict[str, FileState]:
        with self._engine.connect() as conn:
            return _files.file_states(conn, source)

    def last_gather(self) -> datetime | None:
        """When the last gather run finished, or None if none has."""
        with self._engine.connect() as conn:
            return _files.last_gather(conn)

    def last_gather_counts(self) -> dict[str, int]:
        """new, updated, unchanged, removed, failed: each source's newest run, added up."""
        with self._engine.connect() as conn:
            return _files.last_gather_counts(conn)

    def feed_state(self, source: str) -> FeedState | None:
        """What the last fetch of a feed source said; None before its first."""
        with self._engine.connect() as conn:
            return _feed_state.get_feed_state(conn, source)

    # --- articles ---------------------------------------------------------------------

    def upsert_articles(self, articles: Sequence[Article], now: datetime) -> tuple[int, int]:
        """(new, updated), in one transaction: each article by its source and key; a stored
        one is rewritten only when its content hash or status differs."""
        by_source: dict[str, list[Article]] = {}
        for article in articles:
            by_source.setdefault(article.source, []).append(article)
        new = updated = 0
        with self.transaction() as uow:
            for source, batch in by_source.items():
                added, changed = uow.upsert_articles(source, batch, now)
                new, updated = new + added, updated + changed
        return new, updated

    def latest_articles(
        self, limit: int, now: datetime, category: str | None = None
    ) -> list[Article]:
        """The articles visible at ``now`` (published, not draft or removed), newest first."""
        with self._engine.connect() as conn:
            return _articles.latest_articles(conn, limit, now, category)

    def page_stamps(self, now: datetime) -> list[tuple[str, str, str]]:
        """(guid, link, stamp) of the visible articles: what their pages depend on."""
        with self._engine.connect() as conn:
            return _articles.page_stamps(conn, now)

    def articles_by_guid(self, guids: Iterable[str]) -> list[Article]:
        with self._engine.connect() as conn:
            return _articles.articles_by_guid(conn, guids)

    def categories(self, now: datetime | None = None) -> list[tuple[str, int]]:
        """Categories of the articles visible at ``now`` (None: of every published one,
        scheduled ones too), with their counts."""
        with self._engine.connect() as conn:
            return _articles.categories(conn, now)

    def unlisted_articles(self, now: datetime) -> list[Article]:
        """Drafts and scheduled articles (dated after ``now``), soonest first."""
        with self._engine.connect() as conn:
            return _articles.unlisted(conn, now)

    def articles_came_due(self, after: datetime, until: datetime) -> int:
        """Published articles dated in (after, until]: scheduled ones that are due now."""
        with self._engine.connect() as conn:
            return _articles.came_due(conn, after, until)

    def article_count(self) -> int:
        with self._engine.connect() as conn:
            return _articles.article_count(conn)

    # --- editions ---------------------------------------------------------------------

    def get_edition(self, key: str) -> Edition | None:
        """The stored edition of ``key`` (``weekly:2026-W47``): frozen once its send began."""
        with self._engine.connect() as conn:
            return _editions.get_edition(conn, key)

    def period_articles(
        self, start: datetime, end: datetime, now: datetime, limit: int
    ) -> tuple[list[Article], int]:
        """The newest ``limit`` visible articles published in [start, end), and their total."""
        with self._engine.connect() as conn:
            return _editions.period_articles(conn, start, end, now, limit)

    def editions(self) -> list[tuple[str, datetime, int]]:
        """(key, created_at, article count) of the stored editions, newest first."""
        with self._engine.connect() as conn:
            return _editions.list_editions(conn)

    def archived_editions(self) -> list[tuple[str, datetime, int]]:
        """Like ``editions``, only those whose send has started (the web archive's list)."""
        with self._engine.connect() as conn:
            return _web.archived_editions(conn)

    # --- subscribers ------------------------------------------------------------------

    def add_subscriber(
        self,
        email: str,
        name: str,
        categories: Iterable[str],
        status: SubscriberStatus,
        now: datetime,
        cadence: str = "weekly",
    ) -> Subscriber:
        """Raises DuplicateSubscriber if the address (in any case) is known already."""
        try:
            with self._writer.begin() as conn:
                return _subscribers.add_subscriber(
                    conn, email, name, categories, status, now, cadence
                )
        except IntegrityError:
            if self.find_subscriber(email) is None:
                raise
            raise DuplicateSubscriber(email) from None

    def import_subscribers(
        self,
        rows: Sequence[tuple[str, str, frozenset[str]]],
        now: datetime,
        status: SubscriberStatus = SubscriberStatus.ACTIVE,
    ) -> tuple[int, int]:
        """(added, unchanged): addresses known already (in any case) are left as they are."""
        try:
            with self._writer.begin() as conn:
                return _subscribers.import_subscribers(conn, rows, status, now)
        except IntegrityError:
            # Another writer added one of these addresses meanwhile: the second pass sees it.
            with self._writer.begin() as conn:
                return _subscribers.import_subscribers(conn, rows, status, now)

    def restore_subscribers(
        self, records: Sequence[SubscriberRecord], now: datetime, *, reactivate: bool = False
    ) -> ImportCounts:
        """Import records without raising a status (see store/restore.py), in one transaction."""
        with self._writer.begin() as conn:
            return _restore.restore_subscribers(conn, records, now, reactivate)

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        with self._engine.connect() as conn:
            return _subscribers.get_subscriber(conn, subscriber_id)

    def find_subscriber(self, email: str) -> Subscriber | None:
        """By address, case-insensitively."""
        with self._engine.connect() as conn:
            return _subscribers.find_subscriber(conn, email)

    def list_subscribers(self, status: SubscriberStatus | None = None) -> Iterator[Subscriber]:
        """Streamed by id; the connection is held until the iteration ends."""
        with self._engine.connect() as conn:
            yield from _subscribers.list_subscribers(conn, status)

    def set_status(self, subscriber_id: int, status: SubscriberStatus, now: datetime) -> bool:
        """False if there is no such subscriber. Becoming active sets confirmed_at once."""
        with self._writer.begin() as conn:
            return _subscribers.set_status(conn, subscriber_id, status, now)

    def set_categories(self, subscriber_id: int, categories: Iterable[str], now: datetime) -> bool:
        """Replace the preferences (empty = every category); False if no such subscriber."""
        with self._writer.begin() as conn:
            return _subscribers.set_categories(conn, subscriber_id, categories, now)

    def set_cadence(self, subscriber_id: int, cadence: str, now: datetime) -> bool:
        with self._writer.begin() as conn:
            return _subscribers.set_cadence(conn, subscriber_id, cadence, now)

    def set_choices(
        self, subscriber_id: int, categories: Iterable[str], cadence: str | None, now: datetime
    ) -> bool:
        """A reader's categories and (unless None) cadence, in one transaction."""
        with self._writer.begin() as conn:
            found = _subscribers.set_categories(conn, subscriber_id, categories, now)
            if found and cadence is not None:
                _subscribers.set_cadence(conn, subscriber_id, cadence, now)
            return found

    def remove_subscriber(self, email: str) -> bool:
        """Delete the subscriber and preferences; their ledger rows keep address and name."""
        with self._writer.begin() as conn:
            return _subscribers.remove_subscriber(conn, email)

    def subscriber_counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            return _subscribers.subscriber_counts(conn)

    # --- the site's life ----------------------------------------------------------------

    def first_run(self) -> datetime | None:
        """When `syndicate run` first started on this database, if it has."""
        with self._engine.connect() as conn:
            return _site_state.get_moment(conn, _site_state.FIRST_RUN)

    def record_first_run(self, now: datetime) -> datetime:
        """Record ``now`` as the first start unless one is recorded; the first start."""
        try:
            with self._writer.begin() as conn:
                return _site_state.set_moment_once(conn, _site_state.FIRST_RUN, now)
        except IntegrityError:  # another instance recorded it at the same moment
            recorded = self.first_run()
            assert recorded is not None
            return recorded

    # --- the job log of `syndicate run` -----------------------------------------------

    def record_job_run(self, run: JobRun) -> None:
        with self._writer.begin() as conn:
            _jobs.record_job_run(conn, run)

    def last_job_runs(self, limit: int) -> list[JobRun]:
        """The newest runs of every job, newest first."""
        with self._engine.connect() as conn:
            return _jobs.last_job_runs(conn, limit)

    def last_success(self, job: str) -> JobRun | None:
        """The newest run of ``job`` whose outcome was ok."""
        with self._engine.connect() as conn:
            return _jobs.last_success(conn, job)

    # --- provider events (the SendGrid Event Webhook, the bounce mailbox) --------------

    def soft_bounces_in_a_row(self, email: str) -> int:
        """The address's soft bounces since its last delivery or hard bounce."""
        with self._engine.connect() as conn:
            return _events.soft_bounces_in_a_row(conn, email)

    def delivery_address(self, delivery_id: int, week: str) -> str | None:
        """The address of a ledger row (a bounce report may not name it)."""
        with self._engine.connect() as conn:
            return _events.delivery_address(conn, delivery_id, week)

    def record_event(self, event: WebhookEvent, effect: EventEffect, now: datetime) -> EventOutcome:
        """Record the event and apply its effect, in one transaction, unless its id was
        recorded before (then nothing happens and ``new`` is False)."""
        with self._writer.begin() as conn:
            return _events.record_event(conn, event, effect, now)

    def settle_uncertain(self, delivery_id: int, week: str, now: datetime) -> bool:
        """The ledger row of this id and week becomes sent if it is uncertain."""
        with self._writer.begin() as conn:
            return _events.settle_uncertain(conn, delivery_id, week, now)

    def set_status_by_email(
        self,
        email: str,
        status: SubscriberStatus,
        now: datetime,
        replaces: Iterable[SubscriberStatus] = frozenset(SubscriberStatus),
    ) -> bool:
        """The subscriber of this address (any case) gets ``status`` if their current one is
        in ``replaces``; False if no subscriber changed."""
        with self._writer.begin() as conn:
            return _events.set_status_by_email(conn, email, status, frozenset(replaces), now)

    def webhook_events(self, limit: int = 100) -> list[tuple[WebhookEvent, str, datetime]]:
        """The newest recorded events: (event, action taken, received at)."""
        with self._engine.connect() as conn:
            return _events.list_events(conn, limit)
