"""The delivery ledger: what became of each message of an edition.

``recipients.freeze_recipients`` writes the rows, ``pending``. They go ``pending → submitting
→ sent | failed | uncertain`` (or ``skipped`` when the subscriber left before their batch went
out). A row is ``submitting`` from the moment it is claimed until its outcome is written, so a
crash leaves it there, and the next start turns it ``uncertain``: reported, never resent on
its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select, update

from syndicate.models import Delivery, DeliveryState, SubscriberStatus
from syndicate.store.convert import chunks
from syndicate.store.schema import PENDING_ONLY, deliveries, edition_sends, subscribers

INTERRUPTED = "interrupted while submitting"

_OUTCOME_STATES = frozenset(DeliveryState) - {DeliveryState.SUBMITTING}
_PENDING = DeliveryState.PENDING.value
_SUBMITTING = DeliveryState.SUBMITTING.value
_ACTIVE = SubscriberStatus.ACTIVE.value


@dataclass(frozen=True, slots=True)
class SendStatus:
    """One edition's send: when it started and finished, and why it is paused, if it is."""

    week: str
    started_at: datetime
    finished_at: datetime | None = None
    paused_reason: str | None = None
    pause_kind: str | None = None  # pipeline.send.PauseKind
    paused_at: datetime | None = None
    retries: int = 0  # how often the service retried the pause on its own


# --- sending ------------------------------------------------------------------------------


def pending_variants(conn: Connection, week: str) -> list[tuple[str, int]]:
    query = (
        select(deliveries.c.variant, func.count())
        .where(deliveries.c.week == week, PENDING_ONLY)
        .group_by(deliveries.c.variant)
        .order_by(deliveries.c.variant)
    )
    return [(variant, count) for variant, count in conn.execute(query)]


def claim_batch(
    conn: Connection, week: str, variant: str, limit: int, now: datetime, owner: str | None
) -> list[tuple[Delivery, SubscriberStatus | None]]:
    """Up to ``limit`` pending rows of the variant, by id, now ``submitting`` under
    ``owner`` (a sender's id, see store.senders).

    Rows whose subscriber is no longer active (or was removed) become ``skipped`` on the way
    and do not count towards the limit: an empty answer means the variant has no pending row.
    """
    claimed: list[tuple[Delivery, SubscriberStatus | None]] = []
    while len(claimed) < limit:
        rows = conn.execute(_next_pending(week, variant, limit - len(claimed))).all()
        if not rows:
            break
        taken: list[int] = []
        skipped: dict[str, list[int]] = {}
        active = SubscriberStatus.ACTIVE
        for delivery_id, sid, email, name, attempts, message_id, status in rows:
            if status != _ACTIVE:
                skipped.setdefault(_skip_reason(status), []).append(delivery_id)
                continue
            taken.append(delivery_id)
            delivery = Delivery(
                delivery_id, week, sid, email, DeliveryState.SUBMITTING, variant,
                attempts + 1, "", now, name, message_id,
            )  # fmt: skip
            claimed.append((delivery, active))
        for reason, ids in skipped.items():
            _settle(conn, ids, DeliveryState.SKIPPED, reason, now, _PENDING)
        _mark_submitting(conn, taken, now, owner)
    return claimed


def _skip_reason(status: str | None) -> str:
    return "subscriber removed" if status is None else f"subscriber {status}"


def _next_pending(week: str, variant: str, limit: int) -> Select[Any]:
    joined = deliveries.outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
    d = deliveries.c
    return (
        select(
            d.id, d.subscriber_id, d.email, d.name, d.attempts, d.message_id, subscribers.c.status
        )
        .select_from(joined)
        .where(d.week == week, PENDING_ONLY, d.variant == variant)
        .order_by(d.id)
        .limit(limit)
        # PostgreSQL: two senders never claim the same row (SQLite's writer lock does this).
        .with_for_update(of=deliveries, skip_locked=True)
    )


# Built once: an IN list of a bound, expanding parameter costs far less per call than
# ``in_(ids)``, which makes and coerces one bind per id each time.
_SUBMIT = (
    update(deliveries)
    .where(deliveries.c.id.in_(bindparam("b_ids", expanding=True)))
    .values(
        state=_SUBMITTING,
        attempts=deliveries.c.attempts + 1,
        updated_at=bindparam("b_now"),
        owner=bindparam("b_owner"),
    )
)
_SETTLE = (
    update(deliveries)
    .where(
        deliveries.c.id.in_(bindparam("b_ids", expanding=True)),
        deliveries.c.state == bindparam("b_from"),
    )
    .values(state=bindparam("b_state"), error=bindparam("b_error"), updated_at=bindparam("b_now"))
)


def _mark_submitting(
    conn: Connection, ids: Sequence[int], now: datetime, owner: str | None
) -> None:
    # By id, not by an id range: on PostgreSQL a range would reach rows another sender has
    # locked (SKIP LOCKED kept them out of this batch) and the two would deadlock. (On SQLite
    # a range is safe under the writer lock, but measured only ~10% faster: not worth a fork.)
    for part in chunks(ids):
        conn.execute(_SUBMIT, {"b_ids": part, "b_now": now, "b_owner": owner})


def finish_batch(
    conn: Connection, outcomes: Sequence[tuple[int, DeliveryState, str]], now: datetime
) -> int:
    """Write the outcomes of submitting rows; returns how many rows changed.

    Only ``submitting`` rows change: an outcome never overwrites a settled row.
    """
    groups: dict[tuple[DeliveryState, str], list[int]] = {}
    for delivery_id, state, error in outcomes:
        groups.setdefault((state, error), []).append(delivery_id)
    for (given, _), ids in groups.items():
        if given not in _OUTCOME_STATES:
            raise ValueError(f"finish_batch: delivery {ids[0]}: {str(given)!r} is not an outcome")
    return sum(
        _settle(conn, ids, DeliveryState(state), error, now, _SUBMITTING)
        for (state, error), ids in groups.items()
    )


def _settle(
    conn: Connection,
    ids: Sequence[int],
    state: DeliveryState,
    error: str,
    now: datetime,
    from_state: str,
) -> int:
    changed = 0
    params = {"b_from": from_state, "b_state": state.value, "b_error": error, "b_now": now}
    for part in chunks(ids):
        changed += conn.execute(_SETTLE, {**params, "b_ids": part}).rowcount
    return changed


# --- reporting ----------------------------------------------------------------------------


def delivery_counts(conn: Connection, week: str) -> dict[str, int]:
    """The week's rows by state; every state is present, zero or not."""
    counts = dict.fromkeys((s.value for s in DeliveryState), 0)
    query = (
        select(deliveries.c.state, func.count())
        .where(deliveries.c.week == week)
        .group_by(deliveries.c.state)
    )
    counts.update((state, count) for state, count in conn.execute(query))
    return counts


def list_deliveries(conn: Connection, week: str, state: DeliveryState | None) -> list[Delivery]:
    query = select(deliveries).where(deliveries.c.week == week).order_by(deliveries.c.id)
    if state is not None:
        query = query.where(deliveries.c.state == state.value)
    return [delivery_from_row(row) for row in conn.execute(query)]


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        week=row.week,
        # A row never loses its subscriber id; 0 would mean a row written without one.
        subscriber_id=row.subscriber_id or 0,
        email=row.email,
        state=DeliveryState(row.state),
        variant=row.variant,
        attempts=row.attempts,
        error=row.error,
        updated_at=row.updated_at,
        name=row.name,
        message_id=row.message_id,
    )


def mark_send_paused(
    conn: Connection, week: str, reason: str | None, kind: str | None, now: datetime | None
) -> bool:
    """A pause (reason, kind, when), or None: resumed (the retry count stays)."""
    values: dict[str, Any] = {"paused_reason": reason, "pause_kind": kind}
    if reason is not None:
        values["paused_at"] = now
    stmt = update(edition_sends).where(edition_sends.c.week == week).values(**values)
    return conn.execute(stmt).rowcount > 0


def count_retry(conn: Connection, week: str) -> int:
    """The service retries the paused send on its own: one more; the new count."""
    stmt = (
        update(edition_sends)
        .where(edition_sends.c.week == week)
        .values(retries=edition_sends.c.retries + 1)
    )
    conn.execute(stmt)
    return conn.scalar(select(edition_sends.c.retries).where(edition_sends.c.week == week)) or 0


def mark_send_finished(conn: Connection, week: str, now: datetime) -> bool:
    stmt = (
        update(edition_sends)
        .where(edition_sends.c.week == week)
        .values(finished_at=now, paused_reason=None, pause_kind=None)
    )
    return conn.execute(stmt).rowcount > 0


def send_status(conn: Connection, week: str) -> SendStatus | None:
    row = conn.execute(select(edition_sends).where(edition_sends.c.week == week)).first()
    return None if row is None else _send_status(row)


def paused_sends(conn: Connection, kind: str) -> list[SendStatus]:
    """Unfinished sends paused for this kind of reason, oldest first."""
    query = (
        select(edition_sends)
        .where(edition_sends.c.finished_at.is_(None), edition_sends.c.pause_kind == kind)
        .order_by(edition_sends.c.started_at)
    )
    return [_send_status(row) for row in conn.execute(query)]


def _send_status(row: Any) -> SendStatus:
    return SendStatus(
        row.week,
        row.started_at,
        row.finished_at,
        row.paused_reason,
        row.pause_kind,
        row.paused_at,
        row.retries,
    )
