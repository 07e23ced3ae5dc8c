"""A webhook call's events recorded in one transaction (issue 13): one bulk insert that
skips the ids recorded before (ON CONFLICT DO NOTHING), the uncertain ledger rows of the
batch's weeks read once, and then only the few events that change something written.

It does what ``events.record_event`` does for each event in turn, in the same order: a
repeated id (in the batch or recorded before) changes nothing; a status only moves to the
stronger; the first event about an uncertain row settles it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from syndicate.models import DeliveryState
from syndicate.store.convert import chunks
from syndicate.store.events import (
    NO_ACTION,
    SETTLED_BY_EVENT,
    EventEffect,
    EventOutcome,
    WebhookEvent,
    event_values,
    insert_new_only,
    set_status_by_email,
)
from syndicate.store.schema import deliveries, webhook_events
from syndicate.store.subscribers import email_key

_UNCERTAIN = DeliveryState.UNCERTAIN.value


def record_events(
    conn: Connection, batch: Sequence[tuple[WebhookEvent, EventEffect]], now: datetime
) -> list[EventOutcome]:
    """One outcome per event of ``batch``, in its order; the caller holds the transaction."""
    outcomes = [EventOutcome(new=False)] * len(batch)
    first: dict[tuple[str, str], int] = {}
    for index, (event, _) in enumerate(batch):
        first.setdefault(event.key, index)
    inserted = _insert_new(conn, [batch[i][0] for i in first.values()], now)
    rows = _Uncertain(conn, {event.week for event, _ in batch if event.week})
    actions: list[dict[str, str]] = []
    for event_id, index in first.items():
        if event_id not in inserted:
            continue
        event, effect = batch[index]
        status = effect.status
        if status is not None and not (
            event.email and set_status_by_email(conn, event.email, status, effect.replaces, now)
        ):
            status = None
        outcome = EventOutcome(new=True, status=status, settled=effect.settle and rows.take(event))
        outcomes[index] = outcome
        if outcome.action != NO_ACTION:
            actions.append({"p": event_id[0], "key": event_id[1], "value": outcome.action})
    rows.settle(now)
    if actions:
        stmt = (
            update(webhook_events)
            .where(
                webhook_events.c.provider == bindparam("p"),
                webhook_events.c.provider_event_id == bindparam("key"),
            )
            .values(action=bindparam("value"))
        )
        conn.execute(stmt, actions)
    return outcomes


def _insert_new(
    conn: Connection, events: Sequence[WebhookEvent], now: datetime
) -> set[tuple[str, str]]:
    """Insert the events whose ids are not recorded yet; the ids this call inserted.

    One statement, executed for many rows: SQLAlchemy sends them as multi-row INSERTs
    ("insertmanyvalues"), compiled once, RETURNING the ids of the rows that went in."""
    if not events:
        return set()
    stmt = insert_new_only(conn, webhook_events).returning(
        webhook_events.c.provider, webhook_events.c.provider_event_id
    )
    rows = conn.execute(stmt, [event_values(event, now) for event in events])
    return {(provider, event_id) for provider, event_id in rows}


class _Uncertain:
    """The uncertain ledger rows of some weeks, read once; ``take`` claims the row(s) an
    event proves sent, ``settle`` writes them all as sent."""

    def __init__(self, conn: Connection, weeks: set[str]) -> None:
        self.conn = conn
        self.by_id: dict[tuple[int, str], int] = {}
        self.by_email: dict[tuple[str, str], list[int]] = {}
        self.taken: set[int] = set()
        for part in chunks(sorted(weeks)):
            query = select(
                deliveries.c.id, deliveries.c.week, func.lower(deliveries.c.email)
            ).where(deliveries.c.week.in_(part), deliveries.c.state == _UNCERTAIN)
            for row_id, week, email in conn.execute(query):
                self.by_id[(row_id, week)] = row_id
                self.by_email.setdefault((week, email), []).append(row_id)

    def take(self, event: WebhookEvent) -> bool:
        if not event.week:
            return False
        if event.delivery_id is not None:
            found = self.by_id.get((event.delivery_id, event.week))
            ids = [found] if found is not None else []
        elif event.email:
            ids = self.by_email.get((event.week, email_key(event.email)), [])
        else:
            ids = []
        fresh = [i for i in ids if i not in self.taken]
        self.taken.update(fresh)
        return bool(fresh)

    def settle(self, now: datetime) -> None:
        for part in chunks(sorted(self.taken)):
            self.conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(part), deliveries.c.state == _UNCERTAIN)
                .values(state=DeliveryState.SENT.value, error=SETTLED_BY_EVENT, updated_at=now)
            )


class EventBatchQueries:
    """The Store's method for the above (mixed into Store)."""

    _writer: Engine

    def record_events(
        self, batch: Sequence[tuple[WebhookEvent, EventEffect]], now: datetime
    ) -> list[EventOutcome]:
        """Record a webhook call's events and apply their effects in one transaction."""
        with self._writer.begin() as conn:
            return record_events(conn, batch, now)
