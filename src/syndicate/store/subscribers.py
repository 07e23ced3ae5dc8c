"""Subscribers and their category preferences."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, delete, func, insert, select, update

from syndicate.errors import InputError
from syndicate.models import Subscriber, SubscriberStatus
from syndicate.store.convert import chunks
from syndicate.store.schema import subscriber_categories, subscribers

ImportRow = tuple[str, str, frozenset[str]]  # (email, name, categories)

_STREAM_ROWS = 2_000


class DuplicateSubscriber(InputError):
    """An address that is already subscribed (compared case-insensitively)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email}: already a subscriber")
        self.email = email


def new_token_id() -> str:
    """A random id for links (issue 13): 16 bytes, 22 characters of base64url."""
    return secrets.token_urlsafe(16)


def email_key(email: str) -> str:
    """The unique key of an address: one subscriber per address, whatever its case."""
    return email.strip().lower()


def add_subscriber(
    conn: Connection,
    email: str,
    name: str,
    categories: Iterable[str],
    status: SubscriberStatus,
    now: datetime,
    cadence: str = "weekly",
) -> Subscriber:
    if _id_by_key(conn, email_key(email)) is not None:
        raise DuplicateSubscriber(email)
    _insert(conn, [(email, name, frozenset(categories))], status, now, cadence)
    found = find_subscriber(conn, email)
    assert found is not None
    return found


def import_subscribers(
    conn: Connection, rows: Sequence[ImportRow], status: SubscriberStatus, now: datetime
) -> tuple[int, int]:
    """Add the addresses not known yet; known ones are left as they are. (added, unchanged)"""
    known = set(_ids_by_key(conn, [email_key(email) for email, _, _ in rows]))
    fresh: list[ImportRow] = []
    for row in rows:
        key = email_key(row[0])
        if key not in known:
            known.add(key)  # a second row with the same address counts as unchanged
            fresh.append(row)
    _insert(conn, fresh, status, now)
    return len(fresh), len(rows) - len(fresh)


def get_subscriber(conn: Connection, subscriber_id: int) -> Subscriber | None:
    return _first(conn, _with_categories().where(subscribers.c.id == subscriber_id))


def find_subscriber(conn: Connection, email: str) -> Subscriber | None:
    return _first(conn, _with_categories().where(subscribers.c.email_key == email_key(email)))


def list_subscribers(conn: Connection, status: SubscriberStatus | None) -> Iterator[Subscriber]:
    """Every subscriber (of one status), by id, streamed: memory stays flat for any count."""
    query = _with_categories()
    if status is not None:
        query = query.where(subscribers.c.status == status.value)
    result = conn.execute(query.execution_options(yield_per=_STREAM_ROWS))
    yield from _group(result)


def set_status(
    conn: Connection, subscriber_id: int, status: SubscriberStatus, now: datetime
) -> bool:
    # Any change of status uses up a pending confirmation (issue 13).
    values: dict[str, Any] = {"status": status.value, "updated_at": now, "confirm_nonce": None}
    if status is SubscriberStatus.ACTIVE:
        values["confirmed_at"] = func.coalesce(subscribers.c.confirmed_at, now)
    stmt = update(subscribers).where(subscribers.c.id == subscriber_id).values(values)
    return conn.execute(stmt).rowcount > 0


def set_categories(
    conn: Connection, subscriber_id: int, categories: Iterable[str], now: datetime
) -> bool:
    stmt = update(subscribers).where(subscribers.c.id == subscriber_id).values(updated_at=now)
    if conn.execute(stmt).rowcount == 0:
        return False
    conn.execute(
        delete(subscriber_categories).where(subscriber_categories.c.subscriber_id == subscriber_id)
    )
    _insert_categories(conn, [(subscriber_id, frozenset(categories))])
    return True


def set_cadence(conn: Connection, subscriber_id: int, cadence: str, now: datetime) -> bool:
    stmt = update(subscribers).where(subscribers.c.id == subscriber_id)
    return conn.execute(stmt.values(cadence=cadence, updated_at=now)).rowcount > 0


def remove_subscriber(conn: Connection, email: str) -> bool:
    found = _id_by_key(conn, email_key(email))
    if found is None:
        return False
    conn.execute(
        delete(subscriber_categories).where(subscriber_categories.c.subscriber_id == found)
    )
    conn.execute(delete(subscribers).where(subscribers.c.id == found))
    return True


def subscriber_counts(conn: Connection) -> dict[str, int]:
    """Subscribers by status; every status is present, zero or not."""
    counts = dict.fromkeys((s.value for s in SubscriberStatus), 0)
    query = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
    counts.update((status, count) for status, count in conn.execute(query))
    return counts


# --- helpers -----------------------------------------------------------------------------


def _insert(
    conn: Connection,
    rows: Sequence[ImportRow],
    status: SubscriberStatus,
    now: datetime,
    cadence: str = "weekly",
) -> None:
    """Insert new subscribers (their keys must be unknown) and their preferences."""
    if not rows:
        return
    confirmed = now if status is SubscriberStatus.ACTIVE else None
    keys = [email_key(email) for email, _, _ in rows]
    values = [
        {
            "email": email,
            "email_key": key,
            "name": name,
            "status": status.value,
            "created_at": now,
            "confirmed_at": confirmed,
            "updated_at": now,
            "token_id": new_token_id(),
            "cadence": cadence,
        }
        for key, (email, name, _) in zip(keys, rows, strict=True)
    ]
    # A plain executemany, then the ids by key of those with preferences: RETURNING in input
    # order makes SQLAlchemy send SQLite one INSERT per row, ten times slower on a large import.
    conn.execute(insert(subscribers), values)
    choosy = [(key, row[2]) for key, row in zip(keys, rows, strict=True) if row[2]]
    ids = _ids_by_key(conn, [key for key, _ in choosy])
    _insert_categories(conn, [(ids[key], categories) for key, categories in choosy])


def _insert_categories(conn: Connection, prefs: Iterable[tuple[int, frozenset[str]]]) -> None:
    rows = [
        {"subscriber_id": sid, "category": category}
        for sid, categories in prefs
        for category in sorted(categories)
    ]
    if rows:
        conn.execute(insert(subscriber_categories), rows)


def _id_by_key(conn: Connection, key: str) -> int | None:
    found: int | None = conn.scalar(select(subscribers.c.id).where(subscribers.c.email_key == key))
    return found


def _ids_by_key(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(sorted(set(keys))):
        query = select(subscribers.c.email_key, subscribers.c.id).where(
            subscribers.c.email_key.in_(part)
        )
        found.update((key, sid) for key, sid in conn.execute(query))
    return found


def _with_categories() -> Select[Any]:
    """Subscribers with one row per category (one row with NULL when they have none)."""
    return (
        select(subscribers, subscriber_categories.c.category)
        .select_from(subscribers.outerjoin(subscriber_categories))
        .order_by(subscribers.c.id, subscriber_categories.c.category)
    )


def _first(conn: Connection, query: Select[Any]) -> Subscriber | None:
    return next(_group(conn.execute(query)), None)


def _group(rows: Iterable[Any]) -> Iterator[Subscriber]:
    """Fold the joined rows (ordered by id) into one Subscriber each."""
    head: Any = None
    categories: set[str] = set()
    for row in rows:
        if head is not None and row.id != head.id:
            yield _subscriber(head, categories)
            categories = set()
        head = row
        if row.category is not None:
            categories.add(row.category)
    if head is not None:
        yield _subscriber(head, categories)


def _subscriber(row: Any, categories: set[str]) -> Subscriber:
    return Subscriber(
        id=row.id,
        email=row.email,
        name=row.name,
        status=SubscriberStatus(row.status),
        categories=frozenset(categories),
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        token_id=row.token_id or "",
        cadence=row.cadence,
    )
