"""Mail provider events (SendGrid's Event Webhook, the bounce mailbox): recorded once
each, then acted on.

``record_event`` inserts the event and applies its effect in one transaction: the unique
``(provider, provider_event_id)`` is the lock, so of two posts carrying the same event (a
retry, a replay, two at once) exactly one records it and acts; the other does nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.sql.dml import Insert

from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.store.schema import deliveries, subscribers, webhook_events
from syndicate.store.subscribers import email_key

_UNCERTAIN = DeliveryState.UNCERTAIN.value
SETTLED_BY_EVENT = "settled by a provider event"
NO_ACTION = "none"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event as recorded: the provider's id and the fields acted on, and its source.

    ``event`` is the neutral kind (``syndicate.delivery.events``: bounce, complaint,
    unsubscribe, delivered, ...), ``bounce`` "hard" or "soft" for a bounce."""

    provider_event_id: str
    event: str
    email: str
    raw: str  # the event's own JSON, or the report's text
    delivery_id: int | None = None  # from the send's custom_args or Message-ID
    week: str = ""  # from the send's custom_args or Message-ID
    timestamp: datetime | None = None  # when the provider saw it
    provider: str = "sendgrid"
    bounce: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.provider_event_id)


@dataclass(frozen=True, slots=True)
class EventEffect:
    """What an event does: the subscriber's new status (only when the current one is in
    ``replaces``), and whether an uncertain ledger row of the message is settled as sent."""

    status: SubscriberStatus | None = None
    replaces: frozenset[SubscriberStatus] = frozenset()
    settle: bool = False


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What recording one event did; ``new`` is False for an event recorded before."""

    new: bool
    status: SubscriberStatus | None = None  # the subscriber's new status, if it changed
    settled: bool = False

    @property
    def action(self) -> str:
        """What is kept in the event's row: e.g. "bounced", "settled", "none"."""
        parts = [self.status.value if self.status else "", "settled" if self.settled else ""]
        return "+".join(p for p in parts if p) or NO_ACTION


def record_event(
    conn: Connection, event: WebhookEvent, effect: EventEffect, now: datetime
) -> EventOutcome:
    if not _insert_once(conn, event, now):
        return EventOutcome(new=False)
    status = effect.status
    if status is not None and not (
        event.email and set_status_by_email(conn, event.email, status, effect.replaces, now)
    ):
        status = None
    settled = effect.settle and _settle(conn, event, now)
    outcome = EventOutcome(new=True, status=status, settled=settled)
    if outcome.action != NO_ACTION:
        conn.execute(
            update(webhook_events)
            .where(
                webhook_events.c.provider == event.provider,
                webhook_events.c.provider_event_id == event.provider_event_id,
            )
            .values(action=outcome.action)
        )
    return outcome


def _insert_once(conn: Connection, event: WebhookEvent, now: datetime) -> bool:
    """Insert the event unless its id is recorded; True when this call inserted it.

    ON CONFLICT DO NOTHING: on PostgreSQL a concurrent insert of the same id waits for the
    first transaction and then inserts nothing, instead of failing it.
    """
    stmt = (
        insert_new_only(conn, webhook_events)
        .values(event_values(event, now))
        .returning(webhook_events.c.id)
    )
    return conn.execute(stmt).first() is not None


def insert_new_only(conn: Connection, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect. The dialect module is
    imported here, when first needed: at import time SQLAlchemy's PostgreSQL dialect would
    cost every command ~40 ms, on SQLite too."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


def event_values(event: WebhookEvent, now: datetime) -> dict[str, Any]:
    """The event's row in webhook_events, received ``now``, no action taken yet."""
    return {
        "provider": event.provider,
        "provider_event_id": event.provider_event_id,
        "bounce": event.bounce,
        "event": event.event,
        "email": event.email,
        "delivery_id": event.delivery_id,
        "week": event.week,
        "timestamp": event.timestamp,
        "received_at": now,
        "action": NO_ACTION,
        "raw": event.raw,
    }


def _settle(conn: Connection, event: WebhookEvent, now: datetime) -> bool:
    if not event.week:
        return False
    if event.delivery_id is not None:
        return settle_uncertain(conn, event.delivery_id, event.week, now)
    return bool(event.email) and settle_uncertain_by_email(conn, event.email, event.week, now)


def settle_uncertain(conn: Connection, delivery_id: int, week: str, now: datetime) -> bool:
    """The row of this id and week becomes ``sent`` if it is ``uncertain``; True if it did."""
    where = (deliveries.c.id == delivery_id, deliveries.c.week == week)
    return _settle_where(conn, where, now) > 0


def settle_uncertain_by_email(conn: Connection, email: str, week: str, now: datetime) -> bool:
    """Like ``settle_uncertain``, for the week's row of this address (any case)."""
    where = (deliveries.c.week == week, func.lower(deliveries.c.email) == email_key(email))
    return _settle_where(conn, where, now) > 0


def _settle_where(conn: Connection, where: tuple[Any, ...], now: datetime) -> int:
    stmt = (
        update(deliveries)
        .where(*where, deliveries.c.state == _UNCERTAIN)
        .values(state=DeliveryState.SENT.value, error=SETTLED_BY_EVENT, updated_at=now)
    )
    return conn.execute(stmt).rowcount


def set_status_by_email(
    conn: Connection,
    email: str,
    status: SubscriberStatus,
    replaces: Collection[SubscriberStatus],
    now: datetime,
) -> bool:
    """The subscriber of this address (any case) gets ``status`` if their current status is
    one of ``replaces``; True if it changed."""
    stmt = (
        update(subscribers)
        .where(
            subscribers.c.email_key == email_key(email),
            subscribers.c.status.in_([s.value for s in replaces]),
        )
        .values(status=status.value, updated_at=now)
    )
    return conn.execute(stmt).rowcount > 0


def soft_bounces_in_a_row(conn: Connection, email: str) -> int:
    """Soft bounces recorded for the address (any case) since its last delivery or hard
    bounce: the run that a setting turns into a suppression."""
    lowered = func.lower(webhook_events.c.email) == email_key(email)
    last_good = (
        select(func.max(webhook_events.c.id))
        .where(lowered, webhook_events.c.event.in_(("delivered", "bounce")))
        .where(webhook_events.c.bounce != "soft")
        .scalar_subquery()
    )
    query = select(func.count()).where(
        lowered,
        webhook_events.c.event == "bounce",
        webhook_events.c.bounce == "soft",
        webhook_events.c.id > func.coalesce(last_good, 0),
    )
    return int(conn.scalar(query) or 0)


def delivery_address(conn: Connection, delivery_id: int, week: str) -> str | None:
    query = select(deliveries.c.email).where(
        deliveries.c.id == delivery_id, deliveries.c.week == week
    )
    found = conn.scalar(query)
    return str(found) if found is not None else None


def list_events(conn: Connection, limit: int) -> list[tuple[WebhookEvent, str, datetime]]:
    """The newest events first, each with its recorded action and when it came."""
    query = (
        select(webhook_events)
        .order_by(webhook_events.c.received_at.desc(), webhook_events.c.id.desc())
        .limit(limit)
    )
    return [(_event(row), row.action, row.received_at) for row in conn.execute(query)]


def _event(row: Any) -> WebhookEvent:
    return WebhookEvent(
        provider_event_id=row.provider_event_id,
        provider=row.provider,
        bounce=row.bounce,
        event=row.event,
        email=row.email,
        raw=row.raw,
        delivery_id=row.delivery_id,
        week=row.week,
        timestamp=row.timestamp,
    )
