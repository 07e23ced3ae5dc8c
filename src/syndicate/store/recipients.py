"""Freezing an edition's recipients: one pending ledger row per reader, written once.

A reader's *variant* is the set of the edition's categories they asked for (sorted, joined by
U+001F; "" = every category): the digest is rendered once per variant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import groupby
from operator import itemgetter

from sqlalchemy import ColumnElement, Connection, exists, insert, literal, select, true

from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.store.convert import CHUNK
from syndicate.store.schema import (
    UTCDateTime,
    deliveries,
    edition_sends,
    editions,
    subscriber_categories,
    subscribers,
)

VARIANT_SEPARATOR = "\x1f"
_STREAM_ROWS = 5_000
_KNOWN_SETS = 10_000
_PENDING = DeliveryState.PENDING.value
_ACTIVE = SubscriberStatus.ACTIVE.value
_LEDGER_COLUMNS = (
    "week",
    "subscriber_id",
    "email",
    "name",
    "variant",
    "state",
    "attempts",
    "error",
    "message_id",
    "created_at",
    "updated_at",
)


def variant_key(categories: Iterable[str]) -> str:
    """The ledger's name of a category set: sorted, joined by U+001F; "" = every category."""
    return VARIANT_SEPARATOR.join(sorted(set(categories)))


def variant_categories(variant: str) -> frozenset[str]:
    """The category set a variant names (empty = every category)."""
    return frozenset(variant.split(VARIANT_SEPARATOR)) if variant else frozenset()


def send_started(conn: Connection, week: str) -> bool:
    return conn.scalar(select(edition_sends.c.week).where(edition_sends.c.week == week)) is not None


def freeze_recipients(
    conn: Connection,
    week: str,
    now: datetime,
    edition_categories: frozenset[str],
    everyone: bool = False,
) -> int:
    """Write the week's recipients once; the caller's transaction makes it all or nothing.

    Readers of every category are copied in one INSERT … SELECT. Those with preferences are
    streamed (id, category) to work out their variant, and copied by id lists per variant.
    """
    if send_started(conn, week):
        return 0
    if conn.scalar(select(editions.c.week).where(editions.c.week == week)) is None:
        raise ValueError(f"freeze_recipients: there is no edition {week!r}")
    conn.execute(insert(edition_sends).values(week=week, started_at=now))
    has_preferences = exists().where(subscriber_categories.c.subscriber_id == subscribers.c.id)
    if everyone:
        return _copy_subscribers(conn, week, "", now, true())
    created = _copy_subscribers(conn, week, "", now, ~has_preferences)
    waiting: dict[str, list[int]] = {}
    for sid, variant in _preference_variants(conn, edition_categories):
        ids = waiting.setdefault(variant, [])
        ids.append(sid)
        if len(ids) >= CHUNK:
            created += _copy_subscribers(conn, week, variant, now, subscribers.c.id.in_(ids))
            ids.clear()
    for variant, ids in waiting.items():
        if ids:
            created += _copy_subscribers(conn, week, variant, now, subscribers.c.id.in_(ids))
    return created


def _copy_subscribers(
    conn: Connection, week: str, variant: str, now: datetime, which: ColumnElement[bool]
) -> int:
    """One pending row of ``variant`` per active subscriber that ``which`` selects."""
    source = (
        select(
            literal(week),
            subscribers.c.id,
            subscribers.c.email,
            subscribers.c.name,
            literal(variant),
            literal(_PENDING),
            literal(0),
            literal(""),
            literal(""),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .where(subscribers.c.status == _ACTIVE, which)
        .order_by(subscribers.c.id)
    )
    # Without preserve_rowcount, SQLAlchemy reports -1 for an INSERT on PostgreSQL.
    copy = insert(deliveries).from_select(_LEDGER_COLUMNS, source)
    return conn.execute(copy.execution_options(preserve_rowcount=True)).rowcount


def _preference_variants(
    conn: Connection, edition_categories: frozenset[str]
) -> Iterator[tuple[int, str]]:
    """(subscriber id, variant) of the active subscribers whose preferences meet the edition's.

    Categories match case-insensitively; the variant names them as the edition spells them,
    so "news" and "News" readers share one rendering.
    """
    spelled: dict[str, set[str]] = {}
    for category in edition_categories:
        spelled.setdefault(category.casefold(), set()).add(category)
    chosen = subscriber_categories.c
    query = (
        select(chosen.subscriber_id, chosen.category)
        .join(subscribers)
        .where(subscribers.c.status == _ACTIVE)
        .order_by(chosen.subscriber_id)
    )
    pairs = conn.execute(query.execution_options(yield_per=_STREAM_ROWS))
    known: dict[tuple[str, ...], str] = {}  # a few distinct preference sets, many readers
    for sid, rows in groupby(pairs, key=itemgetter(0)):
        wanted = tuple(category for _, category in rows)
        variant = known.get(wanted)
        if variant is None:
            if len(known) >= _KNOWN_SETS:
                known.clear()
            met = {name for w in wanted for name in spelled.get(w.casefold(), ())}
            variant = known[wanted] = variant_key(met)
        if variant:
            yield sid, variant
