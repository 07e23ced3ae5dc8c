"""Freezing an edition with its recipients: one pending ledger row per reader of its cadence,
written once, in the transaction that stores what the edition holds.

A reader's *variant* is the set of the edition's categories they asked for (sorted, joined by
U+001F; "" = every category): the digest is rendered once per variant.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import groupby
from operator import itemgetter

from sqlalchemy import ColumnElement, Connection, and_, exists, func, insert, literal, select, true

from syndicate.models import DeliveryState, Edition, SubscriberStatus, is_announcement
from syndicate.store.convert import CHUNK
from syndicate.store.editions import insert_edition
from syndicate.store.schema import (
    UTCDateTime,
    deliveries,
    delivery_ranges,
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


# Rows a freeze wrote, by variant (only variants with rows); empty: frozen before.
Frozen = dict[str, int]


def freeze_edition(conn: Connection, edition: Edition, now: datetime) -> Frozen:
    """Write the edition as it is now and its recipients (the active readers of its cadence),
    once; the caller's transaction makes it all or nothing. Rows created by variant; none if
    the send had started before."""
    if send_started(conn, edition.key):
        return {}
    insert_edition(conn, edition)
    categories = frozenset(article.category for article in edition.articles)
    return freeze_recipients(conn, edition.key, now, categories)


def freeze_recipients(
    conn: Connection,
    week: str,
    now: datetime,
    edition_categories: frozenset[str],
    everyone: bool = False,
) -> Frozen:
    """Write the recipients of the stored edition ``week`` once: the active readers of its
    cadence (of every cadence for an announcement), rows by variant. ``everyone``: whatever
    their preferences.

    Readers of every category are copied in one INSERT … SELECT. Those with preferences are
    streamed (id, category) to work out their variant, then copied variant by variant, by id
    lists: each variant's rows lie together, in the id range kept for its claims.
    """
    if send_started(conn, week):
        return {}
    stored = conn.scalar(select(editions.c.cadence).where(editions.c.week == week))
    if stored is None:
        raise ValueError(f"freeze_recipients: there is no edition {week!r}")
    conn.execute(insert(edition_sends).values(week=week, started_at=now))
    cadence = None if is_announcement(week) else stored  # announcements: every cadence
    readers = true() if cadence is None else subscribers.c.cadence == cadence
    if everyone:
        return _made("", _write_variant(conn, week, "", now, [readers]))
    has_preferences = exists().where(subscriber_categories.c.subscriber_id == subscribers.c.id)
    made = _made("", _write_variant(conn, week, "", now, [and_(readers, ~has_preferences)]))
    chosen: dict[str, array[int]] = {}  # 8 bytes a reader, a million readers or not
    for sid, variant in preference_variants(conn, edition_categories, cadence):
        if variant:  # "": chose only categories this edition does not have
            chosen.setdefault(variant, array("q")).append(sid)
    for variant in sorted(chosen):
        ids = chosen.pop(variant)
        lists = (ids[i : i + CHUNK].tolist() for i in range(0, len(ids), CHUNK))
        made |= _made(
            variant, _write_variant(conn, week, variant, now, map(subscribers.c.id.in_, lists))
        )
    return made


def _made(variant: str, rows: int) -> Frozen:
    return {variant: rows} if rows else {}


def _write_variant(
    conn: Connection, week: str, variant: str, now: datetime, parts: Iterable[ColumnElement[bool]]
) -> int:
    """The rows of one variant, one statement per part, one after the other (so their ids lie
    together), and their id range (store.schema.delivery_ranges); rows created."""
    before = conn.scalar(select(func.max(deliveries.c.id))) or 0
    created = sum(_copy_subscribers(conn, week, variant, now, which) for which in parts)
    if created:
        last = conn.scalar(select(func.max(deliveries.c.id)))
        span = {"week": week, "variant": variant, "first_id": before + 1, "last_id": last}
        conn.execute(insert(delivery_ranges).values(span))
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


def plan_recipients(
    conn: Connection, edition_categories: frozenset[str], cadence: str
) -> tuple[dict[str, int], list[int]]:
    """What freeze_recipients would write now for an edition of ``cadence``, written nowhere:
    (rows per variant, ids of the active readers of that cadence who would get nothing). The
    same selection, so a dry run and the send cannot disagree."""
    readers = and_(subscribers.c.status == _ACTIVE, subscribers.c.cadence == cadence)
    has_preferences = exists().where(subscriber_categories.c.subscriber_id == subscribers.c.id)
    plain = conn.scalar(select(func.count()).where(readers, ~has_preferences)) or 0
    planned = {"": plain} if plain else {}
    missed: list[int] = []
    for sid, variant in preference_variants(conn, edition_categories, cadence):
        if variant:
            planned[variant] = planned.get(variant, 0) + 1
        else:
            missed.append(sid)
    return planned, missed


def preference_variants(
    conn: Connection, edition_categories: frozenset[str], cadence: str | None
) -> Iterator[tuple[int, str]]:
    """(subscriber id, variant) of every active subscriber with preferences; the variant is
    "" when none of them is among the edition's categories.

    Categories match case-insensitively (casefold: "STRASSE" chooses "Straße"); the variant
    names them as the edition spells them, so "news" and "News" readers share one rendering.
    """
    spelled: dict[str, set[str]] = {}
    for category in edition_categories:
        spelled.setdefault(category.casefold(), set()).add(category)
    chosen = subscriber_categories.c
    query = (
        select(chosen.subscriber_id, chosen.category)
        .join(subscribers)
        .where(
            subscribers.c.status == _ACTIVE,
            true() if cadence is None else subscribers.c.cadence == cadence,
        )
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
        yield sid, variant
