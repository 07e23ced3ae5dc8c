"""The delivery ledger: what became of each message of an edition.

``recipients.freeze_recipients`` writes the rows, ``pending``. They go ``pending → submitting
→ sent | failed | uncertain`` (or ``skipped`` when the subscriber left before their batch went
out). A row is ``submitting`` from the moment it is claimed until its outcome is written, so a
crash leaves it there, and the next start turns it ``uncertain``: reported, never resent on
its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextClause, func, select, text, update
from sqlalchemy.exc import DBAPIError

from syndicate.models import Delivery, DeliveryState, SubscriberStatus
from syndicate.store.records import SendStatus
from syndicate.store.schema import (
    PENDING_ONLY,
    UTCDateTime,
    deliveries,
    delivery_ranges,
    edition_sends,
)
from syndicate.store.status_reads import DELIVERY_COUNTS, delivery_counts_of

INTERRUPTED = "interrupted while submitting"

_OUTCOME_STATES = frozenset(DeliveryState) - {DeliveryState.SUBMITTING}
_SUBMITTING = DeliveryState.SUBMITTING.value
_ACTIVE = SubscriberStatus.ACTIVE.value


# --- sending ------------------------------------------------------------------------------


def pending_variants(conn: Connection, week: str) -> list[tuple[str, int]]:
    """(variant, pending rows) of the variants with some, by variant. SQLite counts over each
    variant's id range (no index names the state there); PostgreSQL through its index."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text(_PENDING_IN_RANGES), {"week": week})
        return [(variant, count) for variant, count in rows if count]
    query = (
        select(deliveries.c.variant, func.count())
        .where(deliveries.c.week == week, PENDING_ONLY)
        .group_by(deliveries.c.variant)
        .order_by(deliveries.c.variant)
    )
    return [(variant, count) for variant, count in conn.execute(query)]


def frozen_variants(conn: Connection, week: str) -> list[str]:
    query = select(delivery_ranges.c.variant).where(delivery_ranges.c.week == week)
    return list(conn.scalars(query.order_by(delivery_ranges.c.variant)))


_PENDING_IN_RANGES = """
SELECT r.variant, (
    SELECT count(*) FROM deliveries AS d NOT INDEXED
    WHERE d.id BETWEEN r.first_id AND r.last_id AND d.week = r.week AND d.variant = r.variant
        AND d.state = 'pending')
FROM delivery_ranges AS r WHERE r.week = :week ORDER BY r.variant"""


# A claimed row as the send loop uses it: (delivery id, subscriber id, email, name, the
# subscriber's token id or None when the subscriber is gone).
ClaimedRow = tuple[int, int | None, str, str, str | None]
# A claimed row as claim_rows answers it: (id, subscriber id, email, name, attempts, message
# id, subscriber status, token id).
ClaimAnswer = tuple[int, int | None, str, str, int, str, str | None, str | None]

# A batch is claimed with its subscribers' status and token id. PostgreSQL: one statement,
# ``UPDATE … FROM (… FOR UPDATE SKIP LOCKED) … RETURNING``, so two senders never claim the
# same row. SQLite: the rows are read, then marked by their id range, in the one write
# transaction that holds SQLite's writer lock (nobody else can change a row in between, and
# the range holds no pending row of the variant but those read: they are the first by id);
# measured, that costs less than ``UPDATE … RETURNING`` there. SQLite walks the table by id
# from ``:after`` to the variant's last id (``NOT INDEXED``: no index may take the place of
# that walk); PostgreSQL walks ix_deliveries_week_variant_id from ``:after`` (store.schema says
# why the access paths differ).
#
# A claim looks after ``:after`` (see claim_rows): on PostgreSQL the claimed rows' old versions
# stay in the indexes until a vacuum, so a claim that started from the variant's first row
# walked every row claimed before it (and the planner, which sees every row pending in the
# statistics, walks the primary key checking each row's state): a claim cost grew with the
# rows sent before it, ~130 ms at 100k rows sent.
_PICK = """
SELECT {columns} FROM deliveries
WHERE week = :week AND state = 'pending' AND variant = :variant AND id > :after
ORDER BY id LIMIT :limit"""
_PICK_SQLITE = """
SELECT d.id, d.subscriber_id, d.email, d.name, d.attempts + 1, d.message_id, s.status,
    s.token_id
FROM deliveries AS d NOT INDEXED LEFT JOIN subscribers AS s ON s.id = d.subscriber_id
WHERE d.id > :after AND d.id <= :last AND d.week = :week AND d.state = 'pending'
    AND d.variant = :variant
ORDER BY d.id LIMIT :limit"""
_MARK_SQLITE = """
UPDATE deliveries NOT INDEXED SET state = 'submitting', attempts = attempts + 1,
    updated_at = :now, owner = :owner
WHERE id BETWEEN :low AND :high AND week = :week AND variant = :variant AND state = 'pending'
"""
_SPAN_SQLITE = (
    "SELECT first_id, last_id FROM delivery_ranges WHERE week = :week AND variant = :variant"
)
_CLAIM_POSTGRESQL = f"""
UPDATE deliveries AS d SET state = 'submitting', attempts = d.attempts + 1,
    updated_at = :now, owner = :owner
FROM ({_PICK.format(columns="id, subscriber_id")} FOR UPDATE SKIP LOCKED) AS c
LEFT JOIN subscribers AS s ON s.id = c.subscriber_id
WHERE d.id = c.id
RETURNING d.id, d.subscriber_id, d.email, d.name, d.attempts, d.message_id, s.status, s.token_id
"""
# Outcomes: one statement per (state, error) group whatever the batch's size: by id range
# when the group's ids are all the ids of a range (no other row is in it), else the ids as
# one parameter (a JSON array on SQLite, an array on PostgreSQL).
_IDS_RANGE = "id BETWEEN :low AND :high"
_IDS_SQLITE = "id IN (SELECT value FROM json_each(:ids))"
_IDS_POSTGRESQL = "id = ANY(:ids)"
_SETTLE = """
UPDATE deliveries SET state = :state, error = :error, updated_at = :now{extra}
WHERE {ids} AND state = :from_state
"""
# A row skipped on the way was never submitted: its attempt and owner are taken back.
_UNCLAIM = ", attempts = attempts - 1, owner = NULL"


def _next_pending(week: str, variant: str, limit: int) -> TextClause:
    """The read of the next claim of the variant on SQLite, for query plans."""
    return text(_PICK_SQLITE).bindparams(
        week=week, variant=variant, limit=limit, after=0, last=1 << 62
    )


# Per dialect: the claim (SQLite: the read and the mark), settle by ids, by range, and settle
# taking the claim back.
_SQL = {
    dialect: {
        **claim,
        "ids": _SETTLE.format(ids=ids, extra=""),
        "range": _SETTLE.format(ids=_IDS_RANGE, extra=""),
        "unclaim": _SETTLE.format(ids=ids, extra=_UNCLAIM),
    }
    for dialect, claim, ids in (
        (
            "sqlite",
            {
                "pick": _PICK_SQLITE,
                "look": _PICK_SQLITE,
                "mark": _MARK_SQLITE,
                "span": _SPAN_SQLITE,
            },
            _IDS_SQLITE,
        ),
        (
            "postgresql",
            {"claim": _CLAIM_POSTGRESQL, "look": _PICK.format(columns="id")},
            _IDS_POSTGRESQL,
        ),
    )
}
_COMPILED: dict[str, str] = {}  # name -> the PostgreSQL text in psycopg's parameter style
_UTC = UTCDateTime()


def _driver_sql(conn: Connection, name: str) -> str:
    """Statement ``name`` as the driver takes it: sqlite3 reads ``:now`` itself; for psycopg
    SQLAlchemy compiles the same text (``%(now)s``), once per process."""
    if conn.dialect.name == "sqlite":
        return _SQL["sqlite"][name]
    sql = _COMPILED.get(name)
    if sql is None:
        sql = _COMPILED[name] = str(text(_SQL["postgresql"][name]).compile(dialect=conn.dialect))
    return sql


def _run(conn: Connection, name: str, params: dict[str, Any]) -> Any:
    """Run statement ``name`` of the send's hot path in the connection's transaction: a
    cursor (``fetchall``, ``rowcount``). Through the driver itself (sqlite3, psycopg), so
    that a claim's rows come as plain tuples, without SQLAlchemy's result machinery (a
    third of a claim's cost on SQLite); psycopg prepares each statement once per connection."""
    if "now" in params:
        params = {**params, "now": _UTC.process_bind_param(params["now"], conn.dialect)}
    sql = _driver_sql(conn, name)
    driver: Any = conn.connection.driver_connection
    dbapi = conn.dialect.loaded_dbapi
    try:
        if conn.dialect.name == "sqlite":
            return driver.execute(sql, params)
        return driver.execute(sql, params, prepare=True)
    except dbapi.Error as exc:  # as SQLAlchemy would have raised it
        raise DBAPIError.instance(sql, params, exc, dbapi.Error) from exc


def _ids_param(conn: Connection, ids: Sequence[int]) -> Any:
    if conn.dialect.name == "postgresql":
        return list(ids)
    return "[" + ",".join(map(str, ids)) + "]"


def claim_rows(
    conn: Connection,
    week: str,
    variant: str,
    limit: int,
    now: datetime,
    owner: str | None,
    after: int = 0,
) -> list[ClaimAnswer]:
    """Up to ``limit`` pending rows of the variant, by id, now ``submitting`` under ``owner``
    (a sender's id, see store.senders): (id, subscriber id, email, name, attempts,
    message id, subscriber status, token id) tuples.

    ``after``: where the caller's last claim ended; only the rows after it are looked at
    (``first_pending`` finds those left before it: rows put back, or left by a claim that
    rolled back). With ``after`` 0, an empty answer means the variant has no pending row.

    Rows whose subscriber is no longer active (or was removed) become ``skipped`` on the way
    and do not count towards the limit.
    """
    claimed: list[ClaimAnswer] = []
    params = _variant_params(conn, week, variant, after)
    if params is None:
        return claimed
    params.update(now=now, owner=owner)
    while len(claimed) < limit:
        wanted = limit - len(claimed)
        rows = _claim_after(conn, {**params, "limit": wanted})
        claimed.extend(_active(conn, rows, now))
        if len(rows) < wanted:
            break
        params["after"] = max(row[0] for row in rows)
    claimed.sort()
    return claimed


def first_pending(conn: Connection, week: str, variant: str) -> int | None:
    """The first pending row of the variant by id, or None: a read, which on SQLite walks the
    variant's rows by id (the claimed ones too) without holding the writer lock."""
    params = _variant_params(conn, week, variant, 0)
    if params is None:
        return None
    row = _run(conn, "look", {**params, "limit": 1}).fetchone()
    return None if row is None else int(row[0])


def _variant_params(conn: Connection, week: str, variant: str, after: int) -> dict[str, Any] | None:
    """The parameters of a walk of the variant's rows after ``after``; None when no row of
    the variant was frozen (SQLite walks the variant's id range, store.schema says why)."""
    params: dict[str, Any] = {"week": week, "variant": variant, "after": after}
    if conn.dialect.name == "sqlite":
        span = _run(conn, "span", {"week": week, "variant": variant}).fetchone()
        if span is None:
            return None
        params["after"], params["last"] = max(after, span[0] - 1), span[1]
    return params


def _claim_after(conn: Connection, params: dict[str, Any]) -> list[ClaimAnswer]:
    """One claim statement (on SQLite, a read and a mark): up to ``:limit`` rows past
    ``:after``."""
    if conn.dialect.name != "sqlite":
        return list(_run(conn, "claim", params).fetchall())
    rows: list[ClaimAnswer] = _run(conn, "pick", params).fetchall()
    if rows:
        _run(conn, "mark", {**params, "low": rows[0][0], "high": rows[-1][0]})
    return rows


def _active(conn: Connection, rows: list[ClaimAnswer], now: datetime) -> list[ClaimAnswer]:
    """The claimed rows of active subscribers; the others become skipped."""
    skipped: dict[str, list[int]] = {}
    for row in rows:
        if row[6] != _ACTIVE:
            skipped.setdefault(_skip_reason(row[6]), []).append(row[0])
    if not skipped:
        return rows
    for reason, ids in skipped.items():
        _settle(conn, ids, DeliveryState.SKIPPED, reason, now, unclaim=True)
    return [row for row in rows if row[6] == _ACTIVE]


def claim_batch(
    conn: Connection, week: str, variant: str, limit: int, now: datetime, owner: str | None
) -> list[tuple[Delivery, SubscriberStatus | None]]:
    """``claim_rows`` as Delivery records (for tests and tools; the send uses the tuples)."""
    rows = claim_rows(conn, week, variant, limit, now, owner)
    submitting, active = DeliveryState.SUBMITTING, SubscriberStatus.ACTIVE
    return [
        (Delivery(i, week, sid or 0, mail, submitting, variant, tries, "", now, name, mid), active)
        for i, sid, mail, name, tries, mid, _, _ in rows
    ]


def _skip_reason(status: str | None) -> str:
    return "subscriber removed" if status is None else f"subscriber {status}"


def finish_batch(
    conn: Connection, outcomes: Sequence[tuple[int, DeliveryState, str]], now: datetime
) -> int:
    """Write the outcomes of submitting rows; returns how many rows changed.

    Only ``submitting`` rows change: an outcome never overwrites a settled row.
    """
    groups: dict[tuple[DeliveryState, str], list[int]] = {}
    for delivery_id, state, error in outcomes:
        groups.setdefault((state, error), []).append(delivery_id)
    return finish_groups(conn, groups, now)


def finish_groups(
    conn: Connection, groups: Mapping[tuple[DeliveryState, str], Sequence[int]], now: datetime
) -> int:
    """``finish_batch`` with the outcomes grouped already: (state, error) -> delivery ids."""
    for (given, _), ids in groups.items():
        if given not in _OUTCOME_STATES:
            raise ValueError(f"finish_batch: delivery {ids[0]}: {str(given)!r} is not an outcome")
    return sum(
        _settle(conn, ids, DeliveryState(state), error, now)
        for (state, error), ids in groups.items()
    )


def _settle(
    conn: Connection,
    ids: Sequence[int],
    state: DeliveryState,
    error: str,
    now: datetime,
    *,
    unclaim: bool = False,
) -> int:
    if not ids:
        return 0
    params: dict[str, Any] = {"from_state": _SUBMITTING, "state": state.value, "error": error}
    params["now"] = now
    if unclaim:
        return int(_run(conn, "unclaim", {**params, "ids": _ids_param(conn, ids)}).rowcount)
    low, high = min(ids), max(ids)
    if high - low + 1 == len(ids) == len(set(ids)):
        return int(_run(conn, "range", {**params, "low": low, "high": high}).rowcount)
    return int(_run(conn, "ids", {**params, "ids": _ids_param(conn, ids)}).rowcount)


# --- reporting ----------------------------------------------------------------------------


def delivery_counts(conn: Connection, week: str) -> dict[str, int]:
    """The week's rows by state; every state is present, zero or not."""
    return delivery_counts_of(conn.execute(text(DELIVERY_COUNTS), {"week": week}).one())


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
