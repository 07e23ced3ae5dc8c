"""SendGrid's Event Webhook body as neutral ProviderEvents. Pure.

- ``bounce``: a hard bounce, except ``type: blocked`` (a block SendGrid does not suppress):
  a soft one; ``dropped`` for a bounced or invalid address: a hard bounce;
- ``spamreport`` (or ``dropped`` for a spam-reporting address): ``complaint``;
- ``unsubscribe``, ``group_unsubscribe`` (or ``dropped`` for an unsubscribed address):
  ``unsubscribe``;
- ``delivered``; the others (processed, deferred, open, click ...) keep a kind of their own
  and only prove that SendGrid accepted the message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from syndicate.delivery.base import DELIVERY_ID_ARG, WEEK_ARG
from syndicate.delivery.events import BOUNCE, COMPLAINT, DELIVERED, UNSUBSCRIBE, ProviderEvent

PROVIDER = "sendgrid"
_KINDS = {
    "bounce": BOUNCE,
    "spamreport": COMPLAINT,
    "unsubscribe": UNSUBSCRIBE,
    "group_unsubscribe": UNSUBSCRIBE,
    "delivered": DELIVERED,
    "processed": "accepted",
    "deferred": "deferred",
    "open": "opened",
    "click": "clicked",
    "group_resubscribe": "resubscribe",
    "dropped": "dropped",
}
# SendGrid's reasons for dropping a message to an address it has suppressed.
_BY_DROP_REASON = {
    "bounced address": BOUNCE,
    "invalid": BOUNCE,
    "spam reporting address": COMPLAINT,
    "unsubscribed address": UNSUBSCRIBE,
}

_ID_MAX = 255
_KIND_MAX = 32
_EMAIL_MAX = 320
_WEEK_MAX = 16
_DB_INT_MAX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


class PayloadError(ValueError):
    """The body is not a JSON array of event objects."""


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


def sendgrid_event(item: Mapping[str, Any]) -> ProviderEvent:
    """One webhook event, bounded in size; one without an ``sg_event_id`` is known by the
    hash of its JSON. An event name SendGrid may add later keeps its own name."""
    raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
    event_id = _text(item, "sg_event_id", None)
    if not event_id or len(event_id) > _ID_MAX:
        event_id = "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    name = _text(item, "event", None)
    kind = _KINDS.get(name, name[:_KIND_MAX])
    bounce = ""
    if name == "bounce":
        bounce = "soft" if _text(item, "type", None).lower() == "blocked" else "hard"
    if name == "dropped":
        kind = _BY_DROP_REASON.get(_text(item, "reason", None).strip().lower(), "dropped")
        bounce = "hard" if kind == BOUNCE else ""
    week = _text(item, WEEK_ARG, None)
    return ProviderEvent(
        provider=PROVIDER,
        provider_event_id=event_id,
        kind=kind,
        email=_text(item, "email", _EMAIL_MAX).strip(),
        raw=raw,
        bounce="hard" if bounce == "hard" else "soft" if bounce == "soft" else "",
        delivery_id=_delivery_id(item.get(DELIVERY_ID_ARG)),
        week=week if len(week) <= _WEEK_MAX else "",
        timestamp=_timestamp(item.get("timestamp")),
        status=_text(item, "status", 16),
    )


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
