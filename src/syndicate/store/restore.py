"""Importing subscriber records (a backup, another provider's export) without raising a status.

A new address is stored as the file says (status, dates, categories). A known address keeps
its name and preferences; it only takes a stronger suppression from the file (unsubscribed <
bounced < complained), and is made active again only when the operator asks (``reactivate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select, update

from syndicate.models import SubscriberStatus
from syndicate.store.convert import chunks
from syndicate.store.schema import subscribers
from syndicate.store.subscribers import _ids_by_key, _insert_categories, email_key

if TYPE_CHECKING:
    from syndicate.subscriber_csv import SubscriberRecord

_STRENGTH = {
    SubscriberStatus.PENDING: 0,
    SubscriberStatus.ACTIVE: 0,
    SubscriberStatus.UNSUBSCRIBED: 1,
    SubscriberStatus.BOUNCED: 2,
    SubscriberStatus.COMPLAINED: 3,
}


@dataclass(frozen=True, slots=True)
class ImportCounts:
    added: int = 0
    suppressed: int = 0  # known addresses that took the file's stronger suppression
    reactivated: int = 0  # known addresses made active again (only with reactivate)
    unchanged: int = 0


def restore_subscribers(
    conn: Connection, records: Sequence[SubscriberRecord], now: datetime, reactivate: bool
) -> ImportCounts:
    known = _statuses(conn, [email_key(r.email) for r in records])
    fresh: list[SubscriberRecord] = []
    changes: dict[int, SubscriberStatus] = {}
    suppressed = reactivated = 0
    for record in records:
        key = email_key(record.email)
        if key not in known:
            fresh.append(record)
            known[key] = (-1, record.status or SubscriberStatus.ACTIVE)
            continue
        sid, current = known[key]
        wanted = record.status or SubscriberStatus.ACTIVE
        if sid < 0:
            continue  # a second row of an address added by this import
        if _STRENGTH[wanted] > _STRENGTH[current]:
            changes[sid] = wanted
            suppressed += 1
        elif reactivate and wanted is SubscriberStatus.ACTIVE and current is not wanted:
            changes[sid] = wanted
            reactivated += 1
    _insert_records(conn, fresh, now)
    for sid, status in changes.items():
        values: dict[str, object] = {"status": status.value, "updated_at": now}
        conn.execute(update(subscribers).where(subscribers.c.id == sid).values(values))
    unchanged = len(records) - len(fresh) - suppressed - reactivated
    return ImportCounts(len(fresh), suppressed, reactivated, unchanged)


def _insert_records(conn: Connection, records: Sequence[SubscriberRecord], now: datetime) -> None:
    if not records:
        return
    values = []
    for r in records:
        status = r.status or SubscriberStatus.ACTIVE
        confirmed = r.confirmed or (now if status is SubscriberStatus.ACTIVE else None)
        values.append(
            {
                "email": r.email,
                "email_key": email_key(r.email),
                "name": r.name,
                "status": status.value,
                "created_at": r.created or now,
                "confirmed_at": confirmed,
                "updated_at": now,
                "cadence": r.cadence or "weekly",
            }
        )
    conn.execute(insert(subscribers), values)
    choosy = [(email_key(r.email), r.categories) for r in records if r.categories]
    ids = _ids_by_key(conn, [key for key, _ in choosy])
    _insert_categories(conn, [(ids[key], categories) for key, categories in choosy])


def _statuses(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[int, SubscriberStatus]]:
    found: dict[str, tuple[int, SubscriberStatus]] = {}
    columns = (subscribers.c.email_key, subscribers.c.id, subscribers.c.status)
    for part in chunks(sorted(set(keys))):
        query = select(*columns).where(subscribers.c.email_key.in_(part))
        found.update((key, (sid, SubscriberStatus(st))) for key, sid, st in conn.execute(query))
    return found
