"""What subscription links need (issue 13): subscribers by their random token id, the
nonce of a pending subscribe request, and confirming only with that very nonce."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update

from syndicate.models import Subscriber, SubscriberStatus
from syndicate.store.convert import chunks
from syndicate.store.schema import subscribers
from syndicate.store.subscribers import _first, _with_categories, new_token_id

_CONFIRMABLE = (SubscriberStatus.PENDING.value, SubscriberStatus.UNSUBSCRIBED.value)


def subscriber_by_token_id(conn: Connection, token_id: str) -> Subscriber | None:
    return _first(conn, _with_categories().where(subscribers.c.token_id == token_id))


def token_ids(conn: Connection, subscriber_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for part in chunks(sorted(set(subscriber_ids))):
        query = select(subscribers.c.id, subscribers.c.token_id).where(subscribers.c.id.in_(part))
        found.update((sid, tid) for sid, tid in conn.execute(query) if tid)
    return found


def start_confirmation(conn: Connection, subscriber_id: int, now: datetime) -> str:
    """A fresh nonce for the subscribe request just made: only its link can confirm."""
    nonce = new_token_id()
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(confirm_nonce=nonce, updated_at=now)
    )
    return nonce


def confirmation_pending(conn: Connection, token_id: str, nonce: str) -> bool:
    """Whether confirm_request with these would activate someone (it changes nothing)."""
    query = select(subscribers.c.id).where(
        subscribers.c.token_id == token_id,
        subscribers.c.confirm_nonce == nonce,
        subscribers.c.status.in_(_CONFIRMABLE),
    )
    return conn.scalar(query) is not None


def confirm_request(conn: Connection, token_id: str, nonce: str, now: datetime) -> bool:
    """Activate the subscriber whose pending request has this nonce; the nonce is used up.

    One UPDATE: a subscriber who left, bounced or complained since, or who asked again
    (a new nonce), is not touched."""
    stmt = (
        update(subscribers)
        .where(
            subscribers.c.token_id == token_id,
            subscribers.c.confirm_nonce == nonce,
            subscribers.c.status.in_(_CONFIRMABLE),
        )
        .values(
            status=SubscriberStatus.ACTIVE.value,
            confirm_nonce=None,
            confirmed_at=func.coalesce(subscribers.c.confirmed_at, now),
            updated_at=now,
        )
    )
    return conn.execute(stmt).rowcount > 0


class LinkQueries:
    """The Store's methods for the above (mixed into Store)."""

    _engine: Engine
    _writer: Engine

    def subscriber_by_token_id(self, token_id: str) -> Subscriber | None:
        with self._engine.connect() as conn:
            return subscriber_by_token_id(conn, token_id)

    def token_ids(self, subscriber_ids: Sequence[int]) -> dict[int, str]:
        """Subscriber id -> token id, for those that still exist."""
        with self._engine.connect() as conn:
            return token_ids(conn, subscriber_ids)

    def start_confirmation(self, subscriber_id: int, now: datetime) -> str:
        with self._writer.begin() as conn:
            return start_confirmation(conn, subscriber_id, now)

    def confirmation_pending(self, token_id: str, nonce: str) -> bool:
        with self._engine.connect() as conn:
            return confirmation_pending(conn, token_id, nonce)

    def confirm_request(self, token_id: str, nonce: str, now: datetime) -> bool:
        with self._writer.begin() as conn:
            return confirm_request(conn, token_id, nonce, now)
