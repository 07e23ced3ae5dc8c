"""The processes sending now, and what they own (issue 10).

A sender registers a row (its instance id, machine, pid) and renews its heartbeat while it
sends; each batch it claims names it as the rows' owner. A ``submitting`` row may be made
``uncertain`` only when its owner is dead: no sender row, or a heartbeat older than the
cutoff, or named dead by the caller (``gone``: on the same machine, its pid has exited).
Deciding who is dead and moving the rows is one transaction, so a sender that registers
meanwhile is never taken for dead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from syndicate.models import DeliveryState
from syndicate.store import ledger as _ledger
from syndicate.store.ledger import INTERRUPTED
from syndicate.store.records import SendStatus
from syndicate.store.schema import SUBMITTING_ONLY, deliveries, edition_sends, senders

_UNCERTAIN = DeliveryState.UNCERTAIN.value
_SENT = DeliveryState.SENT.value
# A dead sender's journal (pipeline.journal): (delivery ids accepted, ids in doubt).
Journal = tuple[Collection[int], Collection[int]]
_PENDING = DeliveryState.PENDING.value


@dataclass(frozen=True, slots=True)
class SenderRow:
    id: str
    host: str
    pid: int
    week: str
    started_at: datetime
    heartbeat_at: datetime


def register_sender(conn: Connection, row: SenderRow) -> None:
    conn.execute(
        insert(senders).values(
            id=row.id,
            host=row.host,
            pid=row.pid,
            week=row.week,
            started_at=row.started_at,
            heartbeat_at=row.heartbeat_at,
        )
    )


def beat(conn: Connection, sender_id: str, now: datetime) -> bool:
    """Renew the heartbeat; False when the row is gone (another sender took this one for
    dead): the caller registers again."""
    stmt = update(senders).where(senders.c.id == sender_id).values(heartbeat_at=now)
    return conn.execute(stmt).rowcount > 0


def deregister_sender(conn: Connection, sender_id: str) -> None:
    conn.execute(delete(senders).where(senders.c.id == sender_id))


def list_senders(conn: Connection) -> list[SenderRow]:
    rows = conn.execute(select(senders).order_by(senders.c.started_at, senders.c.id))
    return [SenderRow(r.id, r.host, r.pid, r.week, r.started_at, r.heartbeat_at) for r in rows]


def _owner_dead() -> ColumnElement[bool]:
    """The row's owner has no sender row (after the dead ones were reaped)."""
    registered = exists().where(senders.c.id == deliveries.c.owner)
    return or_(deliveries.c.owner.is_(None), ~registered)


def reap_senders(conn: Connection, cutoff: datetime | None, gone: Collection[str]) -> int:
    """Delete the rows of senders whose heartbeat is older than ``cutoff`` (None: no one's)
    or that are ``gone``; how many."""
    dead: list[ColumnElement[bool]] = []
    if cutoff is not None:
        dead.append(senders.c.heartbeat_at < cutoff)
    if gone:
        dead.append(senders.c.id.in_(sorted(gone)))
    if not dead:
        return 0
    return conn.execute(delete(senders).where(or_(*dead))).rowcount


def recover_dead(
    conn: Connection,
    week: str,
    now: datetime,
    cutoff: datetime | None,
    gone: Collection[str],
    journals: Mapping[str, Journal] | None = None,
) -> int:
    """The week's submitting rows whose owner is dead become uncertain; how many. A dead
    owner's journal, (ids accepted, ids in doubt), settles its other rows first: accepted
    ones sent, the rest not in doubt pending again (never sent: the claim is taken back)."""
    for owner, (sent, doubt) in (journals or {}).items():
        _settle_by_journal(conn, owner, sent, doubt, now)
    reap_senders(conn, cutoff, gone)
    stmt = (
        update(deliveries)
        .where(deliveries.c.week == week, SUBMITTING_ONLY, _owner_dead())
        .values(state=_UNCERTAIN, error=INTERRUPTED, updated_at=now)
    )
    return conn.execute(stmt).rowcount


def _settle_by_journal(
    conn: Connection, owner: str, sent: Collection[int], doubt: Collection[int], now: datetime
) -> None:
    # The owner's own edition first: on PostgreSQL no index holds the owner (store.schema),
    # and the week keeps this to one edition's rows instead of the whole ledger.
    its_week = select(senders.c.week).where(senders.c.id == owner).scalar_subquery()
    mine = and_(deliveries.c.week == its_week, deliveries.c.owner == owner, SUBMITTING_ONLY)
    if sent:
        accepted = deliveries.c.id.in_(sorted(sent))
        conn.execute(
            update(deliveries).where(mine, accepted).values(state=_SENT, error="", updated_at=now)
        )
    unsent = and_(mine, deliveries.c.id.not_in(sorted(doubt))) if doubt else mine
    conn.execute(
        update(deliveries)
        .where(unsent)
        .values(state=_PENDING, attempts=deliveries.c.attempts - 1, owner=None, updated_at=now)
    )


def in_flight_elsewhere(conn: Connection, week: str, me: str | None) -> int:
    """The week's submitting rows that live senders other than ``me`` (None: any) own."""
    query = select(func.count()).where(
        deliveries.c.week == week,
        SUBMITTING_ONLY,
        exists().where(senders.c.id == deliveries.c.owner),
    )
    if me is not None:
        query = query.where(deliveries.c.owner != me)
    return conn.scalar(query) or 0


def reset_uncertain_unowned(
    conn: Connection, week: str, now: datetime, cutoff: datetime | None, gone: Collection[str]
) -> tuple[int, dict[str, int]]:
    """The operator's resend: the week's uncertain rows back to pending, except those a live
    sender owns (it may still learn what became of them). (moved, live owner -> rows kept)."""
    reap_senders(conn, cutoff, gone)
    uncertain = and_(deliveries.c.week == week, deliveries.c.state == _UNCERTAIN)
    kept_query = select(deliveries.c.owner).where(uncertain, ~_owner_dead())
    kept: dict[str, int] = {}
    for (owner,) in conn.execute(kept_query):
        kept[owner] = kept.get(owner, 0) + 1
    stmt = (
        update(deliveries)
        .where(uncertain, _owner_dead())
        .values(state=_PENDING, error="", updated_at=now)
    )
    moved = conn.execute(stmt).rowcount
    if moved:
        conn.execute(
            update(edition_sends).where(edition_sends.c.week == week).values(finished_at=None)
        )
    return moved, kept


class SenderQueries:
    """The Store's methods for the above and for pauses (mixed into Store)."""

    _engine: Engine
    _writer: Engine

    def mark_send_paused(
        self,
        week: str,
        reason: str | None,
        kind: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Record why the send paused, of which kind, when (None: it resumed); False if the
        send never started."""
        with self._writer.begin() as conn:
            return _ledger.mark_send_paused(conn, week, reason, kind, now)

    def count_retry(self, week: str) -> int:
        """One more retry of the paused send by the service; the new count."""
        with self._writer.begin() as conn:
            return _ledger.count_retry(conn, week)

    def paused_sends(self, kind: str) -> list[SendStatus]:
        """Unfinished sends paused for this kind of reason, oldest first."""
        with self._engine.connect() as conn:
            return _ledger.paused_sends(conn, kind)

    def register_sender(self, row: SenderRow) -> None:
        with self._writer.begin() as conn:
            register_sender(conn, row)

    def beat(self, sender_id: str, now: datetime) -> bool:
        with self._writer.begin() as conn:
            return beat(conn, sender_id, now)

    def deregister_sender(self, sender_id: str) -> None:
        with self._writer.begin() as conn:
            deregister_sender(conn, sender_id)

    def senders(self) -> list[SenderRow]:
        """Every registered sender, live or not yet reaped, oldest first."""
        with self._engine.connect() as conn:
            return list_senders(conn)

    def recover_interrupted(
        self,
        week: str,
        now: datetime,
        cutoff: datetime | None = None,
        gone: Collection[str] = (),
        journals: Mapping[str, Journal] | None = None,
    ) -> int:
        """Reap the senders dead at ``cutoff`` (None: only those ``gone``); the week's
        submitting rows that no live sender owns become uncertain, but those a dead
        sender's journal settles (``senders.recover_dead``). One transaction; how many rows
        became uncertain."""
        with self._writer.begin() as conn:
            return recover_dead(conn, week, now, cutoff, gone, journals)

    def in_flight_elsewhere(self, week: str, me: str | None) -> int:
        with self._engine.connect() as conn:
            return in_flight_elsewhere(conn, week, me)

    def reset_uncertain(self, week: str, now: datetime) -> int:
        """Uncertain rows back to pending, on the operator's word, but those of a live
        sender; how many."""
        return self.reset_uncertain_unowned(week, now)[0]

    def reset_uncertain_unowned(
        self, week: str, now: datetime, cutoff: datetime | None = None, gone: Collection[str] = ()
    ) -> tuple[int, dict[str, int]]:
        """(rows queued again, live owner -> rows it keeps); the dead are reaped first."""
        with self._writer.begin() as conn:
            return reset_uncertain_unowned(conn, week, now, cutoff, gone)
