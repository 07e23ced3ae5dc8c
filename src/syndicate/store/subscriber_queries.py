"""The Store's subscriber methods: adding, importing, finding, choices, removal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from syndicate.models import Subscriber, SubscriberStatus
from syndicate.store import restore as _restore
from syndicate.store import subscribers as _subscribers
from syndicate.store.restore import ImportCounts
from syndicate.store.subscribers import DuplicateSubscriber

if TYPE_CHECKING:  # the address checks (email_validator) load only where records are made
    from syndicate.subscriber_csv import SubscriberRecord


class SubscriberQueries:
    """The Store's subscriber methods (mixed into Store)."""

    _engine: Engine
    _writer: Engine

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
