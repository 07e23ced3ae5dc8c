"""The database: the only place that speaks SQL.

``Store(url)`` opens SQLite or PostgreSQL from the URL alone, creates the schema on first
use, migrates an older one (store.migrate) and refuses a database written by a newer schema.
Every method is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from syndicate.models import (
    Article,
    Delivery,
    DeliveryState,
    Edition,
    Observation,
    Subscriber,
    SubscriberStatus,
)
from syndicate.store import articles as _articles
from syndicate.store import editions as _editions
from syndicate.store import events as _events
from syndicate.store import feed_state as _feed_state
from syndicate.store import files as _files
from syndicate.store import jobs as _jobs
from syndicate.store import ledger as _ledger
from syndicate.store import recipients as _recipients
from syndicate.store import subscribers as _subscribers
from syndicate.store import web as _web
from syndicate.store.engine import SchemaVersionError, StoreError, make_engine, writer
from syndicate.store.event_batch import EventBatchQueries  # issue 13
from syndicate.store.events import EventEffect, EventOutcome, WebhookEvent
from syndicate.store.feed_state import FeedState
from syndicate.store.jobs import JobOutcome, JobRun
from syndicate.store.ledger import SendStatus
from syndicate.store.links import LinkQueries  # issue 13
from syndicate.store.migrate import prepare_schema
from syndicate.store.recipients import VARIANT_SEPARATOR, variant_categories, variant_key
from syndicate.store.records import FileRecord, FileState
from syndicate.store.schema import SCHEMA_VERSION
from syndicate.store.subscribers import DuplicateSubscriber

__all__ = [
    "SCHEMA_VERSION",
    "VARIANT_SEPARATOR",
    "DuplicateSubscriber",
    "EventEffect",
    "EventOutcome",
    "FeedState",
    "FileRecord",
    "FileState",
    "JobOutcome",
    "JobRun",
    "SchemaVersionError",
    "SendStatus",
    "Store",
    "StoreError",
    "WebhookEvent",
    "variant_categories",
    "variant_key",
]


class Store(LinkQueries, EventBatchQueries):
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

    # --- gathering --------------------------------------------------------------------

    def file_states(self, source: str) -> dict[str, FileState]:
        with self._engine.connect() as conn:
            return _files.file_states(conn, source)

    def save_files(
        self,
        source: str,
        records: Sequence[FileRecord],
        removed: Sequence[str],
        now: datetime,
    ) -> set[str]:
        """Replace these files' rows and observations, drop the removed ones, all or nothing.

        Returns the slugs whose observations changed (before and after).
        """
        with self._writer.begin() as conn:
            return _files.save_files(conn, source, records, removed, now)

    def touch_files(self, source: str, seen: Sequence[tuple[str, int, int]]) -> None:
        """(path, size, mtime_ns) of files whose content hash is unchanged."""
        with self._writer.begin() as conn:
            _files.touch_files(conn, source, seen)

    def observations_for(self, slugs: Iterable[str]) -> dict[str, list[tuple[str, Observation]]]:
        """slug → [(source, observation)], in (source, path, position-in-file) order."""
        with self._engine.connect() as conn:
            return _files.observations_for(conn, slugs)

    def record_gather_run(
        self,
        source: str,
        started: datetime,
        finished: datetime,
        new: int,
        updated: int,
        unchanged: int,
        failed: int,
    ) -> None:
        counts = (new, updated, unchanged, failed)
        with self._writer.begin() as conn:
            _files.record_gather_run(conn, source, started, finished, counts)

    def last_gather(self) -> datetime | None:
        """When the last gather run finished, or None if none has."""
        with self._engine.connect() as conn:
            return _files.last_gather(conn)

    # --- feed sources -----------------------------------------------------------------

    def feed_state(self, source: str) -> FeedState | None:
        """What the last fetch of a feed source said; None before its first."""
        with self._engine.connect() as conn:
            return _feed_state.get_feed_state(conn, source)

    def save_feed_state(self, state: FeedState) -> None:
        """Replace the source's fetch state."""
        with self._writer.begin() as conn:
            _feed_state.save_feed_state(conn, state)

    # --- articles ---------------------------------------------------------------------

    def upsert_articles(self, articles: Sequence[Article], now: datetime) -> tuple[int, int]:
        """(new, updated); an existing slug is rewritten only when its content hash differs."""
        with self._writer.begin() as conn:
            return _articles.upsert_articles(conn, articles, now)

    def latest_articles(self, limit: int, category: str | None = None) -> list[Article]:
        with self._engine.connect() as conn:
            return _articles.latest_articles(conn, limit, category)

    def categories(self) -> list[tuple[str, int]]:
        with self._engine.connect() as conn:
            return _articles.categories(conn)

    def article_count(self) -> int:
        with self._engine.connect() as conn:
            return _articles.article_count(conn)

    # --- editions ---------------------------------------------------------------------

    def get_edition(self, week: str) -> Edition | None:
        with self._engine.connect() as conn:
            return _editions.get_edition(conn, week)

    def edition_candidates(self, before: datetime, limit: int) -> list[Article]:
        """Articles in no edition, published before ``before``, newest first."""
        with self._engine.connect() as conn:
            return _editions.edition_candidates(conn, before, limit)

    def create_edition(
        self, week: str, created_at: datetime, subject: str, guids: Sequence[str]
    ) -> Edition:
        """Store a new edition; if the week exists already, return it as stored."""
        try:
            with self._writer.begin() as conn:
                existing = _editions.get_edition(conn, week)
                if existing is not None:
                    return existing
                _editions.insert_edition(conn, week, created_at, subject, guids)
                created = _editions.get_edition(conn, week)
        except IntegrityError:
            # Another writer created the week between our check and our insert.
            raced = self.get_edition(week)
            if raced is None:
                raise
            return raced
        assert created is not None
        return created

    def editions(self) -> list[tuple[str, datetime, int]]:
        """(week, created_at, article count), newest week first."""
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
    ) -> Subscriber:
        """Raises DuplicateSubscriber if the address (in any case) is known already."""
        try:
            with self._writer.begin() as conn:
                return _subscribers.add_subscriber(conn, email, name, categories, status, now)
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

    def remove_subscriber(self, email: str) -> bool:
        """Delete the subscriber and preferences; their ledger rows keep address and name."""
        with self._writer.begin() as conn:
            return _subscribers.remove_subscriber(conn, email)

    def subscriber_counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            return _subscribers.subscriber_counts(conn)

    # --- the delivery ledger ----------------------------------------------------------

    def freeze_recipients(
        self, week: str, now: datetime, edition_categories: frozenset[str]
    ) -> int:
        """Write the week's recipient set once (0 if it was written before); rows created."""
        try:
            with self._writer.begin() as conn:
                return _recipients.freeze_recipients(conn, week, now, edition_categories)
        except IntegrityError:
            # Another writer froze the week between our check and our insert.
            if not self.send_started(week):
                raise
            return 0

    def send_started(self, week: str) -> bool:
        with self._engine.connect() as conn:
            return _recipients.send_started(conn, week)

    def recover_interrupted(self, week: str, now: datetime) -> int:
        """Rows a crash left submitting become uncertain; how many."""
        with self._writer.begin() as conn:
            return _ledger.recover_interrupted(conn, week, now)

    def pending_variants(self, week: str) -> list[tuple[str, int]]:
        """(variant, pending rows), by variant."""
        with self._engine.connect() as conn:
            return _ledger.pending_variants(conn, week)

    def claim_batch(
        self, week: str, variant: str, limit: int, now: datetime
    ) -> list[tuple[Delivery, SubscriberStatus | None]]:
        """Up to ``limit`` pending rows of the variant, now submitting (attempts + 1).

        Rows of subscribers no longer active become skipped in the same transaction and are
        not returned; [] means no pending row of the variant is left.
        """
        with self._writer.begin() as conn:
            return _ledger.claim_batch(conn, week, variant, limit, now)

    def finish_batch(
        self, outcomes: Sequence[tuple[int, DeliveryState, str]], now: datetime
    ) -> int:
        """(delivery id, state, error) for submitting rows; PENDING puts a row back.
        Returns the rows changed (rows not submitting are left alone)."""
        with self._writer.begin() as conn:
            return _ledger.finish_batch(conn, outcomes, now)

    def delivery_counts(self, week: str) -> dict[str, int]:
        with self._engine.connect() as conn:
            return _ledger.delivery_counts(conn, week)

    def deliveries(self, week: str, state: DeliveryState | None = None) -> list[Delivery]:
        with self._engine.connect() as conn:
            return _ledger.list_deliveries(conn, week, state)

    def reset_uncertain(self, week: str, now: datetime) -> int:
        """Uncertain rows back to pending, on the operator's word; how many."""
        with self._writer.begin() as conn:
            return _ledger.reset_uncertain(conn, week, now)

    def mark_send_paused(self, week: str, reason: str | None) -> bool:
        """Record why the send paused (None: it resumed); False if the send never started."""
        with self._writer.begin() as conn:
            return _ledger.mark_send_paused(conn, week, reason)

    def mark_send_finished(self, week: str, now: datetime) -> bool:
        with self._writer.begin() as conn:
            return _ledger.mark_send_finished(conn, week, now)

    def send_status(self, week: str) -> SendStatus | None:
        with self._engine.connect() as conn:
            return _ledger.send_status(conn, week)

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

    # --- provider events (the SendGrid Event Webhook) --------------------------------

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
