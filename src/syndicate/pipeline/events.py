"""What the mail provider tells us after a send (SendGrid's Event Webhook), and what we do.

The web front checks the signature and hands over the body. A call's events are recorded in
one transaction (a bulk insert), each once (by ``sg_event_id``), and acted on in it:

- ``bounce`` (not ``type: blocked``, which SendGrid does not suppress), and ``dropped`` for a
  bounced or invalid address: the subscriber becomes ``bounced``;
- ``spamreport`` (or ``dropped`` for a spam-reporting address): ``complained``;
- ``unsubscribe``, ``group_unsubscribe`` (or ``dropped`` for an unsubscribed address):
  ``unsubscribed``.

A status only moves towards the stronger: complained > bounced > unsubscribed > active or
pending, so a late unsubscribe never turns a complaint back into something milder.

Every event about a message proves that SendGrid accepted it, so an ``uncertain`` ledger
row of that message (by the custom_args ``delivery_id`` and ``week`` the send put on it,
else by address and week) is settled as ``sent``: ``processed`` and ``delivered`` as much
as a bounce or a drop, which would never be worth sending again either.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from syndicate.delivery import DELIVERY_ID_ARG, WEEK_ARG
from syndicate.digest.periods import parse_key
from syndicate.models import SubscriberStatus
from syndicate.store import EventEffect, Store, WebhookEvent

log = logging.getLogger("syndicate.events")

_S = SubscriberStatus
_STRENGTH = {_S.ACTIVE: 0, _S.PENDING: 0, _S.UNSUBSCRIBED: 1, _S.BOUNCED: 2, _S.COMPLAINED: 3}
_BY_EVENT = {
    "bounce": _S.BOUNCED,
    "spamreport": _S.COMPLAINED,
    "unsubscribe": _S.UNSUBSCRIBED,
    "group_unsubscribe": _S.UNSUBSCRIBED,
}
# SendGrid's reasons for dropping a message to an address it has suppressed.
_BY_DROP_REASON = {
    "bounced address": _S.BOUNCED,
    "invalid": _S.BOUNCED,
    "spam reporting address": _S.COMPLAINED,
    "unsubscribed address": _S.UNSUBSCRIBED,
}
# The events SendGrid sends about a message it accepted.
MESSAGE_EVENTS = frozenset(
    {
        "processed",
        "deferred",
        "delivered",
        "dropped",
        "bounce",
        "open",
        "click",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
    }
)

_ID_MAX = 255
_EVENT_MAX = 32
_EMAIL_MAX = 320
_WEEK_MAX = 16
_DB_INT_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


class PayloadError(ValueError):
    """The body is not a JSON array of event objects."""


@dataclass
class EventsReport:
    received: int = 0
    new: int = 0  # recorded now; the rest had been recorded before
    status_changes: int = 0
    settled: int = 0

    @property
    def duplicates(self) -> int:
        return self.received - self.new

    def as_json(self) -> dict[str, int]:
        return {
            "received": self.received,
            "new": self.new,
            "duplicates": self.duplicates,
            "status_changes": self.status_changes,
            "settled": self.settled,
        }


# --- pure: parsing and deciding -----------------------------------------------------------


def parse_payload(body: bytes) -> list[dict[str, Any]]:
    """The event objects of a webhook body; PayloadError unless it is a JSON array of them."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise PayloadError("expected a JSON array of events")
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise PayloadError(f"event {index}: expected an object")
    return data


def to_record(item: Mapping[str, Any]) -> WebhookEvent:
    """The fields recorded and acted on, bounded in size; an event without an
    ``sg_event_id`` is known by the hash of its JSON."""
    raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
    event_id = _text(item, "sg_event_id", None)
    if not event_id or len(event_id) > _ID_MAX:
        event_id = "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    week = edition_key(_text(item, WEEK_ARG, None))
    return WebhookEvent(
        sg_event_id=event_id,
        event=_text(item, "event", _EVENT_MAX),
        email=_text(item, "email", _EMAIL_MAX).strip(),
        raw=raw,
        delivery_id=_delivery_id(item.get(DELIVERY_ID_ARG)),
        week=week if len(week) <= _WEEK_MAX else "",
        timestamp=_timestamp(item.get("timestamp")),
    )


def edition_key(text: str) -> str:
    """The custom_args ``week`` as an edition key: mails sent before cadences carry a bare
    ISO week (``2026-W47``), which is the weekly edition ``weekly:2026-W47``."""
    try:
        return parse_key(text).key
    except ValueError:
        return text  # not an edition this code knows (a test copy, say): matches no row


def decide(item: Mapping[str, Any]) -> EventEffect:
    """What one event does to its subscriber and its ledger row (see the module's doc)."""
    event = _text(item, "event", None)
    status = _BY_EVENT.get(event)
    if event == "bounce" and _text(item, "type", None).lower() == "blocked":
        status = None
    if event == "dropped":
        status = _BY_DROP_REASON.get(_text(item, "reason", None).strip().lower())
    replaces: frozenset[SubscriberStatus] = frozenset()
    if status is not None:
        replaces = frozenset(s for s, n in _STRENGTH.items() if n < _STRENGTH[status])
    return EventEffect(status=status, replaces=replaces, settle=event in MESSAGE_EVENTS)


def _text(item: Mapping[str, Any], key: str, limit: int | None) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        return ""
    return value if limit is None else value[:limit]


def _delivery_id(value: Any) -> int | None:
    """custom_args come back as strings; a test send's id 0 is no ledger row."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _DB_INT_MAX:
        return value
    return None


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**33:
        return datetime.fromtimestamp(value, UTC)
    return None


# --- the job ------------------------------------------------------------------------------


def process_events(store: Store, items: Sequence[Mapping[str, Any]], now: datetime) -> EventsReport:
    """Record and act on each event once, the whole batch in one transaction; repeats change
    nothing."""
    report = EventsReport(received=len(items))
    batch = [(to_record(item), decide(item)) for item in items]
    for outcome in store.record_events(batch, now) if batch else ():
        report.new += outcome.new
        report.status_changes += outcome.status is not None
        report.settled += outcome.settled
    if report.received:
        log.info(
            "events: %d received, %d new, %d status changes, %d uncertain rows settled",
            report.received,
            report.new,
            report.status_changes,
            report.settled,
        )
    return report
