"""The bounce mailbox's mail as neutral ProviderEvents. Pure: bytes in, events out.

- RFC 3464 delivery status notifications (``multipart/report; report-type=delivery-status``):
  one event per recipient block; ``Action: failed`` or ``delayed`` is a bounce, hard or
  soft by the ``Status`` code's class (5.x.x permanent, 4.x.x transient; RFC 3463), never
  by the Action alone; ``delivered`` / ``relayed`` / ``expanded`` is a delivery.
- RFC 5965 abuse reports (``report-type=feedback-report``, ``Feedback-Type: abuse``): a
  complaint.
- A mail to ``email.unsubscribe_mailbox`` whose subject is ``unsubscribe <token>`` (what
  the List-Unsubscribe mailto: sends): an unsubscribe carrying that token.

The message reported on is found by its ``Message-ID`` (``<week.delivery.subscriber@…>``,
as the send writes it) in the returned headers, else by the VERP envelope sender the DSN is
addressed to (``bounces+week.delivery@…``), and by the signed token in its
``List-Unsubscribe``; the pipeline turns any of them into an address.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import Message
from email.utils import getaddresses, parseaddr

from syndicate.delivery.events import (
    BOUNCE,
    COMPLAINT,
    DELIVERED,
    UNSUBSCRIBE,
    ProviderEvent,
    bounce_class,
)
from syndicate.delivery.verp import verp_key

PROVIDER = "mailbox"
_STATUS = re.compile(r"\b([245])\.[0-9]{1,3}\.[0-9]{1,3}\b")
_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-.]+)")
_SUBJECT_TOKEN = re.compile(r"^\s*unsubscribe\s+([A-Za-z0-9_\-.]+)\s*$", re.I)
_DELIVERED = ("delivered", "relayed", "expanded")
_DB_INT_MAX = 2**31 - 1


def parse_report(raw: bytes, *, unsubscribe_mailbox: str = "") -> list[ProviderEvent]:
    """The events one mail of the bounce mailbox reports; [] for a mail that is none of the
    kinds above (an out-of-office reply, spam)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    report_id = _report_id(message, raw)
    report_type = str(message.get_param("report-type") or "").lower()
    if message.get_content_type() == "multipart/report" and report_type == "delivery-status":
        return _dsn(message, report_id)
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        return _arf(message, report_id)
    if unsubscribe_mailbox and _addressed_to(message, unsubscribe_mailbox):
        return _unsubscribe_request(message, report_id)
    return []


def _dsn(message: Message, report_id: str) -> list[ProviderEvent]:
    status_part = _part(message, "message/delivery-status")
    if status_part is None:
        return []
    blocks = _field_blocks(status_part)
    original = _original_headers(message)
    verp = _verp_key(message)
    events = []
    for index, fields in enumerate(blocks[1:] or blocks):
        action = fields.get("action", "").strip().lower()
        recipient = _address_field(
            fields.get("final-recipient") or fields.get("original-recipient", "")
        )
        found = _STATUS.search(fields.get("status", ""))
        status = found[0] if found else ""
        if action in _DELIVERED:
            kind, bounce = DELIVERED, ""
        elif action in ("failed", "delayed") or status:
            kind, bounce = BOUNCE, bounce_class(status)
        else:
            continue
        event = _event(f"{report_id}#{index}", kind, recipient, original, status=status,
                       bounce=bounce, raw=_text_of(status_part))  # fmt: skip
        if event.delivery_id is None and verp[1] is not None:
            event = replace(event, week=verp[0], delivery_id=verp[1])
        events.append(event)
    return events


def _arf(message: Message, report_id: str) -> list[ProviderEvent]:
    part = _part(message, "message/feedback-report")
    if part is None:
        return []
    fields: dict[str, str] = {}
    for block in _field_blocks(part):
        fields.update(block)
    if fields.get("feedback-type", "abuse").strip().lower() not in ("abuse", "fraud", "virus"):
        return []
    original = _original_headers(message)
    recipient = _address_field(fields.get("original-rcpt-to", ""))
    if not recipient and original is not None:
        recipient = parseaddr(original.get("To", ""))[1]
    return [_event(report_id, COMPLAINT, recipient, original, raw=_text_of(part))]


def _unsubscribe_request(message: Message, report_id: str) -> list[ProviderEvent]:
    found = _SUBJECT_TOKEN.match(str(message.get("Subject", "")))
    if not found:
        return []
    sender = parseaddr(str(message.get("From", "")))[1]
    return [
        ProviderEvent(
            provider=PROVIDER,
            provider_event_id=report_id,
            kind=UNSUBSCRIBE,
            email=sender[:320],
            raw=f"Subject: {message.get('Subject', '')}"[:2000],
            token=found[1],
        )
    ]


def _event(
    event_id: str,
    kind: str,
    recipient: str,
    original: Message | None,
    *,
    raw: str,
    status: str = "",
    bounce: str = "",
) -> ProviderEvent:
    week, delivery_id = ledger_key(original.get("Message-ID", "") if original else "")
    token = ""
    if original is not None:
        found = _TOKEN.search(str(original.get("List-Unsubscribe", "")).replace("\n", ""))
        token = found[1] if found else ""
    return ProviderEvent(
        provider=PROVIDER,
        provider_event_id=event_id[:255],
        kind=kind,
        email=recipient[:320],
        raw=raw[:20_000],
        bounce="hard" if bounce == "hard" else "soft" if bounce == "soft" else "",
        delivery_id=delivery_id,
        week=week,
        status=status,
        token=token,
    )


def ledger_key(message_id: str) -> tuple[str, int | None]:
    """(week, delivery id) of a Message-ID the send wrote (``<week.id.subscriber@domain>``),
    or ("", None)."""
    local = message_id.strip().strip("<>").rpartition("@")[0]
    parts = local.split(".")
    if len(parts) < 3 or not parts[-2].isdigit() or len(parts[-2]) > 10:
        return "", None
    delivery_id = int(parts[-2])
    week = ".".join(parts[:-2])
    if not 0 < delivery_id <= _DB_INT_MAX or len(week) > 16:
        return "", None
    return week, delivery_id


def _part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _field_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a delivery-status or feedback-report part, lower-cased names."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [
            {k.lower(): str(v) for k, v in block.items()}
            for block in payload
            if isinstance(block, Message)
        ]
    text = payload if isinstance(payload, str) else ""
    blocks = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields = message_from_bytes(chunk.strip().encode("utf-8", "replace") + b"\n\n")
        if fields.keys():
            blocks.append({k.lower(): str(v) for k, v in fields.items()})
    return blocks


def _original_headers(message: Message) -> Message | None:
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        if kind in ("text/rfc822-headers", "text/rfc822-header"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                return message_from_bytes(data)
    return None


def _address_field(value: str) -> str:
    """``rfc822; ann@example.org`` -> ``ann@example.org``."""
    kind, _, address = value.partition(";")
    return (address if _ else kind).strip().strip("<>")


def _verp_key(message: Message) -> tuple[str, int | None]:
    """The delivery a DSN's envelope recipient names (our VERP return path), if any."""
    for address in _recipients(message):
        key = verp_key(address)
        if key[1] is not None:
            return key
    return "", None


def _addressed_to(message: Message, mailbox: str) -> bool:
    return any(address.lower() == mailbox.lower() for address in _recipients(message))


def _recipients(message: Message) -> list[str]:
    """The addresses a mail was delivered to, by its headers."""
    names = ("Delivered-To", "X-Original-To", "To", "Cc")
    fields = [str(v) for name in names for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields) if address]


def _report_id(message: Message, raw: bytes) -> str:
    own = str(message.get("Message-ID", "")).strip()
    if own and len(own) <= 200:
        return own
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _text_of(part: Message) -> str:
    return part.as_string()
