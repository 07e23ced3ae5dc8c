"""The body of a SendGrid v3 mail/send request, and reading SendGrid's error answers. Pure."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import orjson

from syndicate.delivery.base import (
    DELIVERY_ID_ARG,
    Batch,
    Recipient,
    RecipientRows,
    all_clean,
    clean_headers,
    header_value,
    same_variant,
)
from syndicate.delivery.sendgrid_items import Items, angle
from syndicate.placeholders import placeholders, rename_placeholders, substitute

# The HTML part's placeholders for values that change when escaped: %%html:key%%.
_HTML_KEY = "html:"
# SendGrid error fields that concern the whole request, not one recipient: no split helps.
_REQUEST_FIELDS = (
    "from",
    "reply_to",
    "subject",
    "content",
    "custom_args",
    "headers",
    "attachments",
    "template_id",
    "categories",
    "send_at",
    "batch_id",
    "asm",
    "ip_pool_name",
    "mail_settings",
    "tracking_settings",
    "sections",
)


class RequestBody:
    """The parts of a request that do not depend on its recipients, built once per variant
    (the sender keeps the last one: every batch of a variant shares it)."""

    def __init__(self, batch: Batch, *, tracking: bool = False) -> None:
        if not (batch.text or batch.html):
            raise ValueError("the batch has neither a text nor an HTML part")
        self.batch, self.tracking = batch, tracking
        self.html_keys = frozenset(placeholders(batch.html))
        self.subject_keys = tuple(sorted(placeholders(batch.subject)))
        sender = {"email": batch.from_address}
        if batch.from_name:
            sender["name"] = header_value(batch.from_name)
        self._head: dict[str, Any] = {"from": sender, "subject": header_value(batch.subject)}
        if batch.headers:  # every message's: once in the request, not per personalization
            self._head["headers"] = clean_headers(batch.headers)
        self._args = {str(k): str(v) for k, v in batch.custom_args.items()}
        self._contents: dict[frozenset[str], list[dict[str, str]]] = {}
        self._tails: dict[frozenset[str], bytes] = {}  # escaped keys -> the body after the items
        self._items: dict[frozenset[str], Items] = {}
        self._names: dict[str, str] = {}  # key -> "%%key%%"

    def fits(self, batch: Batch, tracking: bool) -> bool:
        """Whether ``batch`` is of the variant this was built for."""
        return tracking == self.tracking and same_variant(batch, self.batch)

    def escaped_keys(self, recipients: Sequence[Recipient]) -> frozenset[str]:
        """The HTML's keys some recipient's value of which HTML-escaping changes: SendGrid
        substitutes one value everywhere, so these get a second, escaped placeholder
        (%%html:key%%) used only in the HTML part."""
        if not self.html_keys:
            return frozenset()
        if isinstance(recipients, RecipientRows):
            values: Iterable[str] = recipients.substitution_values()
        else:
            values = chain.from_iterable([r.substitutions.values() for r in recipients])
        if not _escapes("".join(values)):  # the common case: one scan of the batch
            return frozenset()
        return frozenset(
            key
            for key in self.html_keys
            if _escapes("".join([r.substitutions.get(key, "") for r in recipients]))
        )

    def personalization(
        self, recipient: Recipient, escaped: frozenset[str], clean: bool = False
    ) -> dict[str, Any]:
        """One recipient's personalization; ``clean``: its name and headers are known to be
        clean already (``base.all_clean``), so they are used as they are."""
        to = {"email": recipient.email}
        name = _recipient_name(recipient.name if clean else header_value(recipient.name))
        if name:
            to["name"] = name
        item: dict[str, Any] = {
            "to": [to],
            "custom_args": {DELIVERY_ID_ARG: str(recipient.delivery_id)},
        }
        values = recipient.substitutions
        if values:
            names = self._names
            subs = {names.get(k) or self._name(k): v for k, v in values.items()}
            for key in escaped:
                if key in values:
                    subs[f"%%{_HTML_KEY}{key}%%"] = html.escape(values[key])
            item["substitutions"] = subs
            # SendGrid fills the subject itself, unless a value would bring a CR/LF into it.
            if (
                self.subject_keys
                and not "".join([values.get(k, "") for k in self.subject_keys]).isprintable()
            ):
                item["subject"] = header_value(substitute(self.batch.subject, values))
        headers = dict(recipient.headers) if clean else clean_headers(recipient.headers)
        if recipient.message_id:
            message_id = recipient.message_id if clean else header_value(recipient.message_id)
            headers["Message-ID"] = angle(message_id)
        if headers:
            item["headers"] = headers
        return item

    def _name(self, key: str) -> str:
        self._names[key] = name = f"%%{key}%%"
        return name

    def texts(
        self,
        recipients: Sequence[Recipient],
        rows: RecipientRows | None,
        unique: Sequence[int],
        headers_checked: bool = False,
    ) -> tuple[frozenset[str], list[bytes]]:
        """The personalizations of the recipients at ``unique`` as JSON, and the HTML keys
        that got an escaped placeholder (``escaped_keys``). ``rows``: the recipients as
        RecipientRows, None when they are not of one shape. From one template for the batch
        (sendgrid_items) when they are of one shape, their names and headers clean
        (``base.all_clean``) and none needs a subject of its own; else each is built by
        ``personalization``."""
        if rows is not None and len(unique) != len(rows):
            rows = rows.take(unique)
        chosen: Sequence[Recipient] = rows if rows is not None else [recipients[i] for i in unique]
        escaped = self.escaped_keys(chosen)
        clean = rows is not None and all_clean(rows, headers_checked)
        if rows is not None and clean and rows.rows and not self._own_subjects(rows):
            items = self._items.get(escaped)
            if items is None:
                items = self._items[escaped] = Items(escaped, _HTML_KEY)
            texts = items.texts(rows, [_recipient_name(name) for name in rows.column(2)])
            if texts is not None:
                return escaped, texts
        return escaped, [orjson.dumps(self.personalization(r, escaped, clean)) for r in chosen]

    def _own_subjects(self, rows: RecipientRows) -> bool:
        """Whether some recipient's subject values hold a CR/LF (or another control)."""
        at = [3 + rows.keys.index(k) for k in self.subject_keys if k in rows.keys]
        if not at:
            return False
        return not "".join([row[i] for row in rows.rows for i in at]).isprintable()

    def body(self, texts: Sequence[bytes], escaped: frozenset[str]) -> bytes:
        """The request body of these personalizations (``texts``)."""
        tail = self._tails.get(escaped)
        if tail is None:
            rest: dict[str, Any] = {**self._head, "content": self._content(escaped)}
            if self._args:
                rest["custom_args"] = self._args
            rest["tracking_settings"] = tracking_settings(self.tracking)
            tail = self._tails[escaped] = b"]," + orjson.dumps(rest)[1:]
        return b'{"personalizations":[' + b",".join(texts) + tail

    def _content(self, escaped: frozenset[str]) -> list[dict[str, str]]:
        content = self._contents.get(escaped)
        if content is None:
            batch = self.batch
            html_part = rename_placeholders(batch.html, {k: _HTML_KEY + k for k in escaped})
            content = [
                {"type": kind, "value": value}
                for kind, value in (("text/plain", batch.text), ("text/html", html_part))
                if value
            ]
            self._contents[escaped] = content
        return content


def _escapes(text: str) -> bool:
    """Whether HTML-escaping changes ``text`` (``in`` scans far faster than a regex)."""
    return any(c in text for c in "&<>\"'")


def tracking_settings(enabled: bool) -> dict[str, Any]:
    """Click and open tracking as asked, set in every request: otherwise the account's
    defaults apply, and its click tracking would rewrite the unsubscribe links. SendGrid's
    own subscription footer is always off (the digest has its own links)."""
    return {
        "click_tracking": {"enable": enabled, "enable_text": enabled},
        "open_tracking": {"enable": enabled},
        "subscription_tracking": {"enable": False},
    }


def _recipient_name(name: str) -> str:
    # SendGrid mis-parses a recipient name holding "," or ";" and drops the message.
    if "," in name or ";" in name:
        name = " ".join(name.replace(",", " ").replace(";", " ").split())
    return name


# --- SendGrid's answers ----------------------------------------------------------------


def error_text(body: bytes | str | None) -> str:
    """SendGrid's error messages ("message (field)"), or the start of the raw body."""
    errors = list(_errors(body))
    if errors:
        return "; ".join(f"{message} ({where})" if where else message for message, where in errors)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return header_value(body or "no details")[:300]


def _errors(body: bytes | str | None) -> Iterator[tuple[str, str]]:
    try:
        data = json.loads(body or b"")
    except (ValueError, TypeError):
        return
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return
    for error in data["errors"]:
        if isinstance(error, dict):
            yield header_value(str(error.get("message") or "")), str(error.get("field") or "")


def whole_request_error(body: bytes | str | None) -> bool:
    """True when every error names a field of the request itself (not of a recipient)."""
    fields = [where for _, where in _errors(body)]
    return bool(fields) and all(
        where.split(".")[0].split("[")[0] in _REQUEST_FIELDS for where in fields
    )
