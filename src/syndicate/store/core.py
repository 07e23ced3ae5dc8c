"""The Store: one object over the database (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from syndicate.errors import StoreError
from syndicate.models import (
    Article,
    SubscriberStatus,
)
from syndicate.store import events as _events
from syndicate.store import files as _files
from syndicate.store.announcements import AnnouncementQueries  # issue 10
from syndicate.store.article_queries import ArticleQueries
from syndicate.store.edition_queries import EditionQueries
from syndicate.store.engine import make_engine, where, writer
from syndicate.store.event_batch import EventBatchQueries  # issue 13
from syndicate.store.events import EventEffect, EventOutcome, WebhookEvent
from syndicate.store.feed_state import FeedState
from syndicate.store.gather_writes import UnitOfWork, feed_state_of, file_states_of
from syndicate.store.job_queries import JobQueries
from syndicate.store.links import LinkQueries  # issue 13
from syndicate.store.migrate import prepare_schema
from syndicate.store.records import FileState
from syndicate.store.senders import SenderQueries  # issue 10
from syndicate.store.sending import SendingQueries  # issue 14
from syndicate.store.status_reads import StatusReads
from syndicate.store.subscriber_queries import SubscriberQueries
from syndicate.store.text_sql import text_run, text_sql


class Store(
    ArticleQueries,
    EditionQueries,
    SubscriberQueries,
    JobQueries,
    LinkQueries,
    EventBatchQueries,
    SenderQueries,
    SendingQueries,
    AnnouncementQueries,
):
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

    @contextmanager
    def status_reads(self) -> Iterator[StatusReads]:
        """`syndicate status`'s reads (store.status_reads) over one connection of this store,
        in one transaction: the same SQL as over a read-only sqlite3 connection."""
        with self._engine.connect() as conn:
            yield StatusReads(text_run(conn), conn.dialect.name)

    # --- gathering -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One unit of work: every step through it commits together, or none does. A
        database error becomes StoreError (one line); any exception rolls it all back."""
        try:
            with self._writer.begin() as conn:
                yield UnitOfWork(text_sql(conn))
        except DBAPIError as exc:
            detail = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
            raise StoreError(f"{where(self._engine)}: {detail}") from exc

    def file_states(self, source: str) -> dict[str, FileState]:
        with self._engine.connect() as conn:
            return file_states_of(text_run(conn), source)

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
            return feed_state_of(text_run(conn), source)

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
